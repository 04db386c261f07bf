from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from parta.catalog import services
from parta.catalog.models import (
    AnswerKind,
    Course,
    Lesson,
    SolutionVisibility,
    Task,
    TaskChoice,
    Topic,
)
from parta.catalog.models import Test as CatalogTest
from parta.catalog.services import ChoiceInput
from parta.catalog.tests.factories import (
    AuthorFactory,
    CourseFactory,
    TaskFactory,
    TestFactory,
    TopicFactory,
)
from parta.common.errors import ValidationFailed

pytestmark = pytest.mark.django_db

MP4_BYTES = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def mp4(name="lesson.mp4"):
    return SimpleUploadedFile(name, MP4_BYTES, content_type="video/mp4")


def png(name="cover.png"):
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def stored(field_file) -> bool:
    return bool(field_file.name) and field_file.storage.exists(field_file.name)


def course_kwargs(**overrides):
    return {
        "title": "Algebra",
        "slug": "algebra",
        "track": "80+",
        "description": "About **algebra**.",
        "price_amount": 199000,
        "price_currency": "RUB",
        "is_published": False,
        **overrides,
    }


def task_kwargs(task: Task, **overrides):
    """Every field task_update takes, as the task has it now."""
    return {
        "title": task.title,
        "statement": task.statement,
        "kind": task.kind,
        "points": task.points,
        "test": task.test,
        "answer_text": task.answer_text,
        "answer_number": task.answer_number,
        "tolerance": task.tolerance,
        "solution": task.solution,
        "solution_visibility": task.solution_visibility,
        "solution_after_attempts": task.solution_after_attempts,
        "position": task.position,
        "choices": [
            ChoiceInput(text=c.text, is_correct=c.is_correct, id=c.pk) for c in task.choices.all()
        ],
        **overrides,
    }


# -- courses ---------------------------------------------------------------------------


def test_course_create_saves_fields_authors_cover_and_goes_last():
    CourseFactory(position=7)
    author = AuthorFactory()
    course = services.course_create(**course_kwargs(), authors=[author], cover=png())
    course.refresh_from_db()
    assert (course.title, course.slug, course.track) == ("Algebra", "algebra", "80+")
    assert course.price_amount == 199000
    assert course.price.format("ru") == "1\u00a0990\u00a0₽"
    assert course.position == 8
    assert list(course.authors.all()) == [author]
    assert stored(course.cover)
    assert course.cover.name.startswith("courses/covers/")


def test_course_slug_taken_is_a_clear_error_and_nothing_is_saved():
    CourseFactory(slug="algebra")
    with pytest.raises(ValidationFailed) as caught:
        services.course_create(**course_kwargs(), cover=png())
    assert caught.value.errors == {
        "slug": ["A course with this address already exists. Choose another one."]
    }
    assert Course.objects.filter(slug="algebra").count() == 1
    # The transaction stayed usable after the failed insert.
    assert Course.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "  "}, "title", "This field cannot be empty."),
        ({"slug": "алгебра"}, "slug", "Use only Latin letters"),
        ({"slug": ""}, "slug", "This field cannot be empty."),
        ({"price_amount": -1}, "price_amount", "The price cannot be negative."),
        ({"price_amount": 1990.0}, "price_amount", "whole number of minor units"),
        ({"price_amount": Decimal("1990")}, "price_amount", "whole number of minor units"),
        ({"price_amount": True}, "price_amount", "whole number of minor units"),
        ({"price_currency": "XYZ"}, "price_currency", "Unknown currency XYZ."),
        ({"track": "x" * 33}, "track", "Too long: at most 32 characters."),
        ({"position": -1}, "position", "Enter a number from 0"),
    ],
)
def test_course_create_rejects_bad_input(overrides, field, message):
    with pytest.raises(ValidationFailed) as caught:
        services.course_create(**course_kwargs(**overrides))
    assert message in caught.value.errors[field][0]
    assert not Course.objects.exists()


def test_course_create_reports_every_problem_at_once():
    with pytest.raises(ValidationFailed) as caught:
        services.course_create(**course_kwargs(title="", slug="", price_amount=-5))
    assert set(caught.value.errors) == {"title", "slug", "price_amount"}


def test_course_cover_of_wrong_type_is_refused():
    fake = SimpleUploadedFile("cover.png", b"MZ\x90\x00 not an image")
    with pytest.raises(ValidationFailed) as caught:
        services.course_create(**course_kwargs(), cover=fake)
    assert caught.value.errors["cover"] == ["The file is not a png image."]
    assert not Course.objects.exists()


