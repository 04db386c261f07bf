"""Pages with paid content: who sees what, and that keys and hidden solutions never
reach the browser."""

import re
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from parta.accounts.tests.factories import ModeratorFactory, StaffFactory
from parta.catalog.models import SolutionVisibility
from parta.catalog.tests.factories import (
    LessonFactory,
    TaskFactory,
    TestFactory,
    TopicFactory,
)
from parta.learning.models import Submission

pytestmark = pytest.mark.django_db

SECRET_ANSWER = "zebra-crossing-7"
SECRET_SOLUTION = "The hidden reasoning goes here"
LESSON_TEXT = "Paid lesson body text"


@pytest.fixture
def content(course, topic):
    lesson = LessonFactory(topic=topic, body=LESSON_TEXT)
    free = LessonFactory(topic=topic, body="Free preview text", is_free_preview=True)
    task = TaskFactory(
        topic=topic,
        answer_text=SECRET_ANSWER,
        solution=SECRET_SOLUTION,
        solution_visibility=SolutionVisibility.AFTER_SOLVED,
    )
    test = TestFactory(topic=topic)
    TaskFactory(test=test, answer_text=SECRET_ANSWER, solution=SECRET_SOLUTION)
    return {"lesson": lesson, "free": free, "task": task, "test": test}


def _urls(course, content):
    slug = course.slug
    return {
        "lesson": reverse("learning:lesson", args=[slug, content["lesson"].pk]),
        "task": reverse("learning:task", args=[slug, content["task"].pk]),
        "test": reverse("learning:test", args=[slug, content["test"].pk]),
    }


@pytest.fixture
def moderator(db):
    return ModeratorFactory()


@pytest.fixture
def staff(db):
    return StaffFactory()


# who -> expected status of the paid pages (302: sent to sign in)
MATRIX = {
    "anonymous": 302,
    "outsider": 403,
    "expired_student": 403,
    "student": 200,
    "moderator": 200,
    "staff": 200,
}


@pytest.mark.parametrize(("who", "status"), MATRIX.items())
@pytest.mark.parametrize("page", ["lesson", "task", "test"])
def test_access_matrix_for_paid_pages(request, client, course, content, who, status, page):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    response = client.get(_urls(course, content)[page])
    assert response.status_code == status
    html = response.content.decode()
    if status == 200 and page == "lesson":
        assert LESSON_TEXT in html
    if status != 200:
        assert LESSON_TEXT not in html


@pytest.mark.parametrize("who", MATRIX)
def test_course_page_lists_lessons_only_with_access(request, client, course, content, who):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    html = client.get(reverse("learning:course", args=[course.slug])).content.decode()
    lesson_link = _urls(course, content)["lesson"]
    assert (lesson_link in html) == (MATRIX[who] == 200)
    # The free preview is listed for everyone and opens without access.
    free_link = reverse("learning:lesson", args=[course.slug, content["free"].pk])
    assert free_link in html


def test_free_preview_is_public(client, course, content):
    response = client.get(reverse("learning:lesson", args=[course.slug, content["free"].pk]))
    assert response.status_code == 200
    assert "Free preview text" in response.content.decode()


def test_locked_topic_shows_its_opening_date_and_nothing_inside(client, course, student):
    opens = timezone.now() + timedelta(days=5)
    future = TopicFactory(course=course, title="Будущая тема", opens_at=opens)
    lesson = LessonFactory(topic=future, body="Not yet")
    client.force_login(student)
    html = client.get(reverse("learning:course", args=[course.slug])).content.decode()
    assert "Будущая тема" in html
    assert "откроется" in html
    assert reverse("learning:lesson", args=[course.slug, lesson.pk]) not in html
    response = client.get(reverse("learning:lesson", args=[course.slug, lesson.pk]))
    assert response.status_code == 403
    assert "Not yet" not in response.content.decode()


def test_unpublished_course_is_404_for_students_and_visible_to_moderators(
    client, course, student, moderator
):
    course.is_published = False
    course.save()
    client.force_login(student)
    assert client.get(reverse("learning:course", args=[course.slug])).status_code == 404
    client.force_login(moderator)
    assert client.get(reverse("learning:course", args=[course.slug])).status_code == 200


