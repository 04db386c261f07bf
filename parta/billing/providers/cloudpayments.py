"""CloudPayments: a hosted payment page (an order link made by ``/orders/create``: the
buyer pays with a card, Mir, SBP, T-Pay, SberPay, or Apple Pay / Google Pay with a card
that works there), refunds (``/payments/refund``), and the Pay, Fail and Refund
notifications, on a thin ``httpx`` client (CloudPayments' own Python SDK is not kept up).

API calls use Basic auth (Public ID, API secret) and an ``X-Request-ID`` made from our row
ids, which CloudPayments uses to answer a repeated request with the first answer.
Notifications (form-encoded or JSON, as the dashboard is set) are checked by their
``Content-HMAC`` header: base64 of HMAC-SHA256 of the raw body with the API secret, and
answered ``{"code": 0}``. The receipt (54-FZ) goes in ``JsonData.CloudPayments.CustomerReceipt``.

Recurring plans: the Pay notification names the card's ``Token`` (tokens are switched on
for the site in CloudPayments' dashboard); a renewal is ``/payments/tokens/charge`` with the
token, the buyer's AccountId (their email, as on the first payment) and
``TrInitiatorCode`` 0 (a charge the merchant starts, on a schedule), decided at once.

Each checkout attempt has its own InvoiceId ("<order id>-<attempt>"), which is also
Parta's checkout id: the notifications name it, so a late notice about an older link of
the order is told apart from the current one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

import httpx
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

DEFAULT_API_URL = "https://api.cloudpayments.ru"
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
HMAC_HEADER = "Content-HMAC"

# The "vat" of a receipt line: None is "no VAT".
VAT = {
    VatCode.NONE: None,
    VatCode.VAT0: 0,
    VatCode.VAT5: 5,
    VatCode.VAT7: 7,
    VatCode.VAT10: 10,
    VatCode.VAT20: 20,
    VatCode.VAT22: 22,
    VatCode.VAT105: 105,
    VatCode.VAT107: 107,
    VatCode.VAT110: 110,
    VatCode.VAT120: 120,
    VatCode.VAT122: 122,
}
TAXATION = {"osn": 0, "usn_income": 1, "usn_income_outcome": 2, "esn": 4, "patent": 5}
# 54-FZ payment method (4: full payment, 3: advance) and subject (4: service, 10: payment).
METHOD = {"full_payment": 4, "advance": 3}
OBJECT = {"service": 4, "payment": 10}


def to_major(amount: int, currency: str) -> float:
    """Minor units as CloudPayments' decimal number (a JSON number, two places)."""
    return float(Decimal(amount).scaleb(-CURRENCY_EXPONENT[currency]))


def to_minor(value: object, currency: str) -> int | None:
    exponent = CURRENCY_EXPONENT.get(currency)
    if exponent is None or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        minor = Decimal(str(value)).scaleb(exponent)
    except InvalidOperation:
        return None
    if not minor.is_finite() or minor != minor.to_integral_value():
        return None
    return int(minor)


