"""T-Bank internet acquiring (API v2): Init (a payment page to redirect to), GetState and
Cancel (refunds), on a thin ``httpx`` client of our own: T-Bank publishes no Python SDK,
and the packages on PyPI that wrap this API are small and not kept up with it, while the
protocol is four JSON calls and one signature.

Every request and every notification is signed with a ``Token``: SHA-256 (hex) over the
values of the root fields sorted by name, with the terminal's password added as the field
``Password``; nested objects (``Receipt``, ``DATA``) and the Token itself are left out.
The notification is answered with the plain text ``OK``.

Recurring plans: the first payment's Init carries ``Recurrent=Y`` and a ``CustomerKey``,
and T-Bank's notification names the card's ``RebillId``; a renewal is a new Init (no
page), its PaymentId stored, then ``Charge`` with that RebillId (GetState first, so a
payment charged by a run that lost T-Bank's answer is not charged again).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import timedelta

import httpx
from django.conf import settings
from django.urls import reverse
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
    amount_or_none,
    id_or_none,
)

DEFAULT_API_URL = "https://securepay.tinkoff.ru/v2"
TIMEOUT = httpx.Timeout(15.0, connect=5.0)

TAX = {
    VatCode.NONE: "none",
    VatCode.VAT0: "vat0",
    VatCode.VAT5: "vat5",
    VatCode.VAT7: "vat7",
    VatCode.VAT10: "vat10",
    VatCode.VAT20: "vat20",
    VatCode.VAT22: "vat22",
    VatCode.VAT105: "vat105",
    VatCode.VAT107: "vat107",
    VatCode.VAT110: "vat110",
    VatCode.VAT120: "vat120",
    VatCode.VAT122: "vat122",
}
TAXATION = {
    "osn": "osn",
    "usn_income": "usn_income",
    "usn_income_outcome": "usn_income_outcome",
    "esn": "esn",
    "patent": "patent",
}
# 54-FZ payment method and subject in T-Bank's words.
PAYMENT_METHOD = {"full_payment": "full_payment", "advance": "advance"}
PAYMENT_OBJECT = {"service": "service", "payment": "payment"}

KINDS = {
    "CONFIRMED": EventKind.CHECKOUT_PAID,
    "REJECTED": EventKind.CHECKOUT_FAILED,
    "AUTH_FAIL": EventKind.CHECKOUT_FAILED,
    "DEADLINE_EXPIRED": EventKind.CHECKOUT_EXPIRED,
}
REFUNDED = {"REFUNDED", "PARTIAL_REFUNDED", "REVERSED", "CANCELED"}
REFUNDING = {"REFUNDING", "REVERSING", "CANCELING"}


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def token(fields: Mapping[str, object], password: str) -> str:
    """T-Bank's Token of a request or notification."""
    values = {
        key: value
        for key, value in fields.items()
        if key != "Token" and not isinstance(value, dict | list) and value is not None
    }
    values["Password"] = password
    joined = "".join(_text(values[key]) for key in sorted(values))
    return hashlib.sha256(joined.encode()).hexdigest()


def receipt_data(receipt: Receipt) -> dict:
    data: dict = {
        "Email": receipt.email,
        "Items": [
            {
                "Name": line.title,
                "Price": line.unit_amount,
                "Quantity": line.quantity,
                "Amount": line.amount,
                "Tax": TAX[line.vat_code],
                "PaymentMethod": PAYMENT_METHOD.get(line.payment_mode, "full_payment"),
                "PaymentObject": PAYMENT_OBJECT.get(line.payment_subject, "service"),
            }
            for line in receipt.lines
        ],
    }
    data["Taxation"] = TAXATION.get(receipt.taxation, "usn_income")
    return data


def order_reference(order_id: int, previous_session_id: str) -> str:
    """T-Bank's OrderId: our order id and the checkout attempt ("41-3f9a..."), so each
    attempt is its own order at T-Bank and the notification still names our order."""
    attempt = hashlib.sha256(previous_session_id.encode()).hexdigest()[:8]
    return f"{order_id}-{attempt}"


