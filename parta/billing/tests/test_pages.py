"""The buyer's pages as a student meets them in the first hour: the item and order
pages, purchases, the balance, and the menu that leads to them."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from parta.access.models import AccessGrant
from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import UserFactory
from parta.billing.models import EntryKind, LedgerEntry, Order, OrderStatus
from parta.billing.services.ledger import ledger_post
from parta.billing.services.refunds import refund_grant
from parta.billing.tests.factories import CourseItemFactory, PlanFactory, PlanItemFactory
from parta.billing.tests.helpers import buy_json, pay
from parta.catalog.tests.factories import CourseFactory

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"


def _text(response) -> str:
    """The page as words: tags dropped, spaces collapsed (no-break spaces kept)."""
    html = response.content.decode()
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


def _fund(user, amount: int, currency: str = "RUB", key: str = "gift") -> None:
    ledger_post(
        user_id=user.id,
        currency=currency,
        kind=EntryKind.ADJUSTMENT,
        amount=amount,
        reference=f"adjust:{key}-{user.pk}",
        description=f"Исправление сотрудником школы #1: {key}",
    )


def _plan(*titles: str, per_day: int = 9900):
    courses = [CourseFactory(title=title) for title in titles]
    return PlanItemFactory(
        plan=PlanFactory(title="ЕГЭ: 30 дней", courses=courses), prices={"RUB": per_day}
    )


def _buy_plan(client, item) -> Order:
    return pay(client, buy_json(client, item.pk)["url"])


# --- 17: the plan's order page, /purchases/, owning a course for good ------------------


def test_paid_plan_order_page_lists_the_plans_courses(client, buyer):
    item = _plan("Алгебра", "Геометрия")
    order = _buy_plan(client, item)
    text = _text(client.get(reverse("billing:order", args=[order.pk])))
    courses = text.split("Ваши курсы", 1)[1]
    assert "Алгебра" in courses
    assert "Геометрия" in courses


def test_purchases_name_the_plan_order_price_and_dates(client, buyer):
    item = _plan("Алгебра", "Геометрия")
    order = _buy_plan(client, item)
    text = _text(client.get(reverse("billing:purchases")))
    assert text.count("ЕГЭ: 30 дней") == 1  # one purchase, not one card per course
    assert "Алгебра" in text
    assert "Геометрия" in text
    assert f"№{order.pk}" in text
    assert f"2{NBSP}970{NBSP}₽" in text  # the price paid
    grant = AccessGrant.objects.filter(user=buyer).first()
    start = grant.starts_at.astimezone(timezone.get_current_timezone())
    end = grant.available_until.astimezone(timezone.get_current_timezone())
    with translation.override("ru"):
        from django.utils.formats import date_format

        span = f"с {date_format(start, 'j E Y')} по {date_format(end, 'j E Y')}"
    assert span in text


def test_plan_with_a_course_owned_for_good_warns_on_the_item_and_order_pages(client, buyer):
    item = _plan("Алгебра", "Геометрия")
    algebra = item.plan.courses.get(title="Алгебра")
    AccessGrantFactory(user=buyer, course=algebra)  # open-ended
    text = _text(client.get(reverse("billing:item", args=[item.pk])))
    assert "У вас уже есть навсегда: Алгебра" in text
    body = buy_json(client, item.pk)
    text = _text(client.get(reverse("billing:order", args=[body["order_id"]])))
    assert "У вас уже есть навсегда: Алгебра" in text
    # A plan of courses the buyer does not own says nothing of the kind.
    other = _plan("Физика")
    assert "навсегда:" not in _text(client.get(reverse("billing:item", args=[other.pk])))


# --- 19: money in messages is money ---------------------------------------------------


def test_too_large_a_topup_refund_names_the_limit_in_money_not_kopecks(client, buyer):
    response = client.post(reverse("billing:balance-topup"), {"amount": "1000", "currency": "RUB"})
    pay(client, response["Location"])
    entry = LedgerEntry.objects.get(kind=EntryKind.TOPUP)
    response = client.post(
        reverse("billing:topup-refund", args=[entry.pk]), {"amount": "2000"}, follow=True
    )
    text = " ".join(str(m) for m in response.context["messages"])
    assert f"не больше 1{NBSP}000{NBSP}₽" in text  # was "не больше 100000"
    assert "100000" not in text


# --- 20: the menu, the profile, query counts -----------------------------------------


def test_every_page_menu_leads_to_purchases_and_balance(client, buyer):
    for url in (reverse("home"), reverse("learning:catalogue"), reverse("accounts:profile")):
        html = client.get(url).content.decode()
        assert f'href="{reverse("billing:purchases")}"' in html
        assert f'href="{reverse("billing:balance")}"' in html


def test_profile_links_purchases_balance_and_loads_my_courses(client, buyer):
    html = client.get(reverse("accounts:profile")).content.decode()
    main = html.split('id="content"', 1)[1]
    assert reverse("billing:purchases") in main
    assert reverse("billing:balance") in main
    assert reverse("learning:my-courses") in main


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _more_purchases(client, user, n: int) -> None:
    for _ in range(n):
        pay(client, buy_json(client, CourseItemFactory().pk)["url"])
        pay(client, buy_json(client, _plan("A", "B").pk)["url"])


@pytest.mark.parametrize("name", ["billing:purchases", "billing:balance"])
def test_purchases_and_balance_queries_do_not_grow(client, buyer, name):
    _more_purchases(client, buyer, 1)
    few = _count_queries(client, reverse(name))
    _more_purchases(client, buyer, 3)
    assert _count_queries(client, reverse(name)) == few


# --- 21: paying from the balance -------------------------------------------------------


def test_item_page_offers_the_balance_when_it_covers_the_price_and_pays_with_it(client, buyer):
    item = CourseItemFactory(prices={"RUB": 150000})
    _fund(buyer, 100000, key="small")
    assert (
        'data-testid="pay-from-balance"'
        not in client.get(reverse("billing:item", args=[item.pk])).content.decode()
    )
    _fund(buyer, 60000, key="more")
    html = client.get(reverse("billing:item", args=[item.pk])).content.decode()
    assert 'data-testid="pay-from-balance"' in html
    response = client.post(
        reverse("billing:item-pay-from-balance", args=[item.pk]), {"pay_currency": "RUB"}
    )
    order = Order.objects.get(user=buyer)
    assert response["Location"] == reverse("billing:order", args=[order.pk])
    assert order.status == OrderStatus.PAID
    assert order.provider == "balance"
    assert AccessGrant.objects.filter(user=buyer, course=item.course, is_active=True).exists()


def test_pending_order_page_offers_the_balance_beside_the_card(client, buyer):
    item = CourseItemFactory(prices={"RUB": 150000})
    _fund(buyer, 200000)
    body = buy_json(client, item.pk)
    html = client.get(reverse("billing:order", args=[body["order_id"]])).content.decode()
    assert 'data-testid="pay-from-balance"' in html
    assert body["url"] in html  # the card checkout beside it


# --- 22: refund is a link to the confirmation page ----------------------------------------


def test_purchases_refund_is_a_link_to_the_confirmation_page(client, buyer):
    item = CourseItemFactory(prices={"RUB": 150000})
    pay(client, buy_json(client, item.pk)["url"])
    grant = AccessGrant.objects.get(user=buyer)
    html = client.get(reverse("billing:purchases")).content.decode()
    url = reverse("billing:purchase-refund", args=[grant.pk])
    assert f'<a class="btn btn-outline" href="{url}">' in html
    assert f'action="{url}"' not in html


# --- 25: labels -------------------------------------------------------------------------


def _unlabelled_inputs(html: str) -> list[str]:
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
    missing = []
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        if 'type="hidden"' in tag:
            continue  # every other field has a <label> (an aria-label alone is not enough)
        found = re.search(r'\bid="([^"]+)"', tag)
        if not found or found.group(1) not in labelled:
            missing.append(tag)
    return missing


def test_every_input_on_the_shop_pages_has_a_label(client, buyer):
    item = CourseItemFactory(prices={"RUB": 100000, "USD": 1500})
    response = client.post(reverse("billing:balance-topup"), {"amount": "3000", "currency": "RUB"})
    pay(client, response["Location"])
    plan = _plan("Алгебра")
    _buy_plan(client, plan)
    for url in (
        reverse("billing:balance"),
        reverse("billing:purchases"),
        reverse("billing:item", args=[item.pk]),
    ):
        html = client.get(url).content.decode().split('id="content"', 1)[1]
        html = html.split("<footer", 1)[0]
        assert _unlabelled_inputs(html) == [], url


# --- 26: words people say -----------------------------------------------------------------


def test_a_refund_reads_as_a_sentence_and_the_plan_is_badged_refunded(
    client, buyer, django_capture_on_commit_callbacks
):
    item = _plan("Алгебра", per_day=10000)
    _buy_plan(client, item)
    grant = AccessGrant.objects.filter(user=buyer).first()
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_grant(grant=grant, requested_by=buyer)
    assert refund.amount == 290000
    text = _text(client.get(reverse("billing:purchases")))
    assert f"Возвращено 2{NBSP}900{NBSP}₽ на карту" in text
    assert "возвращён" in text
    assert "закончился" not in text
    assert ": Возвращено" not in text


def test_balance_history_is_in_the_readers_language_whatever_was_stored(client, buyer):
    item = CourseItemFactory(title="Алгебра", prices={"RUB": 150000})
    with translation.override("ru"):  # stored in Russian, as a Russian page would have
        _fund(buyer, 200000, key="подарок")
        pay(client, buy_json(client, item.pk)["url"])
    client.cookies["django_language"] = "en"
    text = _text(client.get(reverse("billing:balance")))
    assert "Paid for Алгебра, order #" in text
    assert "Paid by card, order #" in text
    assert "Correction by staff: подарок" in text
    assert "Исправление" not in text
    assert "заказ" not in text.lower()
    assert "₽2,000" in text  # the English money format too
    client.cookies["django_language"] = "ru"
    text = _text(client.get(reverse("billing:balance")))
    assert "Оплата: Алгебра, заказ №" in text


def test_api_history_is_in_the_callers_language_whatever_was_stored(client, buyer):
    item = CourseItemFactory(title="Алгебра", prices={"RUB": 150000})
    with translation.override("ru"):
        _fund(buyer, 200000, key="подарок")
        pay(client, buy_json(client, item.pk)["url"])
    english = client.get("/api/v1/billing/balance/", HTTP_ACCEPT_LANGUAGE="en").json()
    lines = [entry["description"] for entry in english["history"]]
    assert any(line.startswith("Paid for Алгебра, order #") for line in lines)
    assert "Correction by staff: подарок" in lines
    assert not any("заказ" in line for line in lines)


# --- 27: a declined order can be tried again ----------------------------------------------


def test_declined_order_offers_try_again_which_opens_a_fresh_checkout(client, buyer):
    item = CourseItemFactory(prices={"RUB": 150000})
    order = pay(client, buy_json(client, item.pk)["url"], action="decline")
    assert order.status == OrderStatus.FAILED
    html = client.get(reverse("billing:order", args=[order.pk])).content.decode()
    retry = reverse("billing:order-retry", args=[order.pk])
    assert f'action="{retry}"' in html
    assert "Попробовать ещё раз" in html
    response = client.post(retry)
    assert "/sandbox/checkout/" in response["Location"]
    paid = pay(client, response["Location"])
    assert paid.pk != order.pk
    assert paid.status == OrderStatus.PAID


def test_someone_elses_order_cannot_be_retried(client, buyer):
    other = UserFactory()
    client.force_login(other)
    item = CourseItemFactory()
    order = pay(client, buy_json(client, item.pk)["url"], action="decline")
    client.force_login(buyer)
    assert client.post(reverse("billing:order-retry", args=[order.pk])).status_code == 404


def test_wrong_coupon_is_an_error_next_to_the_coupon_field(client, buyer):
    item = CourseItemFactory()
    html = client.get(reverse("billing:item", args=[item.pk])).content.decode()
    field = html.split('id="coupon"', 1)[1]
    # The coupon's error box comes right after the field, before the Buy button.
    assert field.index('id="coupon-error"') < field.index('id="buy-button"')
    assert buy_json(client, item.pk, coupon="NOPE")["errors"]["coupon"]


def test_expired_pending_order_without_checkout_offers_try_again(client, buyer):
    item = CourseItemFactory()
    body = buy_json(client, item.pk)
    Order.objects.filter(pk=body["order_id"]).update(
        checkout_expires_at=timezone.now() - timedelta(minutes=1)
    )
    html = client.get(reverse("billing:order", args=[body["order_id"]])).content.decode()
    assert reverse("billing:order-retry", args=[body["order_id"]]) in html


def test_too_large_a_topup_names_the_limit_in_money(client, buyer):
    response = client.post(
        reverse("billing:balance-topup"), {"amount": "2000000", "currency": "RUB"}, follow=True
    )
    text = " ".join(str(m) for m in response.context["messages"])
    assert f"не больше чем на 1{NBSP}000{NBSP}000{NBSP}₽" in text
