import factory

from parta.billing.models import Discount, Item, ItemKind, ItemPrice, Plan, TaxRate
from parta.catalog.tests.factories import CourseFactory


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Plan {n}")
    slug = factory.Sequence(lambda n: f"plan-{n}")
    duration_days = 30
    freeze_limit_days = 7
    is_published = True

    @factory.post_generation
    def courses(self, create, extracted, **kwargs):
        if create:
            self.courses.set(extracted if extracted is not None else [CourseFactory()])


class CourseItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item
        skip_postgeneration_save = True

    kind = ItemKind.COURSE
    course = factory.SubFactory(CourseFactory)
    title = factory.LazyAttribute(lambda o: o.course.title)

    @factory.post_generation
    def prices(self, create, extracted, **kwargs):
        if create:
            for currency, amount in (extracted or {"RUB": 199000}).items():
                ItemPrice.objects.create(item=self, currency=currency, amount=amount)


class PlanItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item
        skip_postgeneration_save = True

    kind = ItemKind.PLAN
    plan = factory.SubFactory(PlanFactory)
    title = factory.LazyAttribute(lambda o: o.plan.title)

    @factory.post_generation
    def prices(self, create, extracted, **kwargs):
        """Per-day prices: {"RUB": 10000} is 100.00 a day, 3000.00 for 30 days."""
        if create:
            for currency, per_day in (extracted or {"RUB": 10000}).items():
                ItemPrice.objects.create(
                    item=self,
                    currency=currency,
                    amount=per_day * self.plan.duration_days,
                    per_day_amount=per_day,
                )


class DiscountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Discount

    code = factory.Sequence(lambda n: f"SAVE{n}")
    kind = "percent"
    percent = 10


class TaxRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaxRate

    name = "VAT"
    rate_bp = 2000
    inclusive = False
