"""A fake CloudPayments API for tests, following its published protocol:

- Basic auth with the Public ID and the API secret (401 otherwise); answers are
  ``{"Success": ..., "Message": ..., "Model": ...}``.
- ``X-Request-ID``: a repeated request with the same id gets the first answer back.
- ``/orders/create``: an order link (``Model.Url``) for the amount; a receipt in
  ``JsonData.CloudPayments.CustomerReceipt`` must add up to the amount.
- What the buyer does on the page: ``pay`` (a transaction, status Completed) or
  ``decline`` (a failed transaction with Reason and ReasonCode); each returns the Pay or
  Fail notification and its headers (form-encoded, or JSON with ``json_notifications``),
  signed with ``Content-HMAC``: base64 of HMAC-SHA256 of the raw body with the API secret.
- ``/payments/refund``: a refund transaction of a completed payment, never more than is
  left; ``refund_notification`` is the Refund notification about it.
- ``/payments/tokens/charge``: a charge of a token issued with a paid order (bound to its
  AccountId), needing ``TrInitiatorCode``; Completed at once, or declined with
  ``charge_decline`` as its ReasonCode; a token unknown or removed (``forget_token``) or
  another account's: "Token not found", no transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

from parta.common.testing.fakehttp import Call, FakeServer, Reply

PUBLIC_ID = "pk_parta_fake_public"
API_SECRET = "parta_fake_api_secret"


def _fail(message: str) -> Reply:
    return Reply.of({"Success": False, "Message": message, "Model": None})


def _ok(model: dict) -> Reply:
    return Reply.of({"Success": True, "Message": None, "Model": model})


@dataclass
class FakeCloudPayments(FakeServer):
    public_id: str = PUBLIC_ID
    api_secret: str = API_SECRET
    json_notifications: bool = False
    orders: dict[str, dict] = field(default_factory=dict)
    transactions: dict[int, dict] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(900_000_001))
    _requests: dict[str, Reply] = field(default_factory=dict)
    # Card tokens issued with paid orders: token -> AccountId; a charge's decline code.
    tokens: dict[str, str] = field(default_factory=dict)
    charge_decline: int = 0

    def sign(self, body: bytes) -> dict[str, str]:
        digest = hmac.new(self.api_secret.encode(), body, hashlib.sha256).digest()
        return {"Content-HMAC": base64.b64encode(digest).decode()}

    def _notification(self, fields: dict) -> tuple[bytes, dict[str, str]]:
        if self.json_notifications:
            body = json.dumps(fields).encode()
            content_type = "application/json"
        else:
            body = urlencode({k: "" if v is None else v for k, v in fields.items()}).encode()
            content_type = "application/x-www-form-urlencoded"
        return body, {"Content-Type": content_type, **self.sign(body)}

    def _order_by_invoice(self, invoice: str) -> dict:
        return next(o for o in self.orders.values() if o["InvoiceId"] == invoice)

    def _base_fields(self, order: dict, transaction_id: int) -> dict:
        return {
            "TransactionId": transaction_id,
            "Amount": f"{order['Amount']:.2f}",
            "Currency": order["Currency"],
            "PaymentAmount": f"{order['Amount']:.2f}",
            "PaymentCurrency": order["Currency"],
            "DateTime": "2026-12-02 12:00:00",
            "CardFirstSix": "220220",
            "CardLastFour": "0008",
            "CardType": "MIR",
            "CardExpDate": "12/30",
            "TestMode": 1,
            "InvoiceId": order["InvoiceId"],
            "AccountId": order.get("Email", ""),
            "Email": order.get("Email", ""),
            "Description": order["Description"],
        }

    def pay(self, invoice: str) -> tuple[bytes, dict[str, str]]:
        with self.lock:
            order = self._order_by_invoice(invoice)
            transaction_id = next(self._ids)
            self.transactions[transaction_id] = {
                "Amount": Decimal(str(order["Amount"])),
                "Refunded": Decimal(0),
                "Status": "Completed",
                "InvoiceId": invoice,
                "Currency": order["Currency"],
            }
            fields = self._base_fields(order, transaction_id)
            fields.update(Status="Completed", OperationType="Payment", Token="tk_fake")
            self.tokens["tk_fake"] = order.get("AccountId") or order.get("Email", "")
            return self._notification(fields)

    def forget_token(self, token: str) -> None:
        with self.lock:
            self.tokens.pop(token, None)

    def decline(self, invoice: str, code: int = 5051) -> tuple[bytes, dict[str, str]]:
        with self.lock:
            order = self._order_by_invoice(invoice)
            fields = self._base_fields(order, next(self._ids))
            fields.update(OperationType="Payment", Reason="InsufficientFunds", ReasonCode=code)
            return self._notification(fields)

    def refund_notification(self, refund_id: int) -> tuple[bytes, dict[str, str]]:
        with self.lock:
            refund = self.transactions[refund_id]
            fields = {
                "TransactionId": refund_id,
                "PaymentTransactionId": refund["PaymentTransactionId"],
                "Amount": f"{refund['Amount']:.2f}",
                "DateTime": "2026-12-02 12:30:00",
                "OperationType": "Refund",
                "InvoiceId": refund["InvoiceId"],
                "Currency": refund["Currency"],
            }
            return self._notification(fields)

    def handle(self, call: Call) -> Reply:
        expected = base64.b64encode(f"{self.public_id}:{self.api_secret}".encode()).decode()
        if call.headers.get("Authorization") != f"Basic {expected}":
            return Reply(status=401, body=b"")
        request_id = call.headers.get("X-Request-ID", "")
        if request_id and request_id in self._requests:
            return self._requests[request_id]
        handler = {
            "/orders/create": self._create,
            "/payments/refund": self._refund,
            "/payments/tokens/charge": self._token_charge,
        }.get(call.path.split("?")[0])
        if handler is None:
            return Reply(status=404, body=b"")
        reply = handler(call.json())
        if request_id:
            self._requests[request_id] = reply
        return reply

    def _create(self, data: dict) -> Reply:
        amount = data.get("Amount")
        if not isinstance(amount, int | float) or amount <= 0:
            return _fail("Amount is required")
        receipt = ((data.get("JsonData") or {}).get("CloudPayments") or {}).get("CustomerReceipt")
        if receipt is not None:
            problem = self._receipt_problem(receipt, Decimal(str(amount)))
            if problem:
                return _fail(problem)
        order_id = secrets.token_hex(8)
        order = {
            "Id": order_id,
            "Number": len(self.orders) + 1,
            "Amount": amount,
            "Currency": data.get("Currency", "RUB"),
            "Description": data.get("Description", ""),
            "Email": data.get("Email", ""),
            "AccountId": data.get("AccountId", ""),
            "InvoiceId": data.get("InvoiceId", ""),
            "Receipt": receipt,
            "Url": f"{self.base_url}/d/{order_id}",
        }
        self.orders[order_id] = order
        return _ok({k: v for k, v in order.items() if k != "Receipt"})

    def _token_charge(self, data: dict) -> Reply:
        amount = data.get("Amount")
        if not isinstance(amount, int | float) or amount <= 0:
            return _fail("Amount is required")
        if data.get("TrInitiatorCode") not in (0, 1):
            return _fail("TrInitiatorCode is required")
        token = data.get("Token")
        if token not in self.tokens or self.tokens[token] != data.get("AccountId"):
            return _fail("Token not found")
        receipt = ((data.get("JsonData") or {}).get("CloudPayments") or {}).get("CustomerReceipt")
        if receipt is not None:
            problem = self._receipt_problem(receipt, Decimal(str(amount)))
            if problem:
                return _fail(problem)
        transaction_id = next(self._ids)
        model = {
            "TransactionId": transaction_id,
            "Amount": amount,
            "Currency": data.get("Currency", "RUB"),
            "InvoiceId": data.get("InvoiceId", ""),
            "AccountId": data.get("AccountId"),
            "Token": token,
        }
        if self.charge_decline:
            model.update(
                Status="Declined",
                Reason="InsufficientFunds",
                ReasonCode=self.charge_decline,
                CardHolderMessage="Недостаточно средств на карте",
            )
            return Reply.of({"Success": False, "Message": None, "Model": model})
        self.transactions[transaction_id] = {
            "Amount": Decimal(str(amount)),
            "Refunded": Decimal(0),
            "Status": "Completed",
            "InvoiceId": model["InvoiceId"],
            "Currency": model["Currency"],
            "Receipt": receipt,
        }
        model["Status"] = "Completed"
        return _ok(model)

    def _receipt_problem(self, receipt: dict, amount: Decimal) -> str:
        items = receipt.get("Items") or []
        if not items or not receipt.get("email"):
            return "Receipt: Items and email are required"
        total = Decimal(0)
        for item in items:
            price, quantity = Decimal(str(item["price"])), Decimal(str(item["quantity"]))
            if price * quantity != Decimal(str(item["amount"])):
                return "Receipt: price * quantity != amount"
            if item.get("vat") not in (None, 0, 5, 7, 10, 20, 22, 105, 107, 110, 120, 122):
                return "Receipt: invalid vat"
            total += Decimal(str(item["amount"]))
        if total != amount:
            return "Receipt: the items do not add up to the amount"
        return ""

    def _refund(self, data: dict) -> Reply:
        payment = self.transactions.get(data.get("TransactionId"))
        if payment is None or payment["Status"] != "Completed":
            return _fail("Transaction not found")
        amount = Decimal(str(data.get("Amount", 0)))
        if amount <= 0 or payment["Refunded"] + amount > payment["Amount"]:
            return _fail("Refund amount is greater than the payment amount")
        receipt = ((data.get("JsonData") or {}).get("CloudPayments") or {}).get("CustomerReceipt")
        if receipt is not None:
            problem = self._receipt_problem(receipt, amount)
            if problem:
                return _fail(problem)
        payment["Refunded"] += amount
        refund_id = next(self._ids)
        self.transactions[refund_id] = {
            "Amount": amount,
            "Status": "Refund",
            "PaymentTransactionId": data["TransactionId"],
            "InvoiceId": payment["InvoiceId"],
            "Currency": payment["Currency"],
            "Receipt": receipt,
        }
        return _ok({"TransactionId": refund_id})
