"""Stripe: a hosted Checkout Session, or a PaymentIntent that the Payment Element on our
order page confirms (settings.STRIPE_FLOW); refunds; signed webhooks.

Each currency has its own key pair (STRIPE_KEYS_<CUR> = publishable, secret, webhook
secret), so RUB and USD may live in different Stripe accounts. Every call builds a
StripeClient for the order's account; the SDK's global key is never set.

Products and Prices are created once per (account, item price, amount) and remembered in
ProviderCatalogEntry; coupons have deterministic ids; tax rates are found by their
``parta_key`` metadata. Every create carries an idempotency key built from our ids.

Plans that renew themselves: an order bought with auto-renewal gets a Customer of its own,
and its payment is made with ``setup_future_usage=off_session``, so Stripe attaches the
card to that Customer. The paid event's handle is ``<customer id>:<payment method id>``
(read from the PaymentIntent), and a renewal is an off-session PaymentIntent confirmed at
once with them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.billing.models import ProviderCatalogEntry
from parta.billing.providers.base import (
    ChargeRequest,
    ChargeResult,
    CheckoutLine,
    CheckoutRequest,
    CheckoutSession,
    DiscountSpec,
    EventKind,
    InvalidWebhook,
    PaymentProvider,
    ProviderError,
    RefundRequest,
    RefundResult,
    TaxLine,
    WebhookEvent,
    amount_or_none,
    id_or_none,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Stripe-Signature"
# A signed event older than this is refused (replays of a captured request).
TOLERANCE_SECONDS = 300
# A checkout session's idempotency key and expiry come from the half-hour window it is
# opened in: a retry within the window (say, after a crash before the order was saved)
# gets the very same session back, with the very same parameters; a later call opens a
# new one.
CHECKOUT_WINDOW_SECONDS = 30 * 60
# Stripe keeps a session open 30 minutes to 24 hours; ours stay open this long after
# their window ends, i.e. 35 to 65 minutes.
CHECKOUT_OPEN_AFTER_WINDOW_SECONDS = 35 * 60
PAYMENT_INTENT_HOURS = 24
FLOW_PAYMENT_INTENT = "payment_intent"
ORDER_METADATA_KEY = "parta_order_id"
TAX_METADATA_KEY = "parta_key"
# Stripe limits a tax rate's display name to 50 characters.
TAX_NAME_LENGTH = 50
# The card is kept on the order's Customer for charges made without the buyer.
SAVED_FOR = "off_session"
# A renewal refused with one of these (an error's code or decline_code) will never go
# through with this card: the renewal stops at once instead of trying again.
METHOD_GONE_CODES = {
    "expired_card",
    "lost_card",
    "stolen_card",
    "pickup_card",
    "restricted_card",
    "revocation_of_authorization",
    "revocation_of_all_authorizations",
    "stop_payment_order",
}


@dataclass(frozen=True)
class StripeAccount:
    """One configured key pair; ``currency`` is the currency it takes payments in."""

    currency: str
    publishable_key: str
    secret_key: str
    webhook_secret: str

    @property
    def catalog_account(self) -> str:
        # Test-mode and live-mode objects never mix: switching a currency's keys from
        # test to live must not reuse test Prices.
        mode = "live" if "_live_" in self.secret_key else "test"
        return f"{self.currency}:{mode}"


def account_for(currency: str) -> StripeAccount | None:
    code = (currency or "").upper()
    if not code.isalpha():
        return None
    keys = getattr(settings, f"STRIPE_KEYS_{code}", None) or []
    if isinstance(keys, str):
        keys = keys.split(",")
    keys = [str(key).strip() for key in keys]
    if len(keys) < 2 or not keys[1]:
        return None
    return StripeAccount(
        currency=code,
        publishable_key=keys[0],
        secret_key=keys[1],
        webhook_secret=keys[2] if len(keys) > 2 else "",
    )


def configured_accounts() -> list[StripeAccount]:
    accounts = (account_for(code) for code in settings.PARTA_CURRENCIES)
    return [account for account in accounts if account is not None]


def _client(account: StripeAccount) -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        account.secret_key,
        base_addresses={"api": base.rstrip("/")} if base else None,
        # Safe: every create below carries an idempotency key.
        max_network_retries=2,
    )


def _provider_error(exc: stripe.StripeError) -> ProviderError:
    retryable = (
        isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError)
        or (exc.http_status or 0) >= 500
    )
    logger.warning(
        "Stripe refused a request: %s (%s, HTTP %s, request %s)",
        exc.user_message or str(exc),
        type(exc).__name__,
        exc.http_status,
        exc.request_id,
    )
    if isinstance(exc, stripe.CardError):
        message = exc.user_message or _("The card was declined.")
    elif retryable:
        message = _("The payment service is not answering. Please try again in a few minutes.")
    else:
        message = _("The payment service refused the request.")
    return ProviderError(message, retryable=retryable)


def _idempotency(key: str) -> Any:
    # The SDK types request options as a TypedDict; a plain dict is what it reads.
    return {"idempotency_key": key}


def _percentage(rate_bp: int) -> str:
    """Basis points as Stripe's decimal percentage: 2000 -> "20", 1250 -> "12.5"."""
    return f"{(Decimal(rate_bp) / 100).normalize():f}"


