"""The owner's dashboard: the school's figures for a period, day by day.

Every figure is one grouped aggregate query, so the page costs the same number of
queries whatever the size of the school (pinned by a test). Days are the school's
calendar days (settings.PARTA_TIME_ZONE): an entry at 23:30 local time counts on that
local day.

What the figures mean:

- **Revenue** is money spent on purchases, read from the ledger: ``spending`` entries
  (a purchase paid at a provider passes through the ledger as a top-up and a spending;
  a purchase paid from the balance is a spending alone), net of refunds of purchases
  (the positive ``refund`` entries: to the balance, or the first half of a refund to
  the card). A top-up of the balance is not revenue until it is spent, and a top-up
  sent back to its card (a negative ``refund`` entry) takes nothing from revenue;
  staff corrections (``adjustment``) are not revenue either.
- **Paying students**: students with at least one purchase (a spending entry) in the
  period.
- **Active students**: students who answered a task correctly on the day (a day of
  activity); over the period, the distinct students active on any of its days.
- **With access now**: students with a grant open at this moment.
- **Expiring**: grants that are on and end within the next 7 days.
- **Renewals against expiries**: grants whose end fell within the period, and of those
  the ones followed by a newer grant to the same course that ends later (or never).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from parta.access.models import AccessGrant, GrantSource
from parta.accounts.models import Role, User
from parta.billing.models import BalanceAccount, EntryKind, LedgerEntry
from parta.common.errors import ValidationFailed
from parta.common.money import CURRENCY_EXPONENT
from parta.common.time import school_today, school_tz
from parta.groups.models import Group
from parta.learning.models import DailyActivity

PRESETS = (7, 30, 90)
DEFAULT_PRESET = 30
MAX_DAYS = 366
EXPIRING_DAYS = 7


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    preset: int | None = None  # 7, 30 or 90; None for a custom range

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def period_for(*, preset: str = "", start: str = "", end: str = "", today: date | None = None):
    """The period asked for: the last 7, 30 or 90 days (ending today), or a custom
    range from ``start`` to ``end`` (ISO dates, both days included, at most a year).
    Raises ValidationFailed with a message for a person."""
    today = today or school_today()
    start, end, preset = (start or "").strip(), (end or "").strip(), (preset or "").strip()
    if start or end or preset == "custom":
        errors: dict[str, list[str]] = {}
        parsed = {}
        for field, value in (("start", start), ("end", end)):
            if not value:
                errors[field] = [_("Give the date.")]
                continue
            try:
                parsed[field] = parse_date(value)
            except ValueError:
                parsed[field] = None
            if parsed[field] is None:
                errors[field] = [_("Give a date as YYYY-MM-DD (e.g. 2026-01-31).")]
        if errors:
            raise ValidationFailed(errors)
        first, last = parsed["start"], parsed["end"]
        if first > last:
            raise ValidationFailed({"end": [_("The period must end on or after its start.")]})
        if last > today:
            raise ValidationFailed({"end": [_("The period cannot end in the future.")]})
        if (last - first).days + 1 > MAX_DAYS:
            raise ValidationFailed(
                {"start": [_("A period can be at most a year (%(n)d days).") % {"n": MAX_DAYS}]}
            )
        return Period(start=first, end=last)
    try:
        days = int(preset) if preset else DEFAULT_PRESET
    except ValueError:
        days = 0
    if days not in PRESETS:
        raise ValidationFailed({"preset": [_("Choose 7, 30 or 90 days, or your own dates.")]})
    return Period(start=today - timedelta(days=days - 1), end=today, preset=days)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The aware moments from the start of ``start`` to the start of the day after
    ``end``, in the school's time zone."""
    tz = school_tz()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


def _series(days: list[date], values: dict[date, int]) -> list[int]:
    return [int(values.get(day, 0) or 0) for day in days]


_REVENUE_SQL = """
SELECT (e.created_at AT TIME ZONE %(tz)s)::date AS day, a.currency,
       COALESCE(SUM(-e.amount) FILTER (WHERE e.kind = %(spending)s), 0) AS sold,
       COALESCE(SUM(e.amount) FILTER (WHERE e.kind = %(refund)s), 0) AS refunded,
       COUNT(DISTINCT a.user_id) FILTER (WHERE e.kind = %(spending)s) AS paying,
       GROUPING(a.currency) AS whole
FROM {entries} e JOIN {accounts} a ON a.id = e.account_id
WHERE e.created_at >= %(since)s AND e.created_at < %(until)s
  AND (e.kind = %(spending)s OR (e.kind = %(refund)s AND e.amount > 0))
GROUP BY GROUPING SETS ((1, a.currency), ())
"""


