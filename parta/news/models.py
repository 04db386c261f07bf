"""News posts written by moderators and staff, and who they go to."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parta.catalog.models import Course

TITLE_MAX_LENGTH = 200
# Long enough for an announcement, short enough to read in a chat; the full text goes by
# email and to /news/, Telegram gets the beginning and a link.
BODY_MAX_LENGTH = 5000


class Audience(models.TextChoices):
    ALL = "all", _("All students")
    ACTIVE = "active", _("Students with access now")
    COURSE = "course", _("Students of one course")
    # GROUP = "group", _("One study group"): once groups exist, a ``group`` foreign key
    # beside ``course`` and one branch in parta.news.selectors.audience_students.


class PostStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SCHEDULED = "scheduled", _("scheduled")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    CANCELLED = "cancelled", _("cancelled")


# Posts readers can see (a cancelled broadcast is withdrawn).
VISIBLE_STATUSES = (PostStatus.SENDING, PostStatus.SENT)


class Post(models.Model):
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    body = models.TextField(_("text (Markdown)"))
    image = models.FileField(_("image"), upload_to="news/", blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    audience = models.CharField(
        _("audience"), max_length=16, choices=Audience.choices, default=Audience.ALL
    )
    course = models.ForeignKey(
        Course,
        verbose_name=_("course"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=PostStatus.choices, default=PostStatus.DRAFT
    )
    # When a scheduled post goes out.
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    # When it went out (its date for readers).
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # The broadcast creates its delivery rows in batches of recipients by id: the last id
    # done, so a killed worker resumes after it; set when every row exists.
    enqueued_through = models.BigIntegerField(
        _("recipients stored up to id"), default=0, editable=False
    )
    enqueued_at = models.DateTimeField(
        _("all recipients stored at"), null=True, blank=True, editable=False
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("news post")
        verbose_name_plural = _("news posts")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["status", "-published_at"], name="news_post_feed")]
        constraints = [
            models.CheckConstraint(
                condition=Q(audience__in=Audience.values), name="news_post_audience_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=PostStatus.values), name="news_post_status_valid"
            ),
            # A course exactly when the audience is one course's students.
            models.CheckConstraint(
                condition=Q(audience=Audience.COURSE, course__isnull=False)
                | (~Q(audience=Audience.COURSE) & Q(course__isnull=True)),
                name="news_post_course_audience",
            ),
            models.CheckConstraint(
                condition=~Q(status=PostStatus.SCHEDULED) | Q(publish_at__isnull=False),
                name="news_post_scheduled_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def dedup_key(self) -> str:
        return f"news:{self.pk}"

    @property
    def is_visible(self) -> bool:
        return self.status in VISIBLE_STATUSES