def content_hmac(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def receipt_data(receipt: Receipt) -> dict:
    data: dict = {
        "Items": [
            {
                "label": line.title,
                "price": to_major(line.unit_amount, receipt.currency),
                "quantity": line.quantity,
                "amount": to_major(line.amount, receipt.currency),
                "vat": VAT[line.vat_code],
                "method": METHOD.get(line.payment_mode, 4),
                "object": OBJECT.get(line.payment_subject, 4),
            }
            for line in receipt.lines
        ],
        "email": receipt.email,
        "isBso": False,
        "amounts": {"electronic": to_major(receipt.total, receipt.currency)},
    }
    if receipt.taxation in TAXATION:
        data["taxationSystem"] = TAXATION[receipt.taxation]
    return data


def _receipt_json(receipt: Receipt) -> dict:
    return {"CloudPayments": {"CustomerReceipt": receipt_data(receipt)}}


def invoice_id(order_id: int, previous_session_id: str) -> str:
    attempt = hashlib.sha256(previous_session_id.encode()).hexdigest()[:8]
    return f"{order_id}-{attempt}"


class CloudPaymentsProvider(PaymentProvider):
    name = "cloudpayments"
    recurring = True

    def supports(self, currency: str) -> bool:
        return currency in settings.CLOUDPAYMENTS_CURRENCIES

    def _post(self, path: str, body: dict, *, request_id: str) -> dict:
        answer = self._send(path, body, request_id=request_id)
        if not answer.get("Success"):
            raise ProviderError(answer.get("Message") or "CloudPayments refused the request.")
        return answer.get("Model") or {}

    def _send(self, path: str, body: dict, *, request_id: str) -> dict:
        """The whole answer (a declined charge is ``Success: false`` with its Model)."""
        public_id, secret = settings.CLOUDPAYMENTS_PUBLIC_ID, settings.CLOUDPAYMENTS_API_SECRET
        if not public_id or not secret:
            raise ProviderError(
                "CloudPayments is not configured (CLOUDPAYMENTS_PUBLIC_ID, _API_SECRET)."
            )
        url = (settings.CLOUDPAYMENTS_API_URL or DEFAULT_API_URL).rstrip("/") + path
        try:
            response = httpx.post(
                url,
                json=body,
                auth=(public_id, secret),
                headers={"X-Request-ID": request_id},
                timeout=TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise ProviderError("CloudPayments could not be reached.", retryable=True) from exc
        if response.status_code == 401:
            raise ProviderError("CloudPayments refused Parta's keys.")
        if response.status_code >= 500:
            raise ProviderError("CloudPayments is unavailable now.", retryable=True)
        try:
            answer = response.json()
        except ValueError as exc:
            raise ProviderError(
                "CloudPayments sent an unreadable answer.", retryable=True
            ) from exc
        if not isinstance(answer, dict):
            raise ProviderError("CloudPayments sent an unreadable answer.", retryable=True)
        return answer

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        if not self.supports(request.currency):
            raise ProviderError(f"CloudPayments does not take {request.currency} here.")
        invoice = invoice_id(request.order_id, request.previous_session_id)
        body: dict = {
            "Amount": to_major(request.total, request.currency),
            "Currency": request.currency,
            "Description": (request.description or f"Order {request.order_id}")[:100],
            "InvoiceId": invoice,
            "RequireConfirmation": False,
            "SendEmail": False,
            "SuccessRedirectUrl": request.success_url,
            "FailRedirectUrl": request.cancel_url,
        }
        if request.customer_email:
            body["Email"] = request.customer_email
            # The account the card's token is bound to, for the plan's renewals.
            body["AccountId"] = request.customer_email
        if request.receipt is not None:
            body["JsonData"] = {
                "CloudPayments": {"CustomerReceipt": receipt_data(request.receipt)}
            }
        model = self._post("/orders/create", body, request_id=f"parta-checkout-{invoice}")
        url = model.get("Url") or ""
        if not url:
            raise ProviderError("CloudPayments gave no payment page.")
        return CheckoutSession(
            session_id=invoice,
            url=url,
            expires_at=timezone.now() + timedelta(minutes=settings.CLOUDPAYMENTS_CHECKOUT_MINUTES),
        )

    def charge(self, request: ChargeRequest) -> ChargeResult:
        attempt = hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:8]
        body: dict = {
            "Amount": to_major(request.amount, request.currency),
            "Currency": request.currency,
            "AccountId": request.customer_email,
            "Token": request.saved_method_id,
            "InvoiceId": f"{request.order_id}-r{attempt}",
            "Description": (request.description or f"Order {request.order_id}")[:100],
            # 0: started by the merchant (not the cardholder); a scheduled payment.
            "TrInitiatorCode": 0,
            "PaymentScheduled": 1,
        }
        if request.customer_email:
            body["Email"] = request.customer_email
        if request.receipt is not None:
            body["JsonData"] = {
                "CloudPayments": {"CustomerReceipt": receipt_data(request.receipt)}
            }
        answer = self._send("/payments/tokens/charge", body, request_id=request.idempotency_key)
        model = answer.get("Model") or {}
        transaction_id = str(model.get("TransactionId") or "")
        if answer.get("Success") and model.get("Status") == "Completed":
            return ChargeResult(payment_id=transaction_id, succeeded=True)
        reason = model.get("CardHolderMessage") or model.get("Reason") or answer.get("Message")
        if model.get("ReasonCode") not in (None, "", 0):
            reason = f"{reason} ({model['ReasonCode']})"
        return ChargeResult(
            payment_id=transaction_id,
            succeeded=False,
            failure_reason=str(reason or "declined"),
            # No transaction at all: the token (or its account) is not known any more.
            method_gone=not transaction_id,
        )

    def refund(self, request: RefundRequest) -> RefundResult:
        transaction_id = id_or_none(request.provider_payment_id)
        if transaction_id is None:
            raise ProviderError("The payment has no CloudPayments transaction id.")
        body: dict = {
            "TransactionId": transaction_id,
            "Amount": to_major(request.amount, request.currency),
        }
        if request.receipt is not None:
            body["JsonData"] = {
                "CloudPayments": {"CustomerReceipt": receipt_data(request.receipt)}
            }
        model = self._post("/payments/refund", body, request_id=request.idempotency_key)
        refund_id = model.get("TransactionId")
        if refund_id is None:
            raise ProviderError("CloudPayments gave no refund transaction.")
        return RefundResult(refund_id=str(refund_id), succeeded=True)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        secret = settings.CLOUDPAYMENTS_API_SECRET
        given = _header(headers, HMAC_HEADER)
        if not secret or not given:
            raise InvalidWebhook("the notification carries no Content-HMAC")
        if not hmac.compare_digest(content_hmac(body, secret), given.strip()):
            raise InvalidWebhook("Content-HMAC mismatch")
        data = _fields(body, _header(headers, "Content-Type"))
        transaction_id = id_or_none(data.get("TransactionId"))
        if transaction_id is None:
            raise InvalidWebhook("the notification names no transaction")
        currency = str(data.get("Currency") or "")
        invoice = str(data.get("InvoiceId") or "")
        operation = data.get("OperationType")
        status = data.get("Status")
        if operation == "Refund":
            kind, raw_type = EventKind.REFUND_SUCCEEDED, "Refund"
        elif status == "Completed":
            kind, raw_type = EventKind.CHECKOUT_PAID, "Pay"
        elif data.get("ReasonCode") not in (None, "", 0, "0"):
            kind, raw_type = EventKind.CHECKOUT_FAILED, "Fail"
        else:
            kind, raw_type = EventKind.OTHER, str(status or operation or "Other")[:100]
        reason = str(data.get("Reason") or "")
        if data.get("ReasonCode") not in (None, "", 0, "0"):
            reason = f"{reason} ({data['ReasonCode']})".strip()
        payment_id = (
            data.get("PaymentTransactionId") if kind == EventKind.REFUND_SUCCEEDED else None
        )
        return WebhookEvent(
            event_id=f"{raw_type.lower()}:{transaction_id}",
            kind=kind,
            raw_type=raw_type,
            payload=data,
            order_id=id_or_none(invoice.split("-")[0]),
            session_id=invoice,
            provider_payment_id=str(payment_id or transaction_id),
            refund_id=str(transaction_id) if kind == EventKind.REFUND_SUCCEEDED else "",
            amount=to_minor(data.get("Amount"), currency),
            currency=currency,
            failure_reason=reason,
            saved_method_id=str(data.get("Token") or "")
            if kind == EventKind.CHECKOUT_PAID
            else "",
        )

    def webhook_reply(self, *, duplicate: bool) -> tuple[bytes, str] | None:
        return b'{"code":0}', "application/json"


def _fields(body: bytes, content_type: str) -> dict:
    try:
        text = body.decode("utf-8")
        if "json" in content_type.lower():
            data = json.loads(text)
        else:
            data = dict(parse_qsl(text, keep_blank_values=True))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidWebhook("unreadable notification") from exc
    if not isinstance(data, dict):
        raise InvalidWebhook("unreadable notification")
    return data


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""
