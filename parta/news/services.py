"""Writing and broadcasting news.

A broadcast first creates every recipient's delivery rows with ``notify_many`` (kind ``news``,
dedup key ``news:<post id>``), in batches of recipients by id, each batch in its own
transaction that also moves the post's cursor. A worker killed mid-way resumes after the
last committed batch, and the outbox's unique constraint keeps a rerun from storing anyone
twice. The outbox then delivers the rows; progress is counted from them.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from parta.accounts.models import User
from parta.audit.services import record_change, snapshot
from parta.catalog.models import Course
from parta.catalog.uploads import check_upload, validate_cover_image
from parta.common.errors import Conflict, ValidationFailed
from parta.common.markdown import render_markdown
from parta.news.models import BODY_MAX_LENGTH, TITLE_MAX_LENGTH, Audience, Post, PostStatus
from parta.news.selectors import audience_students
from parta.notifications.channels.base import Channel
from parta.notifications.models import Message, Status
from parta.notifications.services import notify_many

BATCH_SIZE = 1000
EXCERPT_LENGTH = 400
EDITABLE = (PostStatus.DRAFT, PostStatus.SCHEDULED)
# What the audit log keeps of a post (its before and after).
POST_AUDIT = ("title", "body", "audience", "course", "image", "status", "publish_at")


def _clean(
    *,
    title: str,
    body: str,
    audience: str,
    course: Course | None,
    image: File | None,
) -> tuple[str, str, Course | None]:
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    body = (body or "").strip()
    if not title:
        errors["title"] = [_("Give the post a title.")]
    elif len(title) > TITLE_MAX_LENGTH:
        errors["title"] = [
            _("Keep the title under %(limit)s characters.") % {"limit": TITLE_MAX_LENGTH}
        ]
    if not body:
        errors["body"] = [_("Write the text of the post.")]
    elif len(body) > BODY_MAX_LENGTH:
        errors["body"] = [
            _("The text may have at most %(limit)s characters; this one has %(count)s.")
            % {"limit": f"{BODY_MAX_LENGTH:,}".replace(",", " "), "count": len(body)}
        ]
    if audience not in Audience.values:
        errors["audience"] = [_("Choose who the post is for.")]
    elif audience == Audience.COURSE:
        if course is None:
            errors["course"] = [_("Choose the course whose students get the post.")]
    else:
        course = None
    if image is not None:
        try:
            check_upload(validate_cover_image, image, field="image")
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return title, body, course


@transaction.atomic
def post_create(
    *,
    author: User,
    title: str,
    body: str,
    audience: str = Audience.ALL,
    course: Course | None = None,
    image: File | None = None,
    reason: str = "",
) -> Post:
    """A draft post (publish it with ``post_publish``)."""
    title, body, course = _clean(
        title=title, body=body, audience=audience, course=course, image=image
    )
    post = Post.objects.create(
        author=author, title=title, body=body, audience=audience, course=course
    )
    if image is not None:
        post.image = image
        post.save(update_fields=["image", "updated_at"])
    record_change(
        actor=author,
        action="news.post_create",
        obj=post,
        after=snapshot(post, POST_AUDIT),
        reason=reason,
    )
    return post


@transaction.atomic
def post_update(
    *,
    post: Post,
    title: str,
    body: str,
    audience: str,
    course: Course | None = None,
    image: File | None = None,
    remove_image: bool = False,
    actor: User | None = None,
    reason: str = "",
) -> Post:
    """Edit a draft or a scheduled post; a scheduled one goes back to draft until it is
    published again."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.status not in EDITABLE:
        raise Conflict(_("This post has been sent; it can no longer be edited."))
    before = snapshot(post, POST_AUDIT)
    post.title, post.body, post.course = _clean(
        title=title, body=body, audience=audience, course=course, image=image
    )
    post.audience = audience
    post.status = PostStatus.DRAFT
    post.publish_at = None
    if image is not None:
        post.image = image
    elif remove_image:
        post.image = ""
    post.save()
    record_change(
        actor=actor,
        action="news.post_update",
        obj=post,
        before=before,
        after=snapshot(post, POST_AUDIT),
        reason=reason,
        changed_only=True,
    )
    return post


@transaction.atomic
def post_publish(
    *,
    post: Post,
    at: datetime | None = None,
    now: datetime | None = None,
    actor: User | None = None,
    reason: str = "",
) -> Post:
    """Send the post now, or at ``at`` (the beat task ``news.publish_due`` sends it then)."""
    now = now or timezone.now()
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.status not in EDITABLE:
        raise Conflict(_("This post has already been sent."))
    if at is not None and at <= now:
        raise ValidationFailed(
            {"publish_at": [_("This moment has passed. Choose a time in the future.")]}
        )
    before = {"status": post.status, "publish_at": post.publish_at}
    if at is None:
        _start(post, now)
    else:
        post.status = PostStatus.SCHEDULED
        post.publish_at = at
        post.save(update_fields=["status", "publish_at", "updated_at"])
    record_change(
        actor=actor,
        action="news.post_publish",
        obj=post,
        before=before,
        after={"status": post.status, "publish_at": post.publish_at},
        reason=reason,
    )
    return post


