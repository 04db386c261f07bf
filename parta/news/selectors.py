"""Reading news: who a post goes to, what a person may read, how a broadcast is going."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from parta.access.models import AccessFreeze, AccessGrant
from parta.access.selectors import is_staff_like
from parta.accounts.models import Role, User
from parta.news.models import VISIBLE_STATUSES, Audience, Post, PostStatus
from parta.notifications.models import Message, Status

PAGE_SIZE = 20


def active_grants(*, now: datetime) -> QuerySet[AccessGrant]:
    """Grants that let their student study now: active, begun, not ended, not paused."""
    running_freeze = AccessFreeze.objects.filter(
        grant=OuterRef("pk"), ended_at__isnull=True, starts_at__lte=now, ends_at__gt=now
    )
    return (
        AccessGrant.objects.filter(is_active=True, starts_at__lte=now)
        .filter(Q(available_until__isnull=True) | Q(available_until__gt=now))
        .exclude(Exists(running_freeze))
    )


def audience_students(*, post: Post, now: datetime | None = None) -> QuerySet[User]:
    """The students ``post`` goes to, as of ``now``."""
    now = now or timezone.now()
    students = User.objects.filter(role=Role.STUDENT, is_active=True)
    if post.audience == Audience.ALL:
        return students
    grants = active_grants(now=now).filter(user=OuterRef("pk"))
    if post.audience == Audience.ACTIVE:
        return students.filter(Exists(grants))
    if post.audience == Audience.COURSE:
        return students.filter(Exists(grants.filter(course_id=post.course_id)))
    # A group audience (once groups exist) is one more branch here.
    raise ValueError(f"unknown audience {post.audience!r}")


def _received(user: User):
    """Whether ``user`` has a delivery row of the post (they were in its audience)."""
    return Exists(
        Message.objects.filter(
            user=user,
            dedup_key=Concat(Value("news:"), Cast(OuterRef("pk"), CharField())),
        )
    )


def _readable(user: User, now: datetime) -> QuerySet[Post]:
    posts = Post.objects.filter(status__in=VISIBLE_STATUSES)
    if is_staff_like(user):
        return posts
    course_ids = list(
        active_grants(now=now).filter(user=user).values_list("course_id", flat=True).distinct()
    )
    readable = Q(audience=Audience.ALL) | _received(user)
    if course_ids:
        readable |= Q(audience=Audience.ACTIVE) | Q(
            audience=Audience.COURSE, course_id__in=course_ids
        )
    return posts.filter(readable)


def post_queryset_for(*, user: User) -> QuerySet[Post]:
    """The posts ``user`` may read, newest first: a post for everyone, for students with
    access (while they have it) or for a course they study, and any post they were sent.
    Staff and moderators read every published post. (One query for the reader's
    courses when the queryset is built.)"""
    return (
        _readable(user, timezone.now())
        .select_related("course")
        .defer("body")
        .order_by("-published_at", "-id")
    )


def post_list_for(*, user: User, page=1, per_page: int = PAGE_SIZE) -> Page:
    """A page of ``post_queryset_for``: three queries."""
    return Paginator(post_queryset_for(user=user), per_page).get_page(page)


def post_get_for(*, user: User, pk: int) -> Post | None:
    return _readable(user, timezone.now()).select_related("course", "author").filter(pk=pk).first()


def workspace_post_list() -> QuerySet[Post]:
    return (
        Post.objects.select_related("course", "author")
        .defer("body")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class BroadcastProgress:
    sent: int
    failed: int
    skipped: int
    unknown: int
    waiting: int
    # Every delivery row exists (the broadcast finished walking its audience).
    enqueued: bool

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.skipped + self.unknown + self.waiting

    @property
    def done(self) -> int:
        return self.total - self.waiting

    @property
    def finished(self) -> bool:
        return self.enqueued and self.waiting == 0

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.enqueued else 0
        return self.done * 100 // self.total


def broadcast_progress(*, post: Post) -> BroadcastProgress:
    """Delivery rows of the post by status: one query."""
    counts = dict(
        Message.objects.filter(dedup_key=post.dedup_key)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return BroadcastProgress(
        sent=counts.get(Status.SENT, 0),
        failed=counts.get(Status.FAILED, 0),
        skipped=counts.get(Status.SKIPPED, 0),
        unknown=counts.get(Status.UNKNOWN, 0),
        waiting=counts.get(Status.QUEUED, 0) + counts.get(Status.SENDING, 0),
        enqueued=post.enqueued_at is not None or post.status == PostStatus.CANCELLED,
    )
