from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from parta.catalog.models import Course
from parta.common.models import TimeStampedModel


class GrantSource(models.TextChoices):
    PURCHASE = "purchase", _("Purchase")
    PLAN = "plan", _("Plan")
    MANUAL = "manual", _("Granted by staff")
    FREE = "free", _("Free")


class AccessGrant(TimeStampedModel):
    """The one source of truth for "may this user study this course". Only the
    services in parta.access.services change grants (they keep the cache right)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="access_grants",
    )
    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="access_grants"
    )
    source = models.CharField(_("source"), max_length=16, choices=GrantSource.choices)
    starts_at = models.DateTimeField(_("starts at"))
    # Empty: open-ended.
    available_until = models.DateTimeField(_("available until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("access grant")
        verbose_name_plural = _("access grants")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["user", "course", "is_active"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(available_until__isnull=True) | Q(available_until__gt=F("starts_at")),
                name="access_grant_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(source__in=GrantSource.values), name="access_grant_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.course_id} ({self.source})"
