"""The payment-provider interface. Domain code talks to providers only through these
dataclasses and the PaymentProvider methods; no provider SDK is imported outside the
provider modules.

Webhook events are normalised to a few kinds (EventKind); everything else a provider
sends is stored and ignored.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


class ProviderError(Exception):
    """The provider refused or could not be reached; ``message`` is safe to show."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class InvalidWebhook(Exception):
    """Bad signature or an unreadable body: answer 400 and store nothing."""


@dataclass(frozen=True)
class TaxLine:
    name: str
    rate_bp: int
    inclusive: bool


@dataclass(frozen=True)
class CheckoutLine:
    title: str
    unit_amount: int  # minor units, before discount and taxes
    item_price_id: int | None = None
    quantity: int = 1


@dataclass(frozen=True)
class DiscountSpec:
    code: str
    percent: int | None = None
    amount: int | None = None  # minor units, in the order's currency


class VatCode(enum.StrEnum):
    """The VAT rate printed on a fiscal receipt line (54-FZ); each provider maps it to
    its own code. "105" style codes are the calculated rates (5/105) used for prepayment."""

    NONE = "none"
    VAT0 = "vat0"
    VAT5 = "vat5"
    VAT7 = "vat7"
    VAT10 = "vat10"
    VAT20 = "vat20"
    VAT22 = "vat22"
    VAT105 = "vat105"
    VAT107 = "vat107"
    VAT110 = "vat110"
    VAT120 = "vat120"
    VAT122 = "vat122"


@dataclass(frozen=True)
class ReceiptLine:
    """One line of a fiscal receipt: ``amount`` = ``unit_amount`` x ``quantity``,
    in minor units, after discounts."""

    title: str
    quantity: int
    unit_amount: int
    amount: int
    vat_code: VatCode
    # 54-FZ "payment subject" and "payment method": a school sells services, paid in full.
    payment_subject: str = "service"
    payment_mode: str = "full_payment"


@dataclass(frozen=True)
class Receipt:
    """The data a provider's online cash desk needs to issue a receipt (54-FZ)."""

    email: str
    currency: str
    lines: tuple[ReceiptLine, ...]
    # The seller's taxation system (osn, usn_income, usn_income_outcome, esn, patent);
    # empty: the one registered with the provider.
    taxation: str = ""
    refund: bool = False

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


@dataclass(frozen=True)
class CheckoutRequest:
    order_id: int
    currency: str
    lines: list[CheckoutLine]
    total: int  # what Parta computed; the provider must charge exactly this
    success_url: str
    cancel_url: str
    customer_email: str = ""
    discount: DiscountSpec | None = None
    taxes: list[TaxLine] = field(default_factory=list)
    description: str = ""
    # The fiscal receipt (54-FZ) for providers whose cash desk issues one; None: none.
    receipt: Receipt | None = None
    # The order's checkout this one replaces ("" for the first): with the order id it
    # makes the idempotency key of this checkout attempt.
    previous_session_id: str = ""
    # Ask the provider to keep the payment method for later charges (recurring plans).
    save_payment_method: bool = False


@dataclass(frozen=True)
class CheckoutSession:
    session_id: str
    url: str
    expires_at: datetime
    # For PaymentIntent flows: the client secret the page confirms with.
    client_secret: str = ""


@dataclass(frozen=True)
class RefundRequest:
    provider_payment_id: str
    amount: int
    currency: str
    idempotency_key: str
    # The refund receipt (54-FZ) for providers whose cash desk issues one.
    receipt: Receipt | None = None


@dataclass(frozen=True)
class RefundResult:
    refund_id: str
    succeeded: bool
    # True when the provider will say later (a webhook) whether it worked.
    pending: bool = False
    failure_reason: str = ""


class EventKind(enum.StrEnum):
    CHECKOUT_PAID = "checkout.paid"
    CHECKOUT_FAILED = "checkout.failed"
    CHECKOUT_EXPIRED = "checkout.expired"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    OTHER = "other"


@dataclass(frozen=True)
class WebhookEvent:
    event_id: str
    kind: EventKind
    raw_type: str
    payload: dict
    order_id: int | None = None
    session_id: str = ""
    provider_payment_id: str = ""
    refund_id: str = ""
    amount: int | None = None
    currency: str = ""
    failure_reason: str = ""
    # The provider's handle on a payment method it kept (YooKassa's payment method id,
    # T-Bank's RebillId, a CloudPayments token), for charges without the buyer.
    saved_method_id: str = ""


@dataclass(frozen=True)
class ChargeRequest:
    """A charge of a saved payment method without the buyer (a plan's renewal)."""

    order_id: int
    currency: str
    amount: int
    saved_method_id: str
    idempotency_key: str
    description: str = ""
    customer_email: str = ""
    receipt: Receipt | None = None
    # The provider's payment made for this charge earlier by ``charge_start`` (stored
    # before the charge was sent): ``charge`` settles that payment, never a new one.
    payment_id: str = ""


@dataclass(frozen=True)
class ChargeResult:
    payment_id: str
    succeeded: bool
    pending: bool = False
    failure_reason: str = ""
    # The saved method is gone (deleted at the provider, expired): trying again is useless.
    method_gone: bool = False


# Database ids and amounts are signed 64-bit integers.
MAX_BIGINT = 2**63 - 1


def id_or_none(value: object) -> int | None:
    """A row id from an event: a positive integer (or its decimal string, as metadata
    holds it) that fits the database; anything else is no id."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 0 < value <= MAX_BIGINT:
        return value
    return None


def amount_or_none(value: object) -> int | None:
    """An amount in minor units from an event: a JSON integer, nothing else (a string,
    a float or a boolean is no amount, and a paid event without one fails)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_BIGINT:
        return value
    return None


class PaymentProvider(ABC):
    """One payment provider, possibly with a key pair per currency."""

    name: str
    # Saves payment methods at checkout and charges them later (plans that renew).
    recurring: bool = False

    @abstractmethod
    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        """A hosted checkout (or a payment intent) for the order; the buyer is sent
        to ``url``."""

    @abstractmethod
    def refund(self, request: RefundRequest) -> RefundResult:
        """Return money to the payment; idempotent on ``idempotency_key``."""

    @abstractmethod
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify the signature and read the event; raise InvalidWebhook if either fails."""

    def supports(self, currency: str) -> bool:
        return True

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge a saved payment method (recurring plans); providers that cannot say so."""
        raise ProviderError(f"{self.name} does not charge saved payment methods.")

    # Makes the payment first and charges it in a second call (T-Bank's Init, then
    # Charge): the caller stores the payment's id from ``charge_start`` before ``charge``,
    # so a run that dies in between settles that payment next time instead of a new one.
    charges_in_two_steps: bool = False

    def charge_start(self, request: ChargeRequest) -> str:
        """Make the payment a two-step charge settles; returns the provider's id of it."""
        raise ProviderError(f"{self.name} charges in one step.")

    def check_source(self, remote_addr: str) -> None:
        """Refuse (InvalidWebhook) a notification from an address the provider does not
        send from; for providers whose notifications are not signed."""
        return None

    def webhook_reply(self, *, duplicate: bool) -> tuple[bytes, str] | None:
        """The body and content type a provider expects in answer to a notification it
        sent (None: Parta's own JSON)."""
        return None

    def client_config(self, currency: str) -> dict[str, str]:
        """What a payment page needs in the browser (e.g. a publishable key) to confirm
        a payment on Parta's own page; empty for hosted checkouts."""
        return {}
