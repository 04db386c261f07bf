"""A fake T-Bank internet acquiring API (v2) for tests, following its published protocol:

- Every request is JSON with ``TerminalKey`` and a ``Token`` (SHA-256 over the sorted root
  values plus the password, nested objects left out); a wrong one is ``ErrorCode`` 204.
- ``Init`` makes a payment in status NEW with a ``PaymentURL``; a ``Receipt``'s items must
  each have Price x Quantity = Amount and add up to the payment's Amount.
- What the buyer does on the page: ``pay`` (AUTHORIZED, then CONFIRMED: a one-stage
  payment) or ``decline`` (REJECTED with an error code); ``expire`` (DEADLINE_EXPIRED).
  Each step returns the signed notification T-Bank would send (``send`` posts it to the
  payment's NotificationURL, as T-Bank does, and T-Bank wants ``OK`` back).
- ``GetState``: the status now. ``Cancel``: a full or partial refund of a CONFIRMED
  payment (REFUNDED / PARTIAL_REFUNDED), never more than is left; the same
  ``ExternalRequestId`` gets the first answer back.
- Recurring: an Init with ``Recurrent=Y`` (and a ``CustomerKey``) paid gives the card a
  ``RebillId``, named in the notifications; ``Charge`` of a NEW payment with a known
  RebillId confirms it at once (``charge_decline``: REJECTED with that error code;
  ``charge_status="AUTHORIZED"``: not decided yet, ``confirm`` decides it); an unknown or
  removed RebillId (``forget_rebill``) is refused. A Charge of a payment that is no
  longer NEW is refused (error 8), so a second Charge of one payment takes no money.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field

from parta.common.testing.fakehttp import Call, FakeServer, Reply, post

TERMINAL_KEY = "1700000000000DEMO"
PASSWORD = "parta-fake-password"


def tbank_token(fields: dict, password: str) -> str:
    """The Token as T-Bank documents it (written here apart from Parta's own)."""
    pairs = [(k, v) for k, v in fields.items() if k != "Token" and not isinstance(v, dict | list)]
    pairs.append(("Password", password))
    text = ""
    for _key, value in sorted(pairs):
        text += ("true" if value else "false") if isinstance(value, bool) else str(value)
    return hashlib.sha256(text.encode()).hexdigest()


def _error(code: str, message: str, details: str = "") -> Reply:
    return Reply.of({"Success": False, "ErrorCode": code, "Message": message, "Details": details})


@dataclass
class FakeTBank(FakeServer):
    terminal_key: str = TERMINAL_KEY
    password: str = PASSWORD
    payments: dict[str, dict] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(7_000_000_001))
    _cancels: dict[str, Reply] = field(default_factory=dict)
    # Saved cards: RebillId -> the payment that saved it; the error code a Charge gets.
    rebills: dict[str, str] = field(default_factory=dict)
    charge_decline: str = ""
    # The status a Charge leaves the payment in: AUTHORIZED is T-Bank not done yet
    # (``confirm`` finishes it later, with its notification).
    charge_status: str = "CONFIRMED"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v2"

    def _notification(self, payment: dict, status: str, **extra) -> bytes:
        body = {
            "TerminalKey": self.terminal_key,
            "OrderId": payment["OrderId"],
            "Success": status not in ("REJECTED", "AUTH_FAIL", "DEADLINE_EXPIRED"),
            "Status": status,
            "PaymentId": int(payment["PaymentId"]),
            "ErrorCode": "0",
            "Amount": payment["Amount"],
            "CardId": 322264,
            "Pan": "430000******0777",
            "ExpDate": "1230",
            **extra,
        }
        body["Token"] = tbank_token(body, self.password)
        return json.dumps(body).encode()

    def pay(self, payment_id: str) -> list[bytes]:
        """The buyer pays: [the AUTHORIZED notification, the CONFIRMED one]."""
        with self.lock:
            payment = self.payments[payment_id]
            payment["Status"] = "CONFIRMED"
            extra = {}
            if payment.get("Recurrent") == "Y":
                rebill = str(next(self._ids) + 100_000_000)
                self.rebills[rebill] = payment_id
                extra["RebillId"] = int(rebill)
            return [
                self._notification(payment, "AUTHORIZED", **extra),
                self._notification(payment, "CONFIRMED", **extra),
            ]

    def confirm(self, payment_id: str) -> bytes:
        """A charged payment left AUTHORIZED is confirmed: the CONFIRMED notification."""
        with self.lock:
            payment = self.payments[payment_id]
            payment["Status"] = "CONFIRMED"
            return self._notification(payment, "CONFIRMED")

    def forget_rebill(self, rebill_id: str) -> None:
        """The card binding was removed (or the card expired) at T-Bank."""
        with self.lock:
            self.rebills.pop(str(rebill_id), None)

    def decline(self, payment_id: str, code: str = "1051") -> bytes:
        with self.lock:
            payment = self.payments[payment_id]
            payment["Status"] = "REJECTED"
            return self._notification(
                payment, "REJECTED", ErrorCode=code, Message="Недостаточно средств на карте"
            )

    def expire(self, payment_id: str) -> bytes:
        with self.lock:
            payment = self.payments[payment_id]
            payment["Status"] = "DEADLINE_EXPIRED"
            return self._notification(payment, "DEADLINE_EXPIRED")

    def send(self, payment_id: str, body: bytes):
        """Post a notification to the payment's NotificationURL, as T-Bank does."""
        url = self.payments[payment_id]["NotificationURL"]
        return post(url, body, {"Content-Type": "application/json"})

    def handle(self, call: Call) -> Reply:
        try:
            data = call.json()
        except ValueError:
            return _error("9999", "Bad request")
        if data.get("TerminalKey") != self.terminal_key:
            return _error("202", "Терминал не найден")
        if data.get("Token") != tbank_token(data, self.password):
            return _error("204", "Неверный токен. Проверьте пару TerminalKey/SecretKey")
        method = call.path.removeprefix("/v2/").strip("/")
        handler = {
            "Init": self._init,
            "GetState": self._state,
            "Cancel": self._cancel,
            "Charge": self._charge,
        }.get(method)
        if handler is None:
            return _error("9999", "Метод не найден")
        return handler(data)

    def _check_receipt(self, receipt: dict, amount: int) -> str:
        if not receipt.get("Email") and not receipt.get("Phone"):
            return "Receipt: нужен Email или Phone"
        items = receipt.get("Items") or []
        for item in items:
            if item["Price"] * item["Quantity"] != item["Amount"]:
                return "Receipt: Price * Quantity != Amount"
            if item.get("Tax") not in {
                "none", "vat0", "vat5", "vat7", "vat10", "vat20", "vat22",
                "vat105", "vat107", "vat110", "vat120", "vat122",
            }:  # fmt: skip
                return "Receipt: неверный Tax"
        if sum(item["Amount"] for item in items) != amount:
            return "Сумма позиций чека не равна сумме платежа"
        return ""

    def _init(self, data: dict) -> Reply:
        amount = data.get("Amount")
        if not isinstance(amount, int) or amount <= 0:
            return _error("9999", "Неверная сумма")
        if "Receipt" in data:
            problem = self._check_receipt(data["Receipt"], amount)
            if problem:
                return _error("309", problem)
        payment_id = str(next(self._ids))
        payment = {
            "PaymentId": payment_id,
            "OrderId": data["OrderId"],
            "Amount": amount,
            "Status": "NEW",
            "NotificationURL": data.get("NotificationURL", ""),
            "Receipt": data.get("Receipt"),
            "Refunded": 0,
            "Recurrent": data.get("Recurrent", ""),
            "CustomerKey": data.get("CustomerKey", ""),
        }
        self.payments[payment_id] = payment
        return Reply.of(
            {
                "Success": True,
                "ErrorCode": "0",
                "TerminalKey": self.terminal_key,
                "Status": "NEW",
                "PaymentId": payment_id,
                "OrderId": data["OrderId"],
                "Amount": amount,
                "PaymentURL": f"{self.base_url}/pay/{payment_id}",
            }
        )

    def _charge(self, data: dict) -> Reply:
        payment = self.payments.get(str(data.get("PaymentId")))
        if payment is None:
            return _error("7", "Платёж не найден")
        if payment["Status"] != "NEW":
            return _error("8", "Неверный статус транзакции")
        if str(data.get("RebillId")) not in self.rebills:
            return _error("7", "Не найден RebillId")
        if self.charge_decline:
            payment["Status"] = "REJECTED"
            return _error(self.charge_decline, "Недостаточно средств на карте")
        payment["Status"] = self.charge_status
        return Reply.of(
            {
                "Success": True,
                "ErrorCode": "0",
                "TerminalKey": self.terminal_key,
                "Status": self.charge_status,
                "PaymentId": payment["PaymentId"],
                "OrderId": payment["OrderId"],
                "Amount": payment["Amount"],
            }
        )

    def _state(self, data: dict) -> Reply:
        payment = self.payments.get(str(data.get("PaymentId")))
        if payment is None:
            return _error("7", "Платёж не найден")
        return Reply.of(
            {
                "Success": True,
                "ErrorCode": "0",
                "TerminalKey": self.terminal_key,
                "Status": payment["Status"],
                "PaymentId": payment["PaymentId"],
                "OrderId": payment["OrderId"],
                "Amount": payment["Amount"],
            }
        )

    def _cancel(self, data: dict) -> Reply:
        key = data.get("ExternalRequestId") or ""
        if key and key in self._cancels:
            return self._cancels[key]
        payment = self.payments.get(str(data.get("PaymentId")))
        if payment is None:
            return _error("7", "Платёж не найден")
        if payment["Status"] not in ("CONFIRMED", "PARTIAL_REFUNDED"):
            return _error("8", "Неверный статус транзакции")
        amount = data.get("Amount", payment["Amount"] - payment["Refunded"])
        left = payment["Amount"] - payment["Refunded"]
        if not isinstance(amount, int) or amount <= 0 or amount > left:
            return _error("9999", "Сумма возврата больше суммы платежа")
        if "Receipt" in data:
            problem = self._check_receipt(data["Receipt"], amount)
            if problem:
                return _error("309", problem)
        original = payment["Amount"] - payment["Refunded"]
        payment["Refunded"] += amount
        payment["Status"] = (
            "REFUNDED" if payment["Refunded"] == payment["Amount"] else "PARTIAL_REFUNDED"
        )
        reply = Reply.of(
            {
                "Success": True,
                "ErrorCode": "0",
                "TerminalKey": self.terminal_key,
                "Status": payment["Status"],
                "PaymentId": payment["PaymentId"],
                "OrderId": payment["OrderId"],
                "OriginalAmount": original,
                "NewAmount": original - amount,
            }
        )
        if key:
            self._cancels[key] = reply
        return reply