def _tax_key(tax: TaxLine) -> str:
    kind = "inclusive" if tax.inclusive else "exclusive"
    return f"{tax.rate_bp}:{kind}:{tax.name}"


def saved_method(customer_id: str, payment_method_id: str) -> str:
    """The handle Parta keeps for a saved card: the Customer and its payment method."""
    return f"{customer_id}:{payment_method_id}"


def _saved_parts(saved_method_id: str) -> tuple[str, str] | None:
    customer_id, _sep, payment_method_id = saved_method_id.partition(":")
    if customer_id.startswith("cus_") and payment_method_id.startswith(("pm_", "card_", "src_")):
        return customer_id, payment_method_id
    return None


class StripeProvider(PaymentProvider):
    name = "stripe"
    recurring = True

    def __init__(self) -> None:
        # (catalog account, parta tax key) -> Stripe tax rate id. Lives as long as the
        # provider (registry.reset() forgets it); a stale id is dropped on the first
        # refused checkout.
        self._tax_rates: dict[tuple[str, str], str] = {}
        self._tax_lock = threading.Lock()

    def supports(self, currency: str) -> bool:
        return account_for(currency) is not None

    def _account(self, currency: str) -> StripeAccount:
        account = account_for(currency)
        if account is None:
            raise ProviderError(
                _("Card payments in %(code)s are not available.") % {"code": currency}
            )
        return account

    # --- Checkout ------------------------------------------------------------------------

    def client_config(self, currency: str) -> dict[str, str]:
        account = account_for(currency)
        return {"publishable_key": account.publishable_key} if account else {}

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        account = self._account(request.currency)
        client = _client(account)
        try:
            if settings.STRIPE_FLOW == FLOW_PAYMENT_INTENT:
                return self._payment_intent(client, request)
            return self._checkout_session(client, account, request)
        except stripe.StripeError as exc:
            if isinstance(exc, stripe.InvalidRequestError):
                self._forget_tax_rates(account)
            raise _provider_error(exc) from exc

    def _payment_intent(
        self, client: stripe.StripeClient, request: CheckoutRequest
    ) -> CheckoutSession:
        params: dict[str, Any] = {
            "amount": request.total,
            "currency": request.currency.lower(),
            "metadata": {ORDER_METADATA_KEY: str(request.order_id)},
            # No receipt_email: in live mode Stripe then mails a receipt regardless of the
            # account's email settings.
            "description": request.description or f"Parta order #{request.order_id}",
        }
        if request.save_payment_method:
            params["customer"] = self._customer(client, request)
            params["setup_future_usage"] = SAVED_FOR
        intent = client.v1.payment_intents.create(
            params, _idempotency(f"parta-pi-{request.order_id}")
        )
        return CheckoutSession(
            session_id=intent.id,
            url=reverse("billing:order", args=[request.order_id]),
            expires_at=timezone.now() + timedelta(hours=PAYMENT_INTENT_HOURS),
            client_secret=intent.client_secret or "",
        )

    def _checkout_session(
        self, client: stripe.StripeClient, account: StripeAccount, request: CheckoutRequest
    ) -> CheckoutSession:
        window = int(time.time()) // CHECKOUT_WINDOW_SECONDS
        expires_at = (window + 1) * CHECKOUT_WINDOW_SECONDS + CHECKOUT_OPEN_AFTER_WINDOW_SECONDS
        tax_rates = [self._tax_rate(client, account, tax) for tax in request.taxes]
        line_items = []
        for line in request.lines:
            item: dict[str, Any] = {"quantity": line.quantity}
            if line.item_price_id is not None:
                item["price"] = self._catalog_price(client, account, line)
            else:
                item["price_data"] = {
                    "currency": request.currency.lower(),
                    "unit_amount": line.unit_amount,
                    "product_data": {"name": line.title},
                }
            if tax_rates:
                item["tax_rates"] = tax_rates
            line_items.append(item)
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": line_items,
            "metadata": {ORDER_METADATA_KEY: str(request.order_id)},
            "client_reference_id": str(request.order_id),
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "expires_at": expires_at,
        }
        if request.discount is not None:
            params["discounts"] = [{"coupon": self._coupon(client, account, request.discount)}]
        if request.save_payment_method:
            # Stripe takes a customer or a customer_email, not both: the Customer has it.
            params["customer"] = self._customer(client, request)
            params["payment_intent_data"] = {"setup_future_usage": SAVED_FOR}
        elif request.customer_email:
            params["customer_email"] = request.customer_email
        session = client.v1.checkout.sessions.create(
            params, _idempotency(f"parta-checkout-{request.order_id}-{window}")
        )
        if session.amount_total != request.total:
            # Parta's totals follow Stripe's per-line arithmetic; if they ever disagree,
            # nobody may pay an amount the order does not show.
            logger.error(
                "Stripe computed %s for order %s, Parta %s; session %s expired",
                session.amount_total,
                request.order_id,
                request.total,
                session.id,
            )
            client.v1.checkout.sessions.expire(session.id)
            raise ProviderError(_("The card payment could not be prepared for this order."))
        return CheckoutSession(
            session_id=session.id,
            url=session.url or "",
            expires_at=datetime.fromtimestamp(session.expires_at, tz=UTC),
        )

    def _customer(self, client: stripe.StripeClient, request: CheckoutRequest) -> str:
        """The order's own Customer, whom the card is saved to (made once per order)."""
        params: dict[str, Any] = {"metadata": {ORDER_METADATA_KEY: str(request.order_id)}}
        if request.customer_email:
            params["email"] = request.customer_email
        customer = client.v1.customers.create(
            params, _idempotency(f"parta-customer-order-{request.order_id}")
        )
        return customer.id

    def _catalog_price(
        self, client: stripe.StripeClient, account: StripeAccount, line: CheckoutLine
    ) -> str:
        """The Stripe Price for this item price and amount, created the first time."""
        entries = list(
            ProviderCatalogEntry.objects.filter(
                provider=self.name,
                account=account.catalog_account,
                item_price_id=line.item_price_id,
            ).order_by("id")
        )
        for entry in entries:
            if entry.amount == line.unit_amount:
                return entry.price_id
        if entries:
            # Prices are immutable in Stripe: a new amount is a new Price of the product.
            product_id = entries[0].product_id
        else:
            product = client.v1.products.create(
                {
                    "name": line.title,
                    "metadata": {"parta_item_price_id": str(line.item_price_id)},
                },
                _idempotency(f"parta-product-{line.item_price_id}"),
            )
            product_id = product.id
        price = client.v1.prices.create(
            {
                "product": product_id,
                "currency": account.currency.lower(),
                "unit_amount": line.unit_amount,
                "metadata": {"parta_item_price_id": str(line.item_price_id)},
            },
            _idempotency(f"parta-price-{line.item_price_id}-{line.unit_amount}"),
        )
        try:
            with transaction.atomic():
                ProviderCatalogEntry.objects.create(
                    provider=self.name,
                    account=account.catalog_account,
                    item_price_id=line.item_price_id,
                    amount=line.unit_amount,
                    product_id=product_id,
                    price_id=price.id,
                )
        except IntegrityError:
            # Another checkout stored it first (the idempotency keys gave it the same
            # Stripe objects).
            return ProviderCatalogEntry.objects.get(
                provider=self.name,
                account=account.catalog_account,
                item_price_id=line.item_price_id,
                amount=line.unit_amount,
            ).price_id
        return price.id

    def _coupon(
        self, client: stripe.StripeClient, account: StripeAccount, discount: DiscountSpec
    ) -> str:
        """The coupon ``parta-<code>-<currency>``, created the first time. Should a coupon
        by that id exist with other terms (the code was edited), one whose id also
        names the terms is used instead."""
        base_id = f"parta-{discount.code}-{account.currency}"
        terms = f"{discount.percent}pct" if discount.percent is not None else f"{discount.amount}"
        for coupon_id in (base_id, f"{base_id}-{terms}"):
            coupon = self._coupon_get_or_create(client, account, discount, coupon_id)
            if _coupon_matches(coupon, discount):
                return coupon.id
        raise ProviderError(_("The coupon could not be applied to a card payment."))

    def _coupon_get_or_create(
        self,
        client: stripe.StripeClient,
        account: StripeAccount,
        discount: DiscountSpec,
        coupon_id: str,
    ) -> stripe.Coupon:
        try:
            return client.v1.coupons.retrieve(coupon_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status != 404:
                raise
        params: dict[str, Any] = {
            "id": coupon_id,
            "name": discount.code,
            "duration": "once",
            "metadata": {"parta_code": discount.code},
        }
        if discount.percent is not None:
            params["percent_off"] = discount.percent
        else:
            params["amount_off"] = discount.amount
            params["currency"] = account.currency.lower()
        try:
            return client.v1.coupons.create(params, _idempotency(f"parta-coupon-{coupon_id}"))
        except stripe.InvalidRequestError as exc:
            if exc.code != "resource_already_exists":
                raise
            # Made meanwhile by a concurrent checkout.
            return client.v1.coupons.retrieve(coupon_id)

    def _tax_rate(self, client: stripe.StripeClient, account: StripeAccount, tax: TaxLine) -> str:
        """The Stripe tax rate for this tax: found by its ``parta_key`` metadata or
        created once (tax rates have no ids of our choosing)."""
        key = _tax_key(tax)
        cache_key = (account.catalog_account, key)
        with self._tax_lock:
            known = self._tax_rates.get(cache_key)
        if known:
            return known
        found = None
        for rate in client.v1.tax_rates.list({"limit": 100}).auto_paging_iter():
            fields = rate.to_dict()
            rate_key = (fields.get("metadata") or {}).get(TAX_METADATA_KEY)
            if rate_key and fields.get("active"):
                with self._tax_lock:
                    self._tax_rates.setdefault((account.catalog_account, rate_key), rate.id)
                if rate_key == key:
                    found = found or rate.id
        if found is None:
            digest = hashlib.sha256(key.encode()).hexdigest()[:24]
            rate = client.v1.tax_rates.create(
                {
                    "display_name": tax.name[:TAX_NAME_LENGTH],
                    "percentage": _percentage(tax.rate_bp),
                    "inclusive": tax.inclusive,
                    "metadata": {TAX_METADATA_KEY: key},
                },
                _idempotency(f"parta-tax-{digest}"),
            )
            found = rate.id
            with self._tax_lock:
                self._tax_rates[cache_key] = found
        return found

    def _forget_tax_rates(self, account: StripeAccount) -> None:
        with self._tax_lock:
            for cache_key in [k for k in self._tax_rates if k[0] == account.catalog_account]:
                del self._tax_rates[cache_key]

    # --- Charges of a saved card (renewals) ----------------------------------------------

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """An off-session PaymentIntent for the saved card, confirmed at once; our key
        makes a retried request the same PaymentIntent."""
        parts = _saved_parts(request.saved_method_id)
        if parts is None:
            return ChargeResult(
                payment_id="",
                succeeded=False,
                failure_reason="The saved handle names no Stripe customer and card.",
                method_gone=True,
            )
        customer_id, payment_method_id = parts
        client = _client(self._account(request.currency))
        params: dict[str, Any] = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "customer": customer_id,
            "payment_method": payment_method_id,
            "confirm": True,
            "off_session": True,
            "metadata": {ORDER_METADATA_KEY: str(request.order_id)},
            "description": request.description or f"Parta order #{request.order_id}",
        }
        try:
            intent = client.v1.payment_intents.create(
                params, _idempotency(request.idempotency_key)
            )
        except stripe.CardError as exc:
            return _card_declined(exc)
        except stripe.InvalidRequestError as exc:
            # The Customer or the card is gone (deleted, or the card detached from the
            # Customer): Stripe will never charge it again.
            if exc.code == "resource_missing":
                reason = exc.user_message or f"{request.saved_method_id} is gone at Stripe"
            elif _method_detached(client, customer_id, payment_method_id):
                reason = f"the card {payment_method_id} is no longer on {customer_id}"
            else:
                raise _provider_error(exc) from exc
            return ChargeResult(
                payment_id="", succeeded=False, failure_reason=reason, method_gone=True
            )
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        return _charge_result(intent.to_dict())

    # --- Refunds -------------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundResult:
        account = self._account(request.currency)
        target = "charge" if request.provider_payment_id.startswith("ch_") else "payment_intent"
        try:
            refund = _client(account).v1.refunds.create(
                {
                    target: request.provider_payment_id,
                    "amount": request.amount,
                    "metadata": {"parta_idempotency_key": request.idempotency_key},
                },
                _idempotency(request.idempotency_key),
            )
        except stripe.StripeError as exc:
            raise _provider_error(exc) from exc
        fields = refund.to_dict()
        status = str(fields.get("status") or "")
        failed = status in ("failed", "canceled")
        return RefundResult(
            refund_id=refund.id,
            succeeded=status == "succeeded",
            pending=status in ("pending", "requires_action"),
            failure_reason=str(fields.get("failure_reason") or status) if failed else "",
        )

    # --- Webhooks ------------------------------------------------------------------------

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        header = _header(headers, SIGNATURE_HEADER)
        if not header:
            raise InvalidWebhook("missing Stripe-Signature header")
        secrets = [a.webhook_secret for a in configured_accounts() if a.webhook_secret]
        if not secrets:
            raise InvalidWebhook("no Stripe webhook secret is configured")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidWebhook("the body is not UTF-8") from exc
        # Each currency's account signs with its own secret; one of them must match.
        failure = "signature mismatch"
        for secret in secrets:
            try:
                stripe.WebhookSignature.verify_header(text, header, secret, TOLERANCE_SECONDS)
                break
            except stripe.SignatureVerificationError as exc:
                failure = str(exc.user_message or exc)
        else:
            raise InvalidWebhook(failure)
        try:
            payload = json.loads(text)
            event_id = str(payload["id"])
            raw_type = str(payload["type"])
            obj = payload["data"]["object"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidWebhook("unreadable event body") from exc
        if not isinstance(payload, dict) or not isinstance(obj, dict):
            raise InvalidWebhook("unreadable event body")
        reader = _READERS.get(raw_type)
        try:
            fields = {"kind": EventKind.OTHER} | (reader(obj) if reader else {})
        except (AttributeError, TypeError, ValueError) as exc:
            # A shape the readers do not expect (they check the ones Stripe documents).
            raise InvalidWebhook(f"unreadable {raw_type} event") from exc
        if fields["kind"] == EventKind.CHECKOUT_PAID:
            fields["saved_method_id"] = self._saved_method(raw_type, obj, fields)
        return WebhookEvent(event_id=event_id, raw_type=raw_type, payload=payload, **fields)

    def _saved_method(self, raw_type: str, obj: dict, fields: dict) -> str:
        """The card a paid checkout saved for later charges ("" when none): on the
        PaymentIntent, which a Checkout Session's event only names, so it is fetched."""
        if raw_type.startswith("payment_intent."):
            return _saved_on_intent(obj)
        if not _id_of(obj.get("customer"), "customer") or not fields.get("provider_payment_id"):
            return ""  # a checkout that saves a card has a Customer
        account = account_for(fields.get("currency") or "")
        if account is None:
            return ""
        try:
            intent = _client(account).v1.payment_intents.retrieve(fields["provider_payment_id"])
        except stripe.StripeError as exc:
            # 503: Stripe sends the event again later.
            raise _provider_error(exc) from exc
        return _saved_on_intent(intent.to_dict())


# --- Reading charges ---------------------------------------------------------------------


def _card_declined(exc: stripe.CardError) -> ChargeResult:
    """A 402 from an off-session charge: declined, or it needs the buyer (3-D Secure)."""
    error = exc.error
    code = str(exc.code or "card_declined")
    decline_code = str(getattr(error, "decline_code", None) or "")
    intent = getattr(error, "payment_intent", None)
    return ChargeResult(
        payment_id=str(getattr(intent, "id", "") or ""),
        succeeded=False,
        failure_reason=decline_code or code,
        method_gone=bool({code, decline_code} & METHOD_GONE_CODES),
    )


def _method_detached(
    client: stripe.StripeClient, customer_id: str, payment_method_id: str
) -> bool:
    """Whether the card is no longer the Customer's (deleted, or detached: Stripe then
    refuses it for good, with no code to tell)."""
    try:
        method = client.v1.payment_methods.retrieve(payment_method_id)
    except stripe.InvalidRequestError as exc:
        return exc.code == "resource_missing" or exc.http_status == 404
    except stripe.StripeError:
        return False
    owner = method.to_dict().get("customer")
    return (owner.get("id") if isinstance(owner, dict) else owner) != customer_id


def _charge_result(intent: dict) -> ChargeResult:
    status = intent.get("status")
    intent_id = str(intent.get("id") or "")
    if status == "succeeded":
        return ChargeResult(payment_id=intent_id, succeeded=True)
    if status == "processing":
        return ChargeResult(payment_id=intent_id, succeeded=False, pending=True)
    error = intent.get("last_payment_error") or {}
    code = str(error.get("decline_code") or error.get("code") or status or "declined")
    return ChargeResult(
        payment_id=intent_id,
        succeeded=False,
        failure_reason=code,
        method_gone=code in METHOD_GONE_CODES,
    )


def _saved_on_intent(intent: dict) -> str:
    if intent.get("setup_future_usage") != SAVED_FOR:
        return ""
    customer_id = _id_of(intent.get("customer"), "customer")
    payment_method_id = _id_of(intent.get("payment_method"), "payment_method")
    if not customer_id or not payment_method_id:
        return ""
    return saved_method(customer_id, payment_method_id)


# --- Reading events ----------------------------------------------------------------------


def _object(value: Any, name: str) -> dict:
    """A nested object of the event: absent reads as empty, any other shape is refused."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidWebhook(f"the event's {name} is not an object")
    return value


def _text(value: Any, name: str) -> str:
    """A string field of the event (an integer is taken as its digits)."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise InvalidWebhook(f"the event's {name} is not a string")
    return value


def _id_of(value: Any, name: str = "id") -> str:
    """An id whether the field holds it or the expanded object."""
    if isinstance(value, dict):
        return _text(value.get("id"), name)
    return _text(value, name)


def _order_id(obj: dict) -> int | None:
    metadata = _object(obj.get("metadata"), "metadata")
    found = id_or_none(metadata.get(ORDER_METADATA_KEY))
    return found if found is not None else id_or_none(obj.get("client_reference_id"))


def _session(kind: EventKind, obj: dict, reason: str = "") -> dict:
    return {
        "kind": kind,
        "order_id": _order_id(obj),
        "session_id": _text(obj.get("id"), "id"),
        "provider_payment_id": _id_of(obj.get("payment_intent"), "payment_intent"),
        "amount": amount_or_none(obj.get("amount_total")),
        "currency": _text(obj.get("currency"), "currency").upper(),
        "failure_reason": reason,
    }


def _session_completed(obj: dict) -> dict:
    # "unpaid": a delayed method (a bank debit) is still on its way; the
    # async_payment_succeeded / _failed event tells how it ended.
    if obj.get("payment_status") != "paid":
        return {}
    return _session(EventKind.CHECKOUT_PAID, obj)


def _intent(kind: EventKind, obj: dict) -> dict:
    # Only intents Parta made for the payment_intent flow carry the order id. A Checkout
    # Session's own intent is reported through the session's events: a declined card
    # there does not end the order, the buyer may try another one.
    order_id = id_or_none(_object(obj.get("metadata"), "metadata").get(ORDER_METADATA_KEY))
    if order_id is None:
        return {}
    received = obj.get("amount_received")
    reason = ""
    if kind == EventKind.CHECKOUT_FAILED:
        error = _object(obj.get("last_payment_error"), "last_payment_error")
        reason = _text(error.get("message"), "last_payment_error.message") or "declined"
    return {
        "kind": kind,
        "order_id": order_id,
        "session_id": _text(obj.get("id"), "id"),
        "provider_payment_id": _text(obj.get("id"), "id"),
        "amount": amount_or_none(received if received else obj.get("amount")),
        "currency": _text(obj.get("currency"), "currency").upper(),
        "failure_reason": reason,
    }


def _refund(obj: dict) -> dict:
    status = obj.get("status")
    if status == "succeeded":
        kind, reason = EventKind.REFUND_SUCCEEDED, ""
    elif status in ("failed", "canceled"):
        kind = EventKind.REFUND_FAILED
        reason = _text(obj.get("failure_reason"), "failure_reason") or status
    else:
        return {}
    return {
        "kind": kind,
        "refund_id": _text(obj.get("id"), "id"),
        "provider_payment_id": _id_of(obj.get("payment_intent"), "payment_intent"),
        "amount": amount_or_none(obj.get("amount")),
        "currency": _text(obj.get("currency"), "currency").upper(),
        "failure_reason": reason,
    }


def _refund_failed(obj: dict) -> dict:
    return _refund({**obj, "status": "failed"})


def _charge_refunded(obj: dict) -> dict:
    # The charge lists its refunds only in older API versions; the newest successful
    # one is the refund this event is about. refund.updated covers the rest.
    refunds = _object(obj.get("refunds"), "refunds").get("data") or []
    if not isinstance(refunds, list):
        raise InvalidWebhook("the event's refunds.data is not a list")
    done = [r for r in refunds if isinstance(r, dict) and r.get("status") == "succeeded"]
    if not done:
        return {}
    newest = max(done, key=lambda r: amount_or_none(r.get("created")) or 0)
    payment_intent = newest.get("payment_intent") or obj.get("payment_intent")
    return _refund({**newest, "payment_intent": payment_intent})


_READERS = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": lambda obj: _session(EventKind.CHECKOUT_PAID, obj),
    "checkout.session.async_payment_failed": lambda obj: _session(
        EventKind.CHECKOUT_FAILED, obj, "the payment did not go through"
    ),
    "checkout.session.expired": lambda obj: _session(EventKind.CHECKOUT_EXPIRED, obj),
    "payment_intent.succeeded": lambda obj: _intent(EventKind.CHECKOUT_PAID, obj),
    "payment_intent.payment_failed": lambda obj: _intent(EventKind.CHECKOUT_FAILED, obj),
    "charge.refunded": _charge_refunded,
    "refund.created": _refund,
    "refund.updated": _refund,
    "refund.failed": _refund_failed,
}


def _coupon_matches(coupon: stripe.Coupon, discount: DiscountSpec) -> bool:
    fields = coupon.to_dict()
    percent_off = fields.get("percent_off")
    if discount.percent is not None:
        return percent_off is not None and Decimal(str(percent_off)) == discount.percent
    return fields.get("amount_off") == discount.amount


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""
