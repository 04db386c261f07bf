"""A person's notification choices (per kind and channel; absent means the kind's default).

A first cut holding only what the outbox's worker needs; the preferences pages and API
complete this module.
"""

from __future__ import annotations

from parta.notifications.channels.base import Channel
from parta.notifications.kinds import get_kind
from parta.notifications.models import Preference


def preference_get(*, user, kind: str, channel: Channel | str) -> bool:
    """Whether ``user`` gets ``kind`` on ``channel``: mandatory kinds always, otherwise the
    stored choice or, without one, the kind's default."""
    described = get_kind(kind)
    if channel not in described.channels:
        return False
    if described.mandatory:
        return True
    stored = (
        Preference.objects.filter(user=user, kind=kind, channel=channel)
        .values_list("enabled", flat=True)
        .first()
    )
    if stored is None:
        return channel in described.default_on
    return stored
