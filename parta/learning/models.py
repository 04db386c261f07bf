from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from parta.catalog.models import Course, Task, Test


class Submission(models.Model):
    """One answer to a standalone task. Append-only: a history of attempts."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="submissions"
    )
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="submissions")
    # Denormalised from task.topic.course so statistics never join through topics.
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    answer = models.JSONField(_("answer"))
    is_correct = models.BooleanField(_("correct"))
    points = models.PositiveSmallIntegerField(_("points"), default=0)
    # Sent by the page (or an API client) with each answer: a resent form is recognised,
    # not recorded twice. Any short string the client chooses (1-64 printable characters).
    # NULL, not "", for "no key": the unique constraint below skips it.
    client_key = models.CharField(max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001
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

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="progress")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    attempts = models.PositiveIntegerField(default=0)
    wrong_attempts = models.PositiveIntegerField(default=0)
    solved_at = models.DateTimeField(null=True, blank=True)
    last_answer_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="daily_activity"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    correct_answers = models.PositiveIntegerField(default=0)
    tasks_solved = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "course", "day"], name="learning_daily_once")
        ]
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.day}"


class TestAttempt(models.Model):
    """The one attempt a student has at a test: started, answered until the deadline,
    submitted once and scored as a whole."""

    __test__ = False  # not a pytest test class, despite the name

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="test_attempts"
    )
    test = models.ForeignKey(Test, on_delete=models.CASCADE, related_name="attempts")
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    score = models.PositiveIntegerField(default=0)
    max_score = models.PositiveIntegerField(default=0)

    class Meta:
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

    attempt = models.ForeignKey(TestAttempt, on_delete=models.CASCADE, related_name="answers")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="+")
    answer = models.JSONField()
    is_correct = models.BooleanField(default=False)
    points = models.PositiveSmallIntegerField(default=0)
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["attempt", "task"], name="learning_test_answer_once")
        ]

    def __str__(self) -> str:
        return f"attempt {self.attempt_id} · task {self.task_id}"
