"""A fake YooKassa API (v3) for tests, following its published protocol:

- Basic auth with the shop id and secret key (401 ``invalid_credentials`` otherwise).
- ``POST /v3/payments`` and ``POST /v3/refunds`` need an ``Idempotence-Key``: the same key
  with the same body gets the first answer back, with another body a 400.
- A payment starts ``pending`` with a redirect confirmation URL; the buyer's answer on the
  page is ``pay`` (``succeeded``) or ``decline`` (``canceled`` with cancellation details).
- A receipt's lines (price x quantity) must add up to the payment's (or refund's) amount,
  each with a vat_code 1..12 and the customer's email or phone, as YooKassa checks.
- Refunds of a succeeded payment, never more than is left; ``refund_status`` can make
  them ``pending`` or ``canceled``.
- ``GET /v3/payments/{id}`` and ``GET /v3/refunds/{id}``: the object as it is now.
- ``notification(event, id)``: the body YooKassa posts to the shop's URL (unsigned).
- Recurring: a payment created with ``save_payment_method`` and paid keeps its method
  (``payment_method.saved``, its id the payment's); a payment with ``payment_method_id``
  needs no confirmation and is decided at once (``charge_decline`` makes it ``canceled``
  with that reason); a method unknown or forgotten (``forget_method``) is a 400 on
  ``payment_method_id``, as YooKassa answers.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from parta.common.testing.fakehttp import Call, FakeServer, Reply

SHOP_ID = "506751"
SECRET_KEY = "test_parta_fake_secret"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _error(status: int, code: str, description: str, parameter: str = "") -> Reply:
    body = {"type": "error", "id": str(uuid.uuid4()), "code": code, "description": description}
    if parameter:
        body["parameter"] = parameter
    return Reply.of(body, status=status)


def _receipt_error(receipt: dict, value: str) -> str:
    """What YooKassa would say about the receipt ("" when it is fine)."""
    customer = receipt.get("customer") or {}
    if not customer.get("email") and not customer.get("phone"):
        return "The receipt needs the customer's email or phone"
    items = receipt.get("items") or []
    if not items:
        return "The receipt has no items"
    total = Decimal(0)
    for item in items:
        if item.get("vat_code") not in range(1, 13):
            return "Invalid vat_code"
        if not item.get("description") or len(item["description"]) > 128:
            return "Invalid item description"
        total += Decimal(item["amount"]["value"]) * Decimal(item["quantity"])
    if total != Decimal(value):
        return "Sum of the receipt items doesn't match the amount"
    return ""


@dataclass
class FakeYooKassa(FakeServer):
    shop_id: str = SHOP_ID
    secret_key: str = SECRET_KEY
    payments: dict[str, dict] = field(default_factory=dict)
    refunds: dict[str, dict] = field(default_factory=dict)
    # Receipts as sent, by payment or refund id.
    receipts: dict[str, dict] = field(default_factory=dict)
    refund_status: str = "succeeded"
    # Saved payment methods by id; the reason a charge of one is canceled ("": it succeeds).
    saved_methods: dict[str, dict] = field(default_factory=dict)
    charge_decline: str = ""
    _keys: dict[tuple[str, str], tuple[str, Reply]] = field(default_factory=dict)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v3"

    # What the buyer does on YooKassa's page.
    def pay(self, payment_id: str) -> dict:
        with self.lock:
            payment = self.payments[payment_id]
            payment.update(
                status="succeeded",
                paid=True,
                refundable=True,
                captured_at=_now(),
                income_amount=dict(payment["amount"]),
                payment_method={
                    "type": "bank_card",
                    "id": payment_id,
                    "saved": bool(payment.get("_save")),
                    "title": "Bank card *4444",
                },
            )
            if payment.get("_save"):
                self.saved_methods[payment_id] = dict(payment["payment_method"])
            if payment_id in self.receipts:
                payment["receipt_registration"] = "succeeded"
            return dict(payment)

    def forget_method(self, method_id: str) -> None:
        """The buyer removed the saved card (or it expired) at YooKassa."""
        with self.lock:
            self.saved_methods.pop(method_id, None)

    def decline(self, payment_id: str, reason: str = "insufficient_funds") -> dict:
        with self.lock:
            payment = self.payments[payment_id]
            payment.update(
                status="canceled",
                cancellation_details={"party": "payment_network", "reason": reason},
            )
            return dict(payment)

    def notification(self, event: str, object_id: str, **changes) -> bytes:
        """The notification YooKassa would send now (``changes``: a forged object)."""
        with self.lock:
            obj = dict(
                self.refunds[object_id]
                if event.startswith("refund.")
                else self.payments[object_id]
            )
        obj = {k: v for k, v in obj.items() if not k.startswith("_")}
        obj.update(changes)
        body = {"type": "notification", "event": event, "object": obj}
        return json.dumps(body).encode()

    def handle(self, call: Call) -> Reply:
        expected = base64.b64encode(f"{self.shop_id}:{self.secret_key}".encode()).decode()
        if call.headers.get("Authorization") != f"Basic {expected}":
            return _error(401, "invalid_credentials", "Login or password is incorrect")
        path = call.path.split("?")[0]
        if call.method == "POST" and path in ("/v3/payments", "/v3/refunds"):
            key = call.headers.get("Idempotence-Key", "")
            if not key or len(key) > 64:
                return _error(400, "invalid_request", "Idempotence-Key is required")
            digest = hashlib.sha256(call.body).hexdigest()
            seen = self._keys.get((path, key))
            if seen is not None:
                if seen[0] != digest:
                    return _error(
                        400, "invalid_request", "Idempotence key duplicated with another body"
                    )
                return seen[1]
            reply = self._create_payment(call) if path == "/v3/payments" else self._refund(call)
            if reply.status < 500:
                self._keys[(path, key)] = (digest, reply)
            return reply
        if call.method == "GET":
            kind, _, object_id = path.removeprefix("/v3/").partition("/")
            store = {"payments": self.payments, "refunds": self.refunds}.get(kind)
            if store is None or object_id not in store:
                return _error(404, "not_found", "Object not found")
            return Reply.of({k: v for k, v in store[object_id].items() if not k.startswith("_")})
        return _error(404, "not_found", "Unknown method")

    def _create_payment(self, call: Call) -> Reply:
        data = call.json()
        amount = data.get("amount") or {}
        if amount.get("currency") != "RUB":
            return _error(400, "invalid_request", "Unsupported currency", "amount.currency")
        value = str(amount.get("value", ""))
        if Decimal(value) <= 0 or Decimal(value).as_tuple().exponent < -2:
            return _error(400, "invalid_request", "Invalid amount", "amount.value")
        if "receipt" in data:
            problem = _receipt_error(data["receipt"], value)
            if problem:
                return _error(400, "invalid_request", problem, "receipt")
        payment_id = str(uuid.uuid4())
        if "payment_method_id" in data:
            return self._charge_saved(data, payment_id, value)
        confirmation = data.get("confirmation") or {}
        payment = {
            "id": payment_id,
            "status": "pending",
            "paid": False,
            "amount": {"value": value, "currency": "RUB"},
            "confirmation": {
                "type": "redirect",
                "confirmation_url": f"{self.base_url}/checkout/{payment_id}",
                "return_url": confirmation.get("return_url", ""),
            },
            "created_at": _now(),
            "description": data.get("description", ""),
            "metadata": data.get("metadata") or {},
            "recipient": {"account_id": self.shop_id, "gateway_id": "100500"},
            "refundable": False,
            "test": True,
        }
        if data.get("save_payment_method"):
            payment["_save"] = True
        if "receipt" in data:
            payment["receipt_registration"] = "pending"
            self.receipts[payment_id] = data["receipt"]
        self.payments[payment_id] = payment
        return Reply.of({k: v for k, v in payment.items() if not k.startswith("_")})

    def _charge_saved(self, data: dict, payment_id: str, value: str) -> Reply:
        method = self.saved_methods.get(str(data.get("payment_method_id")))
        if method is None:
            return _error(
                400, "invalid_request", "Payment method is not available", "payment_method_id"
            )
        payment = {
            "id": payment_id,
            "amount": {"value": value, "currency": "RUB"},
            "created_at": _now(),
            "description": data.get("description", ""),
            "metadata": data.get("metadata") or {},
            "payment_method": dict(method),
            "recipient": {"account_id": self.shop_id, "gateway_id": "100500"},
            "test": True,
        }
        if self.charge_decline:
            payment.update(
                status="canceled",
                paid=False,
                refundable=False,
                cancellation_details={"party": "payment_network", "reason": self.charge_decline},
            )
        else:
            payment.update(
                status="succeeded",
                paid=True,
                refundable=True,
                captured_at=_now(),
                income_amount={"value": value, "currency": "RUB"},
            )
        if "receipt" in data:
            payment["receipt_registration"] = "pending"
            self.receipts[payment_id] = data["receipt"]
        self.payments[payment_id] = payment
        return Reply.of(payment)

    def _refund(self, call: Call) -> Reply:
        data = call.json()
        payment = self.payments.get(data.get("payment_id", ""))
        if payment is None:
            return _error(404, "not_found", "Payment not found", "payment_id")
        if payment["status"] != "succeeded":
            return _error(400, "invalid_request", "Payment can't be refunded", "payment_id")
        value = Decimal(str((data.get("amount") or {}).get("value", "0")))
        refunded = Decimal(payment.get("refunded_amount", {}).get("value", "0"))
        if value <= 0 or value + refunded > Decimal(payment["amount"]["value"]):
            return _error(400, "invalid_request", "Refund amount is too big", "amount.value")
        if "receipt" in data:
            problem = _receipt_error(data["receipt"], str(value))
            if problem:
                return _error(400, "invalid_request", problem, "receipt")
        refund_id = str(uuid.uuid4())
        refund = {
            "id": refund_id,
            "payment_id": payment["id"],
            "status": self.refund_status,
            "created_at": _now(),
            "amount": {"value": f"{value:.2f}", "currency": "RUB"},
        }
        if self.refund_status == "canceled":
            refund["cancellation_details"] = {"party": "yoo_money", "reason": "rejected_by_payee"}
        else:
            payment["refunded_amount"] = {"value": f"{value + refunded:.2f}", "currency": "RUB"}
        if "receipt" in data:
            refund["receipt_registration"] = "pending"
            self.receipts[refund_id] = data["receipt"]
        self.refunds[refund_id] = refund
        return Reply.of(refund)

    def settle_refund(self, refund_id: str) -> None:
        """A pending refund goes through."""
        with self.lock:
            self.refunds[refund_id]["status"] = "succeeded"
