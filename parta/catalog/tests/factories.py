"""Factories for the catalogue. Defaults make a published, priced course and open topics
with a TEXT task answered by "42"; pass fields to change any of it.

    TaskFactory(kind=AnswerKind.SINGLE)                    # two choices, the first correct
    TaskFactory(kind=AnswerKind.MULTIPLE, choices=[("a", True), ("b", True), ("c", False)])
    TaskFactory(kind=AnswerKind.NUMBER, answer_number=Decimal("3.14"), tolerance=Decimal("0.01"))
    TaskFactory(test=TestFactory())                         # the task's topic is the test's
"""

from decimal import Decimal

import factory

from parta.catalog.models import (
    AnswerKind,
    Author,
    Course,
    Lesson,
    SolutionVisibility,
    Task,
    TaskChoice,
    Test,
    Topic,
)


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    name = factory.Sequence(lambda n: f"Author {n}")
    bio = ""


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.Sequence(lambda n: f"course-{n}")
    track = ""
    description = ""
    price_amount = 199000
    price_currency = "RUB"
    is_published = True
    position = factory.Sequence(lambda n: n)

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if create and extracted:
            self.authors.set(extracted)


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Topic {n}")
    description = ""
    position = factory.Sequence(lambda n: n)
    opens_at = None


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    topic = factory.SubFactory(TopicFactory)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    position = factory.Sequence(lambda n: n)
    body = "Lesson text."
    video_url = ""
    is_free_preview = False


class TestFactory(factory.django.DjangoModelFactory):
    __test__ = False  # a factory, not a test class for pytest to collect

    class Meta:
        model = Test

    topic = factory.SubFactory(TopicFactory)
    title = factory.Sequence(lambda n: f"Test {n}")
    description = ""
    position = factory.Sequence(lambda n: n)
    time_limit_minutes = 30


def _default_choices(kind: str) -> list[tuple[str, bool]]:
    if kind == AnswerKind.SINGLE:
        return [("Right", True), ("Wrong", False)]
    if kind == AnswerKind.MULTIPLE:
        return [("Right", True), ("Also right", True), ("Wrong", False)]
    return []


class TaskFactory(factory.django.DjangoModelFactory):
    """`choices` takes (text, is_correct) pairs; single- and multiple-choice tasks get a
    valid default set when it is not given."""

    class Meta:
        model = Task
        skip_postgeneration_save = True

    test = None
    topic = factory.Maybe(
        "test",
        yes_declaration=factory.SelfAttribute("test.topic"),
        no_declaration=factory.SubFactory(TopicFactory),
    )
    title = factory.Sequence(lambda n: f"Task {n}")
    position = factory.Sequence(lambda n: n)
    statement = "What is six times seven?"
    kind = AnswerKind.TEXT
    points = 1
    answer_text = factory.Maybe(
        factory.LazyAttribute(lambda o: o.kind == AnswerKind.TEXT),
        yes_declaration="42",
        no_declaration="",
    )
    answer_number = factory.Maybe(
        factory.LazyAttribute(lambda o: o.kind == AnswerKind.NUMBER),
        yes_declaration=Decimal("42"),
        no_declaration=None,
    )
    tolerance = Decimal("0")
    solution = "Six times seven is 42."
    solution_visibility = SolutionVisibility.AFTER_SOLVED
    solution_after_attempts = 3

    @factory.post_generation
    def choices(self, create, extracted, **kwargs):
        if not create:
            return
        pairs = extracted if extracted is not None else _default_choices(self.kind)
        TaskChoice.objects.bulk_create(
            TaskChoice(task=self, text=text, is_correct=is_correct, position=position)
            for position, (text, is_correct) in enumerate(pairs, start=1)
        )


class TaskChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TaskChoice

    task = factory.SubFactory(TaskFactory, kind=AnswerKind.SINGLE, choices=[])
    text = factory.Sequence(lambda n: f"Choice {n}")
    is_correct = False
    position = factory.Sequence(lambda n: n)
