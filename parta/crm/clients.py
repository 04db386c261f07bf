"""Reads for the CRM's clients list (page, export and API): every student, filtered,
searched and sorted in the database, with the status from ``parta.crm.status``.

A page costs a fixed number of queries whatever the number of clients or their history:
the count, the page's rows (status and last activity as subqueries), the grants behind
the rows' reasons, the plans those grants came from, and (staff) the balances."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import BooleanField, Exists, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from parta.access.models import AccessGrant, GrantSource
from parta.accounts.models import Role, User
from parta.accounts.phone import phone_search_digits
from parta.billing.models import (
    BalanceAccount,
    OrderLine,
    OrderStatus,
    Payment,
    Refund,
    RefundStatus,
)
from parta.common.money import Money
from parta.common.time import school_today, school_tz
from parta.crm import status as st
from parta.groups.models import Membership
from parta.learning.models import DailyActivity

PER_PAGE = 30
EXPORT_BATCH = 1000

SORTS = {
    "name": gettext_lazy("Name, A to Z"),
    "-name": gettext_lazy("Name, Z to A"),
    "-registered": gettext_lazy("Newest first"),
    "registered": gettext_lazy("Oldest first"),
    "-activity": gettext_lazy("Recently active first"),
    "activity": gettext_lazy("Long inactive first"),
    "until": gettext_lazy("Status ends soonest"),
    "-until": gettext_lazy("Status ends latest"),
}


def _ordering(sort: str, *, searching: bool = False) -> list:
    """The ORDER BY of ``sort``. While searching, the name is sorted as an expression no
    index serves: the few matches come from the trigram indexes and are sorted, instead
    of walking the name index through every student to find them."""
    name = Coalesce(F("full_name"), Value("")) if searching else F("full_name")
    by = {
        "name": [name.asc(), F("id").asc()],
        "-name": [name.desc(), F("id").desc()],
        "registered": [F("created_at").asc(), F("id").asc()],
        "-registered": [F("created_at").desc(), F("id").desc()],
        "activity": [F("last_active").asc(nulls_first=True), F("id").asc()],
        "-activity": [F("last_active").desc(nulls_last=True), F("id").desc()],
        "until": [F("status_until").asc(nulls_last=True), F("id").asc()],
        "-until": [F("status_until").desc(nulls_last=True), F("id").desc()],
    }
    return by[sort]


@dataclass(frozen=True)
class ClientFilters:
    search: str = ""
    status: str = ""
    course_id: int | None = None
    group_id: int | None = None
    plan_id: int | None = None
    registered_from: date | None = None
    registered_to: date | None = None
    active_from: date | None = None
    active_to: date | None = None
    sort: str = "name"

    PARAMS = {
        "search": "q",
        "course_id": "course",
        "group_id": "group",
        "plan_id": "plan",
    }

    @property
    def is_default(self) -> bool:
        return replace(self, sort="name") == ClientFilters()

    def params(self, **changes) -> dict[str, str]:
        """The filters as query parameters (defaults left out), with ``changes``."""
        values: dict[str, object] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            values[self.PARAMS.get(item.name, item.name)] = value
        values.update(changes)
        defaults = {"sort": "name", "page": 1}
        out = {}
        for key, value in values.items():
            if value in (None, "") or defaults.get(key) == value:
                continue
            out[key] = value.isoformat() if isinstance(value, date) else str(value)
        return out

    def query(self, **changes) -> str:
        return urlencode(self.params(**changes))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, school_tz())


def _search_q(search: str) -> Q:
    match = Q(full_name__icontains=search) | Q(email__icontains=search)
    if connection.vendor == "sqlite":
        # SQLite folds case for ASCII only: also try the usual spellings of a name.
        for variant in {search.lower(), search.title(), search.capitalize()} - {search}:
            match |= Q(full_name__contains=variant)
    for digits in phone_search_digits(search):
        match |= Q(phone__contains=digits)
    return match


def clients_filtered(
    *, filters: ClientFilters, today: date, now: datetime | None = None
) -> QuerySet:
    """Students matching the filters, not annotated (what the count reads)."""
    now = now or timezone.now()
    qs = User.objects.filter(role=Role.STUDENT)
    if filters.search:
        qs = qs.filter(_search_q(filters.search))
    if filters.status:
        qs = qs.filter(st.status_q(filters.status, today=today, now=now))
    if filters.course_id:
        qs = qs.filter(
            Exists(AccessGrant.objects.filter(user=OuterRef("pk"), course_id=filters.course_id))
        )
    if filters.group_id:
        qs = qs.filter(
            Exists(
                Membership.objects.filter(
                    student=OuterRef("pk"), group_id=filters.group_id, ended_at__isnull=True
                )
            )
        )
    if filters.plan_id:
        qs = qs.filter(
            Exists(
                OrderLine.objects.filter(
                    order__user=OuterRef("pk"),
                    order__status=OrderStatus.PAID,
                    item__plan_id=filters.plan_id,
                )
            )
        )
    if filters.registered_from:
        qs = qs.filter(created_at__gte=_day_start(filters.registered_from))
    if filters.registered_to:
        qs = qs.filter(created_at__lt=_day_start(filters.registered_to + timedelta(days=1)))
    if filters.active_from:
        qs = qs.filter(
            Exists(DailyActivity.objects.filter(user=OuterRef("pk"), day__gte=filters.active_from))
        )
    if filters.active_to:
        qs = qs.filter(
            Exists(DailyActivity.objects.filter(user=OuterRef("pk"), day__lte=filters.active_to))
        ).exclude(
            Exists(DailyActivity.objects.filter(user=OuterRef("pk"), day__gt=filters.active_to))
        )
    return qs


def _narrowed(filters: ClientFilters) -> bool:
    return bool(
        filters.status
        or filters.course_id
        or filters.group_id
        or filters.plan_id
        or filters.active_from
        or filters.active_to
    )


def clients_matching(
    *, filters: ClientFilters, today: date, now: datetime | None = None
) -> tuple[QuerySet, int | None]:
    """The matching students and, when already known, their number.

    On PostgreSQL a filter made of EXISTS conditions (status, course, group, plan,
    activity) is run on its own first, for the ids, and the page then reads
    ``id = ANY(ids)`` (one array parameter, hashed). Joined with the ORDER BY ... LIMIT
    of a page, the planner runs those EXISTS as a semi-join that rescans every match for
    each student passed in name order: seconds at 100,000 students instead of
    milliseconds. The ids query is also the count."""
    now = now or timezone.now()
    filtered = clients_filtered(filters=filters, today=today, now=now)
    if connection.vendor != "postgresql" or not _narrowed(filters):
        return filtered, None
    ids = list(filtered.order_by().values_list("id", flat=True))
    matching = User.objects.filter(
        RawSQL(f'"{User._meta.db_table}"."id" = ANY(%s)', (ids,), output_field=BooleanField())
    )
    return matching, len(ids)


def clients_list(
    *, filters: ClientFilters, today: date, now: datetime | None = None
) -> tuple[QuerySet, int | None]:
    """The matching students with their status and last active day, sorted; and their
    number when ``clients_matching`` knows it."""
    now = now or timezone.now()
    matching, count = clients_matching(filters=filters, today=today, now=now)
    qs = matching.only("id", "full_name", "email", "phone", "created_at")
    qs = st.annotate_status(qs, today=today, now=now).annotate(
        last_active=Subquery(
            DailyActivity.objects.filter(user=OuterRef("pk")).order_by("-day").values("day")[:1]
        )
    )
    return qs.order_by(*_ordering(filters.sort, searching=bool(filters.search))), count


class _CountedPaginator(Paginator):
    """Counts the filtered rows without the page's subqueries (or takes a known count)."""

    def __init__(self, object_list, per_page, *, count_from: QuerySet, known: int | None):
        super().__init__(object_list, per_page)
        self._count_from = count_from
        self._known = known

    @cached_property
    def count(self) -> int:
        return self._known if self._known is not None else self._count_from.count()


