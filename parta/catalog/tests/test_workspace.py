from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.catalog.models import AnswerKind, Course, Lesson, Task, TaskChoice, Topic
from parta.catalog.models import Test as CatalogTest
from parta.catalog.tests.factories import (
    AuthorFactory,
    CourseFactory,
    LessonFactory,
    TaskFactory,
    TestFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db

MP4_BYTES = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64


def in_english(client):
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def moderator_client(client):
    client.force_login(ModeratorFactory())
    return in_english(client)


@pytest.fixture
def catalogue():
    """One of everything, for the pages that need an object."""
    topic = TopicFactory()
    test = TestFactory(topic=topic)
    return {
        "course": topic.course,
        "topic": topic,
        "lesson": LessonFactory(topic=topic),
        "task": TaskFactory(topic=topic, kind=AnswerKind.SINGLE),
        "test": test,
    }


PAGES = [
    ("catalog:workspace", None),
    ("catalog:workspace-course-new", None),
    ("catalog:workspace-course", "course"),
    ("catalog:workspace-course-edit", "course"),
    ("catalog:workspace-topic-new", "course"),
    ("catalog:workspace-topic", "topic"),
    ("catalog:workspace-topic-delete", "topic"),
    ("catalog:workspace-lesson-new", "topic"),
    ("catalog:workspace-lesson", "lesson"),
    ("catalog:workspace-lesson-delete", "lesson"),
    ("catalog:workspace-task-new", "topic"),
    ("catalog:workspace-task", "task"),
    ("catalog:workspace-task-delete", "task"),
    ("catalog:workspace-test-new", "topic"),
    ("catalog:workspace-test", "test"),
    ("catalog:workspace-test-delete", "test"),
]


def page_url(catalogue, name, key):
    return reverse(name, args=[catalogue[key].pk] if key else [])


# -- who may use the workspace ---------------------------------------------------------


@pytest.mark.parametrize(("name", "key"), PAGES)
def test_anonymous_visitor_is_sent_to_sign_in(client, catalogue, name, key):
    url = page_url(catalogue, name, key)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(django_settings.LOGIN_URL))
    assert client.post(url).status_code == 403


@pytest.mark.parametrize(("name", "key"), PAGES)
def test_student_gets_403(client, catalogue, name, key):
    client.force_login(UserFactory())
    url = page_url(catalogue, name, key)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403


@pytest.mark.parametrize("user_factory", [ModeratorFactory, StaffFactory])
@pytest.mark.parametrize(("name", "key"), PAGES)
def test_moderator_and_staff_open_every_page(client, catalogue, name, key, user_factory):
    client.force_login(user_factory())
    assert client.get(page_url(catalogue, name, key)).status_code == 200


def test_student_cannot_delete(client, catalogue):
    client.force_login(UserFactory())
    response = client.post(reverse("catalog:workspace-topic-delete", args=[catalogue["topic"].pk]))
    assert response.status_code == 403
    assert Topic.objects.filter(pk=catalogue["topic"].pk).exists()


def test_workspace_index_lists_every_course(moderator_client, django_assert_num_queries):
    CourseFactory(title="Published one")
    CourseFactory(title="Draft one", is_published=False)
    # Session, user, courses with their topic counts, the header's unread count and its
    # inbox count.
    with django_assert_num_queries(5):
        html = moderator_client.get(reverse("catalog:workspace")).content.decode()
    assert "Published one" in html
    assert "Draft one" in html


def test_unknown_object_is_404(moderator_client):
    assert moderator_client.get(reverse("catalog:workspace-task", args=[999])).status_code == 404


# -- courses ---------------------------------------------------------------------------


def course_data(**overrides):
    return {
        "title": "Geometry",
        "slug": "geometry",
        "track": "60+",
        "description": "Triangles.",
        "price": "1 990,50",
        "price_currency": "RUB",
        "is_published": "on",
        **overrides,
    }


