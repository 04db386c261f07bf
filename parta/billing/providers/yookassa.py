"""YooKassa through its official SDK (``yookassa``): a payment confirmed by redirect to
YooKassa's page, the fiscal receipt (54-FZ) attached, refunds with their refund receipt.

Every request that creates something carries an ``Idempotence-Key`` made from our row
ids (the SDK would make a random one, which repeats a payment when a request is retried).

Notifications are not signed. Each one is taken only from YooKassa's published networks
(settings.YOOKASSA_NOTIFICATION_IPS) and then confirmed by fetching the object through
the API: the event Parta acts on is built from what the API answers, never from the
notification's body.

The SDK keeps its configuration in class attributes; every call configures it and runs
under one lock, so two shops (or a test double) never mix.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import threading
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils import timezone

from parta.billing.providers.base import (
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutSession,
    EventKind,
    InvalidWebhook,
    PaymentProvider,
    ProviderError,
    Receipt,
    RefundRequest,
    RefundResult,
    VatCode,
    WebhookEvent,
    id_or_none,
)
from parta.common.money import CURRENCY_EXPONENT

DEFAULT_API_URL = "https://api.yookassa.ru/v3"

# YooKassa's vat_code per receipt line.
VAT_CODES = {
    VatCode.NONE: 1,
    VatCode.VAT0: 2,
    VatCode.VAT10: 3,
    VatCode.VAT20: 4,
    VatCode.VAT110: 5,
    VatCode.VAT120: 6,
    VatCode.VAT5: 7,
    VatCode.VAT7: 8,
    VatCode.VAT105: 9,
    VatCode.VAT107: 10,
    VatCode.VAT22: 11,
    VatCode.VAT122: 12,
}
# tax_system_code: the seller's taxation system.
TAX_SYSTEMS = {"osn": 1, "usn_income": 2, "usn_income_outcome": 3, "esn": 5, "patent": 6}

# The notifications Parta subscribes to, and the status the object must have at the API.
PAYMENT_EVENTS = {
    "payment.succeeded": ("succeeded", EventKind.CHECKOUT_PAID),
    "payment.canceled": ("canceled", EventKind.CHECKOUT_FAILED),
}
REFUND_EVENTS = {"refund.succeeded": ("succeeded", EventKind.REFUND_SUCCEEDED)}

_lock = threading.Lock()


def to_value(amount: int, currency: str) -> str:
    """Minor units as YooKassa's decimal string: 199000 RUB -> "1990.00"."""
    exponent = CURRENCY_EXPONENT[currency]
    return f"{Decimal(amount).scaleb(-exponent):.{exponent}f}"


def from_value(value: object, currency: str) -> int | None:
    """YooKassa's decimal string as minor units; None when it is not an exact amount."""
    exponent = CURRENCY_EXPONENT.get(currency)
    if exponent is None or not isinstance(value, str):
        return None
    try:
        minor = Decimal(value).scaleb(exponent)
    except InvalidOperation:
        return None
    if not minor.is_finite() or minor != minor.to_integral_value():
        return None
    return int(minor)


def receipt_data(receipt: Receipt) -> dict:
    data: dict = {
        "customer": {"email": receipt.email},
        "items": [
            {
                "description": line.title,
                "quantity": f"{line.quantity}.00",
                "amount": {
                    "value": to_value(line.unit_amount, receipt.currency),
                    "currency": receipt.currency,
                },
                "vat_code": VAT_CODES[line.vat_code],
                "payment_subject": line.payment_subject,
                "payment_mode": line.payment_mode,
            }
            for line in receipt.lines
        ],
    }
    if receipt.taxation in TAX_SYSTEMS:
        data["tax_system_code"] = TAX_SYSTEMS[receipt.taxation]
    return data


def checkout_key(order_id: int, previous_session_id: str) -> str:
    """The Idempotence-Key of a payment: one per order and checkout attempt, so a retried
    request gets the same payment and a new checkout (after the last one ended) a new one."""
    attempt = hashlib.sha256(previous_session_id.encode()).hexdigest()[:16]
    return f"parta-order-{order_id}-{attempt}"


