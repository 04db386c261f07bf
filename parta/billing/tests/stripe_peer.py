"""Stripe for the tests: localstripe (a fake, stateful Stripe API server) in a subprocess,
behind a small in-process shim that adds what localstripe lacks:

- Checkout Sessions (create, retrieve, line items, expire) and Prices, kept in memory.
  Paying a session (`StripeShim.pay`, what the buyer does on the hosted page) confirms a
  real PaymentIntent in localstripe for the session's total, so refunds of it work.
- Idempotency keys: a POST with a key seen before (for the same API key) gets the first
  answer back; with other parameters it is refused, as Stripe does.
- One account per secret key: an object made with one key is "No such ..." for another.
- Parameters Stripe takes but localstripe refuses (a PaymentIntent's description, a
  coupon's name, a confirm's payment_method) are kept by the shim and shown on the object.
- Stripe's answers where localstripe differs: an id that exists is 400
  resource_already_exists (not 409), a refund may not exceed what is left of the charge,
  a PaymentIntent shows amount_received, a 402 is a card_error, a PaymentIntent naming a
  Customer or PaymentMethod that does not exist is 400 resource_missing with its param.
- Saved cards (plans that renew): a session's ``customer`` and
  ``payment_intent_data[setup_future_usage]``, and an intent's ``setup_future_usage``.
  Paying such a session (or confirming such an intent with a test card such as
  ``pm_card_visa``) makes a real PaymentMethod, pays with it and attaches it to the
  Customer, as Stripe does; an off-session PaymentIntent then charges it. Tests play the
  card's later life with ``decline_card`` / ``approve_card`` (the next charges fail with
  Stripe's 402 card_error: card_declined with a decline_code, authentication_required,
  expired_card; the PaymentIntent is made and left requires_payment_method),
  ``detach`` (the buyer removed the card: Stripe refuses it for good) and
  ``delete_customer``.

Everything else goes to localstripe unchanged. The shim records every request
(`StripeShim.calls`), so tests can see what Parta sent and with which key, and can relay
the webhooks localstripe signs itself to a live server (`StripeShim.relay_webhooks`).

Fixtures: `localstripe_server` (session; localstripe's URL), `stripe_shim` (a clean shim
and an empty localstripe for each test) and `stripe_api_base` (the shim's URL, for
settings.STRIPE_API_BASE). Signed webhooks the way Stripe sends them: stripe_webhooks.py.
"""

from __future__ import annotations

import copy
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import pytest
import requests

API_VERSION = "2026-10-28.endive"
BOOT_SECONDS = 20
RELAY_PATH = "/_shim/webhooks"
UPSTREAM_TIMEOUT = 10

# Runs localstripe on a socket the test process opened (no race for the port) and keeps
# its store in memory: by default it pickles the whole store to /tmp/localstripe.pickle
# after every write, a file shared by every run on the machine.
_LOCALSTRIPE_MAIN = """
import socket, sys
from aiohttp import web
import localstripe.resources
localstripe.resources.Store.dump_to_disk = lambda self: None
from localstripe.server import app
sock = socket.socket(fileno=int(sys.argv[1]))
web.run_app(app, sock=sock, print=None, access_log=None)
"""

# Fields Stripe takes on these creates that localstripe refuses: the shim keeps them.
_KEPT_BY_SHIM = {
    "/v1/payment_intents": {
        "description",
        "receipt_email",
        "statement_descriptor_suffix",
        "setup_future_usage",
    },
    "/v1/coupons": {"name"},
    "/v1/refunds": {"reason"},
}


