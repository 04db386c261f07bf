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

    def client_config(self, currency: str) -> dict[str, str]:
        """What a payment page needs in the browser (e.g. a publishable key) to confirm
        a payment on Parta's own page; empty for hosted checkouts."""
        return {}
