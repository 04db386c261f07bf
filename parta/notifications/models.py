"""The outbox: every notification is a row, stored in the transaction that caused it.

One row per (dedup key, user, channel): the unique constraint makes ``notify`` idempotent
(the same event told twice is stored once) and a broadcast resumable (its rows exist before the
first send). Workers claim due rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` and a lease; a row
whose worker died while ``sending`` becomes ``unknown`` when the lease ends and is never sent
again by itself (staff may resend it from the admin).
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parta.notifications.channels.base import Channel


class Status(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    SKIPPED = "skipped", _("skipped")
    UNKNOWN = "unknown", _("unknown (the worker stopped while sending)")


class Message(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=64)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    # Names the event: the same key for the same user and channel is stored once.
    dedup_key = models.CharField(_("deduplication key"), max_length=200)
    # What the kind's templates are rendered with (ids and plain values, not model objects).
    context = models.JSONField(_("context"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    # While ``sending``: the worker holding the row must finish before this, or the row
    # becomes ``unknown``.
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    # The peer's id for what it accepted (SMTP Message-ID, Telegram message_id).
    peer_id = models.CharField(_("peer's id"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # In-site messages: when the person read it.
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedup_key", "user", "channel"], name="notifications_message_once"
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=Channel.values),
                name="notifications_message_channel_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values),
                name="notifications_message_status_valid",
            ),
        ]
        indexes = [
            # The workers' queue: due rows in order.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="queued"),
                name="notifications_due",
            ),
            # Leases to sweep.
            models.Index(
                fields=["lease_until"],
                condition=models.Q(status="sending"),
                name="notifications_leased",
            ),
            # The bell: a person's site messages, unread first.
            models.Index(fields=["user", "channel", "read_at"], name="notifications_bell"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user_id} ({self.channel}, {self.status})"


class Preference(models.Model):
    """A person's choice for one kind on one channel (absent: the kind's default)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notification_preferences",
    )
    kind = models.CharField(_("kind"), max_length=64)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    enabled = models.BooleanField(_("enabled"))

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "channel"], name="notifications_preference_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind}/{self.channel} = {self.enabled}"