# A charge of a saved method refused for one of these will never go through: the buyer
# revoked the method (or it is no longer there), so the renewal stops at once.
METHOD_GONE_REASONS = {"permission_revoked", "card_expired", "payment_method_restricted"}


class YooKassaProvider(PaymentProvider):
    name = "yookassa"
    recurring = True

    def supports(self, currency: str) -> bool:
        return currency == "RUB"

    def _call(self, fn, *args, **kwargs):
        """Run one SDK call with Parta's shop configured; its errors become ProviderError."""
        from yookassa import Configuration
        from yookassa.domain.exceptions import ApiError

        if not settings.YOOKASSA_SHOP_ID or not settings.YOOKASSA_SECRET_KEY:
            raise ProviderError("YooKassa is not configured (YOOKASSA_SHOP_ID, _SECRET_KEY).")
        with _lock:
            Configuration.configure(
                settings.YOOKASSA_SHOP_ID,
                settings.YOOKASSA_SECRET_KEY,
                api_url=settings.YOOKASSA_API_URL or DEFAULT_API_URL,
            )
            try:
                return fn(*args, **kwargs)
            except ApiError as exc:
                detail = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
                message = detail.get("description") or "YooKassa refused the request."
                raise ProviderError(str(message), retryable=exc.HTTP_CODE >= 500) from exc
            except (ValueError, TypeError) as exc:  # the SDK's own checks of a request
                raise ProviderError(f"YooKassa would refuse the request: {exc}") from exc
            except Exception as exc:  # the SDK lets requests' and its own errors through
                raise ProviderError("YooKassa could not be reached.", retryable=True) from exc

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        from yookassa import Payment

        if not self.supports(request.currency):
            raise ProviderError(f"YooKassa does not take {request.currency} here.")
        params: dict = {
            "amount": {
                "value": to_value(request.total, request.currency),
                "currency": request.currency,
            },
            "capture": True,
            "confirmation": {"type": "redirect", "return_url": request.success_url},
            "description": (request.description or f"Order {request.order_id}")[:128],
            "metadata": {"order_id": str(request.order_id)},
        }
        if request.receipt is not None:
            params["receipt"] = receipt_data(request.receipt)
        if request.save_payment_method:
            # Kept for the plan's renewals; the notification names it (payment_method.saved).
            params["save_payment_method"] = True
        key = checkout_key(request.order_id, request.previous_session_id)
        payment = self._call(Payment.create, params, idempotency_key=key)
        url = getattr(payment.confirmation, "confirmation_url", "") or ""
        if not payment.id or not url:
            raise ProviderError("YooKassa gave no confirmation page for the payment.")
        return CheckoutSession(
            session_id=payment.id,
            url=url,
            expires_at=timezone.now() + timedelta(minutes=settings.YOOKASSA_CHECKOUT_MINUTES),
        )

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """A payment by the saved method's ``payment_method_id``, with no confirmation
        (the buyer agreed when it was saved); our key makes a retried request the same
        payment."""
        from yookassa import Payment
        from yookassa.domain.exceptions import ApiError

        params: dict = {
            "amount": {
                "value": to_value(request.amount, request.currency),
                "currency": request.currency,
            },
            "capture": True,
            "payment_method_id": request.saved_method_id,
            "description": (request.description or f"Order {request.order_id}")[:128],
            "metadata": {"order_id": str(request.order_id)},
        }
        if request.receipt is not None:
            params["receipt"] = receipt_data(request.receipt)
        try:
            payment = self._call(Payment.create, params, idempotency_key=request.idempotency_key)
        except ProviderError as exc:
            cause = exc.__cause__
            detail = cause.args[0] if isinstance(cause, ApiError) and cause.args else {}
            if isinstance(detail, dict) and detail.get("parameter") == "payment_method_id":
                return ChargeResult(
                    payment_id="", succeeded=False, failure_reason=exc.message, method_gone=True
                )
            raise
        if payment.status == "succeeded":
            return ChargeResult(payment_id=payment.id, succeeded=True)
        if payment.status in ("pending", "waiting_for_capture"):
            return ChargeResult(payment_id=payment.id, succeeded=False, pending=True)
        details = getattr(payment, "cancellation_details", None)
        reason = getattr(details, "reason", "") or "canceled"
        return ChargeResult(
            payment_id=payment.id,
            succeeded=False,
            failure_reason=reason,
            method_gone=reason in METHOD_GONE_REASONS,
        )

    def refund(self, request: RefundRequest) -> RefundResult:
        from yookassa import Refund

        params: dict = {
            "payment_id": request.provider_payment_id,
            "amount": {
                "value": to_value(request.amount, request.currency),
                "currency": request.currency,
            },
        }
        if request.receipt is not None:
            params["receipt"] = receipt_data(request.receipt)
        refund = self._call(Refund.create, params, idempotency_key=request.idempotency_key)
        if refund.status == "succeeded":
            return RefundResult(refund_id=refund.id, succeeded=True)
        if refund.status == "pending":
            return RefundResult(refund_id=refund.id, succeeded=False, pending=True)
        details = getattr(refund, "cancellation_details", None)
        reason = getattr(details, "reason", "") or "canceled"
        return RefundResult(refund_id=refund.id, succeeded=False, failure_reason=reason)

    def check_source(self, remote_addr: str) -> None:
        try:
            address = ipaddress.ip_address(remote_addr)
        except ValueError as exc:
            raise InvalidWebhook("the notification's address is unknown") from exc
        for network in settings.YOOKASSA_NOTIFICATION_IPS:
            if address in ipaddress.ip_network(network, strict=False):
                return
        raise InvalidWebhook(f"{remote_addr} is not one of YooKassa's addresses")

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        from yookassa import Payment, Refund

        try:
            notification = json.loads(body)
            event = notification["event"]
            object_id = notification["object"]["id"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidWebhook("unreadable notification") from exc
        if notification.get("type") != "notification" or not isinstance(event, str):
            raise InvalidWebhook("not a YooKassa notification")
        if not isinstance(object_id, str) or not object_id or len(object_id) > 64:
            raise InvalidWebhook("the notification names no object")
        if event in PAYMENT_EVENTS:
            status, kind = PAYMENT_EVENTS[event]
            fetched = self._fetch(Payment.find_one, object_id)
        elif event in REFUND_EVENTS:
            status, kind = REFUND_EVENTS[event]
            fetched = self._fetch(Refund.find_one, object_id)
        else:
            raise InvalidWebhook(f"{event} is not a notification Parta subscribes to")
        data = dict(fetched)
        if data.get("status") != status:
            # Forged, or older than the object's state: the API is the truth.
            raise InvalidWebhook(f"the {event} notification does not match YooKassa's object")
        amount = data.get("amount") or {}
        currency = str(amount.get("currency") or "")
        common = {
            "event_id": f"{event}:{object_id}",
            "kind": kind,
            "raw_type": event,
            "payload": {"event": event, "object": data},
            "amount": from_value(amount.get("value"), currency),
            "currency": currency,
        }
        if event in REFUND_EVENTS:
            return WebhookEvent(
                **common,
                refund_id=object_id,
                provider_payment_id=str(data.get("payment_id") or ""),
            )
        metadata = data.get("metadata") or {}
        details = data.get("cancellation_details") or {}
        method = data.get("payment_method") or {}
        return WebhookEvent(
            **common,
            order_id=id_or_none(metadata.get("order_id")),
            session_id=object_id,
            provider_payment_id=object_id,
            failure_reason=str(details.get("reason") or ""),
            saved_method_id=str(method.get("id") or "") if method.get("saved") else "",
        )

    def _fetch(self, find_one, object_id: str):
        from yookassa.domain.exceptions import NotFoundError

        try:
            return self._call(find_one, object_id)
        except ProviderError as exc:
            if isinstance(exc.__cause__, NotFoundError):
                raise InvalidWebhook("YooKassa does not know the notification's object") from exc
            raise
