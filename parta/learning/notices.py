"""What learning tells students through the outbox: a new topic opening in a course
they have. A beat task looks for topics that opened lately; the dedup key (topic and
user) makes every rerun store nothing new."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parta.access.models import AccessGrant
from parta.catalog.models import Topic
from parta.notifications.channels.base import Channel
from parta.notifications.kinds import Kind, register_kind
from parta.notifications.services import notify

# Topics that opened at most this long ago are told about (a first run after a long
# stop, or a course given a past opening date, does not tell people about old topics).
OPENED_WINDOW = timedelta(days=2)


def register_kinds() -> None:
    register_kind(
        Kind(
            name="topic_opened",
            label=_("New topics in my courses"),
            channels=(Channel.EMAIL, Channel.TELEGRAM, Channel.SITE),
            # Email is opt-in: a course may open a topic every week.
            default_on=(Channel.TELEGRAM, Channel.SITE),
        )
    )


def topics_opened_notify(*, now: datetime | None = None) -> int:
    """Tell everyone with running access to a course about its topics that opened in the
    last two days; returns how many messages were asked for."""
    now = now or timezone.now()
    topics = (
        Topic.objects.filter(
            opens_at__lte=now, opens_at__gt=now - OPENED_WINDOW, course__is_published=True
        )
        .select_related("course")
        .order_by("opens_at", "pk")
    )
    told = 0
    for topic in topics:
        grants = (
            AccessGrant.objects.filter(
                course_id=topic.course_id, is_active=True, starts_at__lte=now
            )
            .filter(Q(available_until__isnull=True) | Q(available_until__gt=now))
            .select_related("user")
            .order_by("user_id")
        )
        seen: set[int] = set()
        context = {
            "topic_id": topic.pk,
            "topic": topic.title,
            "course": topic.course.title,
            "opens_at": topic.opens_at.isoformat(),
            "path": reverse("learning:course", args=[topic.course.slug]),
        }
        with transaction.atomic():
            for grant in grants.iterator(chunk_size=500):
                if grant.user_id in seen:
                    continue
                seen.add(grant.user_id)
                notify(
                    user=grant.user,
                    kind="topic_opened",
                    dedup_key=f"topic_opened:{topic.pk}",
                    context=context,
                )
                told += 1
    return told