# --- What a row shows -----------------------------------------------------------------------

_LINE_REFERENCE = re.compile(r"^order-line:(\d+)(?::course:\d+)?$")


def _short_date(moment: datetime | date, today: date) -> str:
    if isinstance(moment, datetime):
        moment = moment.astimezone(school_tz()).date()
    pattern = "d.m" if moment.year == today.year else "d.m.Y"
    return formats.date_format(moment, pattern)


@dataclass
class ClientRow:
    """A client as the list shows it."""

    user: User
    status: str
    reason: str
    status_until: datetime | None
    last_active: date | None
    balances: list[Money] = field(default_factory=list)
    paid: dict[str, int] = field(default_factory=dict)
    refunded: dict[str, int] = field(default_factory=dict)

    @property
    def status_label(self) -> str:
        return str(st.STATUS_LABELS[self.status])


def reason_text(user: User, *, grant: AccessGrant | None, plan_title: str, today: date) -> str:
    """Why the client has the status, e.g. «план «Полгода» до 12.01»."""
    status = user.crm_status
    if status in (st.ACTIVE, st.EXPIRING) and grant is not None:
        if plan_title:
            if grant.available_until is None:
                text = _("plan “%(plan)s”, no end date") % {"plan": plan_title}
            else:
                text = _("plan “%(plan)s” until %(date)s") % {
                    "plan": plan_title,
                    "date": _short_date(grant.available_until, today),
                }
        elif grant.available_until is None:
            text = _("course “%(course)s”, no end date") % {"course": grant.course.title}
        else:
            text = _("course “%(course)s” until %(date)s") % {
                "course": grant.course.title,
                "date": _short_date(grant.available_until, today),
            }
        more = user.access_count - 1
        if more > 0:
            text += " " + ngettext(
                "and %(count)d more course", "and %(count)d more courses", more
            ) % {"count": more}
        if status == st.EXPIRING:
            days = (grant.available_until.astimezone(school_tz()).date() - today).days
            if days <= 0:
                text += ", " + _("ends today")
            else:
                text += ", " + ngettext("ends in %(days)d day", "ends in %(days)d days", days) % {
                    "days": days
                }
        return text
    if status == st.FROZEN:
        return _("frozen until %(date)s") % {"date": _short_date(user.frozen_until, today)}
    if status == st.EXPIRED:
        if user.ended_switched_off:
            return _("access switched off %(date)s") % {"date": _short_date(user.ended_at, today)}
        return _("expired %(date)s") % {"date": _short_date(user.ended_at, today)}
    if user.ever_paid:
        return _("no access")
    return _("never paid")


