"""A person's choices: which kinds of notification reach them on which channel.

A ``Preference`` row holds one choice; with no row, the kind's ``default_on`` decides.
Mandatory kinds (receipts, sign-in codes) ignore preferences and cannot be switched off.
The outbox worker asks ``preference_get`` at delivery time, so a choice made after the
event still counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from parta.common.errors import ValidationFailed
from parta.notifications.channels.base import Channel
from parta.notifications.kinds import Kind, all_kinds, get_kind
from parta.notifications.models import Preference

# The order channels are shown in, everywhere.
CHANNEL_ORDER = (Channel.SITE, Channel.EMAIL, Channel.TELEGRAM)
# The order kinds are shown in: money first, then access, then learning and news; kinds
# not listed follow by name.
KIND_ORDER = (
    "receipt",
    "refund_done",
    "access_ending",
    "access_ended",
    "freeze_started",
    "freeze_ended",
    "topic_opened",
    "news",
    "weekly_digest",
)


@dataclass(frozen=True)
class ChannelChoice:
    channel: Channel
    # False: the kind is never sent there (shown as a dash).
    available: bool
    enabled: bool
    # True for mandatory kinds: on, and not a choice.
    locked: bool


@dataclass(frozen=True)
class KindPreferences:
    kind: str
    label: str
    mandatory: bool
    channels: tuple[ChannelChoice, ...]


def _default(kind: Kind, channel: str) -> bool:
    return channel in kind.default_on


def preference_get(*, user, kind: str, channel: str) -> bool:
    """Whether ``kind`` should reach ``user`` on ``channel`` (one query at most)."""
    described = get_kind(kind)
    if channel not in described.channels:
        return False
    if described.mandatory:
        return True
    enabled = (
        Preference.objects.filter(user=user, kind=kind, channel=channel)
        .values_list("enabled", flat=True)
        .first()
    )
    return _default(described, channel) if enabled is None else enabled


def preferences_for(*, user) -> list[KindPreferences]:
    """Every kind a person may hear about, with each channel's state (one query).
    Kinds sent on one channel only and mandatory (sign-in codes) are left out: there is
    nothing to choose."""
    stored = {
        (kind, channel): enabled
        for kind, channel, enabled in Preference.objects.filter(user=user).values_list(
            "kind", "channel", "enabled"
        )
    }
    rows = []
    ranked = sorted(
        all_kinds(),
        key=lambda k: KIND_ORDER.index(k.name) if k.name in KIND_ORDER else len(KIND_ORDER),
    )
    for kind in ranked:
        if kind.mandatory and len(kind.channels) == 1:
            continue
        if kind.staff_only and not (user.is_school_staff or user.is_staff):
            continue
        if kind.moderators_only and not (
            user.is_moderator or user.is_school_staff or user.is_staff
        ):
            continue
        choices = []
        for channel in CHANNEL_ORDER:
            available = channel in kind.channels
            if not available:
                enabled = False
            elif kind.mandatory:
                enabled = True
            else:
                enabled = stored.get((kind.name, channel.value), _default(kind, channel))
            choices.append(
                ChannelChoice(
                    channel=channel,
                    available=available,
                    enabled=enabled,
                    locked=kind.mandatory and available,
                )
            )
        rows.append(
            KindPreferences(
                kind=kind.name,
                label=str(kind.label),
                mandatory=kind.mandatory,
                channels=tuple(choices),
            )
        )
    return rows


def _checked(kind: str, channel: str, enabled: bool) -> Kind | None:
    """The kind, or None when the change means nothing (a mandatory kind switched on);
    an error for what cannot be chosen."""
    try:
        described = get_kind(kind)
    except LookupError:
        raise ValidationFailed({"kind": [_("There is no such kind of notification.")]}) from None
    if channel not in Channel.values or channel not in described.channels:
        raise ValidationFailed({"channel": [_("This notification is not sent on that channel.")]})
    if not isinstance(enabled, bool):
        raise ValidationFailed({"enabled": [_("Choose on or off.")]})
    if described.mandatory:
        if not enabled:
            raise ValidationFailed(
                {
                    "enabled": [
                        _("“%(kind)s” cannot be switched off: it is always sent.")
                        % {"kind": described.label}
                    ]
                }
            )
        return None
    return described


@transaction.atomic
def preferences_update(*, user, changes: Iterable[tuple[str, str, bool]]) -> None:
    """Apply several ``(kind, channel, enabled)`` choices at once, or none of them if
    one is refused. One upsert."""
    rows = []
    for kind, channel, enabled in changes:
        if _checked(kind, channel, enabled) is None:
            continue
        rows.append(Preference(user=user, kind=kind, channel=channel, enabled=enabled))
    if rows:
        Preference.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["user", "kind", "channel"],
            update_fields=["enabled"],
        )


def preference_set(*, user, kind: str, channel: str, enabled: bool) -> None:
    """Switch ``kind`` on or off for ``user`` on ``channel``. A mandatory kind cannot be
    switched off (``ValidationFailed`` says so)."""
    preferences_update(user=user, changes=[(kind, channel, enabled)])
