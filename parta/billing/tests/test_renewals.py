"""Plans that renew themselves, through the sandbox: the card saved at checkout, the
charge a day before the end (the clock moved by passing ``now``), declines retried over
a week and then the end, cancellation, refunds and cards gone, reminders, /purchases/."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from config.celery import app
from parta.access.models import AccessGrant
from parta.accounts.tests.factories import UserFactory
from parta.billing.models import (
    AutoRenewal,
    LedgerEntry,
    Order,
    OrderStatus,
    Payment,
    RenewalCharge,
    RenewalChargeStatus,
    RenewalStatus,
)
from parta.billing.services.expiry import grants_expire
from parta.billing.services.refunds import refund_grant
from parta.billing.services.renewals import (
    CHARGE_BEFORE,
    renewal_reminders_notify,
    renewals_charge,
)
from parta.billing.tests.factories import CourseItemFactory, PlanFactory, PlanItemFactory
from parta.common.money import format_money
from parta.common.testing.queries import count_queries
from parta.notifications.models import Message

pytestmark = pytest.mark.django_db


def buy_with_renewal(client: Client, item, *, later_charges="approve", save=True) -> Order:
    """The item page's form with "Renew automatically", then Pay on the sandbox page."""
    response = client.post(
        reverse("billing:buy", args=[item.pk]),
        {"currency": "RUB", "auto_renew": "1"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200, response.content
    data = {"action": "pay", "later_charges": later_charges}
    if save:
        data["save_card"] = "1"
    paid = client.post(response.json()["url"], data)
    assert paid.status_code == 302
    return Order.objects.get(pk=response.json()["order_id"])


def plan_end(user) -> object:
    return max(g.available_until for g in AccessGrant.objects.filter(user=user, is_active=True))


def kinds(user, kind: str) -> set[str]:
    """The distinct messages (one per dedup key, whatever the channels) of a kind."""
    return set(Message.objects.filter(user=user, kind=kind).values_list("dedup_key", flat=True))


@pytest.fixture
def plan_item():
    return PlanItemFactory(plan=PlanFactory(title="Месяц", duration_days=30))


def test_buying_with_auto_renewal_saves_the_card_and_plans_the_charge(client, buyer, plan_item):
    order = buy_with_renewal(client, plan_item)
    renewal = AutoRenewal.objects.get(user=buyer)
    assert order.status == OrderStatus.PAID
    assert renewal.status == RenewalStatus.ACTIVE
    assert renewal.saved_method_id.startswith("sbx_pm_approve_")
    assert renewal.first_order == order == renewal.current_order
    assert renewal.next_charge_at == plan_end(buyer) - CHARGE_BEFORE
    assert renewal.period == 1


def test_the_sandbox_page_offers_to_save_the_card_only_when_renewal_was_asked(
    client, buyer, plan_item
):
    plain = client.get(reverse("billing:buy", args=[plan_item.pk]), {"currency": "RUB"}).json()
    assert "save_card" not in client.get(plain["url"]).content.decode()
    asked = client.post(
        reverse("billing:buy", args=[plan_item.pk]),
        {"currency": "RUB", "auto_renew": "1"},
        headers={"Accept": "application/json"},
    ).json()
    assert asked["order_id"] != plain["order_id"]  # the plain open order is not reused
    assert 'name="save_card"' in client.get(asked["url"]).content.decode()
    # The item page offers the choice for a plan, not for a course.
    assert (
        'name="auto_renew"'
        in client.get(reverse("billing:item", args=[plan_item.pk])).content.decode()
    )
    course = CourseItemFactory()
    page = client.get(reverse("billing:item", args=[course.pk])).content.decode()
    assert 'name="auto_renew"' not in page


def test_paying_without_saving_the_card_turns_nothing_on(client, buyer, plan_item):
    buy_with_renewal(client, plan_item, save=False)
    renewal = AutoRenewal.objects.get(user=buyer)
    assert renewal.status == RenewalStatus.ENDED
    assert "no payment method" in renewal.outcome
    assert renewals_charge(now=plan_end(buyer)) == 0


def test_renewal_on_time_extends_the_running_period_once(client, buyer, plan_item):
    first = buy_with_renewal(client, plan_item)
    renewal = AutoRenewal.objects.get(user=buyer)
    old_end = plan_end(buyer)
    due = renewal.next_charge_at

    assert renewals_charge(now=due - timedelta(minutes=1)) == 0
    assert Order.objects.count() == 1
    assert renewals_charge(now=due + timedelta(minutes=1)) == 1
    # Rerun at once, and later the same day: the period is charged once.
    assert renewals_charge(now=due + timedelta(minutes=2)) == 0
    assert renewals_charge(now=due + timedelta(hours=20)) == 0

    renewal.refresh_from_db()
    second = Order.objects.exclude(pk=first.pk).get()
    assert second.status == OrderStatus.PAID
    assert second.total == first.total
    assert second.provider == "sandbox"
    assert Payment.objects.get(order=second).provider_payment_id.startswith("sbx_ch_")
    assert LedgerEntry.objects.filter(order=second).count() == 2  # paid in, spent
    new_grant = AccessGrant.objects.get(user=buyer, note__startswith=f"order #{second.pk}:")
    assert new_grant.starts_at == old_end
    assert new_grant.available_until == old_end + timedelta(days=30)
    assert renewal.period == 2
    assert renewal.current_order == second
    assert renewal.next_charge_at == new_grant.available_until - CHARGE_BEFORE
    assert RenewalCharge.objects.get().status == RenewalChargeStatus.SUCCEEDED
    assert f"receipt:order:{second.pk}" in kinds(buyer, "receipt")

    # The next period, a month later.
    assert renewals_charge(now=renewal.next_charge_at) == 1
    renewal.refresh_from_db()
    assert renewal.period == 3
    assert Order.objects.filter(status=OrderStatus.PAID).count() == 3


def test_a_declined_charge_is_retried_three_times_over_a_week_then_ends(client, buyer, plan_item):
    buy_with_renewal(client, plan_item, later_charges="decline")
    renewal = AutoRenewal.objects.get(user=buyer)
    end = plan_end(buyer)
    t0 = renewal.next_charge_at

    assert renewals_charge(now=t0) == 0
    renewal.refresh_from_db()
    assert renewal.failures == 1
    assert renewal.status == RenewalStatus.ACTIVE
    assert renewal.next_charge_at == t0 + timedelta(days=2)
    assert len(kinds(buyer, "renewal_failed")) == 1
    assert renewals_charge(now=t0 + timedelta(days=1)) == 0  # not yet
    assert len(kinds(buyer, "renewal_failed")) == 1
    for day, failures in ((2, 2), (4, 3)):
        assert renewals_charge(now=t0 + timedelta(days=day)) == 0
        renewal.refresh_from_db()
        assert renewal.failures == failures
        assert len(kinds(buyer, "renewal_failed")) == failures
    assert renewal.next_charge_at == t0 + timedelta(days=7)
    assert renewals_charge(now=t0 + timedelta(days=7)) == 0

    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ENDED
    assert renewal.failures == 4
    assert "4 declined" in renewal.outcome
    assert len(kinds(buyer, "renewal_failed")) == 4  # an email each time
    last = Message.objects.filter(kind="renewal_failed", channel="email").latest("id")
    assert last.context["last"] is True
    charge = RenewalCharge.objects.get()
    assert charge.attempts == 4
    assert charge.status == RenewalChargeStatus.FAILED
    assert charge.order.status == OrderStatus.FAILED
    assert "insufficient funds" in charge.order.failure_reason
    assert not Payment.objects.filter(order=charge.order).exists()
    assert not LedgerEntry.objects.filter(order=charge.order).exists()
    assert AccessGrant.objects.filter(user=buyer).count() == 1  # no new period
    assert renewals_charge(now=t0 + timedelta(days=60)) == 0
    # The plan ends as usual, and the student is told.
    grants_expire(now=end + timedelta(minutes=1))
    assert kinds(buyer, "access_ended")


def test_a_retry_that_goes_through_pays_the_same_order(client, buyer, plan_item):
    buy_with_renewal(client, plan_item, later_charges="decline")
    renewal = AutoRenewal.objects.get(user=buyer)
    t0 = renewal.next_charge_at
    renewals_charge(now=t0)
    # The buyer puts money on the card: the same saved card now approves.
    AutoRenewal.objects.filter(pk=renewal.pk).update(
        saved_method_id=renewal.saved_method_id.replace("_decline_", "_approve_")
    )
    assert renewals_charge(now=t0 + timedelta(days=2)) == 1
    charge = RenewalCharge.objects.get()
    assert charge.status == RenewalChargeStatus.SUCCEEDED
    assert charge.attempts == 2
    assert charge.order.status == OrderStatus.PAID
    assert Order.objects.count() == 2
    renewal.refresh_from_db()
    assert renewal.failures == 0
    assert renewal.period == 2


def test_a_cancelled_renewal_is_never_charged(client, buyer, plan_item):
    buy_with_renewal(client, plan_item)
    renewal = AutoRenewal.objects.get(user=buyer)
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(buyer)
    url = reverse("billing:renewal-cancel", args=[renewal.pk])
    assert guarded.post(url).status_code == 403  # no CSRF token: refused
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("billing:purchases")
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.CANCELLED
    assert 'data-testid="renewal"' not in response.content.decode()
    for days in (0, 1, 8, 40):
        assert renewals_charge(now=renewal.next_charge_at + timedelta(days=days)) == 0
    assert Order.objects.count() == 1
    assert not RenewalCharge.objects.exists()
    # A second click says it is off already; nothing changes.
    again = client.post(url, follow=True)
    assert "уже" in again.content.decode()


def test_someone_elses_renewal_cannot_be_cancelled(client, buyer, plan_item):
    buy_with_renewal(client, plan_item)
    renewal = AutoRenewal.objects.get(user=buyer)
    other = Client()
    other.force_login(UserFactory())
    assert other.post(reverse("billing:renewal-cancel", args=[renewal.pk])).status_code == 404
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ACTIVE


def test_a_refunded_plan_is_not_charged(client, buyer, plan_item):
    buy_with_renewal(client, plan_item)
    renewal = AutoRenewal.objects.get(user=buyer)
    due = renewal.next_charge_at
    refund_grant(grant=AccessGrant.objects.get(user=buyer), requested_by=buyer)
    renewal.refresh_from_db()
    # It stops with the refund (the buyer asked for it: no message about it).
    assert renewal.status == RenewalStatus.ENDED
    assert "refunded" in renewal.outcome
    assert not kinds(buyer, "renewal_ended")
    entries = LedgerEntry.objects.count()
    assert renewals_charge(now=due) == 0
    assert not RenewalCharge.objects.exists()
    assert Order.objects.count() == 1
    assert LedgerEntry.objects.count() == entries
    assert 'data-testid="renewal"' not in client.get(reverse("billing:purchases")).content.decode()


def test_a_refund_found_by_the_job_stops_the_renewal_without_a_charge(client, buyer, plan_item):
    """A refund recorded some other way (staff, a provider's own refund) while the
    renewal was still on: the job refuses the charge and tells the buyer."""
    from parta.billing.models import Refund

    order = buy_with_renewal(client, plan_item)
    renewal = AutoRenewal.objects.get(user=buyer)
    Refund.objects.create(
        user=buyer,
        order_line=order.lines.get(),
        amount=100,
        currency="RUB",
        destination="provider",
        status="succeeded",
    )
    entries = LedgerEntry.objects.count()
    assert renewals_charge(now=renewal.next_charge_at) == 0
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ENDED
    assert "refunded" in renewal.outcome
    assert not RenewalCharge.objects.exists()
    assert LedgerEntry.objects.count() == entries
    assert kinds(buyer, "renewal_ended") == {f"renewal_ended:{renewal.pk}"}


def test_a_card_removed_at_the_provider_ends_the_renewal_without_a_charge(
    client, buyer, plan_item
):
    buy_with_renewal(client, plan_item, later_charges="removed")
    renewal = AutoRenewal.objects.get(user=buyer)
    due = renewal.next_charge_at
    assert renewals_charge(now=due) == 0
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ENDED
    assert "payment method is gone" in renewal.outcome
    charge = RenewalCharge.objects.get()
    assert charge.status == RenewalChargeStatus.FAILED
    assert "removed" in charge.failure_reason
    assert not Payment.objects.filter(order=charge.order).exists()
    assert not LedgerEntry.objects.filter(order=charge.order).exists()
    assert AccessGrant.objects.filter(user=buyer).count() == 1
    message = Message.objects.filter(kind="renewal_ended", channel="email").get()
    assert message.context["reason"] == "method_gone"
    assert renewal.next_charge_at is None
    assert renewals_charge(now=due + timedelta(days=9)) == 0


def test_a_plan_taken_off_sale_is_not_charged(client, buyer, plan_item):
    buy_with_renewal(client, plan_item)
    renewal = AutoRenewal.objects.get(user=buyer)
    plan_item.is_active = False
    plan_item.save()
    assert renewals_charge(now=renewal.next_charge_at) == 0
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ENDED
    assert "cannot be bought" in renewal.outcome
    assert Order.objects.count() == 1  # the order was never placed
    assert RenewalCharge.objects.get().order is None


def test_one_charge_per_period_is_a_database_constraint(client, buyer, plan_item):
    buy_with_renewal(client, plan_item)
    renewal = AutoRenewal.objects.get(user=buyer)
    renewals_charge(now=renewal.next_charge_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        RenewalCharge.objects.create(renewal=renewal, period=2)


def test_auto_renewal_of_a_course_is_refused_and_writes_nothing(client, buyer):
    course = CourseItemFactory()
    response = client.post(
        reverse("billing:buy", args=[course.pk]),
        {"currency": "RUB", "auto_renew": "1"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"]["auto_renew"]
    assert not Order.objects.exists()
    assert not AutoRenewal.objects.exists()


def test_the_reminder_goes_three_days_before_each_charge_once_per_period(client, buyer, plan_item):
    buy_with_renewal(client, plan_item)
    renewal = AutoRenewal.objects.get(user=buyer)
    due = renewal.next_charge_at
    assert renewal_reminders_notify(now=due - timedelta(days=4)) == 0
    assert renewal_reminders_notify(now=due - timedelta(days=3) + timedelta(hours=1)) == 1
    renewal_reminders_notify(now=due - timedelta(days=2))
    renewal_reminders_notify(now=due - timedelta(hours=1))
    assert kinds(buyer, "renewal_upcoming") == {f"renewal_upcoming:{renewal.pk}:2"}
    email = Message.objects.get(kind="renewal_upcoming", channel="email")
    assert email.context["amount"] == 300000
    assert email.context["currency"] == "RUB"
    renewals_charge(now=due)
    renewal.refresh_from_db()
    renewal_reminders_notify(now=renewal.next_charge_at - timedelta(days=2))
    assert kinds(buyer, "renewal_upcoming") == {
        f"renewal_upcoming:{renewal.pk}:2",
        f"renewal_upcoming:{renewal.pk}:3",
    }


def test_purchases_shows_the_next_charge_and_reads_a_fixed_number_of_queries(client, buyer):
    buy_with_renewal(client, PlanItemFactory(prices={"RUB": 9900}))
    renewal = AutoRenewal.objects.get(user=buyer)
    page = client.get(reverse("billing:purchases")).content.decode()
    box = page.split('data-testid="renewal"')[1].split("</div>")[0]
    assert format_money(9900 * 30, "RUB", language="ru") in box
    assert reverse("billing:renewal-cancel", args=[renewal.pk]) in box
    assert "csrfmiddlewaretoken" in box
    with count_queries() as one:
        assert client.get(reverse("billing:purchases")).status_code == 200
    for _ in range(3):
        buy_with_renewal(client, PlanItemFactory())
    with count_queries() as four:
        page = client.get(reverse("billing:purchases")).content.decode()
    assert page.count('data-testid="renewal"') == 4
    assert len(four) == len(one)


def test_beat_runs_the_renewal_jobs():
    entries = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {"billing.charge_renewals", "billing.remind_renewals"} <= entries
    app.loader.import_default_modules()
    assert {"billing.charge_renewals", "billing.remind_renewals"} <= set(app.tasks)


def test_access_ending_is_not_told_while_the_plan_renews_itself(client, buyer, plan_item):
    from parta.billing.notices import access_ending_notify

    buy_with_renewal(client, plan_item)
    renewal = AutoRenewal.objects.get(user=buyer)
    two_days_before = plan_end(buyer) - timedelta(days=2)
    access_ending_notify(now=two_days_before)
    assert not kinds(buyer, "access_ending")
    client.post(reverse("billing:renewal-cancel", args=[renewal.pk]))
    access_ending_notify(now=two_days_before)
    assert len(kinds(buyer, "access_ending")) == 1


def test_a_period_bought_ahead_by_hand_moves_the_charge_later(client, buyer, plan_item):
    from parta.billing.tests.helpers import buy_json, pay

    buy_with_renewal(client, plan_item)
    renewal = AutoRenewal.objects.get(user=buyer)
    due = renewal.next_charge_at
    pay(client, buy_json(client, plan_item.pk)["url"])  # a second month, without renewal
    assert renewals_charge(now=due) == 0
    renewal.refresh_from_db()
    assert renewal.next_charge_at == due + timedelta(days=30)
    assert renewals_charge(now=renewal.next_charge_at) == 1
    assert Order.objects.filter(status=OrderStatus.PAID).count() == 3


def test_the_renewal_messages_read_in_russian(client, buyer, plan_item):
    from parta.notifications.rendering import render_message

    buy_with_renewal(client, plan_item, later_charges="decline")
    renewal = AutoRenewal.objects.get(user=buyer)
    due = renewal.next_charge_at
    renewal_reminders_notify(now=due - timedelta(days=2))
    for day in (0, 2, 4, 7):
        renewals_charge(now=due + timedelta(days=day))
    buyer.language = "ru"
    upcoming = Message.objects.get(kind="renewal_upcoming", channel="email")
    text = render_message(user=buyer, kind="renewal_upcoming", context=upcoming.context)
    assert text.subject == "«Месяц» скоро продлится: 3 000 ₽"
    assert "продлевается автоматически" in text.text
    failed = Message.objects.filter(kind="renewal_failed", channel="email").order_by("id")
    first = render_message(user=buyer, kind="renewal_failed", context=failed[0].context)
    assert first.subject == "Оплата «Месяц» не прошла"
    assert "Попробуем ещё раз" in first.text
    last = render_message(user=buyer, kind="renewal_failed", context=failed[3].context)
    assert "последняя попытка" in last.text
    buyer.language = "en"
    english = render_message(user=buyer, kind="renewal_failed", context=failed[0].context)
    assert "We will try again on" in english.text


def test_a_stopped_renewal_tells_why_in_russian(client, buyer, plan_item):
    from parta.notifications.rendering import render_message

    buy_with_renewal(client, plan_item, later_charges="removed")
    renewals_charge(now=AutoRenewal.objects.get(user=buyer).next_charge_at)
    ended = Message.objects.get(kind="renewal_ended", channel="email")
    buyer.language = "ru"
    text = render_message(user=buyer, kind="renewal_ended", context=ended.context)
    assert text.subject == "Автопродление «Месяц» отключено"
    assert "больше не хранит карту" in text.text


def test_staff_see_each_renewal_and_its_charges_in_the_admin(client, plan_item):
    from parta.accounts.tests.factories import StaffFactory

    buyer = UserFactory()
    client.force_login(buyer)
    buy_with_renewal(client, plan_item, later_charges="decline")
    renewal = AutoRenewal.objects.get(user=buyer)
    renewals_charge(now=renewal.next_charge_at)
    client.force_login(StaffFactory(is_staff=True, is_superuser=True))
    listing = client.get(reverse("admin:billing_autorenewal_changelist"))
    assert listing.status_code == 200
    assert "insufficient funds" in listing.content.decode()
    page = client.get(reverse("admin:billing_autorenewal_change", args=[renewal.pk]))
    assert page.status_code == 200
    assert "insufficient funds" in page.content.decode()