# --- Form encoding -----------------------------------------------------------------------


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``a[b][0][c]=x`` pairs (how the SDK sends parameters) as nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head, *re.findall(r"([^\[\]]*)\]", "[" + rest)] if rest else [head]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part or str(len(node)), {})  # "x[]" appends
        node[parts[-1] or str(len(node))] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _lists(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        items: list[tuple[str, str]] = []
        for key, inner in value.items():
            items += flatten(inner, f"{prefix}[{key}]" if prefix else str(key))
        return items
    if isinstance(value, list):
        return [pair for i, inner in enumerate(value) for pair in flatten(inner, f"{prefix}[{i}]")]
    if value is None:
        return []
    if isinstance(value, bool):
        return [(prefix, "true" if value else "false")]
    return [(prefix, str(value))]


def _error(
    status: int, message: str, *, code: str = "", param: str = "", kind: str = ""
) -> tuple[int, dict]:
    kind = kind or "invalid_request_error"
    body = {"type": kind, "message": message, "code": code, "param": param}
    return status, {"error": {name: value for name, value in body.items() if value}}


# Stripe's published test PaymentMethods (docs.stripe.com/testing) and their card numbers.
TEST_CARDS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeCustomerFail": "4000000000000341",
}
# What Stripe says when a saved card is declined (code, message) by decline_code.
_DECLINES = {
    "generic_decline": ("card_declined", "Your card was declined."),
    "insufficient_funds": ("card_declined", "Your card has insufficient funds."),
    "do_not_honor": ("card_declined", "Your card was declined."),
    "lost_card": ("card_declined", "Your card was declined."),
    "authentication_required": (
        "authentication_required",
        "Your card was declined. This transaction requires authentication.",
    ),
    "expired_card": ("expired_card", "Your card has expired."),
}
# Stripe's answer to a PaymentMethod that was detached from its Customer.
DETACHED_MESSAGE = (
    "The provided PaymentMethod was previously used with a PaymentIntent without Customer "
    "attachment, shared with a connected account without Customer attachment, or was "
    "detached from a Customer. It may not be used again. To use a PaymentMethod multiple "
    "times, you must attach it to a Customer first."
)


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _allocate(total: int, weights: list[int]) -> list[int]:
    """Share ``total`` over ``weights`` in proportion, remainders to the largest fractions."""
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


# --- The shim ----------------------------------------------------------------------------


@dataclass
class Call:
    """One request the shim received."""

    method: str
    path: str
    api_key: str
    idempotency_key: str
    params: dict[str, Any]
    status: int = 0


@dataclass
class Delivery:
    """A webhook localstripe sent, and how the endpoint it was relayed to answered."""

    event: dict[str, Any]
    status: int


@dataclass
class _Line:
    price: str
    currency: str
    unit_amount: int
    quantity: int
    tax_rates: list[dict[str, Any]] = field(default_factory=list)


