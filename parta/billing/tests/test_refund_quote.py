"""What a refund returns and how it is explained: paused days are neither used nor added
(so no sequence of freezes and early resumes raises a refund), the confirmation page
and the API's quote explain the amount, every refund is a line of the balance history,
and other users' entries answer 404 alike."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta
from fractions import Fraction
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from parta.access.models import AccessFreeze, AccessGrant
from parta.accounts.tests.factories import UserFactory
from parta.billing.models import EntryKind, LedgerEntry, Refund, RefundStatus
from parta.billing.services.freezes import purchase_freeze, purchase_unfreeze
from parta.billing.services.fulfilment import order_paid
from parta.billing.services.ledger import ledger_check, ledger_post
from parta.billing.services.orders import order_create
from parta.billing.services.refunds import refund_grant, refund_quote
from parta.billing.tests.factories import CourseItemFactory, PlanFactory, PlanItemFactory
from parta.common.errors import ValidationFailed

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


class Clock:
    """timezone.now() for the services, moved by the test."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def frozen_time(start: datetime):
    clock = Clock(start)
    with mock.patch("django.utils.timezone.now", clock):
        yield clock


def _buy_plan(user, *, per_day=9900, days=30, freeze_limit=7, to_card=True) -> AccessGrant:
    """A paid plan purchase (2 970 ₽ for 30 days by default) and its grant."""
    plan = PlanFactory(duration_days=days, freeze_limit_days=freeze_limit)
    item = PlanItemFactory(plan=plan, prices={"RUB": per_day})
    order = order_create(user=user, item_ids=[item.pk], currency="RUB")
    order_paid(
        order=order,
        provider="sandbox",
        provider_payment_id=f"pay_{order.pk}",
        amount=order.total,
        currency="RUB",
    )
    return AccessGrant.objects.get(user=user, reference__startswith="order-line:")


def test_a_freeze_before_the_refund_does_not_raise_it():
    """The issue's case: 10 days used of a 30-day plan (2 970 ₽) quote 1 881 ₽; a 7-day
    freeze then must not turn that into 2 574 ₽."""
    user = UserFactory()
    with frozen_time(timezone.now()) as clock:
        grant = _buy_plan(user)
        clock.now += 10 * DAY + timedelta(hours=1)
        before = refund_quote(grant=grant)
        assert (before.amount, before.days_used) == (188100, 11)

        purchase_freeze(grant=grant, days=7, by=user)
        grant.refresh_from_db()
        during = refund_quote(grant=grant, explain=True)
        refund = refund_grant(grant=grant, requested_by=user, to_balance=True)

    assert (during.amount, during.days_used, during.days_frozen) == (188100, 11, 0)
    assert refund.amount == 188100
    assert (refund.days_used, refund.days_total) == (11, 30)


def test_days_paused_are_counted_and_shown():
    user = UserFactory()
    with frozen_time(timezone.now()) as clock:
        grant = _buy_plan(user)
        clock.now += 2 * DAY
        purchase_freeze(grant=grant, days=5, by=user)
        clock.now += 3 * DAY + timedelta(hours=2)  # paused 3 days 2 hours, then resumed
        purchase_unfreeze(freeze=AccessFreeze.objects.get(grant=grant))
        clock.now += DAY
        grant.refresh_from_db()
        quote = refund_quote(grant=grant)

    # Ran 3 days, paused 4 started days: the pause is neither used nor added to the 30.
    assert (quote.days_used, quote.days_frozen, quote.days_total) == (3, 4, 30)
    assert quote.amount == 297000 - 297000 * 3 // 30


_steps = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.integers(min_value=1, max_value=24 * 12)),  # hours
        st.tuples(st.just("freeze"), st.integers(min_value=1, max_value=10)),  # days
        st.tuples(st.just("resume"), st.just(0)),
    ),
    max_size=12,
)


