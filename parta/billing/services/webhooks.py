"""Provider webhooks: verified, stored once per (provider, event id), processed once.

The event row and everything the event does commit in one durable transaction, so a
crash leaves no half-processed event and the provider's retry starts clean; a replay
(or the same event arriving twice at once) meets the unique constraint and changes
nothing. Events about unknown orders, or that do not match their order, roll back
whatever they did and are then kept with status "failed" and the reason, for staff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from parta.billing.models import EventStatus, Order, OrderStatus, ProviderEvent
from parta.billing.providers.base import EventKind, InvalidWebhook, WebhookEvent
from parta.billing.providers.registry import get_provider
from parta.billing.services.fulfilment import order_ended_unpaid, order_paid
from parta.billing.services.refunds import refund_settled
from parta.billing.services.renewals import renewals_order_paid
from parta.common.db import insert_unless_exists
from parta.common.errors import ApplicationError


@dataclass(frozen=True)
class WebhookOutcome:
    event: ProviderEvent
    duplicate: bool


def _order_for(provider: str, event: WebhookEvent, *, lock: bool = False) -> Order:
    """The event's order, found by its checkout session (or, failing that, its id);
    with ``lock`` read whole and locked for this transaction."""
    if lock:
        # Only what the handlers read or write: a smaller row to build on a hot path.
        orders = Order.objects.select_for_update().only(
            "id", "user_id", "status", "purpose", "total", "currency", "discount_id",
            "checkout_id", "provider", "paid_at", "failure_reason", "updated_at",
        )  # fmt: skip
    else:
        orders = Order.objects.only("id", "checkout_id")
    order = None
    if event.session_id:
        order = orders.filter(provider=provider, checkout_id=event.session_id).first()
    if order is None and event.order_id is not None:
        # Only an order of this provider: one paid elsewhere is not this event's to change.
        order = orders.filter(pk=event.order_id, provider=provider).first()
    if order is None:
        raise ApplicationError(f"no order for event {event.event_id}")
    return order


def _dispatch(provider: str, event: WebhookEvent) -> bool:
    """Act on the event; False when there is nothing to do for its kind."""
    if event.kind == EventKind.CHECKOUT_PAID:
        order = _order_for(provider, event, lock=True)
        paid = order_paid(
            order=order,
            locked=True,
            provider=provider,
            provider_payment_id=event.provider_payment_id,
            amount=event.amount,
            currency=event.currency,
        )
        if paid:
            # A plan bought with auto-renewal keeps the card the provider saved.
            renewals_order_paid(order=order, saved_method_id=event.saved_method_id)
        return True
    if event.kind in (EventKind.CHECKOUT_FAILED, EventKind.CHECKOUT_EXPIRED):
        order = _order_for(provider, event)
        if event.session_id and order.checkout_id != event.session_id:
            # About an older checkout of the order; the buyer may be paying in a newer one.
            return False
        if event.kind == EventKind.CHECKOUT_FAILED:
            order_ended_unpaid(
                order=order, status=OrderStatus.FAILED, reason=event.failure_reason or "declined"
            )
        else:
            order_ended_unpaid(order=order, status=OrderStatus.EXPIRED)
        return True
    if event.kind in (EventKind.REFUND_SUCCEEDED, EventKind.REFUND_FAILED):
        return refund_settled(
            provider=provider,
            provider_refund_id=event.refund_id,
            succeeded=event.kind == EventKind.REFUND_SUCCEEDED,
            reason=event.failure_reason,
        )
    return False


def _insert_event(provider_name: str, event: WebhookEvent) -> ProviderEvent | None:
    """Store the event unless it is known (None: a replay)."""
    # Written as processed: the row commits only together with what the event does, so
    # the common case needs no second write (other outcomes update it).
    stored = ProviderEvent(
        provider=provider_name,
        event_id=event.event_id,
        type=event.raw_type,
        payload=event.payload,
        status=EventStatus.PROCESSED,
        processed_at=timezone.now(),
    )
    return stored if insert_unless_exists(stored) else None


# The stored event's columns (ProviderEvent, Payment, Refund) and what PostgreSQL takes.
_MAX_ID = 255
_MAX_TYPE = 100


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _check_storable(event: WebhookEvent) -> None:
    """Refuse a (signed) event that the database could not store as it is."""
    ids = (event.event_id, event.session_id, event.provider_payment_id, event.refund_id)
    if any(len(value) > _MAX_ID for value in ids) or len(event.raw_type) > _MAX_TYPE:
        raise InvalidWebhook("an id or the type of the event is too long")
    if _has_nul(event.payload):
        raise InvalidWebhook("the event holds a NUL character")


def webhook_receive(
    *, provider_name: str, body: bytes, headers: Mapping[str, str], remote_addr: str = ""
) -> WebhookOutcome:
    """Verify, store and process one webhook delivery. Raises UnknownProvider (404),
    InvalidWebhook (400) or ProviderError (503: the provider could not confirm it)
    before anything is stored. ``remote_addr``: the sender, for providers that do not
    sign their notifications."""
    provider = get_provider(provider_name)
    provider.check_source(remote_addr)
    event = provider.parse_webhook(body, headers)
    _check_storable(event)
    try:
        with transaction.atomic(durable=True):
            stored = _insert_event(provider_name, event)
            if stored is None:
                return _duplicate(provider_name, event)
            if not _dispatch(provider_name, event):
                stored.status = EventStatus.IGNORED
                stored.save(update_fields=["status"])
            return WebhookOutcome(event=stored, duplicate=False)
    except ApplicationError as exc:
        # Nothing the event did is kept; the event is, with the reason, for staff.
        with transaction.atomic(durable=True):
            stored = _insert_event(provider_name, event)
            if stored is None:
                return _duplicate(provider_name, event)
            stored.status = EventStatus.FAILED
            stored.error = exc.message
            stored.save(update_fields=["status", "error"])
            return WebhookOutcome(event=stored, duplicate=False)


def _duplicate(provider_name: str, event: WebhookEvent) -> WebhookOutcome:
    existing = ProviderEvent.objects.get(provider=provider_name, event_id=event.event_id)
    return WebhookOutcome(event=existing, duplicate=True)