class StripeShim:
    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.url = ""
        self.calls: list[Call] = []
        self._lock = threading.RLock()
        self._http = requests.Session()
        self._reset_state()

    def _reset_state(self) -> None:
        self.calls = []
        self.sessions: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, dict[str, Any]] = {}
        self._session_lines: dict[str, list[dict[str, Any]]] = {}
        self._session_intent_data: dict[str, dict[str, Any]] = {}
        self._declined: dict[str, str] = {}
        self._detached: set[str] = set()
        self._owner: dict[str, str] = {}
        self._kept: dict[str, dict[str, Any]] = {}
        self._replies: dict[tuple[str, str], tuple[dict[str, Any], int, dict]] = {}
        self._relay_to = ""
        self.deliveries: list[Delivery] = []

    def reset(self) -> None:
        """Forget everything, here and in localstripe: a new, empty Stripe."""
        with self._lock:
            self._reset_state()
            self._http.delete(f"{self.upstream}/_config/data", timeout=UPSTREAM_TIMEOUT)

    # What tests look at.

    def calls_to(self, method: str, path: str) -> list[Call]:
        """The calls to exactly ``path`` (a regular expression) with ``method``."""
        with self._lock:
            return [c for c in self.calls if c.method == method and re.fullmatch(path, c.path)]

    def pay(self, session_id: str, *, payment_method: str = "pm_card_visa") -> dict[str, Any]:
        """The buyer pays on the hosted page: a PaymentIntent for the session's total is
        confirmed in localstripe and the session completes. Returns the session."""
        with self._lock:
            session = self.sessions[session_id]
            if session["status"] != "open":
                raise ValueError(f"session {session_id} is {session['status']}")
            key = self._owner[session_id]
            intent_data = self._session_intent_data.get(session_id) or {}
            saving = intent_data.get("setup_future_usage")
            customer = session.get("customer")
            if saving:
                payment_method = self._card_from_token(key, payment_method)
            params: dict[str, Any] = {
                "amount": session["amount_total"],
                "currency": session["currency"],
                "payment_method": payment_method,
                "confirm": True,
            }
            if customer:
                params["customer"] = customer
            if intent_data.get("metadata"):
                params["metadata"] = intent_data["metadata"]
            response = self._upstream("POST", "/v1/payment_intents", key, params=params)
            response.raise_for_status()
            intent = response.json()
            self._owner[intent["id"]] = key
            if saving:
                self._kept[intent["id"]] = {"setup_future_usage": saving}
                if customer:
                    self._attach(key, payment_method, customer)
            session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
            return copy.deepcopy(session)

    # The saved card's later life, as the buyer or their bank would change it.

    def decline_card(self, payment_method: str, decline_code: str = "generic_decline") -> None:
        """The bank declines the card's next charges with ``decline_code`` (one of
        _DECLINES: ``authentication_required`` is a charge that needs the buyer)."""
        if decline_code not in _DECLINES:
            raise ValueError(f"unknown decline code {decline_code}")
        with self._lock:
            self._declined[payment_method] = decline_code

    def approve_card(self, payment_method: str) -> None:
        """The card is charged again (funds are back)."""
        with self._lock:
            self._declined.pop(payment_method, None)

    def detach(self, payment_method: str) -> None:
        """The buyer removed the saved card: it is detached from its Customer."""
        with self._lock:
            key = self._owner[payment_method]
            response = self._upstream("POST", f"/v1/payment_methods/{payment_method}/detach", key)
            response.raise_for_status()
            self._detached.add(payment_method)

    def delete_customer(self, customer: str) -> None:
        with self._lock:
            key = self._owner[customer]
            response = self._upstream("DELETE", f"/v1/customers/{customer}", key)
            response.raise_for_status()

    def _card_from_token(self, key: str, payment_method: str) -> str:
        """A test token (pm_card_visa) as a PaymentMethod of its own, as Stripe makes
        one when a token is paid with; a real id stays as it is."""
        number = TEST_CARDS.get(payment_method)
        if number is None:
            return payment_method
        card = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
        response = self._upstream(
            "POST", "/v1/payment_methods", key, params={"type": "card", "card": card}
        )
        response.raise_for_status()
        made = response.json()["id"]
        self._owner[made] = key
        return made

    def _attach(self, key: str, payment_method: str, customer: str) -> None:
        response = self._upstream(
            "POST",
            f"/v1/payment_methods/{payment_method}/attach",
            key,
            params={"customer": customer},
        )
        response.raise_for_status()

    def relay_webhooks(self, url: str, secret: str, events: list[str]) -> None:
        """Have localstripe sign its own webhooks (``events``) with ``secret`` and send
        them through the shim to ``url``; each answer is kept in ``deliveries``. Until the
        next reset: localstripe's registration stays, but the shim then drops them."""
        with self._lock:
            self._relay_to = url
        registration = {"url": f"{self.url}{RELAY_PATH}", "secret": secret, "events": events}
        response = self._http.post(
            f"{self.upstream}/_config/webhooks/parta",
            data=urlencode(flatten(registration)),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=UPSTREAM_TIMEOUT,
        )
        response.raise_for_status()

    def wait_for_delivery(self, object_id: str, *, timeout: float = 15) -> Delivery:
        """The relayed delivery of an event about ``object_id``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for delivery in self.deliveries:
                    if delivery.event.get("data", {}).get("object", {}).get("id") == object_id:
                        return delivery
            time.sleep(0.05)
        raise TimeoutError(f"no webhook about {object_id} within {timeout} s")

    def _relay(self, headers: Any, body: bytes) -> tuple[int, dict]:
        with self._lock:
            target = self._relay_to
        if not target:
            return 200, {}
        response = requests.post(
            target,
            data=body,
            headers={
                "Content-Type": headers.get("Content-Type") or "application/json",
                "Stripe-Signature": headers.get("Stripe-Signature") or "",
            },
            timeout=30,
        )
        with self._lock:
            self.deliveries.append(Delivery(json.loads(body), response.status_code))
        return 200, {}

    # Serving.

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, dict]:
        split = urlsplit(target)
        path = split.path
        if method == "POST" and path == RELAY_PATH:
            return self._relay(headers, body)
        encoded = body.decode() if method == "POST" else split.query
        params = unflatten(parse_qsl(encoded, keep_blank_values=True))
        key = _api_key(headers.get("Authorization") or "")
        idempotency_key = headers.get("Idempotency-Key") or ""
        with self._lock:
            call = Call(method, path, key, idempotency_key, copy.deepcopy(params))
            self.calls.append(call)
            if method == "POST" and idempotency_key:
                seen = self._replies.get((key, idempotency_key))
                if seen is not None:
                    first_params, status, reply = seen
                    if first_params != call.params:
                        status, reply = _error(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with.",
                            kind="idempotency_error",
                        )
                    call.status = status
                    return status, copy.deepcopy(reply)
            status, reply = self._route(method, path, split.query, key, params)
            if method == "POST" and idempotency_key and status < 500:
                self._replies[(key, idempotency_key)] = (call.params, status, copy.deepcopy(reply))
            call.status = status
            return status, reply

    def _route(
        self, method: str, path: str, query: str, key: str, params: dict[str, Any]
    ) -> tuple[int, dict]:
        if not key:
            return _error(401, "You did not provide an API key.")
        owned = re.match(r"/v1/(?:checkout/)?([a-z_]+)/([^/]+)", path)
        if owned:
            object_id = unquote(owned.group(2))
            if self._owner.get(object_id, key) != key:
                return _no_such(owned.group(1), object_id)
        session = re.fullmatch(
            r"/v1/checkout/sessions(?:/([^/]+)(?:/(expire|line_items))?)?", path
        )
        if session:
            return self._sessions(method, key, params, session.group(1), session.group(2))
        price = re.fullmatch(r"/v1/prices(?:/([^/]+))?", path)
        if price:
            return self._prices(method, key, params, price.group(1))
        if method == "POST" and path == "/v1/payment_intents":
            return self._intent_create(key, params)
        return self._forward(method, path, query, key, params)

    # PaymentIntents with a Customer and a saved card.

    def _intent_create(self, key: str, params: dict[str, Any]) -> tuple[int, dict]:
        saving = params.get("setup_future_usage")
        if saving is not None and saving not in ("on_session", "off_session"):
            return _error(400, "Invalid setup_future_usage.", param="setup_future_usage")
        customer = str(params.get("customer") or "")
        if customer and isinstance(self._upstream_object(key, "customers", customer), tuple):
            return _missing("customer", customer, "customer")
        payment_method = str(params.get("payment_method") or "")
        if payment_method and payment_method not in TEST_CARDS:
            found = self._upstream_object(key, "payment_methods", payment_method)
            if isinstance(found, tuple):
                return _missing("PaymentMethod", payment_method, "payment_method")
            if payment_method in self._detached:
                return _error(400, DETACHED_MESSAGE)
            owner = found.get("customer")
            if customer and owner and owner != customer:
                return _error(
                    400,
                    f"The customer does not have a payment method with the ID "
                    f"{payment_method}. The payment method must be attached to the customer.",
                    param="payment_method",
                )
        confirm = str(params.get("confirm")).lower() == "true"
        decline = self._declined.get(payment_method)
        if not (confirm and decline):
            return self._forward("POST", "/v1/payment_intents", "", key, params)
        # The bank declines: Stripe makes the PaymentIntent, leaves it without a
        # payment method and answers 402 with it.
        unconfirmed = {k: v for k, v in params.items() if k not in ("confirm", "off_session")}
        status, intent = self._forward("POST", "/v1/payment_intents", "", key, unconfirmed)
        if status >= 300:
            return status, intent
        code, message = _DECLINES[decline]
        error = {
            "type": "card_error",
            "code": code,
            "decline_code": decline,
            "message": message,
            "payment_method": {"id": payment_method, "object": "payment_method"},
        }
        kept = self._kept.setdefault(intent["id"], {})
        kept.update(status="requires_payment_method", last_payment_error=error)
        kept["payment_method"] = None
        presented = self._present(intent, key)
        return 402, {"error": {**error, "payment_intent": presented}}

    # Checkout Sessions.

    def _sessions(
        self, method: str, key: str, params: dict, session_id: str | None, action: str | None
    ) -> tuple[int, dict]:
        if session_id is None:
            if method != "POST":
                return _error(404, "The shim does not list Checkout Sessions.")
            return self._session_create(key, params)
        session = self.sessions.get(session_id)
        if session is None:
            return _no_such("checkout.session", session_id)
        if action == "expire" and method == "POST":
            if session["status"] != "open":
                return _error(
                    400, "Only Checkout Sessions with a status in [open] can be expired."
                )
            session["status"] = "expired"
            session["url"] = None
        elif action == "line_items" and method == "GET":
            url = f"/v1/checkout/sessions/{session_id}/line_items"
            return 200, _list(url, copy.deepcopy(self._session_lines[session_id]))
        elif action is not None or method != "GET":
            return _error(404, f"Unrecognized request URL ({method}).")
        return 200, copy.deepcopy(session)

    def _session_create(self, key: str, params: dict[str, Any]) -> tuple[int, dict]:
        now = int(time.time())
        if params.get("mode") != "payment":
            return _error(400, "The shim makes payment-mode sessions only.", param="mode")
        for name in ("success_url", "cancel_url"):
            if not str(params.get(name) or "").startswith(("http://", "https://")):
                return _error(400, "Not a valid URL", code="url_invalid", param=name)
        expires_at = int(params.get("expires_at") or now + 24 * 3600)
        if not now + 30 * 60 <= expires_at <= now + 24 * 3600:
            return _error(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                "Checkout Session creation.",
                param="expires_at",
            )
        items = params.get("line_items")
        if not isinstance(items, list) or not items:
            return _error(400, "line_items is required in payment mode.", param="line_items")
        lines: list[_Line] = []
        for i, item in enumerate(items):
            line = self._session_line(key, item, i)
            if isinstance(line, tuple):
                return line
            lines.append(line)
        currencies = {line.currency for line in lines}
        if len(currencies) != 1:
            return _error(400, "All line items must be in one currency.", param="line_items")
        currency = currencies.pop()
        coupon = None
        discounts = params.get("discounts") or []
        if len(discounts) > 1:
            return _error(400, "Only one discount may be applied.", param="discounts")
        if discounts:
            found = self._upstream_object(key, "coupons", str(discounts[0].get("coupon")))
            if isinstance(found, tuple):
                return found
            coupon = found
            if coupon.get("amount_off") is not None and coupon.get("currency") != currency:
                return _error(
                    400,
                    "The coupon's currency does not match the session's.",
                    param="discounts[0][coupon]",
                )
        customer = params.get("customer")
        if customer:
            if params.get("customer_email"):
                return _error(
                    400,
                    "You may only specify one of these parameters: customer, customer_email.",
                    param="customer_email",
                )
            if isinstance(self._upstream_object(key, "customers", str(customer)), tuple):
                return _missing("customer", str(customer), "customer")
        intent_data = params.get("payment_intent_data") or {}
        if not isinstance(intent_data, dict):
            return _error(400, "Invalid payment_intent_data.", param="payment_intent_data")
        if intent_data.get("setup_future_usage") not in (None, "on_session", "off_session"):
            return _error(
                400,
                "Invalid setup_future_usage.",
                param="payment_intent_data[setup_future_usage]",
            )
        return self._session_store(key, params, lines, currency, coupon, expires_at, now)

    def _session_line(self, key: str, item: dict[str, Any], i: int) -> _Line | tuple[int, dict]:
        quantity = int(item.get("quantity") or 1)
        if "price" in item:
            price = self.prices.get(str(item["price"]))
            if price is None or self._owner[price["id"]] != key:
                return _no_such("price", str(item["price"]), param=f"line_items[{i}][price]")
            line = _Line(price["id"], price["currency"], price["unit_amount"], quantity)
        elif isinstance(item.get("price_data"), dict):
            data = item["price_data"]
            name = (data.get("product_data") or {}).get("name") or data.get("product")
            if not name or "unit_amount" not in data or not data.get("currency"):
                return _error(400, "Incomplete price_data.", param=f"line_items[{i}][price_data]")
            line = _Line("", str(data["currency"]), int(data["unit_amount"]), quantity)
        else:
            return _error(400, "A line item needs a price or price_data.", param="line_items")
        for rate_id in item.get("tax_rates") or []:
            rate = self._upstream_object(key, "tax_rates", str(rate_id))
            if isinstance(rate, tuple):
                return rate
            line.tax_rates.append(rate)
        return line

    def _session_store(
        self,
        key: str,
        params: dict[str, Any],
        lines: list[_Line],
        currency: str,
        coupon: dict[str, Any] | None,
        expires_at: int,
        now: int,
    ) -> tuple[int, dict]:
        # Stripe's arithmetic: the discount is taken from the subtotal and shared over the
        # lines; each tax rate applies per line to what is left of it.
        amounts = [line.unit_amount * line.quantity for line in lines]
        subtotal = sum(amounts)
        discount = 0
        if coupon is not None:
            if coupon.get("percent_off") is not None:
                percent = Decimal(str(coupon["percent_off"]))
                discount = _half_up(Decimal(subtotal) * percent / 100)
            else:
                discount = min(int(coupon["amount_off"]), subtotal)
        session_id = f"cs_test_{secrets.token_hex(16)}"
        added = included = 0
        line_items = []
        for line, amount, share in zip(lines, amounts, _allocate(discount, amounts), strict=True):
            net = amount - share
            taxes = []
            line_added = 0
            for rate in line.tax_rates:
                percent = Decimal(str(rate["percentage"]))
                if rate["inclusive"]:
                    part = _half_up(net * percent / (100 + percent))
                    included += part
                else:
                    part = _half_up(net * percent / 100)
                    line_added += part
                taxes.append({"amount": part, "rate": rate, "taxability_reason": None})
            added += line_added
            line_items.append(
                {
                    "id": f"li_{secrets.token_hex(8)}",
                    "object": "item",
                    "amount_subtotal": amount,
                    "amount_discount": share,
                    "amount_tax": sum(t["amount"] for t in taxes),
                    "amount_total": net + line_added,
                    "currency": currency,
                    "price": copy.deepcopy(self.prices.get(line.price))
                    or {"unit_amount": line.unit_amount, "currency": currency},
                    "quantity": line.quantity,
                    "taxes": taxes,
                }
            )
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "url": f"{self.url}/pay/{session_id}",
            "currency": currency,
            "amount_subtotal": subtotal,
            "amount_total": subtotal - discount + added,
            "total_details": {
                "amount_discount": discount,
                "amount_tax": added + included,
                "amount_shipping": 0,
            },
            "discounts": [{"coupon": coupon["id"], "promotion_code": None}] if coupon else [],
            "customer": params.get("customer"),
            "customer_email": params.get("customer_email"),
            "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {},
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "expires_at": expires_at,
            "created": now,
            "livemode": False,
            "payment_intent": None,
        }
        self.sessions[session_id] = session
        self._session_lines[session_id] = line_items
        self._session_intent_data[session_id] = copy.deepcopy(
            params.get("payment_intent_data") or {}
        )
        self._owner[session_id] = key
        return 200, copy.deepcopy(session)

    # Prices.

    def _prices(
        self, method: str, key: str, params: dict[str, Any], price_id: str | None
    ) -> tuple[int, dict]:
        if price_id is None:
            if method != "POST":
                return _error(404, "The shim does not list Prices.")
            product_id = str(params.get("product") or "")
            product = self._upstream_object(key, "products", product_id)
            if isinstance(product, tuple):
                return product
            if not params.get("currency") or "unit_amount" not in params:
                return _error(400, "A price needs a currency and a unit_amount.")
            price = {
                "id": f"price_{secrets.token_hex(12)}",
                "object": "price",
                "active": True,
                "currency": str(params["currency"]).lower(),
                "unit_amount": int(params["unit_amount"]),
                "product": product_id,
                "metadata": params.get("metadata") or {},
                "type": "one_time",
                "livemode": False,
                "created": int(time.time()),
            }
            self.prices[price["id"]] = price
            self._owner[price["id"]] = key
            return 200, copy.deepcopy(price)
        price = self.prices.get(price_id)
        if price is None or method != "GET":
            return _no_such("price", price_id)
        return 200, copy.deepcopy(price)

    # Everything else: localstripe.

    def _forward(
        self, method: str, path: str, query: str, key: str, params: dict[str, Any]
    ) -> tuple[int, dict]:
        kept: dict[str, Any] = {}
        if method == "POST" and path in _KEPT_BY_SHIM:
            kept = {name: params.pop(name) for name in list(params) if name in _KEPT_BY_SHIM[path]}
        if method == "POST" and path == "/v1/refunds":
            refused = self._refund_refused(key, params)
            if refused is not None:
                return refused
        confirm = re.fullmatch(r"/v1/payment_intents/([^/]+)/confirm", path)
        if method == "POST" and confirm and ({"payment_method", "return_url"} & params.keys()):
            # localstripe confirms only the method already on the intent.
            params.pop("return_url", None)
            payment_method = params.pop("payment_method", None)
            saving = self._kept.get(confirm.group(1), {}).get("setup_future_usage")
            if payment_method and saving:
                payment_method = self._card_from_token(key, str(payment_method))
            if payment_method:
                updated = self._upstream(
                    "POST",
                    f"/v1/payment_intents/{confirm.group(1)}",
                    key,
                    params={"payment_method": payment_method},
                )
                if updated.status_code >= 400:
                    return _reply(updated)
        # Re-encoding what the SDK sent gives the same form body (less what was kept).
        status, reply = _reply(
            self._upstream(
                method, path, key, query=query, params=params if method == "POST" else None
            )
        )
        created = method == "POST" and re.fullmatch(r"/v1/[a-z_]+", path)
        if created and status < 300 and isinstance(reply.get("id"), str):
            self._owner[reply["id"]] = key
            if kept:
                self._kept[reply["id"]] = kept
        if method == "POST" and confirm and status < 300 and reply.get("status") == "succeeded":
            saving = self._kept.get(reply["id"], {}).get("setup_future_usage")
            if saving and reply.get("customer") and reply.get("payment_method"):
                # Stripe attaches the card to the Customer once the payment went through.
                self._attach(key, reply["payment_method"], reply["customer"])
        return status, self._present(reply, key)

    def _refund_refused(self, key: str, params: dict[str, Any]) -> tuple[int, dict] | None:
        intent_id = str(params.get("payment_intent") or "")
        if not intent_id or "amount" not in params:
            return None
        intent = self._upstream_object(key, "payment_intents", intent_id)
        if isinstance(intent, tuple):
            return intent
        charge = intent.get("latest_charge")
        if not isinstance(charge, dict):
            return _error(400, "This PaymentIntent has no charge to refund.")
        left = charge["amount"] - charge["amount_refunded"]
        if int(params["amount"]) > left:
            return _error(
                400,
                f"Refund amount ({params['amount']}) is greater than unrefunded amount on "
                f"charge ({left})",
                code="amount_too_large",
                param="amount",
            )
        return None

    def _present(self, reply: dict[str, Any], key: str) -> dict[str, Any]:
        if reply.get("object") == "list" and isinstance(reply.get("data"), list):
            reply["data"] = [
                self._present(item, key)
                for item in reply["data"]
                if self._owner.get(item.get("id"), key) == key
            ]
            return reply
        reply.update(self._kept.get(reply.get("id"), {}))
        if reply.get("object") == "payment_intent" and "amount_received" not in reply:
            reply["amount_received"] = reply["amount"] if reply.get("status") == "succeeded" else 0
        return reply

    def _upstream(
        self,
        method: str,
        path: str,
        key: str,
        *,
        query: str = "",
        params: dict[str, Any] | None = None,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {key}"}
        body = b""
        if params is not None:
            body = urlencode(flatten(params)).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        url = f"{self.upstream}{path}" + (f"?{query}" if query else "")
        return self._http.request(
            method, url, data=body or None, headers=headers, timeout=UPSTREAM_TIMEOUT
        )

    def _upstream_object(
        self, key: str, resource: str, object_id: str
    ) -> dict[str, Any] | tuple[int, dict]:
        if not object_id or self._owner.get(object_id, key) != key:
            return _no_such(resource.rstrip("s"), object_id)
        status, reply = _reply(
            self._upstream("GET", f"/v1/{resource}/{quote(object_id, safe='')}", key)
        )
        if status == 404:
            return _no_such(resource.rstrip("s"), object_id)
        if status >= 400:
            return status, reply
        return self._present(reply, key)


def _api_key(authorization: str) -> str:
    scheme, _, value = authorization.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _no_such(kind: str, object_id: str, *, param: str = "") -> tuple[int, dict]:
    return _error(404, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def _missing(kind: str, object_id: str, param: str) -> tuple[int, dict]:
    """A parameter naming an object that does not exist: 400, not the URL's 404."""
    return _error(400, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)