def _grants_with_plans(users: list[User]) -> tuple[dict[int, AccessGrant], dict[int, str]]:
    """The grants behind the rows' reasons and the titles of the plans they came from:
    two queries for any number of rows."""
    ids = [u.access_grant_id for u in users if u.access_grant_id]
    grants = (
        AccessGrant.objects.filter(id__in=ids)
        .select_related("course")
        .only("id", "source", "available_until", "reference", "course__title")
        .in_bulk()
        if ids
        else {}
    )
    lines = {}
    for grant in grants.values():
        match = _LINE_REFERENCE.match(grant.reference or "")
        if grant.source == GrantSource.PLAN and match:
            lines[grant.id] = int(match.group(1))
    titles = (
        dict(
            OrderLine.objects.filter(
                id__in=set(lines.values()), item__plan__isnull=False
            ).values_list("id", "item__plan__title")
        )
        if lines
        else {}
    )
    return grants, {grant_id: titles.get(line_id, "") for grant_id, line_id in lines.items()}


def _money_by_user(
    model_qs, user_ids, *, user_field: str, value: str
) -> dict[int, dict[str, int]]:
    rows = (
        model_qs.filter(**{f"{user_field}__in": user_ids})
        .order_by()
        .values(user_field, "currency")
        .annotate(total=Sum(value))
        .values_list(user_field, "currency", "total")
    )
    out: dict[int, dict[str, int]] = defaultdict(dict)
    for user_id, currency, total in rows:
        out[user_id][currency] = int(total or 0)
    return out