def _revenue_rows(since: datetime, until: datetime) -> tuple[list[dict], int]:
    """(day, currency, sold, refunded) rows and the paying students. On PostgreSQL one
    pass over the period's entries (GROUPING SETS: the per-day rows and the period's
    distinct payers together, the join to the accounts made once); elsewhere two
    grouped queries."""
    if connection.vendor == "postgresql":
        sql = _REVENUE_SQL.format(
            entries=connection.ops.quote_name(LedgerEntry._meta.db_table),
            accounts=connection.ops.quote_name(BalanceAccount._meta.db_table),
        )
        params = {
            "tz": school_tz().key,
            "spending": EntryKind.SPENDING.value,
            "refund": EntryKind.REFUND.value,
            "since": since,
            "until": until,
        }
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        paying = next((row[4] for row in found if row[5]), 0)
        rows = [
            {"day": day, "currency": currency, "sold": sold, "refunded": refunded}
            for day, currency, sold, refunded, _paying, whole in found
            if not whole
        ]
        return rows, paying
    rows = [
        {**row, "currency": row.pop("account__currency")}
        for row in LedgerEntry.objects.filter(created_at__gte=since, created_at__lt=until)
        .filter(Q(kind=EntryKind.SPENDING) | Q(kind=EntryKind.REFUND, amount__gt=0))
        .annotate(day=TruncDate("created_at", tzinfo=school_tz()))
        .values("day", "account__currency")
        .annotate(
            sold=Coalesce(Sum(-F("amount"), filter=Q(kind=EntryKind.SPENDING)), 0),
            refunded=Coalesce(Sum("amount", filter=Q(kind=EntryKind.REFUND)), 0),
        )
        .order_by()
    ]
    paying = LedgerEntry.objects.filter(
        created_at__gte=since, created_at__lt=until, kind=EntryKind.SPENDING
    ).aggregate(n=Count("account__user_id", distinct=True))["n"]
    return rows, paying


def _revenue(since: datetime, until: datetime, days: list[date]) -> tuple[list[dict], int]:
    rows, paying = _revenue_rows(since, until)
    per_currency: dict[str, dict[str, dict[date, int]]] = {}
    for row in rows:
        figures = per_currency.setdefault(row["currency"], {"sold": {}, "refunded": {}})
        figures["sold"][row["day"]] = row["sold"]
        figures["refunded"][row["day"]] = row["refunded"]
    result = []
    for currency in sorted(per_currency):
        sold = _series(days, per_currency[currency]["sold"])
        refunded = _series(days, per_currency[currency]["refunded"])
        net = [s - r for s, r in zip(sold, refunded, strict=True)]
        result.append(
            {
                "currency": currency,
                "exponent": CURRENCY_EXPONENT[currency],
                "sold": sold,
                "refunded": refunded,
                "net": net,
                "sold_total": sum(sold),
                "refunded_total": sum(refunded),
                "net_total": sum(net),
            }
        )
    return result, paying


def _registrations(since: datetime, until: datetime, days: list[date]) -> dict:
    rows = (
        User.objects.filter(role=Role.STUDENT, created_at__gte=since, created_at__lt=until)
        .annotate(day=TruncDate("created_at", tzinfo=school_tz()))
        .values("day")
        .annotate(n=Count("*"))
        .order_by()
    )
    series = _series(days, {row["day"]: row["n"] for row in rows})
    return {"series": series, "total": sum(series)}


def _activity(start: date, end: date, days: list[date]) -> dict:
    in_period = DailyActivity.objects.filter(day__gte=start, day__lte=end)
    rows = (
        in_period.values("day")
        .annotate(solved=Sum("tasks_solved"), active=Count("user_id", distinct=True))
        .order_by()
    )
    solved = _series(days, {row["day"]: row["solved"] for row in rows})
    active = _series(days, {row["day"]: row["active"] for row in rows})
    active_total = in_period.aggregate(n=Count("user_id", distinct=True))["n"]
    return {
        "solved": solved,
        "active": active,
        "solved_total": sum(solved),
        "active_total": active_total,
    }


def _with_access(now: datetime) -> int:
    return (
        AccessGrant.objects.filter(is_active=True, starts_at__lte=now)
        .filter(Q(available_until__isnull=True) | Q(available_until__gt=now))
        .aggregate(n=Count("user_id", distinct=True))["n"]
    )


