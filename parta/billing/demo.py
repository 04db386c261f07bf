"""Demo shop for `seed_demo`: both demo courses on sale, a 30-day plan with both, and a
welcome coupon. Idempotent."""

from dataclasses import dataclass

from django.db import transaction

from parta.billing.models import Discount, DiscountKind, Item, ItemKind, ItemPrice, Plan
from parta.catalog.models import Course


@dataclass(frozen=True)
class DemoShop:
    course_items: list[Item]
    plan_item: Item
    coupon: Discount


def _price(item: Item, currency: str, amount: int, per_day: int | None = None) -> None:
    ItemPrice.objects.get_or_create(
        item=item, currency=currency, defaults={"amount": amount, "per_day_amount": per_day}
    )


@transaction.atomic
def seed_shop(*, courses: list[Course]) -> DemoShop:
    items = []
    for course in courses:
        item, _ = Item.objects.get_or_create(
            course=course, defaults={"kind": ItemKind.COURSE, "title": course.title}
        )
        _price(item, "RUB", course.price_amount)
        _price(item, "USD", max(100, course.price_amount // 90))
        items.append(item)
    plan, created = Plan.objects.get_or_create(
        slug="ege-30-days",
        defaults={
            "title": "ЕГЭ: 30 дней на оба курса",
            "description": "Оба курса на 30 дней. Можно заморозить до 7 дней.",
            "duration_days": 30,
            "freeze_limit_days": 7,
            "is_published": True,
        },
    )
    if created:
        plan.courses.set(courses)
    plan_item, _ = Item.objects.get_or_create(
        plan=plan, defaults={"kind": ItemKind.PLAN, "title": plan.title}
    )
    _price(plan_item, "RUB", 9900 * plan.duration_days, per_day=9900)
    _price(plan_item, "USD", 110 * plan.duration_days, per_day=110)
    coupon, _ = Discount.objects.get_or_create(
        code="WELCOME10", defaults={"kind": DiscountKind.PERCENT, "percent": 10}
    )
    return DemoShop(course_items=items, plan_item=plan_item, coupon=coupon)
