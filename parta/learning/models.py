from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from parta.catalog.models import Course, Task, Test


class Submission(models.Model):
    """One answer to a standalone task. Append-only: a history of attempts."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="submissions",
        verbose_name=_("user"),
    )
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="submissions", verbose_name=_("task")
    )
    # Denormalised from task.topic.course so statistics never join through topics.
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="+", verbose_name=_("course")
    )
    answer = models.JSONField(_("answer"))
    is_correct = models.BooleanField(_("correct"))
    points = models.PositiveSmallIntegerField(_("points"), default=0)
    # Sent by the page (or an API client) with each answer: a resent form is recognised,
    # not recorded twice. Any short string the client chooses (1-64 printable characters).
    # NULL, not "", for "no key": the unique constraint below skips it.
    client_key = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, editable=False, verbose_name=_("client key")
    )
    created_at = models.DateTimeField(_("answered at"), db_index=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "course", "-created_at"]),
            models.Index(fields=["user", "task", "-created_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client_key"],
                condition=Q(client_key__isnull=False),
                name="learning_submission_client_key_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · task {self.task_id} · {'✓' if self.is_correct else '✗'}"


class TaskProgress(models.Model):
    """A student's standing on one task, kept up to date by the submission service so
    pages and statistics read one row instead of the whole history."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
    )
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="progress", verbose_name=_("task")
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="+", verbose_name=_("course")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    wrong_attempts = models.PositiveIntegerField(default=0, verbose_name=_("wrong attempts"))
    solved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("solved at"))
    last_answer_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last answer at"))

    class Meta:
        verbose_name = _("task progress")
        verbose_name_plural = _("task progress")
        constraints = [
            models.UniqueConstraint(fields=["user", "task"], name="learning_progress_once")
        ]
        indexes = [models.Index(fields=["user", "course", "solved_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} · task {self.task_id}"

    @property
    def is_solved(self) -> bool:
        return self.solved_at is not None


class DailyActivity(models.Model):
    """Per student, course and school-calendar day: correct answers and tasks solved
    for the first time. Streaks and the activity chart read these rows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="daily_activity",
        verbose_name=_("user"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="+", verbose_name=_("course")
    )
    day = models.DateField(verbose_name=_("day"))
    correct_answers = models.PositiveIntegerField(default=0, verbose_name=_("correct answers"))
    tasks_solved = models.PositiveIntegerField(default=0, verbose_name=_("tasks solved"))

    class Meta:
        verbose_name = _("day of activity")
        verbose_name_plural = _("days of activity")
        constraints = [
            models.UniqueConstraint(fields=["user", "course", "day"], name="learning_daily_once")
        ]
        ordering = ["-day"]
        indexes = [
            # The CRM dashboard's days of a period (an index-only scan).
            models.Index(fields=["day", "user", "tasks_solved"], name="learning_daily_day"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.day}"


class TestAttempt(models.Model):
    """The one attempt a student has at a test: started, answered until the deadline,
    submitted once and scored as a whole."""

    __test__ = False  # not a pytest test class, despite the name

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="test_attempts",
        verbose_name=_("user"),
    )
    test = models.ForeignKey(
        Test, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("test")
    )
    started_at = models.DateTimeField(verbose_name=_("started at"))
    deadline = models.DateTimeField(verbose_name=_("deadline"))
    submitted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("submitted at"))
    score = models.PositiveIntegerField(default=0, verbose_name=_("score"))
    max_score = models.PositiveIntegerField(default=0, verbose_name=_("max score"))

    class Meta:
        verbose_name = _("test attempt")
        verbose_name_plural = _("test attempts")
        constraints = [
            models.UniqueConstraint(fields=["user", "test"], name="learning_test_attempt_once"),
            models.CheckConstraint(
                condition=Q(deadline__gt=models.F("started_at")),
                name="learning_attempt_deadline_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · test {self.test_id}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class TestAnswer(models.Model):
    __test__ = False  # not a pytest test class, despite the name

    attempt = models.ForeignKey(
        TestAttempt, on_delete=models.CASCADE, related_name="answers", verbose_name=_("attempt")
    )
    task = models.ForeignKey(
        Task, on_delete=models.CASCADE, related_name="+", verbose_name=_("task")
    )
    answer = models.JSONField(verbose_name=_("answer"))
    is_correct = models.BooleanField(default=False, verbose_name=_("is correct"))
    points = models.PositiveSmallIntegerField(default=0, verbose_name=_("points"))
    answered_at = models.DateTimeField(verbose_name=_("answered at"))

    class Meta:
        verbose_name = _("test answer")
        verbose_name_plural = _("test answers")
        constraints = [
            models.UniqueConstraint(fields=["attempt", "task"], name="learning_test_answer_once")
        ]

    def __str__(self) -> str:
        return f"attempt {self.attempt_id} · task {self.task_id}"