def client_rows(
    users: Iterable[User], *, today: date, money: bool = False, totals: bool = False
) -> list[ClientRow]:
    """Rows for annotated users: reasons (two queries), balances when ``money``, and
    paid and refunded sums per currency when ``totals`` (two more)."""
    users = list(users)
    grants, plans = _grants_with_plans(users)
    ids = [u.id for u in users]
    balances: dict[int, list[Money]] = defaultdict(list)
    if money and ids:
        for user_id, currency, amount in (
            BalanceAccount.objects.filter(user_id__in=ids)
            .order_by("user_id", "currency")
            .values_list("user_id", "currency", "balance")
        ):
            balances[user_id].append(Money(amount, currency))
    paid = refunded = {}
    if totals and ids:
        paid = _money_by_user(Payment.objects, ids, user_field="user_id", value="amount")
        refunded = _money_by_user(
            Refund.objects.filter(status=RefundStatus.SUCCEEDED),
            ids,
            user_field="user_id",
            value="amount",
        )
    rows = []
    for user in users:
        grant = grants.get(user.access_grant_id)
        rows.append(
            ClientRow(
                user=user,
                status=user.crm_status,
                reason=reason_text(
                    user, grant=grant, plan_title=plans.get(user.access_grant_id, ""), today=today
                ),
                status_until=user.status_until,
                last_active=user.last_active,
                balances=balances.get(user.id, []),
                paid=paid.get(user.id, {}),
                refunded=refunded.get(user.id, {}),
            )
        )
    return rows


def clients_page(
    *, filters: ClientFilters, page=1, per_page: int = PER_PAGE, money: bool = False
) -> Page:
    """A page of the list: ``page.object_list`` holds ClientRow objects."""
    today = school_today()
    now = timezone.now()
    users, count = clients_list(filters=filters, today=today, now=now)
    paginator = _CountedPaginator(
        users,
        per_page,
        count_from=clients_filtered(filters=filters, today=today, now=now),
        known=count,
    )
    result = paginator.get_page(page)
    result.object_list = client_rows(result.object_list, today=today, money=money)
    return result


def clients_slice(
    *, filters: ClientFilters, offset: int, limit: int, money: bool = False
) -> tuple[int, list[ClientRow]]:
    """The API's page: (count, rows)."""
    today = school_today()
    now = timezone.now()
    users, count = clients_list(filters=filters, today=today, now=now)
    if count is None:
        count = clients_filtered(filters=filters, today=today, now=now).count()
    return count, client_rows(users[offset : offset + limit], today=today, money=money)


def clients_for_export(*, filters: ClientFilters) -> Iterator[ClientRow]:
    """Every matching client with balances and totals, read in batches (a fixed number
    of queries per batch), so memory stays flat."""
    today = school_today()
    now = timezone.now()
    ordered, _count = clients_list(filters=filters, today=today, now=now)
    batch: list[User] = []
    for user in ordered.iterator(chunk_size=EXPORT_BATCH):
        batch.append(user)
        if len(batch) == EXPORT_BATCH:
            yield from client_rows(batch, today=today, money=True, totals=True)
            batch = []
    if batch:
        yield from client_rows(batch, today=today, money=True, totals=True)


def currencies_in_use() -> list[str]:
    """Currencies that appear in payments, refunds or balances (the export's columns)."""
    found: set[str] = set()
    for model in (Payment, Refund, BalanceAccount):
        found.update(model.objects.order_by().values_list("currency", flat=True).distinct())
    return sorted(found)