def customer_key(email: str) -> str:
    """T-Bank's CustomerKey (at most 36 characters): the buyer, without their address."""
    return "c" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


class TBankProvider(PaymentProvider):
    name = "tbank"
    recurring = True

    def supports(self, currency: str) -> bool:
        return currency == "RUB"

    def _post(self, method: str, fields: dict) -> dict:
        if not settings.TBANK_TERMINAL_KEY or not settings.TBANK_PASSWORD:
            raise ProviderError("T-Bank is not configured (TBANK_TERMINAL_KEY, _PASSWORD).")
        body = {"TerminalKey": settings.TBANK_TERMINAL_KEY, **fields}
        body["Token"] = token(body, settings.TBANK_PASSWORD)
        url = f"{(settings.TBANK_API_URL or DEFAULT_API_URL).rstrip('/')}/{method}"
        try:
            response = httpx.post(url, json=body, timeout=TIMEOUT)
        except httpx.HTTPError as exc:
            raise ProviderError("T-Bank could not be reached.", retryable=True) from exc
        if response.status_code >= 500:
            raise ProviderError("T-Bank is unavailable now.", retryable=True)
        try:
            answer = response.json()
        except ValueError as exc:
            raise ProviderError("T-Bank sent an unreadable answer.", retryable=True) from exc
        if not isinstance(answer, dict):
            raise ProviderError("T-Bank sent an unreadable answer.", retryable=True)
        if not answer.get("Success") or str(answer.get("ErrorCode", "0")) != "0":
            message = answer.get("Message") or "T-Bank refused the request."
            details = answer.get("Details")
            raise ProviderError(f"{message} ({details})" if details else str(message))
        return answer

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        if not self.supports(request.currency):
            raise ProviderError(f"T-Bank does not take {request.currency} here.")
        minutes = settings.TBANK_CHECKOUT_MINUTES
        due = timezone.now() + timedelta(minutes=minutes)
        fields: dict = {
            "Amount": request.total,
            "OrderId": order_reference(request.order_id, request.previous_session_id),
            "Description": (request.description or f"Order {request.order_id}")[:140],
            "SuccessURL": request.success_url,
            "FailURL": request.cancel_url,
            "RedirectDueDate": due.replace(microsecond=0).isoformat(),
            "PayType": "O",
        }
        fields["NotificationURL"] = settings.PARTA_SITE_URL + reverse(
            "billing:webhook", args=[self.name]
        )
        if request.customer_email:
            fields["DATA"] = {"Email": request.customer_email}
        if request.receipt is not None:
            fields["Receipt"] = receipt_data(request.receipt)
        if request.save_payment_method:
            # The card is kept for the plan's renewals: the notification names its RebillId.
            fields["Recurrent"] = "Y"
            fields["CustomerKey"] = customer_key(request.customer_email or str(request.order_id))
        answer = self._post("Init", fields)
        payment_id = str(answer.get("PaymentId") or "")
        url = answer.get("PaymentURL") or ""
        if not payment_id or not url:
            raise ProviderError("T-Bank gave no payment page.")
        return CheckoutSession(session_id=payment_id, url=url, expires_at=due)

    charges_in_two_steps = True

    def charge_start(self, request: ChargeRequest) -> str:
        """Init the renewal order's payment (its OrderId from our idempotency key, no
        page): the PaymentId that ``charge`` then charges with the saved card."""
        attempt = hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:8]
        fields: dict = {
            "Amount": request.amount,
            "OrderId": f"{request.order_id}-r{attempt}",
            "Description": (request.description or f"Order {request.order_id}")[:140],
        }
        if request.customer_email:
            fields["DATA"] = {"Email": request.customer_email}
        if request.receipt is not None:
            fields["Receipt"] = receipt_data(request.receipt)
        init = self._post("Init", fields)
        payment_id = str(init.get("PaymentId") or "")
        if not payment_id:
            raise ProviderError("T-Bank gave no payment to charge.")
        return payment_id

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """Charge the payment ``charge_start`` made (``request.payment_id``) with the
        saved card's RebillId. It may have been charged already by a run that never got
        T-Bank's answer, so GetState comes first: a payment still NEW is charged, any
        other takes the outcome T-Bank has. Without a payment id: Init, then Charge."""
        payment_id = request.payment_id
        if not payment_id:
            payment_id = self.charge_start(request)
            status = "NEW"
        else:
            status = self.state(payment_id)
        if status == "NEW":
            try:
                answer = self._post(
                    "Charge", {"PaymentId": payment_id, "RebillId": request.saved_method_id}
                )
            except ProviderError as exc:
                if exc.retryable:
                    raise
                return ChargeResult(
                    payment_id=payment_id, succeeded=False, failure_reason=exc.message
                )
            status = str(answer.get("Status") or "")
        if status == "CONFIRMED":
            return ChargeResult(payment_id=payment_id, succeeded=True)
        if status in ("AUTHORIZED", "CONFIRMING", "AUTHORIZING", "NEW", "FORM_SHOWED"):
            return ChargeResult(payment_id=payment_id, succeeded=False, pending=True)
        return ChargeResult(
            payment_id=payment_id, succeeded=False, failure_reason=f"T-Bank status {status}"
        )

    def state(self, payment_id: str) -> str:
        """GetState: the payment's status at T-Bank now."""
        return str(self._post("GetState", {"PaymentId": payment_id}).get("Status") or "")

    def refund(self, request: RefundRequest) -> RefundResult:
        fields: dict = {
            "PaymentId": request.provider_payment_id,
            "Amount": request.amount,
            # T-Bank's idempotency key of a cancel operation.
            "ExternalRequestId": request.idempotency_key,
        }
        if request.receipt is not None:
            fields["Receipt"] = receipt_data(request.receipt)
        answer = self._post("Cancel", fields)
        refund_id = f"{request.provider_payment_id}:{request.idempotency_key}"
        status = str(answer.get("Status") or "")
        if status in REFUNDED:
            return RefundResult(refund_id=refund_id, succeeded=True)
        if status in REFUNDING:
            return RefundResult(refund_id=refund_id, succeeded=False, pending=True)
        return RefundResult(
            refund_id=refund_id, succeeded=False, failure_reason=f"T-Bank status {status}"
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise InvalidWebhook("unreadable notification") from exc
        if not isinstance(data, dict) or not isinstance(data.get("Token"), str):
            raise InvalidWebhook("the notification carries no Token")
        if data.get("TerminalKey") != settings.TBANK_TERMINAL_KEY or not settings.TBANK_PASSWORD:
            raise InvalidWebhook("the notification is for another terminal")
        expected = token(data, settings.TBANK_PASSWORD)
        if not hmac.compare_digest(expected, data["Token"].lower()):
            raise InvalidWebhook("token mismatch")
        status = data.get("Status")
        payment_id = data.get("PaymentId")
        if not isinstance(status, str) or not isinstance(payment_id, str | int):
            raise InvalidWebhook("the notification names no payment or status")
        order_ref = str(data.get("OrderId") or "")
        error_code = str(data.get("ErrorCode") or "0")
        reason = "" if error_code == "0" else f"T-Bank error {error_code}"
        if data.get("Message"):
            reason = f"{reason}: {data['Message']}" if reason else str(data["Message"])
        kind = KINDS.get(status, EventKind.OTHER)
        if kind == EventKind.CHECKOUT_PAID and data.get("Success") is not True:
            kind = EventKind.OTHER
        return WebhookEvent(
            event_id=f"{payment_id}:{status}",
            kind=kind,
            raw_type=status,
            payload=data,
            order_id=id_or_none(order_ref.split("-")[0]),
            session_id=str(payment_id),
            provider_payment_id=str(payment_id),
            amount=amount_or_none(data.get("Amount")),
            currency="RUB",
            failure_reason=reason,
            saved_method_id=str(data.get("RebillId") or ""),
        )

    def webhook_reply(self, *, duplicate: bool) -> tuple[bytes, str] | None:
        return b"OK", "text/plain"