def test_course_update_changes_fields_and_replaces_the_cover(
    django_capture_on_commit_callbacks,
):
    course = services.course_create(**course_kwargs(), cover=png("old.png"))
    old_cover = course.cover.name
    with django_capture_on_commit_callbacks(execute=True):
        services.course_update(
            course=course,
            **course_kwargs(title="Algebra 2", slug="algebra-2", price_amount=0),
            position=3,
            authors=[],
            cover=png("new.png"),
        )
    course.refresh_from_db()
    assert (course.title, course.slug, course.price_amount, course.position) == (
        "Algebra 2",
        "algebra-2",
        0,
        3,
    )
    assert stored(course.cover)
    assert course.cover.name != old_cover
    assert not course.cover.storage.exists(old_cover)


def test_course_update_remove_cover(django_capture_on_commit_callbacks):
    course = services.course_create(**course_kwargs(), cover=png())
    name = course.cover.name
    with django_capture_on_commit_callbacks(execute=True):
        services.course_update(
            course=course, **course_kwargs(), position=course.position, remove_cover=True
        )
    course.refresh_from_db()
    assert not course.cover
    assert not course.cover.storage.exists(name)


def test_course_update_to_a_taken_slug_changes_nothing():
    CourseFactory(slug="taken")
    course = CourseFactory(slug="mine", title="Mine")
    with pytest.raises(ValidationFailed) as caught:
        services.course_update(
            course=course, **course_kwargs(title="Changed", slug="taken"), position=0
        )
    assert "already exists" in caught.value.errors["slug"][0]
    assert (course.slug, course.title) == ("mine", "Mine")
    course.refresh_from_db()
    assert (course.slug, course.title) == ("mine", "Mine")


# -- topics ----------------------------------------------------------------------------


def test_topic_create_goes_last_and_keeps_opening_date():
    course = CourseFactory()
    TopicFactory(course=course, position=4)
    opens_at = timezone.now().replace(microsecond=0)
    topic = services.topic_create(course=course, title=" Fractions ", opens_at=opens_at)
    assert (topic.title, topic.position, topic.opens_at) == ("Fractions", 5, opens_at)
    assert not topic.is_open(at=opens_at - timezone.timedelta(seconds=1))


def test_topic_with_naive_opening_date_is_refused():
    course = CourseFactory()
    with pytest.raises(ValidationFailed) as caught:
        services.topic_create(course=course, title="T", opens_at=datetime(2030, 1, 1, 9, 0))
    assert "opens_at" in caught.value.errors
    assert not Topic.objects.exists()


def test_topic_update_and_bad_update_changes_nothing():
    topic = TopicFactory(title="Old")
    services.topic_update(topic=topic, title="New", description="D", opens_at=None, position=2)
    topic.refresh_from_db()
    assert (topic.title, topic.description, topic.position) == ("New", "D", 2)
    with pytest.raises(ValidationFailed):
        services.topic_update(topic=topic, title="", description="", opens_at=None, position=2)
    topic.refresh_from_db()
    assert topic.title == "New"


def test_topic_delete_takes_its_content_and_lesson_videos(django_capture_on_commit_callbacks):
    topic = TopicFactory()
    lesson = services.lesson_create(topic=topic, title="With video", video=mp4())
    TaskFactory(test=TestFactory(topic=topic))
    TaskFactory(topic=topic)
    other_task = TaskFactory()
    video_name = lesson.video.name
    with django_capture_on_commit_callbacks(execute=True):
        services.topic_delete(topic=topic)
    assert not Topic.objects.filter(pk=topic.pk).exists()
    assert not Lesson.objects.exists()
    assert not CatalogTest.objects.exists()
    assert list(Task.objects.all()) == [other_task]
    assert not lesson.video.storage.exists(video_name)


# -- lessons ---------------------------------------------------------------------------


def test_lesson_create_with_video_stores_it_under_media_root(settings):
    topic = TopicFactory()
    lesson = services.lesson_create(topic=topic, title="Intro", body="Text", video=mp4())
    lesson.refresh_from_db()
    assert lesson.video.name.startswith("lessons/videos/")
    path = Path(settings.MEDIA_ROOT) / lesson.video.name
    assert path.read_bytes() == MP4_BYTES
    assert lesson.position == 1