def test_unknown_ids_are_404(client, course, student):
    client.force_login(student)
    assert client.get(reverse("learning:task", args=[course.slug, 999999])).status_code == 404
    assert client.get(reverse("learning:lesson", args=[course.slug, 999999])).status_code == 404
    assert client.get(reverse("learning:course", args=["no-such-course"])).status_code == 404


def test_answers_and_hidden_solutions_never_reach_the_page(client, course, content, student):
    client.force_login(student)
    urls = _urls(course, content)
    for url in (urls["task"], urls["test"], reverse("learning:course", args=[course.slug])):
        html = client.get(url).content.decode()
        assert SECRET_ANSWER not in html
        assert SECRET_SOLUTION not in html
    # Wrong answer: still hidden.
    wrong = client.post(
        urls["task"], {"answer": "nope", "client_key": str(uuid.uuid4())}, HTTP_HX_REQUEST="true"
    )
    assert SECRET_SOLUTION not in wrong.content.decode()
    assert SECRET_ANSWER not in wrong.content.decode()
    # Solved: the solution opens (the rule is "after solved"), the key still never shows.
    right = client.post(
        urls["task"],
        {"answer": SECRET_ANSWER.upper(), "client_key": str(uuid.uuid4())},
        HTTP_HX_REQUEST="true",
    )
    html = right.content.decode()
    assert SECRET_SOLUTION in html
    assert 'id="answer-block"' in html
    assert "<html" not in html  # an htmx fragment, not a page


def test_choice_pages_do_not_mark_the_correct_option(client, course, topic, student):
    task = TaskFactory(topic=topic, kind="single", choices=[("Left", False), ("Right", True)])
    client.force_login(student)
    html = client.get(reverse("learning:task", args=[course.slug, task.pk])).content.decode()
    assert "is_correct" not in html
    radios = re.findall(r'<input type="radio" name="choice" value="(\d+)">', html)
    assert len(radios) == 2


def test_htmx_answer_flow_wrong_then_right(client, course, content, student):
    client.force_login(student)
    url = _urls(course, content)["task"]
    wrong = client.post(
        url, {"answer": "1", "client_key": str(uuid.uuid4())}, HTTP_HX_REQUEST="true"
    )
    assert wrong.status_code == 200
    assert "Попробуйте ещё раз" in wrong.content.decode()
    right = client.post(
        url, {"answer": SECRET_ANSWER, "client_key": str(uuid.uuid4())}, HTTP_HX_REQUEST="true"
    )
    assert "Верно" in right.content.decode()
    assert Submission.objects.filter(user=student).count() == 2


def test_malformed_answer_gets_a_message_not_a_500(client, course, topic, student):
    task = TaskFactory(topic=topic, kind="number")
    client.force_login(student)
    url = reverse("learning:task", args=[course.slug, task.pk])
    response = client.post(url, {"answer": "много", "client_key": "not-a-uuid"})
    assert response.status_code == 400
    assert "Введите число" in response.content.decode()
    assert not Submission.objects.exists()
    choice_task = TaskFactory(topic=topic, kind="single")
    response = client.post(
        reverse("learning:task", args=[course.slug, choice_task.pk]), {"choice": "99999"}
    )
    assert response.status_code == 400
    assert not Submission.objects.exists()


def test_resent_answer_form_is_recorded_once(client, course, content, student):
    client.force_login(student)
    url = _urls(course, content)["task"]
    data = {"answer": "1", "client_key": str(uuid.uuid4())}
    client.post(url, data, HTTP_HX_REQUEST="true")
    client.post(url, data, HTTP_HX_REQUEST="true")
    assert Submission.objects.filter(user=student).count() == 1


