"""What billing tells people through the outbox: each kind stored once by its event (not
on a rollback, not again on a replay), rendered in Russian and English."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from parta.access.models import AccessGrant, GrantSource
from parta.access.services import access_grant_create
from parta.accounts.tests.factories import UserFactory
from parta.billing.models import Order
from parta.billing.notices import access_ending_notify, freezes_ran_out_notify
from parta.billing.providers import sandbox
from parta.billing.providers.base import EventKind
from parta.billing.services.freezes import purchase_freeze, purchase_unfreeze
from parta.billing.services.fulfilment import order_paid, order_paid_from_balance
from parta.billing.services.ledger import balance_adjust
from parta.billing.services.orders import order_create
from parta.billing.services.refunds import refund_grant
from parta.billing.services.webhooks import webhook_receive
from parta.billing.tests.factories import (
    CourseItemFactory,
    DiscountFactory,
    PlanFactory,
    PlanItemFactory,
    TaxRateFactory,
)
from parta.catalog.tests.factories import CourseFactory
from parta.notifications.models import Message
from parta.notifications.rendering import render_message

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)
NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _no_delivery_yet(django_capture_on_commit_callbacks):
    """The delivery kick runs on commit; these tests look at the stored rows only."""
    with django_capture_on_commit_callbacks(execute=False):
        yield


def _messages(kind):
    return Message.objects.filter(kind=kind)


def _paid_event(order):
    return sandbox.event_body(
        EventKind.CHECKOUT_PAID,
        order_id=order.pk,
        session_id=order.checkout_id,
        amount=order.total,
        currency=order.currency,
        payment_id=f"sbx_pay_{order.pk}",
    )


@pytest.fixture
def taxed_order():
    buyer = UserFactory(email="buyer@example.com")
    item = CourseItemFactory(title="Алгебра", prices={"RUB": 199000})
    DiscountFactory(code="SPRING", percent=15)
    TaxRateFactory(name="НДС", rate_bp=2000, inclusive=False)
    return order_create(
        user=buyer, item_ids=[item.pk], currency="RUB", coupon="spring", provider="sandbox"
    )


def test_receipt_stored_once_per_channel_by_the_payment_even_when_replayed(taxed_order):
    body = _paid_event(taxed_order)
    for _ in range(3):
        webhook_receive(provider_name="sandbox", body=body, headers=sandbox.sign(body))
    rows = _messages("receipt")
    assert sorted(rows.values_list("channel", flat=True)) == ["email", "site", "telegram"]
    assert {row.dedup_key for row in rows} == {f"receipt:order:{taxed_order.pk}"}
    assert all(row.user_id == taxed_order.user_id for row in rows)


def test_no_receipt_when_the_payment_rolls_back(taxed_order):
    def pay_then_fail():
        with transaction.atomic():
            order_paid(
                order=taxed_order,
                provider="sandbox",
                provider_payment_id="p1",
                amount=taxed_order.total,
                currency="RUB",
            )
            raise RuntimeError("the webhook failed after fulfilment")

    with pytest.raises(RuntimeError):
        pay_then_fail()
    assert not Order.objects.filter(pk=taxed_order.pk, status="paid").exists()
    assert not _messages("receipt").exists()


def test_receipt_shows_lines_coupon_taxes_and_total_in_both_languages(taxed_order):
    order_paid(
        order=taxed_order,
        provider="sandbox",
        provider_payment_id="p1",
        amount=taxed_order.total,
        currency="RUB",
    )
    row = _messages("receipt").get(channel="email")
    user = taxed_order.user
    # 1 990 − 15% = 1 691,50; VAT 20% = 338,30; total 2 029,80.
    user.language = "ru"
    ru = render_message(user=user, kind="receipt", context=row.context)
    assert f"Чек по заказу №{taxed_order.pk}" in ru.text
    assert f"Алгебра — 1{NBSP}990{NBSP}₽ (−298,50{NBSP}₽)" in ru.text
    assert f"Купон SPRING: −298,50{NBSP}₽" in ru.text
    assert f"НДС 20%: 338,30{NBSP}₽" in ru.text
    assert f"Итого: 2{NBSP}029,80{NBSP}₽" in ru.text
    # Subjects are one line: rendering folds every space, the no-break ones too.
    assert ru.subject == f"Чек по заказу №{taxed_order.pk}: 2 029,80 ₽"
    assert "<table" in ru.html
    assert f"2{NBSP}029,80{NBSP}₽" in ru.html
    user.language = "en"
    en = render_message(user=user, kind="receipt", context=row.context)
    assert "Coupon SPRING: −₽298.50" in en.text
    assert "Total: ₽2,029.80" in en.text


def test_receipt_date_is_in_the_school_time_zone(taxed_order, settings):
    settings.PARTA_TIME_ZONE = "Asia/Vladivostok"  # UTC+10
    order_paid(
        order=taxed_order,
        provider="sandbox",
        provider_payment_id="p1",
        amount=taxed_order.total,
        currency="RUB",
    )
    row = _messages("receipt").get(channel="site")
    row.context["paid_at"] = "2026-03-01T20:30:00+00:00"
    taxed_order.user.language = "ru"
    text = render_message(user=taxed_order.user, kind="receipt", context=row.context).text
    assert "Оплачен 2 марта 2026, 06:30" in text


def test_topup_paid_from_the_provider_gets_a_receipt():
    from parta.billing.services.orders import topup_create

    user = UserFactory()
    order = topup_create(user=user, amount=50000, currency="RUB", provider="sandbox")
    order_paid(
        order=order, provider="sandbox", provider_payment_id="t1", amount=50000, currency="RUB"
    )
    row = _messages("receipt").get(channel="site")
    user.language = "en"
    rendered = render_message(user=user, kind="receipt", context=row.context)
    assert rendered.subject == "Balance topped up: ₽500"
    assert "Balance top-up — ₽500" in rendered.text


def _balance_purchase(user, item):
    balance_adjust(
        user_id=user.pk,
        currency="RUB",
        amount=1_000_000,
        reason="test",
        by_id=UserFactory(role="staff").pk,
        key=f"test:{user.pk}",
    )
    order = order_create(user=user, item_ids=[item.pk], currency="RUB", provider="balance")
    return order_paid_from_balance(order=order)


def test_refund_done_once_with_its_amount_and_plural_days():
    user = UserFactory()
    item = PlanItemFactory(plan=PlanFactory(title="Месяц"), prices={"RUB": 10000})
    _balance_purchase(user, item)
    grant = AccessGrant.objects.get(user=user)
    AccessGrant.objects.filter(pk=grant.pk).update(starts_at=timezone.now() - 2 * DAY)
    grant.refresh_from_db()
    refund = refund_grant(grant=grant, requested_by=user)
    rows = _messages("refund_done")
    assert rows.count() == 3
    assert {row.dedup_key for row in rows} == {f"refund_done:{refund.pk}"}
    context = rows.get(channel="site").context
    user.language = "ru"
    ru = render_message(user=user, kind="refund_done", context=context)
    amount = refund.amount // 100
    assert ru.subject == f"Возврат выполнен: {amount:,} ₽".replace(",", " ")
    assert "из 30." in ru.text
    lines = {
        used: render_message(
            user=user, kind="refund_done", context={**context, "days_used": used}
        ).text.splitlines()[1]
        for used in (1, 3, 11, 22)
    }
    assert lines == {
        1: "Использован 1 день из 30.",
        3: "Использовано 3 дня из 30.",
        11: "Использовано 11 дней из 30.",
        22: "Использовано 22 дня из 30.",
    }
    user.language = "en"
    en = render_message(user=user, kind="refund_done", context=context)
    en_three = render_message(user=user, kind="refund_done", context={**context, "days_used": 3})
    assert "3 days were used of 30." in en_three.text
    assert "The money is on your balance." in en.text


@pytest.fixture
def plan_grants():
    user = UserFactory()
    courses = [CourseFactory(title="Физика"), CourseFactory(title="Химия")]
    item = PlanItemFactory(plan=PlanFactory(courses=courses), prices={"RUB": 10000})
    _balance_purchase(user, item)
    return list(AccessGrant.objects.filter(user=user).order_by("pk"))


def test_freeze_started_and_ended_once_per_purchase(plan_grants):
    freezes = purchase_freeze(grant=plan_grants[1], days=3)
    started = _messages("freeze_started")
    assert started.count() == 3  # one per channel, not per course
    context = started.get(channel="site").context
    assert context["courses"] == ["Физика", "Химия"]
    user = plan_grants[0].user
    user.language = "ru"
    ru = render_message(user=user, kind="freeze_started", context=context)
    assert ru.subject == "Доступ заморожен на 3 дня"
    user.language = "en"
    assert render_message(user=user, kind="freeze_started", context=context).subject == (
        "Access frozen for 3 days"
    )
    purchase_unfreeze(freeze=freezes[0])
    ended = _messages("freeze_ended")
    assert ended.count() == 3
    assert {row.dedup_key for row in ended} == {f"freeze:{freezes[0].pk}:ended"}
    # The sweep for freezes that ran out finds none to tell again.
    assert freezes_ran_out_notify(now=timezone.now() + 5 * DAY) == 0
    assert ended.count() == 3


def test_freeze_that_ran_out_is_told_once_by_the_sweep(plan_grants):
    freezes = purchase_freeze(grant=plan_grants[0], days=1)
    later = timezone.now() + DAY + timedelta(minutes=1)
    assert freezes_ran_out_notify(now=later) == 1
    assert freezes_ran_out_notify(now=later) == 1  # asked again, stored nothing new
    rows = _messages("freeze_ended")
    assert rows.count() == 3
    assert {row.dedup_key for row in rows} == {f"freeze:{freezes[0].pk}:ended"}


def test_freeze_notice_rolls_back_with_the_freeze(plan_grants):
    def freeze_then_fail():
        with transaction.atomic():
            purchase_freeze(grant=plan_grants[0], days=2)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        freeze_then_fail()
    assert not _messages("freeze_started").exists()


def _ending_grant(days_left: float, **extra):
    now = timezone.now()
    return access_grant_create(
        user=UserFactory(),
        course=CourseFactory(title="Геометрия"),
        source=GrantSource.PLAN,
        starts_at=now - 20 * DAY,
        available_until=now + days_left * DAY,
        freeze_limit_days=7,
        reference=f"test:{days_left}",
        **extra,
    )


def test_access_ending_beat_is_idempotent_and_a_moved_end_is_told_again():
    grant = _ending_grant(2.5)
    _ending_grant(10)  # not ending soon
    assert access_ending_notify() == 1
    access_ending_notify()
    rows = _messages("access_ending")
    assert rows.count() == 3
    # A freeze moves the end: the new end is a new event.
    AccessGrant.objects.filter(pk=grant.pk).update(available_until=grant.available_until + DAY / 4)
    access_ending_notify()
    access_ending_notify()
    assert rows.count() == 6
    assert rows.values("dedup_key").distinct().count() == 2


def test_access_ending_renders_plurals_and_school_dates():
    grant = _ending_grant(2.5)
    access_ending_notify()
    context = _messages("access_ending").get(channel="site").context
    assert context["days_left"] == 3
    user = grant.user
    user.language = "ru"
    subjects = {}
    for days in (1, 3, 5, 21):
        subjects[days] = render_message(
            user=user, kind="access_ending", context={**context, "days_left": days}
        ).subject
    assert subjects[1] == "Доступ к «Геометрия» закончится через 1 день"
    assert subjects[3] == "Доступ к «Геометрия» закончится через 3 дня"
    assert subjects[5] == "Доступ к «Геометрия» закончится через 5 дней"
    assert subjects[21] == "Доступ к «Геометрия» закончится через 21 день"
    user.language = "en"
    assert render_message(
        user=user, kind="access_ending", context={**context, "days_left": 1}
    ).subject == ("Access to “Геометрия” ends in 1 day")