def test_lesson_create_with_external_link():
    lesson = services.lesson_create(
        topic=TopicFactory(), title="Intro", video_url=" https://example.com/v/1 "
    )
    assert lesson.video_url == "https://example.com/v/1"
    assert not lesson.video


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"title": ""}, "title", "This field cannot be empty."),
        ({"video_url": "javascript:alert(1)"}, "video_url", "Enter a full link"),
        ({"video_url": "ftp://example.com/v.mp4"}, "video_url", "Enter a full link"),
        (
            {"video": "mp4", "video_url": "https://example.com/v"},
            "video_url",
            "either a video file or an external link",
        ),
        (
            {"video": SimpleUploadedFile("setup.exe", b"MZ\x90\x00")},
            "video",
            "This file type is not accepted for a video.",
        ),
        (
            {"video": SimpleUploadedFile("clip.mp4", b"<html>not a video</html>")},
            "video",
            "The file is not a mp4 video.",
        ),
    ],
)
def test_lesson_create_rejects_bad_input(kwargs, field, message):
    if kwargs.get("video") == "mp4":
        kwargs["video"] = mp4()
    arguments = {"topic": TopicFactory(), "title": "Lesson", **kwargs}
    with pytest.raises(ValidationFailed) as caught:
        services.lesson_create(**arguments)
    assert message in caught.value.errors[field][0]
    assert not Lesson.objects.exists()


def test_oversized_video_is_refused(settings):
    settings.PARTA_MAX_VIDEO_MB = Decimal("0.00001")  # about ten bytes
    with pytest.raises(ValidationFailed) as caught:
        services.lesson_create(topic=TopicFactory(), title="Big", video=mp4())
    assert "The file is too large" in caught.value.errors["video"][0]
    assert not Lesson.objects.exists()


def test_lesson_update_replaces_and_removes_video(django_capture_on_commit_callbacks):
    lesson = services.lesson_create(topic=TopicFactory(), title="L", video=mp4("one.mp4"))
    first = lesson.video.name
    common = {"title": "L2", "body": "", "video_url": "", "is_free_preview": True}
    with django_capture_on_commit_callbacks(execute=True):
        services.lesson_update(lesson=lesson, **common, position=1, video=mp4("two.mp4"))
    lesson.refresh_from_db()
    second = lesson.video.name
    assert (lesson.title, lesson.is_free_preview) == ("L2", True)
    assert stored(lesson.video)
    assert not lesson.video.storage.exists(first)

    with django_capture_on_commit_callbacks(execute=True):
        services.lesson_update(
            lesson=lesson,
            **{**common, "video_url": "https://example.com/v"},
            position=1,
            remove_video=True,
        )
    lesson.refresh_from_db()
    assert not lesson.video
    assert lesson.video_url == "https://example.com/v"
    assert not lesson.video.storage.exists(second)


def test_lesson_update_with_link_while_keeping_the_file_is_refused():
    lesson = services.lesson_create(topic=TopicFactory(), title="L", video=mp4())
    with pytest.raises(ValidationFailed) as caught:
        services.lesson_update(
            lesson=lesson,
            title="L",
            body="",
            video_url="https://example.com/v",
            is_free_preview=False,
            position=1,
        )
    assert "video_url" in caught.value.errors
    lesson.refresh_from_db()
    assert lesson.video_url == ""
    assert stored(lesson.video)


def test_lesson_delete_removes_its_video(django_capture_on_commit_callbacks):
    lesson = services.lesson_create(topic=TopicFactory(), title="L", video=mp4())
    name = lesson.video.name
    with django_capture_on_commit_callbacks(execute=True):
        services.lesson_delete(lesson=lesson)
    assert not Lesson.objects.exists()
    assert not lesson.video.storage.exists(name)


# -- tasks -----------------------------------------------------------------------------


def test_text_task_keeps_accepted_lines_only():
    topic = TopicFactory()
    task = services.task_create(
        topic=topic,
        title="Six times seven",
        statement="6 × 7 = ?",
        kind=AnswerKind.TEXT,
        answer_text=" 42 \n\n forty-two \n",
        answer_number=Decimal("1"),
        choices=[ChoiceInput("stray", True)],
    )
    task.refresh_from_db()
    assert task.answer_text == "42\nforty-two"
    # Fields of other kinds are not kept.
    assert task.answer_number is None
    assert not task.choices.exists()
    assert task.solution_visibility == SolutionVisibility.AFTER_SOLVED


def test_number_task():
    task = services.task_create(
        topic=TopicFactory(),
        title="Pi",
        statement="π to two places",
        kind=AnswerKind.NUMBER,
        answer_number=Decimal("3.14"),
        tolerance=Decimal("0.005"),
        answer_text="ignored",
    )
    task.refresh_from_db()
    assert (task.answer_number, task.tolerance, task.answer_text) == (
        Decimal("3.14"),
        Decimal("0.005"),
        "",
    )


