"""Sign-in locks reach the school's staff through the outbox: accounts (below the outbox)
decides that an address hit its ceiling and calls its ``signin_lock_hooks``; this hook stores
the alert for every active staff member, by email and in the bell."""

from __future__ import annotations

import hashlib
import time

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from parta.notifications.channels.base import Channel
from parta.notifications.kinds import Kind

SIGNIN_LOCKED = Kind(
    name="signin_locked",
    label=_("Sign-in locks (staff)"),
    mandatory=True,
    channels=(Channel.EMAIL, Channel.SITE),
    staff_only=True,
)


def tell_staff_of_lock(*, email: str, ip: str, kind: str, locked_hours: int) -> None:
    """Store the alert in the caller's transaction; one per address, kind and lock window
    (the window, not the moment, names the event: a second call in it stores nothing)."""
    from parta.accounts.models import Role
    from parta.notifications.services import notify_many

    staff = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(role=Role.STAFF) | Q(is_superuser=True))
        .order_by("id")
    )
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]
    window = int(time.time() // (max(1, locked_hours) * 3600))
    notify_many(
        recipients=[(member, None) for member in staff],
        kind=SIGNIN_LOCKED.name,
        context={"email": email, "ip": ip, "kind": kind, "locked_hours": locked_hours},
        dedup_key=f"signin_locked:{kind}:{address}:{window}",
    )
