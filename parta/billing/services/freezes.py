"""Pausing a purchase: a plan covers several courses, so its freeze pauses all of them
together (the access service freezes each grant)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from parta.access.models import AccessFreeze, AccessGrant
from parta.access.services import access_freeze_end, access_freeze_start
from parta.accounts.models import User
from parta.billing.notices import freeze_ended_notify, freeze_started_notify
from parta.billing.services.refunds import line_grants_for


@transaction.atomic
def purchase_freeze(
    *, grant: AccessGrant, days: int, by: User | None = None, reason: str = ""
) -> list[AccessFreeze]:
    """Freeze every grant of the purchase behind ``grant`` for ``days`` days, or none
    (any refusal, such as the limit, leaves all of them running). Each grant's freeze is
    audited by the access service."""
    freezes = [
        access_freeze_start(grant=g, days=days, by=by, reason=reason)
        for g in line_grants_for(grant)
    ]
    freeze_started_notify(freezes=freezes)
    return freezes


@transaction.atomic
def purchase_unfreeze(
    *, freeze: AccessFreeze, by: User | None = None, reason: str = ""
) -> list[AccessFreeze]:
    """End the running freezes of the purchase ``freeze`` belongs to."""
    now = timezone.now()
    ended = []
    for grant in line_grants_for(freeze.grant):
        running = AccessFreeze.objects.filter(grant=grant, ended_at__isnull=True, ends_at__gt=now)
        for item in running:
            ended.append(access_freeze_end(freeze=item, by=by, reason=reason))
    freeze_ended_notify(freezes=ended)
    return ended
