"""A client's status, worked out by the database for a whole queryset of users.

The status comes from the student's grants (parta.access) at one moment:

- ``active``: an active grant that has started, has not ended and is not frozen now;
- ``expiring``: active, and every such grant ends within ``EXPIRING_DAYS`` days (by the
  end of the school's day ``today + 7``); none is open-ended;
- ``frozen``: no such grant, but a running freeze of an active grant;
- ``expired``: none of the above, and a grant that ended (ran out, or was switched off);
- ``none``: no grant that ever ended or runs now.

``ever_paid`` is separate: a payment received, or a paid order with a non-zero total.

``annotate_status`` adds the status and what its reason is made of (the grant that gives
access longest, the freeze's end, the last end) as subqueries; ``status_q`` is the same
rule as a WHERE condition built from EXISTS, which PostgreSQL runs as semi- and
anti-joins over the whole table (filtering on the annotation instead would run the
subqueries once per user). Both read the same helper querysets, and the tests check
that they agree.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parta.access.models import AccessFreeze, AccessGrant
from parta.billing.models import Order, OrderStatus, Payment
from parta.common.time import school_tz

EXPIRING_DAYS = 7

ACTIVE = "active"
EXPIRING = "expiring"
FROZEN = "frozen"
EXPIRED = "expired"
NONE = "none"
NEVER_PAID = "never_paid"

STATUS_LABELS = {
    ACTIVE: _("Active"),
    EXPIRING: _("Expiring"),
    FROZEN: _("Frozen"),
    EXPIRED: _("Expired"),
    NONE: _("No access"),
}

# The list's status filter: "active" includes the expiring ones; "never_paid" looks at
# payments only (a student with free access who never paid is in it too).
STATUS_FILTERS = {
    ACTIVE: _("Active"),
    EXPIRING: _("Expiring within 7 days"),
    FROZEN: _("Frozen"),
    EXPIRED: _("Expired"),
    NEVER_PAID: _("Never paid"),
}


def expiring_horizon(today: date) -> datetime:
    """The moment the "expiring" window closes: the start of the school's day after
    ``today + EXPIRING_DAYS``."""
    return datetime.combine(today + timedelta(days=EXPIRING_DAYS + 1), time.min, school_tz())


# --- The pieces, per user (OuterRef("pk") is the user) -----------------------------------


def _running_freezes(now: datetime) -> QuerySet:
    return AccessFreeze.objects.filter(ended_at__isnull=True, starts_at__lte=now, ends_at__gt=now)


def _live_unfrozen(now: datetime, user=None) -> QuerySet:
    """The user's grants that give access at ``now`` (``user``: an OuterRef to the
    user's id, the outer query's pk by default). A grant never frozen (``frozen_days``
    = 0) skips the freeze lookup."""
    user = OuterRef("pk") if user is None else user
    return (
        AccessGrant.objects.filter(user=user, is_active=True, starts_at__lte=now)
        .filter(Q(available_until__isnull=True) | Q(available_until__gt=now))
        .filter(Q(frozen_days=0) | ~Exists(_running_freezes(now).filter(grant=OuterRef("pk"))))
    )


def _user_freezes(now: datetime, user=None) -> QuerySet:
    user = OuterRef("pk") if user is None else user
    return _running_freezes(now).filter(grant__user=user, grant__is_active=True)


def _ended_grants(now: datetime) -> QuerySet:
    """The user's grants that have ended, each with ``ended`` (when: its end, or the
    moment it was switched off if that came first)."""
    return (
        AccessGrant.objects.filter(user=OuterRef("pk"))
        .annotate(
            ended=Case(
                When(is_active=True, then=F("available_until")),
                When(available_until__lt=F("updated_at"), then=F("available_until")),
                default=F("updated_at"),
                output_field=DateTimeField(),
            )
        )
        .filter(ended__lte=now)
    )


def _payments() -> QuerySet:
    return Payment.objects.filter(user=OuterRef("pk"))


def _paid_orders() -> QuerySet:
    return Order.objects.filter(user=OuterRef("pk"), status=OrderStatus.PAID, total__gt=0)


# --- The annotations --------------------------------------------------------------------


def annotate_status(qs: QuerySet, *, today: date, now: datetime | None = None) -> QuerySet:
    """Users with ``crm_status`` (one of STATUS_LABELS), ``status_until`` (when the
    status ends or, for expired, when access ended; empty for open-ended access), and
    the parts of the reason: ``access_grant_id`` (the grant giving access longest),
    ``access_count`` (grants giving access now), ``frozen_until``, ``ended_at``,
    ``ended_switched_off`` and ``ever_paid``."""
    now = now or timezone.now()
    horizon = expiring_horizon(today)
    longest = _live_unfrozen(now).order_by(
        F("available_until").desc(nulls_first=True), "-starts_at", "-id"
    )
    last_ended = _ended_grants(now).order_by("-ended", "-id")
    counted = _live_unfrozen(now).order_by().values("user").annotate(n=Count("id")).values("n")[:1]
    qs = qs.annotate(
        access_grant_id=Subquery(longest.values("id")[:1]),
        access_until=Subquery(longest.values("available_until")[:1]),
        access_count=Coalesce(Subquery(counted), 0),
        frozen_until=Subquery(_user_freezes(now).order_by("-ends_at").values("ends_at")[:1]),
        ended_at=Subquery(last_ended.values("ended")[:1]),
        ended_switched_off=Subquery(
            last_ended.annotate(off=ExpressionWrapper(~Q(is_active=True), BooleanField())).values(
                "off"
            )[:1]
        ),
        # LIMIT 1 lookups, not EXISTS: PostgreSQL would hash a whole table for an EXISTS
        # in the select list, though only the page's rows need it.
        ever_paid=Coalesce(
            Subquery(_payments().values(one=Value(True))[:1]),
            Subquery(_paid_orders().values(one=Value(True))[:1]),
            Value(False),
            output_field=BooleanField(),
        ),
    )
    qs = qs.annotate(
        crm_status=Case(
            When(
                access_grant_id__isnull=False,
                access_until__isnull=False,
                access_until__lt=horizon,
                then=Value(EXPIRING),
            ),
            When(access_grant_id__isnull=False, then=Value(ACTIVE)),
            When(frozen_until__isnull=False, then=Value(FROZEN)),
            When(ended_at__isnull=False, then=Value(EXPIRED)),
            default=Value(NONE),
            output_field=CharField(),
        )
    )
    return qs.annotate(
        status_until=Case(
            When(access_grant_id__isnull=False, then=F("access_until")),
            When(frozen_until__isnull=False, then=F("frozen_until")),
            default=F("ended_at"),
            output_field=DateTimeField(),
        )
    )


# --- The filters ------------------------------------------------------------------------


def status_q(status: str, *, today: date, now: datetime | None = None) -> Q:
    """The users whose status filter is ``status`` (a key of STATUS_FILTERS), as EXISTS
    conditions; the same rules as ``annotate_status``.

    Each starts from the rows that make the status (a grant ending within the window, a
    running freeze, an ended grant) and rules out the user's other grants inside that
    EXISTS, so PostgreSQL walks the few candidate rows (by the partial indexes on
    ``available_until`` and on running freezes) instead of anti-joining every user."""
    now = now or timezone.now()
    horizon = expiring_horizon(today)
    if status == ACTIVE:
        return Q(Exists(_live_unfrozen(now)))
    if status == EXPIRING:
        longer = _live_unfrozen(now, OuterRef("user_id")).filter(
            Q(available_until__isnull=True) | Q(available_until__gte=horizon)
        )
        # Spelled out (not _live_unfrozen plus a filter) so the planner sees the window.
        ending = AccessGrant.objects.filter(
            user=OuterRef("pk"),
            is_active=True,
            starts_at__lte=now,
            available_until__gt=now,
            available_until__lt=horizon,
        ).filter(Q(frozen_days=0) | ~Exists(_running_freezes(now).filter(grant=OuterRef("pk"))))
        return Q(Exists(ending.exclude(Exists(longer))))
    if status == FROZEN:
        live = _live_unfrozen(now, OuterRef("grant__user_id"))
        return Q(Exists(_user_freezes(now).exclude(Exists(live))))
    if status == EXPIRED:
        live = _live_unfrozen(now, OuterRef("user_id"))
        frozen = _user_freezes(now, OuterRef("user_id"))
        return Q(Exists(_ended_grants(now).exclude(Exists(live)).exclude(Exists(frozen))))
    if status == NEVER_PAID:
        return ~Q(Exists(_payments())) & ~Q(Exists(_paid_orders()))
    raise ValueError(f"Unknown status filter {status!r}")