def test_single_choice_task_in_a_test_of_its_topic():
    test = TestFactory()
    task = services.task_create(
        topic=test.topic,
        test=test,
        title="Capital",
        statement="The capital of France?",
        kind=AnswerKind.SINGLE,
        points=2,
        choices=[ChoiceInput("Paris", True), ChoiceInput(" Lyon "), ChoiceInput("Nice")],
        solution_visibility=SolutionVisibility.AFTER_ATTEMPTS,
        solution_after_attempts=1,
    )
    assert task.test == test
    assert list(task.choices.values_list("text", "is_correct", "position")) == [
        ("Paris", True, 1),
        ("Lyon", False, 2),
        ("Nice", False, 3),
    ]


def test_multiple_choice_task():
    task = services.task_create(
        topic=TopicFactory(),
        title="Primes",
        statement="Which are prime?",
        kind=AnswerKind.MULTIPLE,
        choices=[ChoiceInput("2", True), ChoiceInput("3", True), ChoiceInput("4")],
    )
    assert task.choices.filter(is_correct=True).count() == 2


TWO_GOOD = [ChoiceInput("a", True), ChoiceInput("b")]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "This field cannot be empty."),
        ({"statement": " "}, "statement", "This field cannot be empty."),
        ({"kind": "essay"}, "kind", "Choose an answer kind."),
        ({"points": -1}, "points", "Enter a number from 0"),
        ({"kind": AnswerKind.TEXT, "answer_text": " \n "}, "answer_text", "at least one"),
        ({"kind": AnswerKind.NUMBER}, "answer_number", "A numeric task needs its answer."),
        (
            {"kind": AnswerKind.NUMBER, "answer_number": Decimal(1), "tolerance": Decimal(-1)},
            "tolerance",
            "The tolerance cannot be negative.",
        ),
        (
            {"kind": AnswerKind.NUMBER, "answer_number": Decimal("0.1234567")},
            "answer_number",
            "6 decimal places",
        ),
        (
            {"kind": AnswerKind.SINGLE, "choices": [ChoiceInput("a", True)]},
            "choices",
            "Give at least two choices.",
        ),
        (
            {
                "kind": AnswerKind.SINGLE,
                "choices": [ChoiceInput("a", True), ChoiceInput("b", True)],
            },
            "choices",
            "Mark exactly one choice as correct.",
        ),
        (
            {"kind": AnswerKind.SINGLE, "choices": [ChoiceInput("a"), ChoiceInput("b")]},
            "choices",
            "Mark exactly one choice as correct.",
        ),
        (
            {"kind": AnswerKind.MULTIPLE, "choices": [ChoiceInput("a"), ChoiceInput("b")]},
            "choices",
            "Mark at least one choice as correct.",
        ),
        (
            {"kind": AnswerKind.MULTIPLE, "choices": [ChoiceInput("a", True)]},
            "choices",
            "Give at least two choices.",
        ),
        (
            {"kind": AnswerKind.SINGLE, "choices": [*TWO_GOOD, ChoiceInput(" a ")]},
            "choices",
            "Two choices have the same text.",
        ),
        (
            {"kind": AnswerKind.SINGLE, "choices": [*TWO_GOOD, ChoiceInput("  ")]},
            "choices",
            "A choice cannot be empty.",
        ),
        (
            {
                "solution_visibility": SolutionVisibility.AFTER_ATTEMPTS,
                "solution_after_attempts": 0,
            },
            "solution_after_attempts",
            "Set at least 1 attempt before the solution is shown.",
        ),
        ({"solution_visibility": "sometimes"}, "solution_visibility", "Choose when"),
    ],
)
def test_task_create_rejects_bad_input(overrides, field, message):
    arguments = {
        "topic": TopicFactory(),
        "title": "Task",
        "statement": "Statement",
        "kind": AnswerKind.TEXT,
        "answer_text": "42",
        **overrides,
    }
    with pytest.raises(ValidationFailed) as caught:
        services.task_create(**arguments)
    assert message in " ".join(caught.value.errors[field])
    assert not Task.objects.exists()
    assert not TaskChoice.objects.exists()


def test_task_test_must_belong_to_the_same_topic():
    foreign_test = TestFactory()
    with pytest.raises(ValidationFailed) as caught:
        services.task_create(
            topic=TopicFactory(),
            test=foreign_test,
            title="T",
            statement="S",
            kind=AnswerKind.TEXT,
            answer_text="1",
        )
    assert caught.value.errors["test"] == ["This test belongs to another topic."]
    assert not Task.objects.exists()


