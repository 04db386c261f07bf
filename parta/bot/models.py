"""What the bot keeps: one-time tokens that link a Telegram chat to a Parta account."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LinkToken(models.Model):
    """A deep link's ``start`` token, shown once on the profile. Only its SHA-256 is kept:
    the database never holds a usable token."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="telegram_link_tokens",
    )
    digest = models.CharField(_("token digest"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_by_chat_id = models.BigIntegerField(_("used by chat"), null=True, blank=True)

    class Meta:
        verbose_name = _("Telegram link token")
        verbose_name_plural = _("Telegram link tokens")
        indexes = [models.Index(fields=["user", "used_at"], name="bot_linktoken_user_open")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(used_at__isnull=True) | models.Q(used_by_chat_id__isnull=False),
                name="bot_linktoken_used_has_chat",
            )
        ]

    def __str__(self) -> str:
        return f"link token {self.pk} for {self.user_id}"
