"""Threads between a student and the school's moderators: about a task, or support.

A thread's state follows who wrote last (a student: awaiting a moderator; a moderator:
awaiting the student) until someone closes it; a new message reopens it. Unread is a
last-seen time per participant (``ThreadSeen``), compared with the thread's last message
times, never a row per message. Private notes live in their own table (``ThreadNote``), so
no query of messages can leak one to a student.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parta.catalog.models import Course, Task

TEXT_MAX_LENGTH = 4000
SUBJECT_MAX_LENGTH = 200


class ThreadKind(models.TextChoices):
    TASK = "task", _("About a task")
    SUPPORT = "support", _("Support")


class ThreadState(models.TextChoices):
    AWAITING_MODERATOR = "awaiting_moderator", _("Awaiting a moderator")
    AWAITING_STUDENT = "awaiting_student", _("Awaiting the student")
    CLOSED = "closed", _("Closed")


class Thread(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=ThreadKind.choices)
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("student"),
        on_delete=models.CASCADE,
        related_name="chat_threads",
    )
    # A deleted task leaves its threads (and their history) in place, without the task.
    task = models.ForeignKey(
        Task,
        verbose_name=_("task"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_threads",
    )
    # Denormalised from the task (for the inbox's course filter); a support thread may name
    # the course it is about, or none.
    course = models.ForeignKey(
        Course,
        verbose_name=_("course"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_threads",
    )
    # The task's title when the thread opened, or the support question's first line.
    subject = models.CharField(_("subject"), max_length=SUBJECT_MAX_LENGTH)
    state = models.CharField(
        _("state"),
        max_length=24,
        choices=ThreadState.choices,
        default=ThreadState.AWAITING_MODERATOR,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned moderator"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_chat_threads",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # Since when the student has been waiting for an answer (their first unanswered
    # message); None while nobody waits. The inbox sorts by it.
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message at"), null=True, blank=True)
    # The newest message by the student and by the school: unread marks compare with these.
    last_student_message_at = models.DateTimeField(
        _("last student message at"), null=True, blank=True
    )
    last_staff_message_at = models.DateTimeField(
        _("last moderator message at"), null=True, blank=True
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # When the student solved the task after asking (a task thread says so).
    solved_at = models.DateTimeField(_("solved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("thread")
        verbose_name_plural = _("threads")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "task"],
                condition=Q(kind="task", task__isnull=False),
                name="chat_one_task_thread_per_student",
            ),
            models.CheckConstraint(
                condition=Q(kind="task") | Q(task__isnull=True),
                name="chat_support_thread_has_no_task",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=ThreadKind.values), name="chat_thread_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(state__in=ThreadState.values), name="chat_thread_state_known"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "waiting_since"], name="chat_inbox_waiting"),
            models.Index(fields=["assignee", "state"], name="chat_inbox_assignee"),
            models.Index(fields=["student", "-last_message_at"], name="chat_student_threads"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"

    @property
    def is_closed(self) -> bool:
        return self.state == ThreadState.CLOSED


class MessageSource(models.TextChoices):
    SITE = "site", _("The site")
    API = "api", _("The API")
    TELEGRAM = "telegram", _("Telegram")
    SYSTEM = "system", _("Parta")


class ChatMessage(models.Model):
    """One message in a thread. ``author`` is None for Parta's own lines ("the student
    solved the task"). Text is stored as typed and escaped when shown."""

    thread = models.ForeignKey(
        Thread, verbose_name=_("thread"), on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_messages",
    )
    # Whether the author wrote as the school (a moderator or staff), fixed when written.
    from_staff = models.BooleanField(_("from the school"), default=False)
    text = models.TextField(_("text"), max_length=TEXT_MAX_LENGTH, blank=True)
    attachment = models.FileField(
        _("attachment"), upload_to="chat/%Y/%m/", max_length=300, blank=True
    )
    attachment_name = models.CharField(_("attachment's name"), max_length=200, blank=True)
    source = models.CharField(
        _("written on"), max_length=16, choices=MessageSource.choices, default=MessageSource.SITE
    )
    # Chosen by the client for each message: a resent form or a retried request is
    # recognised, not stored twice (NULL: no key).
    client_key = models.CharField(  # noqa: DJ001
        _("client key"), max_length=64, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "author", "client_key"],
                condition=Q(client_key__isnull=False),
                name="chat_message_client_key_once",
            ),
            models.CheckConstraint(
                condition=~Q(text="") | ~Q(attachment=""), name="chat_message_not_empty"
            ),
        ]
        indexes = [
            models.Index(fields=["thread", "id"], name="chat_message_thread_id"),
            # The rate limit counts an author's messages of the last minute.
            models.Index(fields=["author", "created_at"], name="chat_message_author_time"),
        ]

    def __str__(self) -> str:
        return f"message {self.pk} in thread {self.thread_id}"


class ThreadNote(models.Model):
    """A moderators' private note on a thread: never shown to the student."""

    thread = models.ForeignKey(
        Thread, verbose_name=_("thread"), on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    text = models.TextField(_("text"), max_length=TEXT_MAX_LENGTH)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        verbose_name = _("private note")
        verbose_name_plural = _("private notes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note {self.pk} on thread {self.thread_id}"


class ThreadSeen(models.Model):
    """When ``user`` last looked at ``thread``: what came after is unread for them."""

    thread = models.ForeignKey(
        Thread, verbose_name=_("thread"), on_delete=models.CASCADE, related_name="seen_marks"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    seen_at = models.DateTimeField(_("seen at"))

    class Meta:
        verbose_name = _("last seen mark")
        verbose_name_plural = _("last seen marks")
        constraints = [
            models.UniqueConstraint(fields=["thread", "user"], name="chat_seen_once_per_user")
        ]
        indexes = [models.Index(fields=["user", "thread"], name="chat_seen_user")]

    def __str__(self) -> str:
        return f"{self.user_id} saw thread {self.thread_id} at {self.seen_at:%Y-%m-%d %H:%M}"


class SavedReply(models.Model):
    """A reply moderators keep to insert with a click."""

    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("text"), max_length=TEXT_MAX_LENGTH)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        ordering = ["position", "title", "id"]

    def __str__(self) -> str:
        return self.title