def test_test_flow_start_autosave_submit(client, course, content, student):
    test = content["test"]
    task = test.tasks.get()
    client.force_login(student)
    page = client.get(reverse("learning:test", args=[course.slug, test.pk]))
    assert "Начать тест" in page.content.decode()
    client.post(reverse("learning:test-start", args=[course.slug, test.pk]))
    running = client.get(reverse("learning:test", args=[course.slug, test.pk])).content.decode()
    assert 'id="timer"' in running
    assert SECRET_SOLUTION not in running
    saved = client.post(
        reverse("learning:test-answer", args=[course.slug, test.pk, task.pk]),
        {f"t{task.pk}-answer": SECRET_ANSWER},
        HTTP_HX_REQUEST="true",
    )
    assert saved.status_code == 200
    client.post(reverse("learning:test-submit", args=[course.slug, test.pk]), {})
    result = client.get(reverse("learning:test", args=[course.slug, test.pk])).content.decode()
    assert "1 из 1 балла" in result
    assert SECRET_SOLUTION in result  # "after solved" opens once the attempt is over


def test_test_submitted_after_its_time_is_refused_with_a_message(
    client, course, content, student, monkeypatch
):
    test = content["test"]
    task = test.tasks.get()
    client.force_login(student)
    client.post(reverse("learning:test-start", args=[course.slug, test.pk]))
    later = timezone.now() + timedelta(minutes=test.time_limit_minutes + 5)
    monkeypatch.setattr("django.utils.timezone.now", lambda: later)
    late_save = client.post(
        reverse("learning:test-answer", args=[course.slug, test.pk, task.pk]),
        {f"t{task.pk}-answer": SECRET_ANSWER},
    )
    assert late_save.status_code == 409
    response = client.post(
        reverse("learning:test-submit", args=[course.slug, test.pk]),
        {f"t{task.pk}-answer": SECRET_ANSWER},
        follow=True,
    )
    html = response.content.decode()
    assert "0 из 1 балла" in html
    assert "не засчитаны" in html


