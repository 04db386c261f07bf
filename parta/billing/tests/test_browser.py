"""Buying in a real browser through the sandbox checkout."""

import re

import pytest
from playwright.sync_api import Page, expect

from parta.access.models import AccessGrant
from parta.accounts.tests.factories import UserFactory
from parta.billing.models import Order
from parta.billing.tests.factories import CourseItemFactory
from parta.catalog.tests.factories import CourseFactory, LessonFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop():
    course = CourseFactory(title="Физика", slug="physics", price_amount=250000)
    topic = TopicFactory(course=course, title="Механика")
    LessonFactory(topic=topic, title="Законы Ньютона", body="Сила равна массе на ускорение.")
    item = CourseItemFactory(course=course, prices={"RUB": 250000})
    return course, item


@pytest.fixture
def signed_in(page: Page, browser_live_server, client):
    user = UserFactory(email="shopper@example.com")
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies(
        [{"name": "sessionid", "value": cookie.value, "url": browser_live_server.url}]
    )
    return user


def test_buy_pay_and_study(page: Page, browser_live_server, shop, signed_in):
    course, item = shop
    base = browser_live_server.url
    page.goto(f"{base}/courses/physics/")
    expect(page.locator("main")).not_to_contain_text("Законы Ньютона")
    page.get_by_role("link", name=re.compile("Купить")).click()
    expect(page).to_have_url(re.compile(rf"/item/{item.pk}/$"))
    page.get_by_role("button", name="Купить").click()

    expect(page).to_have_url(re.compile(r"/sandbox/checkout/"))
    expect(page.locator("[data-testid=order-total]")).to_have_text("2\u00a0500\u00a0₽")
    page.get_by_role("button", name=re.compile("Оплатить")).click()

    expect(page).to_have_url(re.compile(r"/order/\d+/\?paid=1$"))
    expect(page.locator("main")).to_contain_text("Оплачено")
    page.get_by_role("link", name="Физика").click()
    expect(page.locator("main")).to_contain_text("Законы Ньютона")
    page.get_by_role("link", name=re.compile("Законы Ньютона")).click()
    expect(page.locator("main")).to_contain_text("Сила равна массе на ускорение.")
    assert AccessGrant.objects.filter(user=signed_in, course=course).count() == 1


def test_decline_leaves_no_access(page: Page, browser_live_server, shop, signed_in):
    course, item = shop
    base = browser_live_server.url
    page.goto(f"{base}/item/{item.pk}/")
    page.get_by_label("Купон (необязательно)").fill("NO-SUCH")
    page.get_by_role("button", name="Купить").click()
    expect(page.locator("#coupon-error")).to_contain_text("купона")  # by the field, no redirect
    page.get_by_label("Купон (необязательно)").fill("")
    page.get_by_role("button", name="Купить").click()
    expect(page).to_have_url(re.compile(r"/sandbox/checkout/"))
    page.get_by_role("button", name="Отказаться").click()
    expect(page.locator("main")).to_contain_text("Платёж не прошёл")
    assert not AccessGrant.objects.filter(user=signed_in).exists()
    assert Order.objects.get().status == "failed"
    page.goto(f"{base}/courses/physics/lessons/{course.topics.get().lessons.get().pk}/")
    expect(page.locator("main h1")).to_have_text("Нет доступа")


def test_refund_confirmation_explains_and_refunds_to_the_chosen_place(
    page: Page, browser_live_server, signed_in
):
    """The purchases page's refund leads here: the amount and how it is worked out, a
    choice of card or balance, and a plain form (no script) that refunds."""
    import os
    from datetime import timedelta
    from pathlib import Path

    from parta.billing.models import LedgerEntry, Refund
    from parta.billing.services.freezes import purchase_freeze
    from parta.billing.services.fulfilment import order_paid
    from parta.billing.services.orders import order_create
    from parta.billing.tests.factories import PlanFactory, PlanItemFactory

    plan = PlanFactory(title="Тариф «Месяц»", duration_days=30, freeze_limit_days=7)
    item = PlanItemFactory(plan=plan, prices={"RUB": 9900})
    order = order_create(user=signed_in, item_ids=[item.pk], currency="RUB")
    order_paid(order=order, provider="sandbox", provider_payment_id="p_refund_page",
               amount=order.total, currency="RUB")  # fmt: skip
    grant = AccessGrant.objects.get(user=signed_in)
    # Ten days in, then paused for a week: the pause changes nothing.
    AccessGrant.objects.filter(pk=grant.pk).update(
        starts_at=grant.starts_at - timedelta(days=10, hours=1),
        available_until=grant.available_until - timedelta(days=10, hours=1),
    )
    purchase_freeze(grant=grant, days=7, by=signed_in)
    url = f"{browser_live_server.url}/purchases/{grant.pk}/refund/"
    shots = os.environ.get("PARTA_SHOTS_DIR")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        expect(page.locator("[data-testid=refund-amount]")).to_have_text("1\u00a0881\u00a0₽")
        expect(page.locator("[data-testid=days-used]")).to_have_text("11")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"the page scrolls sideways at {width}px"
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/refund-confirm-{width}.png", full_page=True)
    assert not Refund.objects.exists()

    page.get_by_label(re.compile("баланс")).check()
    page.get_by_role("button", name=re.compile("Вернуть|Возврат")).click()

    expect(page).to_have_url(re.compile(r"/purchases/$"))
    expect(page.locator("main")).to_contain_text("1\u00a0881\u00a0₽")
    refund = Refund.objects.get()
    assert (refund.amount, refund.destination) == (188100, "balance")
    assert LedgerEntry.objects.filter(kind="refund", amount=188100).exists()