def _start(post: Post, now: datetime) -> None:
    post.status = PostStatus.SENDING
    post.published_at = now
    post.save(update_fields=["status", "published_at", "updated_at"])
    post_id = post.pk
    transaction.on_commit(lambda: _kick(post_id))


def _kick(post_id: int) -> None:
    from parta.news.tasks import broadcast

    broadcast.delay(post_id)


@transaction.atomic
def post_cancel(
    *, post: Post, now: datetime | None = None, actor: User | None = None, reason: str = ""
) -> Post:
    """Stop a scheduled or running broadcast: rows still queued become skipped
    ("cancelled"); rows a worker is sending, or has sent, are left as they are."""
    now = now or timezone.now()
    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.status not in (PostStatus.SCHEDULED, PostStatus.SENDING):
        raise Conflict(_("Only a scheduled post or one being sent can be cancelled."))
    before = {"status": post.status}
    post.status = PostStatus.CANCELLED
    post.cancelled_at = now
    post.save(update_fields=["status", "cancelled_at", "updated_at"])
    # Under PostgreSQL's READ COMMITTED a row a worker claimed meanwhile is re-checked
    # after its lock: it is "sending" by then and stays out of this update.
    Message.objects.filter(dedup_key=post.dedup_key, status=Status.QUEUED).update(
        status=Status.SKIPPED, last_error="cancelled"
    )
    record_change(
        actor=actor,
        action="news.post_cancel",
        obj=post,
        before=before,
        after={"status": post.status},
        reason=reason,
    )
    return post


def news_context(*, post: Post) -> dict:
    """What the ``news`` templates are rendered with (the same for every recipient; the
    unsubscribe headers are made per person when an email is sent)."""
    text = strip_tags(render_markdown(post.body)).strip()
    return {
        "post_id": post.pk,
        "title": post.title,
        "excerpt": Truncator(text).chars(EXCERPT_LENGTH),
        "url": settings.PARTA_SITE_URL.rstrip("/") + reverse("news:detail", args=[post.pk]),
        # The bell's "Open" link.
        "path": reverse("news:detail", args=[post.pk]),
    }


def _channels_for(user: User) -> list[Channel]:
    channels = [Channel.SITE]
    if user.email:
        channels.append(Channel.EMAIL)
    if user.telegram_reachable:
        channels.append(Channel.TELEGRAM)
    return channels


def broadcast_step(*, post_id: int, batch_size: int = BATCH_SIZE) -> bool:
    """Create the next batch of the post's delivery rows; whether more remain."""
    with transaction.atomic(durable=True):
        post = Post.objects.select_for_update().filter(pk=post_id).first()
        if post is None or post.status != PostStatus.SENDING or post.enqueued_at is not None:
            return False
        users = list(
            audience_students(post=post)
            .filter(pk__gt=post.enqueued_through)
            .only("id", "email", "telegram_chat_id", "telegram_blocked_at")
            .order_by("pk")[:batch_size]
        )
        context = news_context(post=post) if users else {}
        notify_many(
            recipients=[(user, _channels_for(user)) for user in users],
            kind="news",
            context=context,
            dedup_key=post.dedup_key,
        )
        if users:
            post.enqueued_through = users[-1].pk
        if len(users) < batch_size:
            post.enqueued_at = timezone.now()
        post.save(update_fields=["enqueued_through", "enqueued_at", "updated_at"])
        return post.enqueued_at is None


def broadcast_run(*, post_id: int, batch_size: int = BATCH_SIZE) -> None:
    """Create all of the post's delivery rows (safe to run twice, or after a kill)."""
    while broadcast_step(post_id=post_id, batch_size=batch_size):
        pass


@transaction.atomic
def broadcast_settle(*, post: Post) -> Post:
    """A sending post whose rows all exist and none waits is sent."""
    if post.status != PostStatus.SENDING or post.enqueued_at is None:
        return post
    waiting = Message.objects.filter(
        dedup_key=post.dedup_key, status__in=(Status.QUEUED, Status.SENDING)
    ).exists()
    if not waiting:
        Post.objects.filter(pk=post.pk, status=PostStatus.SENDING).update(
            status=PostStatus.SENT, updated_at=timezone.now()
        )
        post.status = PostStatus.SENT
    return post


def posts_publish_due(*, now: datetime | None = None) -> int:
    """Start scheduled posts whose time has come, resume broadcasts a worker left
    half-way, and mark finished ones sent. Returns how many were started or resumed."""
    now = now or timezone.now()
    started: set[int] = set()
    due = list(
        Post.objects.filter(status=PostStatus.SCHEDULED, publish_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    for pk in due:
        with transaction.atomic(durable=True):
            post = (
                Post.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status=PostStatus.SCHEDULED)
                .first()
            )
            if post is not None:
                _start(post, now)
                started.add(post.pk)
    for post in Post.objects.filter(status=PostStatus.SENDING).exclude(pk__in=started):
        if post.enqueued_at is None:
            _kick(post.pk)
            started.add(post.pk)
        else:
            broadcast_settle(post=post)
    return len(started)
