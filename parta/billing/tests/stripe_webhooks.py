"""Stripe-style webhooks for tests: build an event, sign it the way Stripe does and send
it to a live Parta server."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import requests

from parta.billing.tests.stripe_peer import API_VERSION


def stripe_event(event_type: str, obj: dict[str, Any], *, event_id: str = "") -> dict[str, Any]:
    """An event as Stripe sends it to a webhook endpoint."""
    return {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": obj},
    }


def sign_webhook(payload: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Stripe's signature: ``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return {
        "Stripe-Signature": f"t={ts},v1={digest}",
        "Content-Type": "application/json; charset=utf-8",
    }


def event_body(event: dict[str, Any]) -> bytes:
    return json.dumps(event, indent=2).encode()


def send_webhook(
    url: str, event: dict[str, Any], secret: str, *, timestamp: int | None = None
) -> requests.Response:
    """POST the event, signed with ``secret``, to a live server's webhook endpoint."""
    payload = event_body(event)
    headers = sign_webhook(payload, secret, timestamp=timestamp)
    return requests.post(url, data=payload, headers=headers, timeout=30)
