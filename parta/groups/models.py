"""Study groups of a course and who is in them.

A group's ``members_count`` is the number of its current memberships; it changes only in
parta.groups.services, under the course's row lock (see there), so placement reads it
instead of counting rows. Memberships are never deleted by Parta: leaving or moving ends
one (``ended_at``, ``end_reason``) and the history stays. Live sessions (a later part of
parta.groups) point at groups by their id.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from parta.catalog.models import Course
from parta.common.models import TimeStampedModel


class Group(TimeStampedModel):
    # A group's row changes with every seat taken: only the indexes placement needs.
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # No index of its own: the indexes below start with the course.
    course = models.ForeignKey(
        Course,
        verbose_name=_("course"),
        on_delete=models.CASCADE,
        related_name="study_groups",
        db_index=False,
    )
    # 1, 2, 3... within the course, in the order the groups were made.
    number = models.PositiveIntegerField(_("number"))
    # Empty: the group is called by its number ("Group 3").
    name = models.CharField(_("name"), max_length=100, blank=True)
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("teacher"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="taught_groups",
        db_index=False,  # a partial index below: most groups have no teacher
    )
    members_count = models.PositiveIntegerField(_("students now"), default=0)

    class Meta:
        verbose_name = _("study group")
        verbose_name_plural = _("study groups")
        ordering = ["course", "number"]
        constraints = [
            models.UniqueConstraint(fields=["course", "number"], name="groups_group_number_once"),
            models.UniqueConstraint(
                Lower("name"),
                "course",
                condition=~Q(name=""),
                name="groups_group_name_once",
                violation_error_message=_("Another group of this course already has this name."),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="groups_group_number_positive"
            ),
        ]
        indexes = [
            # Placement's question: the fullest group of a course that still has a seat.
            models.Index(
                fields=["course", "-members_count", "number"], name="groups_group_fullest"
            ),
            models.Index(
                fields=["teacher"],
                condition=Q(teacher__isnull=False),
                name="groups_group_teacher",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or _("Group %(number)d") % {"number": self.number}


class EndReason(models.TextChoices):
    MOVED = "moved", _("Moved to another group")
    REFUNDED = "refunded", _("Refunded")
    EXPIRED = "expired", _("Access expired")
    REVOKED = "revoked", _("Access switched off")


class Membership(TimeStampedModel):
    # Inserted with every placement: only the indexes that reads and cascades need.
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("student"),
        on_delete=models.CASCADE,
        related_name="group_memberships",
    )
    group = models.ForeignKey(
        Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="memberships"
    )
    # The group's course, kept here so "one current group per course" is a constraint.
    course = models.ForeignKey(
        Course,
        verbose_name=_("course"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the constraint's index starts with the student
    )
    started_at = models.DateTimeField(_("joined at"))
    ended_at = models.DateTimeField(_("left at"), null=True, blank=True)
    end_reason = models.CharField(
        _("why it ended"), max_length=16, choices=EndReason.choices, blank=True
    )
    # Who moved the student in (empty: placed automatically when access began).
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("moved in by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # a partial index below: most students were placed automatically
    )

    class Meta:
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["student", "course"],
                condition=Q(ended_at__isnull=True),
                name="groups_membership_one_current_per_course",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("started_at")),
                name="groups_membership_ends_after_start",
            ),
            models.CheckConstraint(
                condition=(Q(ended_at__isnull=True) & Q(end_reason=""))
                | (Q(ended_at__isnull=False) & Q(end_reason__in=EndReason.values)),
                name="groups_membership_end_reason_with_end",
            ),
        ]
        indexes = [
            models.Index(
                fields=["group", "started_at"],
                condition=Q(ended_at__isnull=True),
                name="groups_membership_current",
            ),
            models.Index(
                fields=["placed_by"],
                condition=Q(placed_by__isnull=False),
                name="groups_membership_placed_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} → {self.group_id}"

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


class LiveSession(TimeStampedModel):
    """A live lesson for one or more groups of a course, or for the whole course (no groups).

    Who is invited is fixed when it is made: every current member gets an Invitation."""

    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="live_sessions"
    )
    # Empty: the whole course.
    groups = models.ManyToManyField(
        Group, verbose_name=_("groups"), blank=True, related_name="live_sessions"
    )
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("teacher"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="taught_sessions",
    )
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveIntegerField(_("duration, minutes"))
    meeting_url = models.URLField(_("meeting link"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("live session")
        verbose_name_plural = _("live sessions")
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["starts_at"], name="groups_session_starts")]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1) & Q(duration_minutes__lte=720),
                name="groups_session_duration_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course} · {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_at is not None


class Response(models.TextChoices):
    NONE = "none", _("No answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


class Invitation(TimeStampedModel):
    session = models.ForeignKey(
        LiveSession,
        verbose_name=_("live session"),
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("student"),
        on_delete=models.CASCADE,
        related_name="session_invitations",
    )
    response = models.CharField(
        _("response"), max_length=16, choices=Response.choices, default=Response.NONE
    )
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    # Null: not marked yet.
    attended = models.BooleanField(_("attended"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["session", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="groups_invitation_once"),
        ]
        indexes = [models.Index(fields=["user", "session"], name="groups_invitation_user")]

    def __str__(self) -> str:
        return f"{self.user} · {self.session_id}"


class CalendarFeed(models.Model):
    """A person's private calendar address: whoever knows the token reads their sessions.
    A new link replaces the token, and the old address answers 404."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="calendar_feed",
    )
    token = models.CharField(_("token"), max_length=64, unique=True)
    # When the current link was made (a new link resets it).
    created_at = models.DateTimeField(_("link made at"))

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)