@hsettings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=_steps,
    per_day=st.integers(min_value=1, max_value=50_000),
    days=st.integers(min_value=1, max_value=60),
    last_wait=st.integers(min_value=0, max_value=24 * 20),
)
def test_no_sequence_of_freezes_and_resumes_raises_a_refund(steps, per_day, days, last_wait):
    user = UserFactory()
    start = timezone.now().replace(microsecond=0)
    with frozen_time(start) as clock:
        grant = _buy_plan(user, per_day=per_day, days=days, freeze_limit=30)
        paid = per_day * days
        paused: list[list[datetime]] = []  # [start, end] as the test sees them

        def quote_now() -> int:
            grant.refresh_from_db()
            return refund_quote(grant=grant).amount

        for action, value in [*steps, ("wait", last_wait)]:
            if action == "wait":
                clock.now += timedelta(hours=value)
                continue
            before = quote_now()
            try:
                if action == "freeze":
                    purchase_freeze(grant=grant, days=value, by=user)
                    paused.append([clock.now, clock.now + value * DAY])
                else:
                    running = AccessFreeze.objects.filter(
                        grant=grant, ended_at__isnull=True, ends_at__gt=clock.now
                    ).first()
                    if running is None:
                        continue
                    purchase_unfreeze(freeze=running)
                    paused[-1][1] = clock.now
            except ValidationFailed:
                continue  # not allowed now (limit, not running, ended): nothing changed
            assert quote_now() <= before, (action, value)

        grant.refresh_from_db()
        ran = (
            clock.now
            - start
            - sum(
                (max(timedelta(0), min(end, clock.now) - begin) for begin, end in paused),
                timedelta(0),
            )
        )
        try:
            refund = refund_grant(grant=grant, requested_by=user, to_balance=True)
        except ValidationFailed:
            return  # every paid day used
    micro = timedelta(microseconds=1)
    total = days * DAY
    unused_share = Fraction(paid * (max(timedelta(0), total - ran) // micro), total // micro)
    # Whole kopecks, rounded half up once: never more than the unused share.
    assert refund.amount <= unused_share + Fraction(1, 2)
    assert refund.amount <= paid
    assert ledger_check() == []


# --- The confirmation page ---------------------------------------------------------------


def test_refund_page_explains_the_amount_and_offers_card_or_balance(client):
    user = UserFactory()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    with frozen_time(timezone.now()) as clock:
        grant = _buy_plan(user)
        clock.now += 10 * DAY + timedelta(hours=1)
        purchase_freeze(grant=grant, days=7, by=user)
        clock.now += 2 * DAY
        response = client.get(reverse("billing:purchase-refund", args=[grant.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="refund-amount">₽1,881<' in page  # money in the reader's language
    assert 'data-testid="days-used">11<' in page
    assert 'data-testid="days-frozen">2<' in page
    assert "₽99" in page  # the price per day
    assert "₽2,970" in page  # what was paid
    assert 'value="card" checked' in page
    assert 'value="balance"' in page
    assert "onsubmit" not in page
    assert "<script>" not in page.split("</header>")[-1]
    assert not Refund.objects.exists()  # a GET refunds nothing


def test_refund_page_queries_do_not_grow_with_the_plans_courses(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from parta.catalog.tests.factories import CourseFactory

    counts = []
    for courses in (1, 4):
        user = UserFactory()
        client.force_login(user)
        plan = PlanFactory(courses=[CourseFactory() for _ in range(courses)])
        item = PlanItemFactory(plan=plan)
        order = order_create(user=user, item_ids=[item.pk], currency="RUB")
        order_paid(order=order, provider="sandbox", provider_payment_id=f"q{courses}",
                   amount=order.total, currency="RUB")  # fmt: skip
        grant = AccessGrant.objects.filter(user=user).order_by("pk").first()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("billing:purchase-refund", args=[grant.pk]))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_refund_page_in_russian_uses_plural_forms(client):
    user = UserFactory()
    client.force_login(user)
    grant = _buy_plan(user)
    client.cookies["django_language"] = "ru"
    response = client.get(reverse("billing:purchase-refund", args=[grant.pk]))
    page = response.content.decode()
    assert "Возврат" in page
    assert "30 дней" in page
    assert "1 день" in page
    assert "29 дней" in page


def test_confirming_to_the_card_refunds_and_shows_it_in_the_history(client):
    user = UserFactory()
    client.force_login(user)
    grant = _buy_plan(user)

    response = client.post(
        reverse("billing:purchase-refund", args=[grant.pk]), {"to": "card"}, follow=True
    )

    refund = Refund.objects.get()
    assert (refund.destination, refund.status) == ("provider", RefundStatus.SUCCEEDED)
    assert "2\u00a0871\u00a0₽" in response.content.decode()
    lines = list(
        LedgerEntry.objects.filter(account__user=user, kind=EntryKind.REFUND).order_by("id")
    )
    assert [(e.kind, e.amount) for e in lines] == [
        (EntryKind.REFUND, refund.amount),
        (EntryKind.REFUND, -refund.amount),
    ]
    assert "на карту" in lines[1].description  # the school's language
    assert lines[1].balance_after == 0  # the money went to the card, not the balance
    assert ledger_check() == []
    history = client.get(reverse("billing:balance")).content.decode()
    # Both lines of the pair, in the reader's language (Russian here).
    assert f"Возврат: {lines[0].order.lines.get().title}, заказ №{lines[0].order_id}" in history
    assert f"Возврат по заказу №{lines[1].order_id} отправлен на карту" in history


def test_confirming_to_the_balance_puts_it_there(client):
    user = UserFactory()
    client.force_login(user)
    grant = _buy_plan(user)

    client.post(reverse("billing:purchase-refund", args=[grant.pk]), {"to": "balance"})

    entry = LedgerEntry.objects.get(account__user=user, kind=EntryKind.REFUND)
    assert entry.amount == 287100
    assert entry.balance_after == 287100
    assert entry.description == f"Возврат по заказу №{entry.order_id}: использован 1 день из 30"


def test_refund_page_of_someone_elses_grant_is_404(client):
    grant = _buy_plan(UserFactory())
    client.force_login(UserFactory())
    assert client.get(reverse("billing:purchase-refund", args=[grant.pk])).status_code == 404
    assert client.post(reverse("billing:purchase-refund", args=[grant.pk])).status_code == 404


def test_refund_page_after_the_refund_says_so(client):
    user = UserFactory()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    grant = _buy_plan(user)
    refund_grant(grant=grant, requested_by=user, to_balance=True)

    response = client.get(reverse("billing:purchase-refund", args=[grant.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("billing:purchases")
    assert "already" in response.content.decode()


# --- The API ------------------------------------------------------------------------------


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_api_refund_quote_explains_the_amount():
    user = UserFactory()
    with frozen_time(timezone.now()) as clock:
        grant = _buy_plan(user)
        clock.now += 10 * DAY + timedelta(hours=1)
        purchase_freeze(grant=grant, days=7, by=user)
        body = _api(user).get(reverse("api:billing-refund-quote"), {"grant": grant.pk}).json()

    assert body["amount"] == 188100
    assert body["currency"] == "RUB"
    assert (body["paid"], body["days_total"], body["days_used"]) == (297000, 30, 11)
    assert (body["days_frozen"], body["days_left"], body["price_per_day"]) == (0, 19, 9900)
    assert body["destinations"] == ["card", "balance"]
    assert "1\u00a0881\u00a0₽" in body["explanation"]
    assert "2\u00a0970\u00a0₽" in body["explanation"]


def test_api_refund_quote_of_someone_elses_grant_is_404():
    grant = _buy_plan(UserFactory())
    response = _api(UserFactory()).get(reverse("api:billing-refund-quote"), {"grant": grant.pk})
    assert response.status_code == 404


def test_api_refunds_answer_404_alike_for_anything_not_the_callers():
    owner = UserFactory()
    stranger = _api(UserFactory())
    grant = _buy_plan(owner)
    spending = ledger_post(
        user_id=owner.id, currency="RUB", kind=EntryKind.ADJUSTMENT, amount=500,
        reference=f"adjust:{uuid.uuid4()}",
    ).entry  # fmt: skip
    topup = LedgerEntry.objects.create(
        account=spending.account,
        kind=EntryKind.TOPUP,
        amount=100,
        balance_after=600,
        reference="not-a-real-topup",
    )
    url = reverse("api:billing-refunds")
    answers = [
        stranger.post(url, {"grant": grant.pk}, format="json"),
        stranger.post(url, {"grant": 10**9}, format="json"),
        stranger.post(url, {"topup_entry": topup.pk, "amount": 100}, format="json"),
        stranger.post(url, {"topup_entry": spending.pk, "amount": 100}, format="json"),
        stranger.post(url, {"topup_entry": 10**9, "amount": 100}, format="json"),
    ]

    assert [a.status_code for a in answers] == [404] * 5
    assert len({a.json()["code"] for a in answers}) == 1
    assert not Refund.objects.exists()


def test_course_refund_is_explained_as_a_share():
    user = UserFactory()
    item = CourseItemFactory(prices={"RUB": 140000})
    order = order_create(user=user, item_ids=[item.pk], currency="RUB")
    order_paid(
        order=order, provider="sandbox", provider_payment_id="p1", amount=order.total,
        currency="RUB",
    )  # fmt: skip
    grant = AccessGrant.objects.get(user=user)
    body = _api(user).get(reverse("api:billing-refund-quote"), {"grant": grant.pk}).json()
    assert (body["days_total"], body["days_used"], body["amount"]) == (14, 1, 130000)
    assert "в первые 14 дней: использовано 1 день" in body["explanation"]