def test_moderator_creates_a_course_with_price_in_major_units(moderator_client):
    author = AuthorFactory()
    response = moderator_client.post(
        reverse("catalog:workspace-course-new"), course_data(authors=[author.pk])
    )
    course = Course.objects.get(slug="geometry")
    assert response.status_code == 302
    assert response["Location"] == reverse("catalog:workspace-course", args=[course.pk])
    assert (course.price_amount, course.price_currency, course.is_published) == (
        199050,
        "RUB",
        True,
    )
    assert list(course.authors.all()) == [author]


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("12.345", "At most 2 digits after the point."),
        ("abc", "Enter the price as a number"),
        ("-5", "Enter the price as a number"),
    ],
)
def test_course_form_refuses_a_bad_price(moderator_client, price, message):
    response = moderator_client.post(
        reverse("catalog:workspace-course-new"), course_data(price=price)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Course.objects.exists()


def test_taken_slug_is_shown_on_the_form(moderator_client):
    CourseFactory(slug="geometry")
    response = moderator_client.post(reverse("catalog:workspace-course-new"), course_data())
    assert response.status_code == 200
    assert "A course with this address already exists" in response.content.decode()
    assert Course.objects.count() == 1


def test_course_edit_shows_price_and_saves(moderator_client):
    course = CourseFactory(price_amount=199000, title="Old")
    url = reverse("catalog:workspace-course-edit", args=[course.pk])
    assert 'value="1990.00"' in moderator_client.get(url).content.decode()
    response = moderator_client.post(url, course_data(slug=course.slug, price="2500"))
    assert response.status_code == 302
    course.refresh_from_db()
    assert (course.title, course.price_amount) == ("Geometry", 250000)


def test_course_cover_of_wrong_type_is_refused(moderator_client):
    cover = SimpleUploadedFile("cover.txt", b"hello", content_type="text/plain")
    response = moderator_client.post(
        reverse("catalog:workspace-course-new"), course_data(cover=cover)
    )
    assert response.status_code == 200
    assert "This file type is not accepted for a cover" in response.content.decode()
    assert not Course.objects.exists()


def build_course(topics: int) -> Course:
    course = CourseFactory(authors=[AuthorFactory()])
    for _ in range(topics):
        topic = TopicFactory(course=course)
        LessonFactory.create_batch(2, topic=topic)
        TaskFactory(topic=topic)
        TaskFactory(topic=topic, kind=AnswerKind.SINGLE)
        test = TestFactory(topic=topic)
        TaskFactory(test=test, kind=AnswerKind.MULTIPLE)
    return course


@pytest.mark.parametrize("topics", [1, 4])
def test_course_page_query_count_does_not_grow(
    moderator_client, django_assert_num_queries, topics
):
    course = build_course(topics)
    url = reverse("catalog:workspace-course", args=[course.pk])
    # Session, user, course, authors, topics, lessons, tests, tests' tasks, other tasks,
    # the header's unread count and its inbox count.
    with django_assert_num_queries(11):
        response = moderator_client.get(url)
    html = response.content.decode()
    for topic in course.topics.all():
        assert topic.title in html
        for item in [*topic.lessons.all(), *topic.tasks.all(), *topic.tests.all()]:
            assert item.title in html
    assert "2 choices" in html
    assert "3 choices" in html


# -- topics ----------------------------------------------------------------------------


def test_topic_opening_date_is_in_school_time(moderator_client, settings):
    settings.PARTA_TIME_ZONE = "Europe/Moscow"
    course = CourseFactory()
    response = moderator_client.post(
        reverse("catalog:workspace-topic-new", args=[course.pk]),
        {"title": "Vectors", "opens_at": "2030-01-01T09:00"},
    )
    assert response.status_code == 302
    topic = Topic.objects.get(course=course)
    assert topic.opens_at == datetime(2030, 1, 1, 6, 0, tzinfo=UTC)
    assert response["Location"].endswith(f"#topic-{topic.pk}")
    page = moderator_client.get(reverse("catalog:workspace-topic", args=[topic.pk]))
    assert 'value="2030-01-01T09:00"' in page.content.decode()


def test_topic_delete_asks_then_deletes(moderator_client, catalogue):
    topic = catalogue["topic"]
    url = reverse("catalog:workspace-topic-delete", args=[topic.pk])
    page = moderator_client.get(url).content.decode()
    assert "1 lesson, 1 test and 1 task are deleted too" in page
    response = moderator_client.post(url)
    assert response.status_code == 302
    assert not Topic.objects.filter(pk=topic.pk).exists()
    assert not Lesson.objects.exists()


# -- lessons and uploads ---------------------------------------------------------------


def lesson_data(**overrides):
    return {"title": "Intro", "body": "Welcome", "video_url": "", **overrides}


def test_video_upload_is_stored_under_media_root(moderator_client, settings):
    topic = TopicFactory()
    video = SimpleUploadedFile("intro.mp4", MP4_BYTES, content_type="video/mp4")
    response = moderator_client.post(
        reverse("catalog:workspace-lesson-new", args=[topic.pk]), lesson_data(video=video)
    )
    assert response.status_code == 302
    lesson = Lesson.objects.get(topic=topic)
    path = Path(settings.MEDIA_ROOT) / lesson.video.name
    assert path.is_file()
    assert path.read_bytes() == MP4_BYTES
    assert str(path).startswith(str(settings.MEDIA_ROOT))


@pytest.mark.parametrize(
    ("name", "content"),
    [("setup.exe", b"MZ\x90\x00\x03"), ("notes.txt", b"just text")],
)
def test_wrong_video_type_is_refused_with_a_message(moderator_client, settings, name, content):
    topic = TopicFactory()
    before = set(Path(settings.MEDIA_ROOT).rglob("*"))
    response = moderator_client.post(
        reverse("catalog:workspace-lesson-new", args=[topic.pk]),
        lesson_data(video=SimpleUploadedFile(name, content)),
    )
    assert response.status_code == 200
    assert "This file type is not accepted for a video" in response.content.decode()
    assert not Lesson.objects.exists()
    assert set(Path(settings.MEDIA_ROOT).rglob("*")) == before


def test_oversized_video_is_refused_with_a_message(moderator_client, settings):
    settings.PARTA_MAX_VIDEO_MB = 0.00005  # about fifty bytes
    topic = TopicFactory()
    before = set(Path(settings.MEDIA_ROOT).rglob("*"))
    response = moderator_client.post(
        reverse("catalog:workspace-lesson-new", args=[topic.pk]),
        lesson_data(video=SimpleUploadedFile("big.mp4", MP4_BYTES)),
    )
    assert response.status_code == 200
    assert "The file is too large" in response.content.decode()
    assert not Lesson.objects.exists()
    assert set(Path(settings.MEDIA_ROOT).rglob("*")) == before


def test_wrong_upload_on_edit_keeps_the_lesson(moderator_client):
    lesson = LessonFactory(title="Kept")
    response = moderator_client.post(
        reverse("catalog:workspace-lesson", args=[lesson.pk]),
        lesson_data(title="Changed", video=SimpleUploadedFile("x.exe", b"MZ")),
    )
    assert response.status_code == 200
    lesson.refresh_from_db()
    assert lesson.title == "Kept"
    assert not lesson.video


def test_lesson_edit_clears_the_video_and_sets_a_link(moderator_client):
    topic = TopicFactory()
    moderator_client.post(
        reverse("catalog:workspace-lesson-new", args=[topic.pk]),
        lesson_data(video=SimpleUploadedFile("a.mp4", MP4_BYTES)),
    )
    lesson = Lesson.objects.get()
    url = reverse("catalog:workspace-lesson", args=[lesson.pk])
    page = moderator_client.get(url).content.decode()
    assert f"<code>{lesson.video.name}</code>" in page
    assert 'name="video-clear"' in page
    link = "https://example.com/video/1"
    refused = moderator_client.post(url, lesson_data(video_url=link))
    assert "either a video file or an external link" in refused.content.decode()
    response = moderator_client.post(url, lesson_data(video_url=link, **{"video-clear": "on"}))
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert not lesson.video
    assert lesson.video_url == link


# -- tasks -----------------------------------------------------------------------------


def task_data(choices=(), **overrides):
    data = {
        "title": "Capital",
        "statement": "The capital of France?",
        "kind": AnswerKind.SINGLE,
        "points": "2",
        "answer_text": "",
        "answer_number": "",
        "tolerance": "0",
        "solution": "Paris.",
        "solution_visibility": "after_attempts",
        "solution_after_attempts": "2",
        "position": "",
        "test": "",
        "choices-TOTAL_FORMS": str(len(choices)),
        "choices-INITIAL_FORMS": "0",
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "30",
    }
    for index, (choice_id, text, correct) in enumerate(choices):
        data[f"choices-{index}-id"] = choice_id or ""
        data[f"choices-{index}-text"] = text
        if correct:
            data[f"choices-{index}-is_correct"] = "on"
    data.update(overrides)
    return data


def test_moderator_creates_a_single_choice_task_in_a_test(moderator_client):
    test = TestFactory()
    url = reverse("catalog:workspace-task-new", args=[test.topic.pk])
    page = moderator_client.get(url, {"test": test.pk}).content.decode()
    assert f'<option value="{test.pk}" selected>' in page
    choices = [(None, "Paris", True), (None, "Lyon", False), (None, "", False)]
    response = moderator_client.post(url, task_data(choices, test=str(test.pk)))
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.test, task.points, task.solution_after_attempts) == (test, 2, 2)
    assert list(task.choices.values_list("text", "is_correct")) == [
        ("Paris", True),
        ("Lyon", False),
    ]


