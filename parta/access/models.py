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
    # What created the grant, e.g. "order-line:42"; unique, so a replayed payment cannot
    # grant twice. Empty for grants made by hand.
    reference = models.CharField(_("reference"), max_length=64, blank=True, default="")
    # Most days this grant may be frozen in total (plans set it; 0: no freezes).
    freeze_limit_days = models.PositiveIntegerField(_("freeze limit (days)"), default=0)
    # Days used from that limit (kept by the freeze services; lets reads skip the freeze
    # table for the usual grant that was never frozen).
    frozen_days = models.PositiveIntegerField(_("days frozen"), default=0)

    class Meta:
        verbose_name = _("access grant")
        verbose_name_plural = _("access grants")
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["user", "course", "is_active"]),
            # The CRM's "expiring" filter walks the active grants ending in a window.
            models.Index(
                fields=["available_until"],
                condition=Q(is_active=True, available_until__isnull=False),
                name="access_grant_active_until",
            ),
            # The CRM dashboard: access open now and ending soon (the few grants that are on).
            models.Index(
                fields=["available_until", "user", "starts_at"],
                condition=Q(is_active=True),
                name="access_grant_open_until",
            ),
            # The CRM dashboard: paid access that ended in a period.
            models.Index(
                fields=["available_until", "source", "user", "course", "created_at"],
                condition=Q(available_until__isnull=False),
                name="access_grant_until",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(available_until__isnull=True) | Q(available_until__gt=F("starts_at")),
                name="access_grant_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(source__in=GrantSource.values), name="access_grant_source_valid"
            ),
            models.UniqueConstraint(
                fields=["reference"],
                condition=~Q(reference=""),
                name="access_grant_reference_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.course_id} ({self.source})"


class AccessFreeze(TimeStampedModel):
    """A pause of a time-limited grant: no access from ``starts_at`` until ``ends_at``
    (or until ``ended_at`` when unfrozen early). Freezing moves the grant's
    ``available_until`` later by the frozen days; an early end moves it back by the
    days not used."""

    grant = models.ForeignKey(
        AccessGrant, verbose_name=_("grant"), on_delete=models.CASCADE, related_name="freezes"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    ended_at = models.DateTimeField(_("ended early at"), null=True, blank=True)
    days = models.PositiveIntegerField(_("days"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("frozen by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("freeze")
        verbose_name_plural = _("freezes")
        ordering = ["-starts_at", "-id"]
        # The CRM's "frozen" filter starts from the freezes not ended early.
        indexes = [
            models.Index(
                fields=["ends_at"], condition=Q(ended_at__isnull=True), name="access_freeze_open"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="access_freeze_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(days__gte=1), name="access_freeze_days_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.grant_id}: {self.starts_at:%Y-%m-%d} +{self.days}d"

    @property
    def effective_end(self):
        return self.ended_at or self.ends_at
