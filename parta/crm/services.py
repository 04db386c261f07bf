"""The client card's actions. Each calls one domain service, which makes the change and
writes its audit entry (once, with the reason); only the message to a client, which no
domain service sends, is recorded here. The card asks for a reason every time, so an
empty one is refused before anything changes."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.access.models import AccessFreeze, AccessGrant, GrantSource
from parta.access.services import access_grant_create
from parta.accounts.models import User
from parta.audit.services import record
from parta.billing.models import LedgerEntry, Payment, Plan, Refund
from parta.billing.services.freezes import purchase_freeze, purchase_unfreeze
from parta.billing.services.ledger import Posting, balance_adjust
from parta.billing.services.offline import offline_payment_record
from parta.billing.services.refunds import refund_grant, refund_topup
from parta.catalog.models import Course
from parta.common.errors import PermissionDenied, ValidationFailed
from parta.crm.permissions import can_see_money, can_use_crm
from parta.groups.models import Group, Membership
from parta.groups.services import membership_move
from parta.notifications.channels.base import Channel
from parta.notifications.services import notify

GRANT_DAYS_MAX = 3650
MESSAGE_MAX_LENGTH = 4000
MESSAGE_CHANNELS = (Channel.EMAIL, Channel.TELEGRAM)
MESSAGE_KIND = "crm_message"


def _staff(by) -> None:
    if not can_see_money(by):
        raise PermissionDenied(_("Only staff do this."))


def _crm(by) -> None:
    if not can_use_crm(by):
        raise PermissionDenied(_("Only staff and moderators do this."))


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": [_("Say why.")]})
    return reason


@transaction.atomic
def client_access_grant(
    *,
    client: User,
    by: User,
    days: int,
    reason: str,
    course: Course | None = None,
    plan: Plan | None = None,
) -> list[AccessGrant]:
    """Give ``client`` a course, or every course of a plan (with the plan's freeze
    limit), for ``days`` days from now."""
    _staff(by)
    reason = _reason(reason)
    if (course is None) == (plan is None):
        raise ValidationFailed({"target": [_("Choose a course or a plan.")]})
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= GRANT_DAYS_MAX:
        raise ValidationFailed(
            {"days": [_("Give from 1 to %(max)d days.") % {"max": GRANT_DAYS_MAX}]}
        )
    now = timezone.now()
    until = now + timedelta(days=days)
    courses = [course] if course is not None else list(plan.courses.order_by("pk"))
    if not courses:
        raise ValidationFailed({"target": [_("This plan has no courses.")]})
    return [
        access_grant_create(
            user=client,
            course=item,
            source=GrantSource.MANUAL,
            starts_at=now,
            available_until=until,
            granted_by=by,
            note=(plan.title if plan is not None else "")[:300],
            freeze_limit_days=plan.freeze_limit_days if plan is not None else 0,
            reason=reason,
        )
        for item in courses
    ]


def client_offline_payment(
    *,
    client: User,
    by: User,
    method: str,
    document: str,
    currency: str,
    amount: int,
    item_id: int | None,
    reason: str,
) -> Payment:
    _staff(by)
    return offline_payment_record(
        user=client,
        by=by,
        method=method,
        document=document,
        currency=currency,
        amount=amount,
        item_id=item_id,
        reason=_reason(reason),
    )


def client_freeze(*, grant: AccessGrant, by: User, days: int, reason: str) -> list[AccessFreeze]:
    _staff(by)
    return purchase_freeze(grant=grant, days=days, by=by, reason=_reason(reason))


def client_unfreeze(*, freeze: AccessFreeze, by: User, reason: str) -> list[AccessFreeze]:
    _staff(by)
    return purchase_unfreeze(freeze=freeze, by=by, reason=_reason(reason))


def client_refund(
    *,
    by: User,
    reason: str,
    grant: AccessGrant | None = None,
    to_balance: bool = False,
    topup: LedgerEntry | None = None,
    amount: int | None = None,
) -> Refund:
    """A purchase's unused days (to the card or the balance), or part of a top-up back
    to its payment; never more than was paid (the billing services refuse)."""
    _staff(by)
    reason = _reason(reason)
    if grant is not None:
        return refund_grant(grant=grant, requested_by=by, to_balance=to_balance, reason=reason)
    if topup is not None:
        return refund_topup(entry=topup, amount=amount, requested_by=by, reason=reason)
    raise ValidationFailed({"target": [_("Choose what to refund.")]})


def client_balance_adjust(
    *, client: User, by: User, currency: str, amount: int, reason: str, key: str
) -> Posting:
    _staff(by)
    return balance_adjust(
        user_id=client.pk,
        currency=currency,
        amount=amount,
        reason=_reason(reason),
        by_id=by.pk,
        by=by,
        key=key,
    )


def client_move(
    *, client: User, group: Group, by: User, reason: str, override: bool = False
) -> Membership:
    """Staff and moderators move; only staff into a full group (``override``)."""
    _crm(by)
    return membership_move(
        student=client, group=group, by=by, override=override, reason=_reason(reason)
    )


@transaction.atomic
def client_message_send(
    *, client: User, by: User, channel: str, text: str, reason: str, key: str
) -> None:
    """A message from the school to the client by email or Telegram, through the outbox
    (delivered after commit; its status shows on the card). ``key`` sends it once."""
    _crm(by)
    errors: dict[str, list[str]] = {}
    if channel not in MESSAGE_CHANNELS:
        errors["channel"] = [_("Choose email or Telegram.")]
    elif channel == Channel.TELEGRAM and not client.telegram_chat_id:
        errors["channel"] = [_("The client has not connected Telegram.")]
    text = (text or "").strip()
    if not text:
        errors["text"] = [_("Write the message.")]
    elif len(text) > MESSAGE_MAX_LENGTH:
        errors["text"] = [
            _("A message is at most %(max)d characters.") % {"max": MESSAGE_MAX_LENGTH}
        ]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why.")]
    if errors:
        raise ValidationFailed(errors)
    notify(
        user=client,
        kind=MESSAGE_KIND,
        context={"text": text, "sender": by.full_name},
        dedup_key=f"crm_message:{key}",
        channels=[Channel(channel)],
    )
    record(
        actor=by,
        action="crm.message",
        obj=None,
        subject=client,
        after={"channel": channel, "text": text},
        reason=reason.strip(),
    )