def test_course_page_query_count_does_not_grow(
    client, course, student, django_assert_max_num_queries
):
    def build(topics: int):
        for _ in range(topics):
            topic = TopicFactory(course=course)
            LessonFactory(topic=topic)
            for _ in range(3):
                TaskFactory(topic=topic)
            TestFactory(topic=topic)

    client.force_login(student)
    url = reverse("learning:course", args=[course.slug])
    build(1)
    with django_assert_max_num_queries(12) as small:
        assert client.get(url).status_code == 200
    build(6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_my_stats_panel_for_htmx_is_a_fragment(client, course, task, student):
    client.force_login(student)
    html = client.get(reverse("learning:my-stats"), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="stats-panel"' in html
    assert "<html" not in html


def test_catalogue_query_count_does_not_grow(client, student):
    from parta.catalog.tests.factories import AuthorFactory, CourseFactory
    from parta.common.testing.queries import count_queries

    client.force_login(student)
    CourseFactory(authors=[AuthorFactory()])
    with count_queries() as few:
        assert client.get(reverse("learning:catalogue")).status_code == 200
    for _ in range(6):
        TopicFactory(course=CourseFactory(authors=[AuthorFactory(), AuthorFactory()]))
    with count_queries() as more:
        assert client.get(reverse("learning:catalogue")).status_code == 200
    # 6 for the page, 1 for the header's unread count.
    assert len(more) == len(few) <= 7


# --- Writes after access ends (issue 8, point 10) ------------------------------------


def _end_access(user, course, django_capture_on_commit_callbacks):
    from parta.access.models import AccessGrant
    from parta.access.services import access_grant_deactivate

    with django_capture_on_commit_callbacks(execute=True):
        for grant in AccessGrant.objects.filter(user=user, course=course):
            access_grant_deactivate(grant=grant)


def test_a_test_takes_no_answers_and_no_submission_after_access_ends(
    client, course, content, student, django_capture_on_commit_callbacks
):
    from parta.learning.models import TestAnswer, TestAttempt

    test = content["test"]
    task = test.tasks.get()
    client.force_login(student)
    client.post(reverse("learning:test-start", args=[course.slug, test.pk]))
    _end_access(student, course, django_capture_on_commit_callbacks)

    saved = client.post(
        reverse("learning:test-answer", args=[course.slug, test.pk, task.pk]),
        {f"t{task.pk}-answer": SECRET_ANSWER},
        HTTP_HX_REQUEST="true",
    )
    assert saved.status_code == 403
    assert "нет доступа" in saved.content.decode()
    submitted = client.post(
        reverse("learning:test-submit", args=[course.slug, test.pk]),
        {f"t{task.pk}-answer": SECRET_ANSWER},
    )
    assert submitted.status_code == 403
    attempt = TestAttempt.objects.get(user=student, test=test)
    assert attempt.submitted_at is None
    assert attempt.score == 0
    assert not TestAnswer.objects.exists()


def test_services_refuse_test_writes_without_access(
    course, content, student, django_capture_on_commit_callbacks
):
    from parta.common.errors import PermissionDenied
    from parta.learning.services import attempt_answer_save, attempt_start, attempt_submit

    test = content["test"]
    task = test.tasks.get()
    attempt = attempt_start(user=student, test=test)
    _end_access(student, course, django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        attempt_answer_save(attempt=attempt, task=task, data={"answer": SECRET_ANSWER})
    with pytest.raises(PermissionDenied):
        attempt_submit(attempt=attempt, answers={task.id: {"answer": SECRET_ANSWER}})
    attempt.refresh_from_db()
    assert attempt.submitted_at is None


def test_task_answer_after_access_ends_is_refused_in_place(
    client, course, content, student, django_capture_on_commit_callbacks
):
    client.force_login(student)
    _end_access(student, course, django_capture_on_commit_callbacks)
    response = client.post(
        _urls(course, content)["task"], {"answer": SECRET_ANSWER}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="answer-block"')  # a fragment, not a page
    assert "нет доступа" in html
    assert "<form" not in html
    assert not Submission.objects.exists()


# --- Answers kept, errors in place, the solved state (issue 8, points 16 and 27) ------


def test_unreadable_number_answer_is_a_400_fragment_keeping_what_was_typed(
    client, course, topic, student
):
    task = TaskFactory(topic=topic, kind="number", answer_number=7)
    client.force_login(student)
    url = reverse("learning:task", args=[course.slug, task.pk])
    response = client.post(url, {"answer": "семь", "client_key": "k1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="answer-block"')
    assert "Введите число" in html
    assert 'value="семь"' in html
    assert 'aria-invalid="true"' in html


def test_a_wrong_answer_keeps_what_was_typed(client, course, topic, student):
    text = TaskFactory(topic=topic, answer_text="right")
    multiple = TaskFactory(
        topic=topic, kind="multiple", choices=[("a", True), ("b", True), ("c", False)]
    )
    client.force_login(student)
    wrong = client.post(
        reverse("learning:task", args=[course.slug, text.pk]),
        {"answer": "<b>wrong</b>"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Попробуйте ещё раз" in wrong
    assert 'value="&lt;b&gt;wrong&lt;/b&gt;"' in wrong
    a, b, c = multiple.choices.order_by("position")
    picked = client.post(
        reverse("learning:task", args=[course.slug, multiple.pk]),
        {"choices": [str(a.id), str(c.id)]},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert f'value="{a.id}" checked' in picked
    assert f'value="{b.id}">' in picked
    assert f'value="{c.id}" checked' in picked
    # A fresh page starts empty.
    fresh = client.get(reverse("learning:task", args=[course.slug, text.pk])).content.decode()
    assert "wrong" not in fresh


def test_a_solved_task_shows_the_solved_state_and_the_accepted_answer(
    client, course, topic, student
):
    task = TaskFactory(topic=topic, kind="number", answer_number=60)
    client.force_login(student)
    url = reverse("learning:task", args=[course.slug, task.pk])
    client.post(url, {"answer": "50"}, HTTP_HX_REQUEST="true")
    right = client.post(url, {"answer": " 60,0 "}, HTTP_HX_REQUEST="true").content.decode()
    assert "Верно" in right
    assert "<form" not in right
    page = client.get(url).content.decode()
    assert "Вы решили эту задачу" in page
    assert "Ваш засчитанный ответ:" in page
    assert "<strong>60</strong>" in page
    assert 'name="answer"' not in page
    assert "2 попытки" in page


def test_a_solved_choice_task_names_the_chosen_option(client, course, topic, student):
    task = TaskFactory(topic=topic, kind="single", choices=[("Москва", True), ("Тверь", False)])
    right = task.choices.get(is_correct=True)
    client.force_login(student)
    url = reverse("learning:task", args=[course.slug, task.pk])
    client.post(url, {"choice": str(right.id)})
    page = client.get(url).content.decode()
    assert "<strong>Москва</strong>" in page
    assert 'type="radio"' not in page


# --- Test results (issue 8, points 26 and 27) ----------------------------------------


def _submitted_test(client, course, topic, student, visibility):
    test = TestFactory(topic=topic)
    number = TaskFactory(
        test=test, kind="number", answer_number=42, points=2,
        solution="six times seven", solution_visibility=visibility,
    )  # fmt: skip
    single = TaskFactory(
        test=test, kind="single", choices=[("Марс", True), ("Венера", False)],
        solution_visibility=visibility,
    )  # fmt: skip
    text = TaskFactory(test=test, answer_text="кот\nкошка", solution_visibility=visibility)
    wrong_choice = single.choices.get(is_correct=False)
    client.force_login(student)
    client.post(reverse("learning:test-start", args=[course.slug, test.pk]))
    client.post(
        reverse("learning:test-submit", args=[course.slug, test.pk]),
        {f"t{number.pk}-answer": "42", f"t{single.pk}-choice": str(wrong_choice.id)},
    )
    html = client.get(reverse("learning:test", args=[course.slug, test.pk])).content.decode()
    return html, text


def test_results_show_the_students_and_the_correct_answers(client, course, topic, student):
    html, _text = _submitted_test(client, course, topic, student, SolutionVisibility.AFTER_SOLVED)
    assert "2 из 4 баллов" in html
    assert "1/2" not in html
    assert "баллы" not in html
    assert '<dd class="student-answer">42</dd>' in html
    assert '<dd class="student-answer">Венера</dd>' in html
    assert '<dd class="correct-answer">Марс</dd>' in html
    assert '<dd class="correct-answer">42</dd>' in html
    assert '<dd class="correct-answer">кот</dd>' in html  # unanswered: the key is shown
    assert "нет ответа" in html


def test_results_hide_the_correct_answers_when_the_rule_says_never(client, course, topic, student):
    html, _text = _submitted_test(client, course, topic, student, SolutionVisibility.NEVER)
    assert '<dd class="student-answer">Венера</dd>' in html
    assert "correct-answer" not in html
    assert "Марс</dd>" not in html
    assert "six times seven" not in html


@pytest.mark.parametrize(
    ("score", "total", "text"),
    [(1, 1, "1 из 1 балла"), (1, 2, "1 из 2 баллов"), (3, 5, "3 из 5 баллов"),
     (0, 21, "0 из 21 балла"), (2, 3, "2 из 3 баллов")],
)  # fmt: skip
def test_score_line_uses_russian_plural_forms(score, total, text):
    from django.template import Context, Template
    from django.utils import translation

    template = Template(
        "{% load i18n %}{% blocktranslate count n=total with score=score %}"
        "{{ score }} of {{ n }} point{% plural %}{{ score }} of {{ n }} points"
        "{% endblocktranslate %}"
    )
    with translation.override("ru"):
        assert template.render(Context({"score": score, "total": total})) == text
    with translation.override("en"):
        english = template.render(Context({"score": score, "total": total}))
        assert english == f"{score} of {total} point{'s' if total != 1 else ''}"


def test_running_test_asks_before_submitting_and_has_no_inline_script(
    client, course, content, student
):
    test = content["test"]
    client.force_login(student)
    client.post(reverse("learning:test-start", args=[course.slug, test.pk]))
    html = client.get(reverse("learning:test", args=[course.slug, test.pk])).content.decode()
    form = re.search(r'<form id="test-form"[^>]*>', html).group(0)
    assert 'data-confirm="Сдать тест? Попытка одна' in form
    assert "parta/parta.js" in html  # the countdown lives there
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline scripts
    assert " onclick=" not in html
    assert " style=" not in html