def test_task_form_shows_choice_errors_and_saves_nothing(moderator_client):
    topic = TopicFactory()
    response = moderator_client.post(
        reverse("catalog:workspace-task-new", args=[topic.pk]),
        task_data([(None, "Paris", True), (None, "Lyon", True)]),
    )
    assert response.status_code == 200
    assert "Mark exactly one choice as correct." in response.content.decode()
    assert not Task.objects.exists()


def test_task_edit_with_invalid_choices_keeps_the_old_ones(moderator_client):
    task = TaskFactory(kind=AnswerKind.SINGLE, title="Kept", choices=[("A", True), ("B", False)])
    a, b = task.choices.all()
    url = reverse("catalog:workspace-task", args=[task.pk])
    page = moderator_client.get(url).content.decode()
    assert 'value="A"' in page
    assert 'value="B"' in page
    response = moderator_client.post(
        url, task_data([(a.pk, "A", False), (b.pk, "B", False)], title="Changed")
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.title == "Kept"
    assert list(task.choices.values_list("pk", "text", "is_correct")) == [
        (a.pk, "A", True),
        (b.pk, "B", False),
    ]


def test_task_edit_to_number_with_comma(moderator_client):
    task = TaskFactory(kind=AnswerKind.SINGLE)
    response = moderator_client.post(
        reverse("catalog:workspace-task", args=[task.pk]),
        task_data(kind=AnswerKind.NUMBER, answer_number="3,14", tolerance="0,01"),
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert (task.kind, task.answer_number, task.tolerance) == (
        AnswerKind.NUMBER,
        Decimal("3.14"),
        Decimal("0.01"),
    )
    assert not TaskChoice.objects.filter(task=task).exists()


def test_task_form_refuses_a_test_of_another_topic(moderator_client):
    topic = TopicFactory()
    foreign = TestFactory()
    response = moderator_client.post(
        reverse("catalog:workspace-task-new", args=[topic.pk]),
        task_data(kind=AnswerKind.TEXT, answer_text="Paris", test=str(foreign.pk)),
    )
    assert response.status_code == 200
    assert not Task.objects.exists()


def test_task_post_without_the_choice_rows_is_a_form_error_not_a_500(moderator_client):
    topic = TopicFactory()
    data = {k: v for k, v in task_data().items() if not k.startswith("choices-")}
    response = moderator_client.post(reverse("catalog:workspace-task-new", args=[topic.pk]), data)
    assert response.status_code == 200
    assert "ManagementForm data is missing" in response.content.decode()
    assert not Task.objects.exists()


def test_task_delete(moderator_client):
    task = TaskFactory()
    response = moderator_client.post(reverse("catalog:workspace-task-delete", args=[task.pk]))
    assert response.status_code == 302
    assert not Task.objects.exists()


# -- tests -----------------------------------------------------------------------------


def test_test_create_then_its_page_lists_its_tasks(moderator_client):
    topic = TopicFactory()
    response = moderator_client.post(
        reverse("catalog:workspace-test-new", args=[topic.pk]),
        {"title": "Midterm", "time_limit_minutes": "40"},
    )
    test = CatalogTest.objects.get()
    assert response["Location"] == reverse("catalog:workspace-test", args=[test.pk])
    TaskFactory(test=test, title="Inside the test")
    page = moderator_client.get(response["Location"]).content.decode()
    assert "Inside the test" in page


def test_test_with_zero_minutes_is_refused(moderator_client):
    test = TestFactory(time_limit_minutes=30)
    response = moderator_client.post(
        reverse("catalog:workspace-test", args=[test.pk]),
        {"title": "T", "time_limit_minutes": "0"},
    )
    assert response.status_code == 200
    assert "Enter a number from 1" in response.content.decode()
    test.refresh_from_db()
    assert test.time_limit_minutes == 30


def test_test_delete(moderator_client):
    test = TestFactory()
    TaskFactory(test=test)
    response = moderator_client.post(reverse("catalog:workspace-test-delete", args=[test.pk]))
    assert response.status_code == 302
    assert not CatalogTest.objects.exists()
    assert not Task.objects.exists()


# -- the Django admin ------------------------------------------------------------------


@pytest.mark.parametrize("model", ["author", "course", "topic", "lesson", "test", "task"])
def test_admin_pages_open_for_staff(client, catalogue, model):
    client.force_login(StaffFactory())
    AuthorFactory()
    assert client.get(reverse(f"admin:catalog_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:catalog_{model}_add")).status_code == 200
    obj = catalogue.get(model) or catalogue["course"].authors.model.objects.first()
    assert client.get(reverse(f"admin:catalog_{model}_change", args=[obj.pk])).status_code == 200


def test_admin_refuses_a_video_of_the_wrong_type(client):
    client.force_login(StaffFactory())
    topic = TopicFactory()
    response = client.post(
        reverse("admin:catalog_lesson_add"),
        {
            "topic": topic.pk,
            "title": "Via admin",
            "position": "1",
            "body": "",
            "video": SimpleUploadedFile("run.exe", b"MZ\x90\x00"),
            "video_url": "",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["video"]
    assert not Lesson.objects.exists()


def test_admin_refuses_a_task_in_a_test_of_another_topic(client):
    client.force_login(StaffFactory())
    topic, foreign = TopicFactory(), TestFactory()
    response = client.post(
        reverse("admin:catalog_task_add"),
        {
            "topic": topic.pk,
            "test": foreign.pk,
            "title": "T",
            "position": "1",
            "statement": "S",
            "kind": AnswerKind.TEXT,
            "points": "1",
            "answer_text": "42",
            "tolerance": "0",
            "solution_visibility": "always",
            "solution_after_attempts": "3",
            "choices-TOTAL_FORMS": "0",
            "choices-INITIAL_FORMS": "0",
            "choices-MIN_NUM_FORMS": "0",
            "choices-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["test"]
    assert not Task.objects.exists()
