"""The client card's reads: one person's profile, access, money, groups, sessions,
statistics, threads, notifications and audit history.

A fixed number of queries whatever the client's history: every list is the newest
``LIMIT`` rows with what it shows joined or prefetched, and the statistics of all the
client's courses come from two grouped queries. Moderators get the learning parts
only; the money, access, notifications and audit parts are not even read for them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, Prefetch, Q, Sum

from parta.access.models import AccessFreeze, AccessGrant
from parta.accounts.models import Role, User
from parta.audit.models import AuditEntry
from parta.billing.models import BalanceAccount, Item, LedgerEntry, Order, Payment, Plan, Refund
from parta.catalog.models import Course, Task
from parta.chat.models import Thread
from parta.crm.permissions import can_see_money
from parta.groups.models import Group, Invitation, Membership
from parta.learning.models import TaskProgress
from parta.notifications.models import Message

LIMIT = 50


@dataclass
class CourseStat:
    course_id: int
    title: str
    solved: int = 0
    attempts: int = 0
    tasks_total: int = 0
    last_answer_at: datetime | None = None

    @property
    def percent(self) -> int:
        return round(100 * self.solved / self.tasks_total) if self.tasks_total else 0


@dataclass
class ClientCard:
    client: User
    money: bool
    stats: list[CourseStat]
    memberships: list[Membership]
    invitations: list[Invitation]
    threads: list[Thread]
    # For the move action: the groups of the courses the client is in now.
    move_groups: list[Group]
    grants: list[AccessGrant] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    balances: list[BalanceAccount] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    notifications: list[Message] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    # For the grant and payment actions.
    courses: list[Course] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)

    @property
    def current_memberships(self) -> list[Membership]:
        return [m for m in self.memberships if m.ended_at is None]

    @property
    def topups(self) -> list[LedgerEntry]:
        """Top-ups paid through a provider, which can go back to their payment."""
        return [e for e in self.ledger if e.kind == "topup" and e.order_id and e.payment_id]


def client_get(*, pk: int) -> User | None:
    """The card's person: anyone but staff and moderators (they have no client card)."""
    return User.objects.filter(pk=pk, role=Role.STUDENT, is_superuser=False).first()


def _stats(client: User, course_titles: dict[int, str]) -> list[CourseStat]:
    rows = (
        TaskProgress.objects.filter(user=client)
        .values("course_id", "course__title")
        .annotate(
            solved=Count("id", filter=Q(solved_at__isnull=False)),
            attempts=Sum("attempts"),
            last=Max("last_answer_at"),
        )
        .order_by()
    )
    stats: dict[int, CourseStat] = {
        course_id: CourseStat(course_id=course_id, title=title)
        for course_id, title in course_titles.items()
    }
    for row in rows:
        stat = stats.setdefault(
            row["course_id"], CourseStat(course_id=row["course_id"], title=row["course__title"])
        )
        stat.solved = row["solved"]
        stat.attempts = row["attempts"] or 0
        stat.last_answer_at = row["last"]
    if stats:
        totals = (
            Task.objects.filter(topic__course_id__in=stats.keys(), test__isnull=True)
            .values("topic__course_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in totals:
            stats[row["topic__course_id"]].tasks_total = row["n"]
    return sorted(stats.values(), key=lambda s: s.title)


def client_card(*, client: User, viewer) -> ClientCard:
    money = can_see_money(viewer)
    memberships = list(
        Membership.objects.filter(student=client)
        .select_related("group", "course")
        .order_by("-started_at", "-id")[:LIMIT]
    )
    invitations = list(
        Invitation.objects.filter(user=client)
        .select_related("session__course")
        .order_by("-session__starts_at", "-id")[:LIMIT]
    )
    threads = list(
        Thread.objects.filter(student=client)
        .select_related("course")
        .order_by("-last_message_at", "-id")[:LIMIT]
    )
    current_courses = {m.course_id for m in memberships if m.ended_at is None}
    move_groups = (
        list(Group.objects.filter(course_id__in=current_courses).order_by("course_id", "number"))
        if current_courses
        else []
    )
    grants: list[AccessGrant] = []
    if money:
        grants = list(
            AccessGrant.objects.filter(user=client)
            .select_related("course", "granted_by")
            .prefetch_related(
                Prefetch("freezes", queryset=AccessFreeze.objects.order_by("-starts_at", "-id"))
            )
            .order_by("-starts_at", "-id")[:LIMIT]
        )
    titles = {g.course_id: g.course.title for g in grants}
    titles.update({m.course_id: m.course.title for m in memberships})
    card = ClientCard(
        client=client,
        money=money,
        stats=_stats(client, titles),
        memberships=memberships,
        invitations=invitations,
        threads=threads,
        move_groups=move_groups,
        grants=grants,
    )
    if not money:
        return card
    card.orders = list(
        Order.objects.filter(user=client)
        .prefetch_related("lines")
        .order_by("-created_at", "-id")[:LIMIT]
    )
    card.payments = list(
        Payment.objects.filter(user=client).order_by("-created_at", "-id")[:LIMIT]
    )
    card.refunds = list(
        Refund.objects.filter(user=client)
        .select_related("requested_by")
        .order_by("-created_at", "-id")[:LIMIT]
    )
    card.balances = list(BalanceAccount.objects.filter(user=client).order_by("currency"))
    card.ledger = list(
        LedgerEntry.objects.filter(account__user=client)
        .select_related("account")
        .order_by("-created_at", "-id")[:LIMIT]
    )
    card.notifications = list(
        Message.objects.filter(user=client)
        .only("id", "kind", "channel", "status", "created_at", "sent_at", "last_error", "attempts")
        .order_by("-created_at", "-id")[:LIMIT]
    )
    card.audit = list(
        AuditEntry.objects.filter(subject_id=client.pk).order_by("-created_at", "-id")[:LIMIT]
    )
    card.courses = list(Course.objects.only("id", "title").order_by("title", "id"))
    card.plans = list(Plan.objects.only("id", "title").order_by("title", "id"))
    card.items = list(
        Item.objects.filter(is_active=True).only("id", "title", "kind").order_by("title", "id")
    )
    return card
