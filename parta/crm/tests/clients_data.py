"""A hand-built set of clients, one in every state the clients list knows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from parta.access.models import AccessFreeze, AccessGrant, GrantSource
from parta.accounts.models import User
from parta.accounts.tests.factories import UserFactory
from parta.billing.models import (
    BalanceAccount,
    EntryKind,
    LedgerEntry,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    Refund,
    RefundDestination,
    RefundStatus,
)
from parta.billing.tests.factories import CourseItemFactory, PlanFactory, PlanItemFactory
from parta.catalog.models import Course
from parta.catalog.tests.factories import CourseFactory
from parta.groups.models import Group
from parta.groups.services import membership_place
from parta.learning.models import DailyActivity

_counter = iter(range(1, 10**9))


def paid_order(user: User, item, *, amount: int, currency: str = "RUB") -> OrderLine:
    """A paid order of one line, with its payment and the ledger's pass-through entries."""
    price = item.prices.filter(currency=currency).first() or item.prices.first()
    order = Order.objects.create(
        user=user,
        currency=currency,
        status=OrderStatus.PAID,
        subtotal=amount,
        total=amount,
        provider="sandbox",
        paid_at=timezone.now(),
    )
    line = OrderLine.objects.create(
        order=order,
        item=item,
        item_price=price,
        title=item.title,
        unit_amount=amount,
        total=amount,
    )
    payment = Payment.objects.create(
        order=order,
        user=user,
        provider="sandbox",
        provider_payment_id=f"pay-{next(_counter)}",
        amount=amount,
        currency=currency,
    )
    account, _ = BalanceAccount.objects.get_or_create(user=user, currency=currency)
    for kind, value in ((EntryKind.TOPUP, amount), (EntryKind.SPENDING, -amount)):
        LedgerEntry.objects.create(
            account=account,
            kind=kind,
            amount=value,
            balance_after=account.balance + (amount if kind == EntryKind.TOPUP else 0),
            reference=f"order:{order.pk}:{kind}:{next(_counter)}",
            order=order,
            payment=payment,
        )
    return line


def plan_grant(user, plan_item, course: Course, *, days: int, amount: int, currency="RUB"):
    line = paid_order(user, plan_item, amount=amount, currency=currency)
    now = timezone.now()
    return AccessGrant.objects.create(
        user=user,
        course=course,
        source=GrantSource.PLAN,
        starts_at=now - timedelta(days=1),
        available_until=now + timedelta(days=days),
        reference=f"order-line:{line.pk}:course:{course.pk}",
        freeze_limit_days=14,
    )


def course_grant(user, course: Course, *, until=None, started_days_ago=30, **fields):
    return AccessGrant.objects.create(
        user=user,
        course=course,
        source=fields.pop("source", GrantSource.MANUAL),
        starts_at=timezone.now() - timedelta(days=started_days_ago),
        available_until=until,
        **fields,
    )


@dataclass
class Clients:
    algebra: Course
    geometry: Course
    half_year: object  # the plan «Полгода»
    group: Group
    active_plan: User
    mixed: User
    expiring: User
    frozen: User
    expired: User
    refunded: User
    never_paid: User
    paid_no_access: User


def build_clients() -> Clients:
    now = timezone.now()
    algebra = CourseFactory(title="Алгебра")
    geometry = CourseFactory(title="Геометрия")
    plan = PlanFactory(title="Полгода", duration_days=180, courses=[algebra])
    plan_item = PlanItemFactory(plan=plan, prices={"RUB": 10000, "USD": 100})
    algebra_item = CourseItemFactory(course=algebra, prices={"USD": 5000})

    active_plan = UserFactory(
        full_name="Анна Планова", email="anna@example.com", phone="+79123456789"
    )
    plan_grant(active_plan, plan_item, algebra, days=60, amount=1_800_000)
    DailyActivity.objects.create(
        user=active_plan, course=algebra, day=now.date() - timedelta(days=1), tasks_solved=3
    )

    # An open-ended course bought in dollars and a plan bought in roubles.
    mixed = UserFactory(full_name="Борис Смешанный", email="boris@example.com")
    line = paid_order(mixed, algebra_item, amount=5000, currency="USD")
    course_grant(
        mixed,
        algebra,
        source=GrantSource.PURCHASE,
        reference=f"order-line:{line.pk}",
    )
    plan_grant(mixed, plan_item, geometry, days=100, amount=1_800_000)
    membership = membership_place(student=mixed, course_id=algebra.pk)

    expiring = UserFactory(full_name="Вера Истекающая", email="vera@example.com")
    course_grant(expiring, geometry, until=now + timedelta(days=1))
    DailyActivity.objects.create(
        user=expiring, course=geometry, day=now.date() - timedelta(days=10), tasks_solved=1
    )

    frozen = UserFactory(full_name="Глеб Замороженный", email="gleb@example.com")
    frozen_grant = plan_grant(frozen, plan_item, algebra, days=40, amount=1_800_000)
    AccessFreeze.objects.create(
        grant=frozen_grant,
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(days=10),
        days=10,
    )
    AccessGrant.objects.filter(pk=frozen_grant.pk).update(frozen_days=10)

    expired = UserFactory(full_name="Дарья Истёкшая", email="darya@example.com")
    course_grant(expired, geometry, until=now - timedelta(days=5), started_days_ago=40)

    refunded = UserFactory(full_name="Егор Вернувший", email="egor@example.com")
    refunded_grant = plan_grant(refunded, plan_item, algebra, days=90, amount=1_800_000)
    Refund.objects.create(
        user=refunded,
        grant=refunded_grant,
        payment=Payment.objects.filter(user=refunded).first(),
        amount=600_000,
        currency="RUB",
        destination=RefundDestination.PROVIDER,
        status=RefundStatus.SUCCEEDED,
    )
    AccessGrant.objects.filter(pk=refunded_grant.pk).update(is_active=False)

    never_paid = UserFactory(full_name="Жанна Новая", email="zhanna@example.com")

    paid_no_access = UserFactory(full_name="Зоя Пополнившая", email="zoya@example.com")
    Payment.objects.create(
        user=paid_no_access,
        provider="sandbox",
        provider_payment_id="topup-1",
        amount=50_000,
        currency="RUB",
    )
    BalanceAccount.objects.create(user=paid_no_access, currency="RUB", balance=50_000)
    return Clients(
        algebra=algebra,
        geometry=geometry,
        half_year=plan,
        group=membership.group,
        active_plan=active_plan,
        mixed=mixed,
        expiring=expiring,
        frozen=frozen,
        expired=expired,
        refunded=refunded,
        never_paid=never_paid,
        paid_no_access=paid_no_access,
    )