def _list(url: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "url": url, "has_more": False, "data": items}


def _reply(response: requests.Response) -> tuple[int, dict]:
    try:
        reply = response.json()
    except ValueError:
        return _error(502, f"localstripe answered {response.status_code} without JSON")
    status = response.status_code
    if status == 409:
        # localstripe's answer to an id that is taken; Stripe's is this.
        return _error(
            400, "A resource with this id already exists.", code="resource_already_exists"
        )
    if status == 404 and isinstance(reply.get("error"), dict):
        reply["error"].setdefault("code", "resource_missing")
    if status == 402 and isinstance(reply.get("error"), dict):
        # localstripe types every error invalid_request_error; a decline is a card_error.
        reply["error"]["type"] = "card_error"
    return status, reply


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ShimServer

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            status, reply = self.server.shim.handle(self.command, self.path, self.headers, body)
        except Exception as exc:  # a bug in the shim: say so instead of hanging the SDK
            status, reply = _error(500, f"stripe shim: {exc!r}", kind="api_error")
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", f"req_{secrets.token_hex(8)}")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _ShimServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, shim: StripeShim):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.shim = shim


# --- Processes and fixtures --------------------------------------------------------------


def _wait_until_up(url: str, process: subprocess.Popen, log_path: str) -> None:
    deadline = time.monotonic() + BOOT_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            requests.get(
                f"{url}/v1/customers", headers={"Authorization": "Bearer sk_test_boot"}, timeout=1
            )
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    with open(log_path, errors="replace") as log:
        raise RuntimeError(f"localstripe did not start at {url}:\n{log.read()[-4000:]}")


@pytest.fixture(scope="session")
def localstripe_server() -> Iterator[str]:
    """localstripe on a free loopback port, for the whole test session."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.set_inheritable(True)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    log_fd, log_path = tempfile.mkstemp(prefix="localstripe-", suffix=".log")
    with os.fdopen(log_fd, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _LOCALSTRIPE_MAIN, str(sock.fileno())],
            pass_fds=(sock.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    sock.close()
    try:
        _wait_until_up(url, process, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        os.unlink(log_path)


@pytest.fixture(scope="session")
def _stripe_shim_server(localstripe_server: str) -> Iterator[StripeShim]:
    shim = StripeShim(localstripe_server)
    server = _ShimServer(shim)
    shim.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="stripe-shim", daemon=True)
    thread.start()
    try:
        yield shim
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def stripe_shim(_stripe_shim_server: StripeShim) -> StripeShim:
    """The shim, with an empty Stripe behind it (a fresh account for each test)."""
    _stripe_shim_server.reset()
    return _stripe_shim_server


@pytest.fixture
def stripe_api_base(stripe_shim: StripeShim) -> str:
    """The shim's URL: what settings.STRIPE_API_BASE points at."""
    return stripe_shim.url