def _group_fill() -> dict:
    rows = list(
        Group.objects.values("course_id", "course__title", "course__max_group_size")
        .annotate(groups=Count("id"), members=Coalesce(Sum("members_count"), 0))
        .order_by("course__title", "course_id")
    )
    courses = []
    for row in rows:
        seats = row["groups"] * row["course__max_group_size"]
        courses.append(
            {
                "course_id": row["course_id"],
                "course": row["course__title"],
                "groups": row["groups"],
                "members": row["members"],
                "seats": seats,
                "percent": round(100 * row["members"] / seats) if seats else 0,
            }
        )
    members = sum(c["members"] for c in courses)
    seats = sum(c["seats"] for c in courses)
    return {
        "courses": courses,
        "members": members,
        "seats": seats,
        "percent": round(100 * members / seats) if seats else 0,
    }


def _expiring(now: datetime) -> dict:
    """Grants that are on and end in the next 7 days, per school day of their end."""
    today = timezone.localtime(now, school_tz()).date()
    days = [today + timedelta(days=i) for i in range(EXPIRING_DAYS + 1)]
    rows = (
        AccessGrant.objects.filter(
            is_active=True,
            available_until__gt=now,
            available_until__lte=now + timedelta(days=EXPIRING_DAYS),
        )
        .annotate(day=TruncDate("available_until", tzinfo=school_tz()))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    series = _series(days, {row["day"]: row["n"] for row in rows})
    return {"days": [d.isoformat() for d in days], "series": series, "total": sum(series)}


def _renewals(since: datetime, until: datetime, days: list[date]) -> dict:
    """Two queries: the ended grants per day, then those of them with a newer grant (a
    filter, so PostgreSQL runs it as one semi-join instead of a lookup per grant). The
    newer grant ends after the period's start (implied, but said outright so the join
    reads only those grants)."""
    tz = school_tz()
    ended_in_period = AccessGrant.objects.filter(
        available_until__gte=since,
        available_until__lt=until,
        source__in=[GrantSource.PURCHASE, GrantSource.PLAN],
    )
    later = AccessGrant.objects.filter(
        user_id=OuterRef("user_id"),
        course_id=OuterRef("course_id"),
        created_at__gt=OuterRef("created_at"),
    ).filter(
        Q(available_until__isnull=True)
        | (Q(available_until__gt=OuterRef("available_until")) & Q(available_until__gt=since))
    )

    def per_day(queryset) -> list[int]:
        rows = (
            queryset.annotate(day=TruncDate("available_until", tzinfo=tz))
            .values("day")
            .annotate(n=Count("*"))
            .order_by()
        )
        return _series(days, {row["day"]: row["n"] for row in rows})

    ended = per_day(ended_in_period)
    renewed = per_day(ended_in_period.filter(Exists(later)))
    ended_total, renewed_total = sum(ended), sum(renewed)
    return {
        "ended": ended,
        "renewed": renewed,
        "ended_total": ended_total,
        "renewed_total": renewed_total,
        "percent": round(100 * renewed_total / ended_total) if ended_total else 0,
    }


def dashboard_data(*, start: date, end: date, money: bool, now: datetime | None = None) -> dict:
    """The figures of ``start``..``end`` (school days, both included). ``money``: also
    revenue, paying students, expiring access and renewals (staff only). A constant
    number of queries: 5 without money, 9 with on PostgreSQL (10 elsewhere)."""
    now = now or timezone.now()
    since, until = _bounds(start, end)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    data = {
        "period": {"start": start.isoformat(), "end": end.isoformat(), "days": len(days)},
        "days": [d.isoformat() for d in days],
        "registrations": _registrations(since, until, days),
        "activity": _activity(start, end, days),
        "with_access": _with_access(now),
        "group_fill": _group_fill(),
        "money": None,
    }
    if money:
        revenue, paying = _revenue(since, until, days)
        data["money"] = {
            "revenue": revenue,
            "paying": paying,
            "expiring": _expiring(now),
            "renewals": _renewals(since, until, days),
        }
    return data


def daily_rows(data: dict) -> list[dict]:
    """The figures day by day, for the page's table (latest day first)."""
    money = data["money"]
    rows = []
    for i, day in enumerate(data["days"]):
        row = {
            "day": date.fromisoformat(day),
            "registrations": data["registrations"]["series"][i],
            "active": data["activity"]["active"][i],
            "solved": data["activity"]["solved"][i],
        }
        if money:
            row["revenue"] = [
                {"currency": r["currency"], "net": r["net"][i], "refunded": r["refunded"][i]}
                for r in money["revenue"]
            ]
            row["ended"] = money["renewals"]["ended"][i]
            row["renewed"] = money["renewals"]["renewed"][i]
        rows.append(row)
    rows.reverse()
    return rows
