"""The client card's actions: each asks for a confirmation, needs a reason, changes
through its domain service and leaves one audit entry; refusals change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from parta.access.models import AccessFreeze, AccessGrant
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.audit.models import AuditEntry
from parta.billing.models import BalanceAccount, LedgerEntry, Order, Payment, Refund
from parta.billing.services.offline import offline_payment_record
from parta.billing.tests.factories import CourseItemFactory, PlanFactory, PlanItemFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.money import Money
from parta.crm.formkeys import form_key_issue
from parta.crm.tests.card_helpers import act, action_url, fields
from parta.groups.models import Group, Membership
from parta.groups.services import membership_place
from parta.notifications.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = StaffFactory()
    client.force_login(user)
    return user


@pytest.fixture
def student():
    return UserFactory(full_name="Анна Петрова")


def _errors(response) -> str:
    """The form's messages on a refused step (in the page's language)."""
    form = response.context["form"]
    with translation.override("ru"):
        return " ".join(str(m) for messages in form.errors.values() for m in messages)


def _ru(message: str, **values) -> str:
    with translation.override("ru"):
        return gettext(message) % values if values else gettext(message)


def _entries(action: str):
    return list(AuditEntry.objects.filter(action=action))


def _pay_offline(student, staff, item, document="R-1", method="cash"):
    price = item.prices.get(currency="RUB").amount
    return offline_payment_record(
        user=student,
        by=staff,
        method=method,
        document=document,
        currency="RUB",
        amount=price,
        item_id=item.pk,
        reason="paid at the office",
    )


# --- grant -------------------------------------------------------------------------------


def test_grant_a_course_asks_first_then_grants_and_audits(client, staff, student):
    course = CourseFactory(title="Алгебра")
    data = {"target": f"course:{course.pk}", "days": "30", "reason": "a gift"}
    step, done = act(client, user=staff, client_id=student.pk, action="grant", data=data)
    assert step.status_code == 200
    assert "Алгебра" in step.context["summary"]
    assert done.status_code == 302
    grant = AccessGrant.objects.get(user=student, course=course)
    assert grant.source == "manual"
    assert grant.granted_by == staff
    assert abs(grant.available_until - (timezone.now() + timedelta(days=30))) < timedelta(
        minutes=1
    )
    [entry] = _entries("access.grant")
    assert (entry.actor_id, entry.subject_id, entry.reason) == (staff.pk, student.pk, "a gift")
    assert entry.after["course"] == course.pk
    assert entry.after["is_active"] is True


def test_the_confirmation_step_changes_nothing(client, staff, student):
    course = CourseFactory()
    key = form_key_issue(user=staff, action="grant", client_id=student.pk)
    data = {"target": f"course:{course.pk}", "days": "30", "reason": "a gift"}
    response = client.post(action_url(student.pk, "grant"), fields("grant", data, key=key))
    assert response.status_code == 200
    assert 'name="grant-confirmed" value="1"' in response.content.decode()
    assert not AccessGrant.objects.exists()
    assert not AuditEntry.objects.exists()


def test_grant_a_plan_gives_each_course_with_the_plans_freeze_limit(client, staff, student):
    plan = PlanFactory(courses=[CourseFactory(), CourseFactory()], freeze_limit_days=10)
    data = {"target": f"plan:{plan.pk}", "days": "14", "reason": "trial"}
    _step, done = act(client, user=staff, client_id=student.pk, action="grant", data=data)
    assert done.status_code == 302
    grants = AccessGrant.objects.filter(user=student)
    assert grants.count() == 2
    assert {g.freeze_limit_days for g in grants} == {10}
    assert len(_entries("access.grant")) == 2


def test_a_reason_is_required(client, staff, student):
    course = CourseFactory()
    data = {"target": f"course:{course.pk}", "days": "30", "reason": ""}
    step, _done = act(client, user=staff, client_id=student.pk, action="grant", data=data)
    assert step.status_code == 400
    assert "grant-reason" in step.content.decode()
    assert not AccessGrant.objects.exists()
    assert not AuditEntry.objects.exists()


# --- offline payment ---------------------------------------------------------------------


def test_offline_payment_for_a_course_pays_grants_and_posts_to_the_ledger(client, staff, student):
    item = CourseItemFactory(prices={"RUB": 199000})
    data = {
        "method": "transfer",
        "document": " п/п 17 ",
        "item": str(item.pk),
        "currency": "RUB",
        "amount": "1990",
        "reason": "invoice paid",
    }
    step, done = act(client, user=staff, client_id=student.pk, action="offline-payment", data=data)
    assert "1\u00a0990\u00a0₽" in step.context["summary"]
    assert done.status_code == 302
    order = Order.objects.get(user=student)
    assert (order.status, order.provider, order.total) == ("paid", "offline", 199000)
    payment = Payment.objects.get(order=order)
    assert payment.provider_payment_id == "transfer:П/П 17"
    assert AccessGrant.objects.filter(user=student, course=item.course, is_active=True).exists()
    entries = LedgerEntry.objects.filter(order=order).order_by("id")
    assert [(e.kind, e.amount) for e in entries] == [("topup", 199000), ("spending", -199000)]
    [entry] = _entries("billing.offline_payment")
    assert entry.actor_id == staff.pk
    assert entry.subject_id == student.pk
    assert entry.after["document"] == "П/П 17"
    assert entry.after["amount"] == 199000
    assert entry.reason == "invoice paid"


def test_offline_payment_onto_the_balance(client, staff, student):
    data = {
        "method": "cash",
        "document": "ПКО-5",
        "item": "",
        "currency": "RUB",
        "amount": "500,50",
        "reason": "cash at the desk",
    }
    _step, done = act(
        client, user=staff, client_id=student.pk, action="offline-payment", data=data
    )
    assert done.status_code == 302
    assert BalanceAccount.objects.get(user=student, currency="RUB").balance == 50050


def test_a_document_pays_once(client, staff, student):
    item = CourseItemFactory(prices={"RUB": 1000})
    _pay_offline(student, staff, item, document="R-9")
    data = {
        "method": "cash",
        "document": "r-9",
        "item": "",
        "currency": "RUB",
        "amount": "10",
        "reason": "again",
    }
    _step, done = act(
        client, user=staff, client_id=student.pk, action="offline-payment", data=data
    )
    assert done.status_code == 409
    assert "R-9" in done.content.decode()
    assert Order.objects.count() == 1
    assert Payment.objects.count() == 1
    assert len(_entries("billing.offline_payment")) == 1


def _most_rub() -> str:
    with translation.override("ru"):
        return Money(100_000_000, "RUB").format()


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("-100", "RUB", lambda: _ru("The amount must be positive.")),
        ("0", "RUB", lambda: _ru("The amount received must be positive.")),
        ("5000000", "RUB", lambda: _ru("One payment is at most %(most)s.", most=_most_rub())),
        ("100", "EUR", lambda: "EUR"),
        ("ten", "RUB", lambda: _ru("Enter the price as a number, for example 1990.00.")),
    ],
)
def test_bad_offline_payments_change_nothing(client, staff, student, amount, currency, message):
    data = {
        "method": "cash",
        "document": "X-1",
        "item": "",
        "currency": currency,
        "amount": amount,
        "reason": "test",
    }
    step, done = act(client, user=staff, client_id=student.pk, action="offline-payment", data=data)
    answer = done if done is not None else step
    assert answer.status_code == 400
    assert message() in _errors(answer)
    assert not Order.objects.exists()
    assert not Payment.objects.exists()
    assert not AuditEntry.objects.exists()


def test_offline_payment_that_is_not_the_price_is_refused(client, staff, student):
    item = CourseItemFactory(prices={"RUB": 199000})
    data = {
        "method": "cash",
        "document": "X-2",
        "item": str(item.pk),
        "currency": "RUB",
        "amount": "1000",
        "reason": "test",
    }
    _step, done = act(
        client, user=staff, client_id=student.pk, action="offline-payment", data=data
    )
    assert done.status_code == 400
    assert not Order.objects.exists()
    assert not AuditEntry.objects.exists()


# --- freeze, unfreeze --------------------------------------------------------------------


def test_freeze_and_unfreeze_a_plan(client, staff, student):
    item = PlanItemFactory(plan=PlanFactory(freeze_limit_days=10))
    _pay_offline(student, staff, item)
    grant = AccessGrant.objects.get(user=student)
    end = grant.available_until
    data = {"grant": str(grant.pk), "days": "3", "reason": "ill"}
    step, done = act(client, user=staff, client_id=student.pk, action="freeze", data=data)
    assert step.status_code == 200
    assert done.status_code == 302
    grant.refresh_from_db()
    assert grant.available_until == end + timedelta(days=3)
    [entry] = _entries("access.freeze")
    assert entry.reason == "ill"
    assert entry.actor_id == staff.pk
    assert entry.before["frozen_days"] == 0
    assert entry.after["frozen_days"] == 3

    freeze = AccessFreeze.objects.get()
    data = {"freeze": str(freeze.pk), "reason": "back"}
    _step, done = act(client, user=staff, client_id=student.pk, action="unfreeze", data=data)
    assert done.status_code == 302
    freeze.refresh_from_db()
    assert freeze.ended_at is not None
    [entry] = _entries("access.unfreeze")
    assert entry.reason == "back"


def test_freezing_an_expired_grant_is_refused(client, staff, student):
    course = CourseFactory()
    past = timezone.now() - timedelta(days=40)
    grant = AccessGrant.objects.create(
        user=student,
        course=course,
        source="manual",
        starts_at=past,
        available_until=past + timedelta(days=30),
        freeze_limit_days=10,
    )
    data = {"grant": str(grant.pk), "days": "3", "reason": "ill"}
    _step, done = act(client, user=staff, client_id=student.pk, action="freeze", data=data)
    assert done.status_code == 400
    assert _ru("This access is not running now.") in _errors(done)
    assert not AccessFreeze.objects.exists()
    assert not AuditEntry.objects.exists()


# --- refunds -----------------------------------------------------------------------------


def test_refund_a_purchase_to_the_balance(client, staff, student):
    item = PlanItemFactory()
    _pay_offline(student, staff, item)
    grant = AccessGrant.objects.get(user=student)
    data = {"target": f"grant:{grant.pk}", "destination": "balance", "reason": "moved away"}
    step, done = act(client, user=staff, client_id=student.pk, action="refund", data=data)
    assert step.status_code == 200
    assert done.status_code == 302
    refund = Refund.objects.get()
    assert refund.destination == "balance"
    assert refund.status == "succeeded"
    assert 0 < refund.amount <= 300000
    assert BalanceAccount.objects.get(user=student).balance == refund.amount
    [entry] = _entries("billing.refund")
    assert entry.reason == "moved away"
    assert entry.after["amount"] == refund.amount
    assert entry.before["paid"] == 300000


def test_refund_an_offline_payment_back_to_its_payment(client, staff, student):
    item = CourseItemFactory(prices={"RUB": 100000})
    _pay_offline(student, staff, item)
    grant = AccessGrant.objects.get(user=student)
    data = {"target": f"grant:{grant.pk}", "destination": "card", "reason": "changed mind"}
    _step, done = act(client, user=staff, client_id=student.pk, action="refund", data=data)
    assert done.status_code == 302
    refund = Refund.objects.get()
    assert (refund.destination, refund.status) == ("provider", "succeeded")
    assert Payment.objects.get().refunded_amount == refund.amount
    grant.refresh_from_db()
    assert grant.is_active is False


def test_a_top_up_refund_larger_than_paid_is_refused(client, staff, student):
    offline_payment_record(
        user=student,
        by=staff,
        method="cash",
        document="T-1",
        currency="RUB",
        amount=50000,
        reason="top-up",
    )
    entry = LedgerEntry.objects.get(kind="topup")
    before = AuditEntry.objects.count()
    data = {
        "target": f"topup:{entry.pk}",
        "destination": "card",
        "amount": "501",
        "reason": "x",
    }
    _step, done = act(client, user=staff, client_id=student.pk, action="refund", data=data)
    assert done.status_code == 400
    assert "500" in done.content.decode()
    assert not Refund.objects.exists()
    assert AuditEntry.objects.count() == before
    assert BalanceAccount.objects.get(user=student).balance == 50000

    data["amount"] = "200"
    _step, done = act(client, user=staff, client_id=student.pk, action="refund", data=data)
    assert done.status_code == 302
    assert BalanceAccount.objects.get(user=student).balance == 30000


# --- balance -----------------------------------------------------------------------------


def test_balance_adjustment_up_and_down_never_below_zero(client, staff, student):
    data = {"currency": "RUB", "amount": "250", "reason": "compensation"}
    _step, done = act(client, user=staff, client_id=student.pk, action="adjust", data=data)
    assert done.status_code == 302
    assert BalanceAccount.objects.get(user=student).balance == 25000
    [entry] = _entries("billing.balance_adjust")
    assert (entry.before["balance"], entry.after["balance"]) == (0, 25000)
    assert entry.reason == "compensation"

    data = {"currency": "RUB", "amount": "-300", "reason": "too much"}
    _step, done = act(client, user=staff, client_id=student.pk, action="adjust", data=data)
    assert done.status_code == 409
    assert BalanceAccount.objects.get(user=student).balance == 25000
    assert len(_entries("billing.balance_adjust")) == 1


# --- groups ------------------------------------------------------------------------------


def _placed(course, *students):
    for s in students:
        AccessGrant.objects.create(
            user=s, course=course, source="manual", starts_at=timezone.now()
        )
        membership_place(student=s, course_id=course.pk)


def test_a_moderator_moves_a_student_and_it_is_audited(client, student):
    moderator = ModeratorFactory()
    client.force_login(moderator)
    course = CourseFactory()
    _placed(course, student)
    current = Membership.objects.get(student=student, ended_at=None)
    target = Group.objects.filter(course=course).exclude(pk=current.group_id).first()
    data = {"group": str(target.pk), "reason": "evening group"}
    _step, done = act(client, user=moderator, client_id=student.pk, action="move", data=data)
    assert done.status_code == 302
    assert Membership.objects.get(student=student, ended_at=None).group_id == target.pk
    [entry] = _entries("groups.move")
    assert entry.actor_id == moderator.pk
    assert entry.reason == "evening group"
    assert (entry.before["group"], entry.after["group"]) == (current.group_id, target.pk)


def test_a_full_group_refuses_with_the_reason_and_staff_may_override(client, staff, student):
    course = CourseFactory(max_group_size=1)
    other = UserFactory()
    _placed(course, other, student)
    full = Membership.objects.get(student=other, ended_at=None).group
    data = {"group": str(full.pk), "reason": "with a friend"}
    _step, done = act(client, user=staff, client_id=student.pk, action="move", data=data)
    assert done.status_code == 409
    assert "1 of 1" in done.content.decode() or "1 из 1" in done.content.decode()
    assert not _entries("groups.move")

    data["override"] = "on"
    _step, done = act(client, user=staff, client_id=student.pk, action="move", data=data)
    assert done.status_code == 302
    assert Membership.objects.get(student=student, ended_at=None).group_id == full.pk
    [entry] = _entries("groups.move")
    assert entry.after["over_the_limit"] is True


# --- messages ----------------------------------------------------------------------------


def test_a_moderator_sends_an_email_through_the_outbox(client, student):
    moderator = ModeratorFactory()
    client.force_login(moderator)
    data = {"channel": "email", "text": "Занятие переносится на среду.", "reason": "schedule"}
    step, done = act(client, user=moderator, client_id=student.pk, action="message", data=data)
    assert step.status_code == 200
    assert done.status_code == 302
    message = Message.objects.get(user=student, kind="crm_message")
    assert message.channel == "email"
    assert message.context["text"] == "Занятие переносится на среду."
    [entry] = _entries("crm.message")
    assert entry.actor_id == moderator.pk
    assert entry.reason == "schedule"


def test_telegram_needs_a_connected_chat(client, staff, student):
    data = {"channel": "telegram", "text": "Привет", "reason": "x"}
    _step, done = act(client, user=staff, client_id=student.pk, action="message", data=data)
    assert done.status_code == 400
    assert not Message.objects.filter(kind="crm_message").exists()
    assert not AuditEntry.objects.exists()


# --- who may ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action", ["grant", "offline-payment", "freeze", "unfreeze", "refund", "adjust"]
)
def test_money_and_access_actions_are_staff_only(client, student, action):
    moderator = ModeratorFactory()
    client.force_login(moderator)
    key = form_key_issue(user=moderator, action=action, client_id=student.pk)
    data = {"reason": "x", "currency": "RUB", "amount": "100", "days": "3"}
    for confirmed in (False, True):
        response = client.post(
            action_url(student.pk, action), fields(action, data, key=key, confirmed=confirmed)
        )
        assert response.status_code == 403
    assert not AuditEntry.objects.exists()
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("action", ["grant", "move", "message"])
def test_students_get_403(client, student, action):
    other = UserFactory()
    client.force_login(other)
    key = form_key_issue(user=other, action=action, client_id=student.pk)
    response = client.post(action_url(student.pk, action), fields(action, {}, key=key))
    assert response.status_code == 403


def test_a_forged_key_is_403_and_a_reused_one_does_nothing_again(client, staff, student):
    course = CourseFactory()
    data = {"target": f"course:{course.pk}", "days": "30", "reason": "gift"}
    forged = fields("grant", data, key="made-up", confirmed=True)
    assert client.post(action_url(student.pk, "grant"), forged).status_code == 403
    someone_elses = form_key_issue(user=staff, action="grant", client_id=student.pk + 1)
    response = client.post(
        action_url(student.pk, "grant"), fields("grant", data, key=someone_elses, confirmed=True)
    )
    assert response.status_code == 403
    assert not AccessGrant.objects.exists()

    key = form_key_issue(user=staff, action="grant", client_id=student.pk)
    _step, done = act(client, user=staff, client_id=student.pk, action="grant", data=data, key=key)
    assert done.status_code == 302
    again = client.post(
        action_url(student.pk, "grant"), fields("grant", data, key=key, confirmed=True)
    )
    assert again.status_code == 302
    assert AccessGrant.objects.count() == 1
    assert len(_entries("access.grant")) == 1


def test_a_refused_action_keeps_its_key_for_the_corrected_form(client, staff, student):
    key = form_key_issue(user=staff, action="adjust", client_id=student.pk)
    bad = {"currency": "RUB", "amount": "-10", "reason": "x"}
    _step, done = act(client, user=staff, client_id=student.pk, action="adjust", data=bad, key=key)
    assert done.status_code == 409
    good = {"currency": "RUB", "amount": "10", "reason": "x"}
    _step, done = act(
        client, user=staff, client_id=student.pk, action="adjust", data=good, key=key
    )
    assert done.status_code == 302
    assert BalanceAccount.objects.get(user=student).balance == 1000


def test_csrf_is_checked(staff, student):
    from django.test import Client

    http = Client(enforce_csrf_checks=True)
    http.force_login(staff)
    key = form_key_issue(user=staff, action="adjust", client_id=student.pk)
    data = {"currency": "RUB", "amount": "10", "reason": "x"}
    response = http.post(
        action_url(student.pk, "adjust"), fields("adjust", data, key=key, confirmed=True)
    )
    assert response.status_code == 403
    assert not LedgerEntry.objects.exists()