def test_task_update_keeps_named_choices_adds_and_drops_others():
    task = TaskFactory(kind=AnswerKind.SINGLE, choices=[("A", True), ("B", False), ("C", False)])
    a, b, c = task.choices.all()
    services.task_update(
        task=task,
        **task_kwargs(
            task,
            title="Renamed",
            choices=[
                ChoiceInput("B fixed", True, id=b.pk),
                ChoiceInput("A", False, id=a.pk),
                ChoiceInput("D"),
            ],
        ),
    )
    task.refresh_from_db()
    assert task.title == "Renamed"
    rows = list(task.choices.values_list("pk", "text", "is_correct", "position"))
    assert rows[:2] == [(b.pk, "B fixed", True, 1), (a.pk, "A", False, 2)]
    assert rows[2][1:] == ("D", False, 3)
    assert rows[2][0] not in {a.pk, b.pk, c.pk}
    assert not TaskChoice.objects.filter(pk=c.pk).exists()


def test_task_update_with_invalid_choices_leaves_everything_as_it_was():
    task = TaskFactory(kind=AnswerKind.SINGLE, title="Kept", choices=[("A", True), ("B", False)])
    before = list(task.choices.values_list("pk", "text", "is_correct", "position"))
    with pytest.raises(ValidationFailed) as caught:
        services.task_update(
            task=task,
            **task_kwargs(
                task,
                title="Changed",
                choices=[ChoiceInput("X", True), ChoiceInput("Y", True), ChoiceInput("Z")],
            ),
        )
    assert caught.value.errors["choices"] == ["Mark exactly one choice as correct."]
    task.refresh_from_db()
    assert task.title == "Kept"
    assert list(task.choices.values_list("pk", "text", "is_correct", "position")) == before


def test_task_update_does_not_take_another_tasks_choice():
    other = TaskFactory(kind=AnswerKind.SINGLE)
    stolen = other.choices.first()
    task = TaskFactory(kind=AnswerKind.SINGLE)
    services.task_update(
        task=task,
        **task_kwargs(
            task, choices=[ChoiceInput("Mine", True, id=stolen.pk), ChoiceInput("Other")]
        ),
    )
    stolen.refresh_from_db()
    assert stolen.task == other
    assert stolen.text == "Right"
    assert set(task.choices.values_list("text", flat=True)) == {"Mine", "Other"}


def test_task_switched_to_number_drops_choices():
    task = TaskFactory(kind=AnswerKind.MULTIPLE)
    services.task_update(
        task=task,
        **task_kwargs(task, kind=AnswerKind.NUMBER, answer_number=Decimal("2.5"), choices=[]),
    )
    task.refresh_from_db()
    assert task.kind == AnswerKind.NUMBER
    assert not task.choices.exists()


def test_task_delete():
    task = TaskFactory(kind=AnswerKind.SINGLE)
    services.task_delete(task=task)
    assert not Task.objects.exists()
    assert not TaskChoice.objects.exists()


# -- tests -----------------------------------------------------------------------------


def test_test_create_update_delete():
    topic = TopicFactory()
    test = services.test_create(topic=topic, title="Final", time_limit_minutes=45)
    assert (test.title, test.time_limit_minutes, test.position) == ("Final", 45, 1)
    services.test_update(
        test=test, title="Final exam", description="All of it", time_limit_minutes=90, position=3
    )
    test.refresh_from_db()
    assert (test.title, test.description, test.time_limit_minutes, test.position) == (
        "Final exam",
        "All of it",
        90,
        3,
    )
    TaskFactory(test=test)
    services.test_delete(test=test)
    assert not CatalogTest.objects.exists()
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"title": ""}, "title"), ({"time_limit_minutes": 0}, "time_limit_minutes")],
)
def test_test_create_rejects_bad_input(overrides, field):
    with pytest.raises(ValidationFailed) as caught:
        services.test_create(
            **{"topic": TopicFactory(), "title": "T", "time_limit_minutes": 30, **overrides}
        )
    assert field in caught.value.errors
    assert not CatalogTest.objects.exists()


def test_test_update_with_bad_time_limit_changes_nothing():
    test = TestFactory(title="Kept", time_limit_minutes=30)
    with pytest.raises(ValidationFailed):
        services.test_update(
            test=test, title="Changed", description="", time_limit_minutes=-5, position=1
        )
    test.refresh_from_db()
    assert (test.title, test.time_limit_minutes) == ("Kept", 30)
