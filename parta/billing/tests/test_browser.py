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
