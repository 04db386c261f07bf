"""The sandbox provider: a hosted checkout served by Parta itself (Pay / Decline) that
signs its webhook like a real provider and sends it down the very same webhook path.
The whole purchase flow works with no keys and no network."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from datetime import timedelta

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
    RefundRequest,
    RefundResult,
    WebhookEvent,
    amount_or_none,
    id_or_none,
)

SIGNATURE_HEADER = "X-Parta-Signature"
# A signed event older than this is refused (replays of a captured request).
TOLERANCE_SECONDS = 300
_KINDS = {kind.value: kind for kind in EventKind}
# A card saved on the hosted page is named "sbx_pm_<behaviour>_<random>"; the behaviour,
# chosen on the page, says what later charges of it do.
SAVED_CARD_BEHAVIOURS = ("approve", "decline", "removed")


def saved_method_id(behaviour: str) -> str:
    if behaviour not in SAVED_CARD_BEHAVIOURS:
        behaviour = "approve"
    return f"sbx_pm_{behaviour}_{secrets.token_hex(8)}"


def _secret() -> bytes:
    configured = settings.PARTA_SANDBOX_WEBHOOK_SECRET
    if configured:
        return configured.encode()
    return hashlib.sha256(b"parta-sandbox-webhooks:" + settings.SECRET_KEY.encode()).digest()


def sign(body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """Headers for a sandbox webhook: ``t=<unix time>,v1=<hex HMAC-SHA256>`` over
    ``"<t>." + body``, the same scheme Stripe uses."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(_secret(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: f"t={ts},v1={digest}"}


def event_body(
    kind: EventKind, *, order_id: int, session_id: str, amount: int, currency: str, **extra
) -> bytes:
    payload = {
        "id": f"evt_sbx_{secrets.token_hex(12)}",
        "type": kind.value,
        "created": int(time.time()),
        "data": {
            "order_id": order_id,
            "session_id": session_id,
            "amount": amount,
            "currency": currency,
            **extra,
        },
    }
    return json.dumps(payload, separators=(",", ":")).encode()


class SandboxProvider(PaymentProvider):
    name = "sandbox"
    recurring = True

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        session_id = f"sbx_cs_{secrets.token_urlsafe(18)}"
        minutes = settings.PARTA_SANDBOX_CHECKOUT_MINUTES
        return CheckoutSession(
            session_id=session_id,
            url=reverse("billing:sandbox-checkout", args=[session_id]),
            expires_at=timezone.now() + timedelta(minutes=minutes),
        )

    def refund(self, request: RefundRequest) -> RefundResult:
        refund_id = "sbx_re_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24]
        if settings.PARTA_SANDBOX_FAIL_REFUNDS:
            return RefundResult(
                refund_id=refund_id, succeeded=False, failure_reason="Declined by the sandbox."
            )
        return RefundResult(refund_id=refund_id, succeeded=True)

    def charge(self, request: ChargeRequest) -> ChargeResult:
        """A saved card charged at once: approved, declined or no longer there, as the
        buyer chose on the hosted page when saving it. The same key, the same payment."""
        payment_id = "sbx_ch_" + hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24]
        parts = request.saved_method_id.split("_")
        behaviour = parts[2] if len(parts) == 4 and parts[:2] == ["sbx", "pm"] else "removed"
        if behaviour == "removed" or behaviour not in SAVED_CARD_BEHAVIOURS:
            return ChargeResult(
                payment_id=payment_id,
                succeeded=False,
                failure_reason="The saved card was removed at the sandbox.",
                method_gone=True,
            )
        if behaviour == "decline":
            return ChargeResult(
                payment_id=payment_id,
                succeeded=False,
                failure_reason="Declined by the sandbox: insufficient funds.",
            )
        return ChargeResult(payment_id=payment_id, succeeded=True)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        header = _header(headers, SIGNATURE_HEADER)
        try:
            parts = dict(item.split("=", 1) for item in header.split(","))
            ts = int(parts["t"])
            given = parts["v1"]
        except (KeyError, ValueError) as exc:
            raise InvalidWebhook("missing or malformed signature header") from exc
        expected = hmac.new(_secret(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, given):
            raise InvalidWebhook("signature mismatch")
        if abs(time.time() - ts) > TOLERANCE_SECONDS:
            raise InvalidWebhook("signature timestamp outside the tolerance")
        try:
            payload = json.loads(body)
            data = payload["data"]
            event_id = payload["id"]
            raw_type = payload["type"]
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidWebhook("unreadable event body") from exc
        if not isinstance(data, dict):
            raise InvalidWebhook("the event's data is not an object")
        if not isinstance(event_id, str | int) or not isinstance(raw_type, str):
            raise InvalidWebhook("the event's id and type must be strings")
        texts = {}
        for key in (
            "session_id", "payment_id", "refund_id", "currency", "reason", "saved_method_id",
        ):  # fmt: skip
            value = data.get(key)
            if value is None:
                value = ""
            elif isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            elif not isinstance(value, str):
                raise InvalidWebhook(f"the event's {key} is not a string")
            texts[key] = value
        return WebhookEvent(
            event_id=str(event_id),
            kind=_KINDS.get(raw_type, EventKind.OTHER),
            raw_type=raw_type,
            payload=payload,
            order_id=id_or_none(data.get("order_id")),
            session_id=texts["session_id"],
            provider_payment_id=texts["payment_id"],
            refund_id=texts["refund_id"],
            amount=amount_or_none(data.get("amount")),
            currency=texts["currency"],
            failure_reason=texts["reason"],
            saved_method_id=texts["saved_method_id"],
        )


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return ""
