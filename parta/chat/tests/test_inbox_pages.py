"""The inbox's pages: who may open them, the list (order, unread marks, filters, htmx), a
thread's page (messages, the task beside it, reply, take/assign, close/reopen, notes),
saved replies, the header's link, notes never reaching a student, and pinned query counts
that do not grow with the data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.catalog.tests.factories import TaskFactory, TopicFactory
from parta.chat import inbox
from parta.chat.models import ChatMessage, SavedReply, Thread, ThreadNote, ThreadSeen, ThreadState
from parta.chat.tests.test_inbox import make_thread
from parta.common.testing.queries import count_queries
from parta.learning.services import task_answer_submit

pytestmark = pytest.mark.django_db

# The list: session, user, count, rows, the course filter's courses, the header's inbox
# count and the bell.
LIST_QUERIES = 7
# A task thread: session, user, the thread, its messages, the seen mark (savepoint, update,
# insert, release), saved replies, notes, moderators, the task's choices, the student's
# progress and answers, their statistics (5), the header's count and the bell.
THREAD_QUERIES = 21


def _ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def mod_client(moderator) -> Client:
    return _client(moderator)


@pytest.fixture
def task_thread(student, task, moderator):
    thread = make_thread(student, asked_at=_ago(30), task=task, subject="Шесть на семь")
    for n in range(3):
        task_answer_submit(user=student, task=task, data={"answer": f"{n + 40}"})
    return thread


def _html(response) -> str:
    return response.content.decode()


# --- Who may open the inbox -----------------------------------------------------------------


def test_anonymous_visitors_sign_in_and_students_are_refused(client, student, task_thread):
    for url in ("/inbox/", f"/inbox/threads/{task_thread.pk}/", "/inbox/replies/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")
        assert _client(student).get(url).status_code == 403
    for url in ("take", "assign", "close", "notes"):
        assert _client(student).post(f"/inbox/threads/{task_thread.pk}/{url}/").status_code == 403
    task_thread.refresh_from_db()
    assert (task_thread.assignee, task_thread.state) == (None, ThreadState.AWAITING_MODERATOR)


def test_an_unknown_thread_is_a_404(mod_client):
    assert mod_client.get("/inbox/threads/999999/").status_code == 404
    assert mod_client.post("/inbox/threads/999999/take/").status_code == 404
    assert mod_client.get(f"/inbox/threads/{2**63}/").status_code == 404


# --- The list -------------------------------------------------------------------------------


def test_the_list_puts_the_longest_wait_first_with_unread_marks(
    mod_client, moderator, student, course
):
    answered = make_thread(student, asked_at=_ago(300), subject="Документы", answered_by=moderator)
    older = make_thread(student, asked_at=_ago(120), subject="Оплата")
    newer = make_thread(student, asked_at=_ago(5), subject="Справка", course=course)
    ThreadSeen.objects.create(thread=newer, user=moderator, seen_at=timezone.now())

    html = _html(mod_client.get("/inbox/"))
    assert html.index("Оплата") < html.index("Справка") < html.index("Документы")
    assert f'class="inbox-row unread" data-thread="{older.pk}"' in html
    assert f'class="inbox-row" data-thread="{newer.pk}"' in html
    assert f'class="inbox-row" data-thread="{answered.pk}"' in html
    assert "ждёт 2\xa0часа" in html  # timesince joins with a no-break space
    assert "3 переписки" in html


def test_the_list_filters_and_keeps_them_in_its_links(mod_client, moderator, student, course):
    make_thread(student, asked_at=_ago(50), subject="Оплата")
    make_thread(student, asked_at=_ago(40), subject="Про курс", course=course)
    make_thread(student, asked_at=_ago(30), subject="Моё", assignee=moderator)

    html = _html(mod_client.get("/inbox/", {"show": "mine"}))
    assert "Моё" in html
    assert "Оплата" not in html
    html = _html(mod_client.get("/inbox/", {"course": course.pk, "show": "unassigned"}))
    assert "Про курс" in html
    assert "Оплата" not in html
    # The tabs keep the course filter.
    assert f'href="?show=waiting&amp;course={course.pk}"' in html


def test_a_bad_filter_is_named_and_the_whole_list_shown(mod_client, student):
    make_thread(student, asked_at=_ago(5), subject="Оплата")
    response = mod_client.get("/inbox/", {"show": "everything"})
    assert response.status_code == 400
    html = _html(response)
    assert "show должен быть одним из: all, waiting, mine, unassigned, closed." in html
    assert "Оплата" in html


def test_htmx_gets_the_list_alone(mod_client, student):
    make_thread(student, asked_at=_ago(5), subject="Оплата")
    response = mod_client.get("/inbox/", {"show": "waiting"}, HTTP_HX_REQUEST="true")
    html = _html(response)
    assert html.lstrip().startswith('<div id="inbox"')
    assert "<html" not in html
    assert "Оплата" in html


def test_the_list_pages_keep_the_filters(mod_client, student, settings):
    for n in range(inbox.INBOX_PER_PAGE + 1):
        make_thread(student, asked_at=_ago(100 - n), subject=f"Вопрос {n}")
    html = _html(mod_client.get("/inbox/", {"kind": "support"}))
    assert 'href="?kind=support&amp;page=2"' in html
    html = _html(mod_client.get("/inbox/", {"kind": "support", "page": 2}))
    assert f"Вопрос {inbox.INBOX_PER_PAGE}" in html
    assert "Вопрос 0<" not in html


@pytest.mark.parametrize("threads", [3, 30])
def test_the_list_costs_the_same_queries_for_3_or_30_threads(
    mod_client, moderator, student, course, task, threads, django_assert_num_queries
):
    other = ModeratorFactory()
    for n in range(threads):
        make_thread(
            UserFactory() if n % 2 else student,
            asked_at=_ago(500 - n),
            task=task if n % 3 == 0 and n < 3 else None,
            course=course,
            assignee=other if n % 2 else None,
            answered_by=moderator if n % 4 == 0 else None,
        )
        ThreadSeen.objects.update_or_create(
            thread=Thread.objects.latest("id"), user=moderator, defaults={"seen_at": _ago(1)}
        )
    with django_assert_num_queries(LIST_QUERIES):
        response = mod_client.get("/inbox/")
    assert response.status_code == 200
    assert _html(response).count("data-thread=") == threads


# --- A thread -------------------------------------------------------------------------------


def test_a_task_threads_page_shows_the_task_attempts_and_statistics_and_marks_it_seen(
    mod_client, moderator, task_thread, task
):
    task.statement = "Сколько будет **шесть на семь**?"
    task.solution = "Умножьте: 6 × 7 = 42."
    task.save()
    pk = task_thread.pk
    html = _html(mod_client.get(f"/inbox/threads/{pk}/"))
    assert "<strong>шесть на семь</strong>" in html
    assert "Умножьте: 6 × 7 = 42." in html
    assert '<strong class="inbox-key">42</strong>' in html
    assert html.count('<li class="wrong">') == 2  # 40, 41 wrong; 42 right
    assert '<li class="ok">' in html
    assert "Статистика ученика" in html
    assert (
        f'id="chat-messages" class="chat-messages" data-ws="/ws/chat/threads/{task_thread.pk}/"'
        in html
    )
    assert f'data-poll="/chat/threads/{pk}/messages/"' in html
    last = ChatMessage.objects.filter(thread=task_thread).latest("id")
    assert f'data-after="{last.pk}"' in html
    assert ThreadSeen.objects.filter(thread=task_thread, user=moderator).exists()
    list_html = _html(mod_client.get("/inbox/"))
    assert f'class="inbox-row" data-thread="{task_thread.pk}"' in list_html  # read now


def test_a_support_threads_page_has_no_task_block(mod_client, student):
    thread = make_thread(student, asked_at=_ago(3), subject="Оплата")
    html = _html(mod_client.get(f"/inbox/threads/{thread.pk}/"))
    assert "inbox-task" not in html
    assert "inbox-stats" not in html
    assert "Оплата" in html


@pytest.mark.parametrize("size", [3, 30])
def test_the_thread_page_costs_the_same_queries_whatever_its_size(
    mod_client, moderator, student, task, course, size, django_assert_num_queries
):
    thread = make_thread(student, asked_at=_ago(500), task=task, messages=size)
    for n in range(size):
        inbox.thread_note_add(thread=thread, author=moderator, text=f"Заметка {n}")
        inbox.saved_reply_create(author=moderator, title=f"Ответ {n}", text="Текст")
        task_answer_submit(user=student, task=task, data={"answer": f"wrong {n}"})
        ModeratorFactory()
    other_topic = TopicFactory(course=course)
    for _n in range(size):
        TaskFactory(topic=other_topic)
    with django_assert_num_queries(THREAD_QUERIES):
        response = mod_client.get(f"/inbox/threads/{thread.pk}/")
    assert response.status_code == 200
    html = _html(response)
    assert html.count('class="note"') == size
    assert html.count('class="chip"') == size


# --- Replying -------------------------------------------------------------------------------


def test_a_reply_is_posted_and_the_page_goes_to_it(mod_client, moderator, task_thread):
    response = mod_client.post(
        f"/inbox/threads/{task_thread.pk}/", {"text": "Проверьте знак.", "client_key": "k-1"}
    )
    message = ChatMessage.objects.get(thread=task_thread, author=moderator)
    assert response.status_code == 302
    assert response.url == f"/inbox/threads/{task_thread.pk}/#message-{message.pk}"
    assert (message.text, message.from_staff, message.source) == ("Проверьте знак.", True, "site")
    task_thread.refresh_from_db()
    assert task_thread.state == ThreadState.AWAITING_STUDENT
    # The same form again (a resent POST) stores nothing new.
    mod_client.post(
        f"/inbox/threads/{task_thread.pk}/", {"text": "Проверьте знак.", "client_key": "k-1"}
    )
    assert ChatMessage.objects.filter(thread=task_thread, author=moderator).count() == 1


def test_a_reply_sent_by_htmx_answers_with_the_message(mod_client, moderator, task_thread):
    response = mod_client.post(
        f"/inbox/threads/{task_thread.pk}/", {"text": "<b>Ага</b>"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 201
    html = _html(response)
    message = ChatMessage.objects.get(author=moderator)
    assert html.startswith(f'<li class="chat-message from-school mine" id="message-{message.pk}"')
    assert "&lt;b&gt;Ага&lt;/b&gt;" in html


def test_an_empty_reply_shows_the_page_with_the_error(mod_client, moderator, task_thread):
    response = mod_client.post(f"/inbox/threads/{task_thread.pk}/", {"text": "   "})
    assert response.status_code == 400
    html = _html(response)
    assert "Напишите сообщение или прикрепите файл." in html
    assert "Шесть на семь" in html  # the whole page, with the thread
    response = mod_client.post(
        f"/inbox/threads/{task_thread.pk}/", {"text": "x" * 4001}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert 'id="chat-form"' in _html(response)
    assert not ChatMessage.objects.filter(author=moderator).exists()


def test_a_reply_to_a_closed_thread_opens_it(mod_client, moderator, student):
    thread = make_thread(student, asked_at=_ago(60), answered_by=moderator, closed=True)
    assert "Переписка закрыта. Ответ откроет её снова." in _html(
        mod_client.get(f"/inbox/threads/{thread.pk}/")
    )
    mod_client.post(f"/inbox/threads/{thread.pk}/", {"text": "Ещё одно"})
    thread.refresh_from_db()
    assert thread.state == ThreadState.AWAITING_STUDENT


def test_a_saved_reply_link_fills_the_box_without_javascript(mod_client, moderator, task_thread):
    reply = inbox.saved_reply_create(
        author=moderator, title="Привет", text="Здравствуйте, <Анна>!"
    )
    html = _html(mod_client.get(f"/inbox/threads/{task_thread.pk}/"))
    assert (
        f'href="?insert={reply.pk}#chat-form" data-saved-reply="Здравствуйте, &lt;Анна&gt;!"'
        in html
    )
    html = _html(mod_client.get(f"/inbox/threads/{task_thread.pk}/", {"insert": reply.pk}))
    assert ">Здравствуйте, &lt;Анна&gt;!</textarea>" in html
    html = _html(mod_client.get(f"/inbox/threads/{task_thread.pk}/", {"insert": "nope"}))
    assert "></textarea>" in html


# --- Take, assign, close, reopen -------------------------------------------------------------


def test_take_assign_close_and_reopen_from_the_page(mod_client, moderator, task_thread):
    other = ModeratorFactory(full_name="Пётр Петрович")
    url = f"/inbox/threads/{task_thread.pk}/"
    response = mod_client.post(url + "take/", follow=True)
    assert "Теперь переписку ведёте вы." in _html(response)
    task_thread.refresh_from_db()
    assert task_thread.assignee == moderator

    response = mod_client.post(url + "assign/", {"assignee": other.pk}, follow=True)
    assert "Переписка передана: Пётр Петрович." in _html(response)
    task_thread.refresh_from_db()
    assert task_thread.assignee == other

    # Now another's: taking it is refused with who has it.
    response = mod_client.post(url + "take/", follow=True)
    assert "Эту переписку уже ведёт Пётр Петрович." in _html(response)

    response = mod_client.post(url + "assign/", {"assignee": "none"}, follow=True)
    assert "Теперь переписку никто не ведёт." in _html(response)

    response = mod_client.post(url + "close/", follow=True)
    assert "Переписка закрыта. Новое сообщение ученика откроет её снова." in _html(response)
    task_thread.refresh_from_db()
    assert task_thread.state == ThreadState.CLOSED
    response = mod_client.post(url + "close/", follow=True)
    assert "Эта переписка уже закрыта." in _html(response)
    mod_client.post(url + "reopen/")
    task_thread.refresh_from_db()
    assert task_thread.state == ThreadState.AWAITING_MODERATOR


def test_assigning_to_a_student_or_nobody_known_is_refused(mod_client, student, task_thread):
    url = f"/inbox/threads/{task_thread.pk}/assign/"
    for value, text in (
        (student.pk, "Переписку можно передать только действующему модератору или сотруднику"),
        ("999999", "Выберите модератора из списка."),
        (str(2**63), "Выберите модератора из списка."),
        ("abc", "Выберите модератора из списка."),
    ):
        assert text in _html(mod_client.post(url, {"assignee": value}, follow=True))
    task_thread.refresh_from_db()
    assert task_thread.assignee is None


# --- Notes -----------------------------------------------------------------------------------


def test_a_note_is_added_and_htmx_gets_the_notes_back(mod_client, moderator, task_thread):
    url = f"/inbox/threads/{task_thread.pk}/notes/"
    response = mod_client.post(url, {"text": "Первая"})
    assert response.status_code == 302
    assert response.url.endswith("#notes")
    response = mod_client.post(url, {"text": "Вторая <i>"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 201
    html = _html(response)
    assert html.startswith('<section id="notes"')
    assert html.index("Первая") < html.index("Вторая &lt;i&gt;")
    response = mod_client.post(url, {"text": " "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Напишите заметку." in _html(response)
    response = mod_client.post(url, {"text": ""})
    assert response.status_code == 400
    assert "Напишите заметку." in _html(response)
    assert ThreadNote.objects.count() == 2


def test_notes_never_reach_the_student(student, moderator, task_thread, settings):
    secret = "Секрет-модераторов-7f3a"
    inbox.thread_note_add(thread=task_thread, author=moderator, text=secret)
    # The thread is lively on both sides.
    settings.PARTA_CHAT_MESSAGES_PER_MINUTE = 100
    from parta.chat.services import message_post

    message_post(thread=task_thread, author=moderator, text="Ответ")
    message_post(thread=task_thread, author=student, text="Спасибо")
    own = _client(student)
    pk = task_thread.pk
    answers = [
        own.get("/chat/"),
        own.get(f"/chat/threads/{pk}/"),
        own.get(f"/chat/threads/{pk}/messages/?after=0"),
        own.get("/api/v1/chat/threads/"),
        own.get(f"/api/v1/chat/threads/{pk}/"),
        own.get(f"/api/v1/chat/threads/{pk}/messages/"),
        own.get(f"/inbox/threads/{pk}/"),
        own.get("/api/v1/inbox/threads/"),
        own.get(f"/api/v1/inbox/threads/{pk}/notes/"),
    ]
    assert [a.status_code for a in answers] == [200] * 6 + [403] * 3
    assert "Спасибо" in _html(answers[1])  # the page is the real one
    for answer in answers:
        assert secret not in _html(answer)
    # Nor another student's way in.
    stranger = _client(UserFactory())
    assert stranger.get(f"/chat/threads/{pk}/").status_code == 404
    assert secret not in _html(stranger.get(f"/api/v1/inbox/threads/{pk}/notes/"))


# --- Saved replies ----------------------------------------------------------------------------


def test_saved_replies_are_kept_on_their_page(mod_client, moderator):
    response = mod_client.post(
        "/inbox/replies/", {"title": "Привет", "text": "Здравствуйте!", "position": ""}
    )
    assert response.status_code == 302
    reply = SavedReply.objects.get()
    assert (reply.title, reply.text, reply.author, reply.position) == (
        "Привет",
        "Здравствуйте!",
        moderator,
        0,
    )
    html = _html(mod_client.get("/inbox/replies/"))
    assert "Привет" in html
    assert f'action="/inbox/replies/{reply.pk}/delete/"' in html

    response = mod_client.post(
        f"/inbox/replies/{reply.pk}/", {"title": "Привет!", "text": "Добрый день!", "position": 3}
    )
    assert response.status_code == 302
    reply.refresh_from_db()
    assert (reply.title, reply.text, reply.position) == ("Привет!", "Добрый день!", 3)
    assert mod_client.get(f"/inbox/replies/{reply.pk}/").status_code == 200

    mod_client.post(f"/inbox/replies/{reply.pk}/delete/")
    assert not SavedReply.objects.exists()
    assert mod_client.get(f"/inbox/replies/{reply.pk}/").status_code == 404
    assert mod_client.post(f"/inbox/replies/{reply.pk}/delete/").status_code == 404


def test_a_bad_saved_reply_shows_its_errors(mod_client):
    response = mod_client.post("/inbox/replies/", {"title": "  ", "text": "", "position": "-3"})
    assert response.status_code == 400
    html = _html(response)
    assert "Обязательное поле." in html
    assert "больше либо равно 0" in html
    response = mod_client.post("/inbox/replies/", {})
    assert response.status_code == 400
    assert not SavedReply.objects.exists()


# --- The header ------------------------------------------------------------------------------


def test_the_header_shows_moderators_the_inbox_with_its_count(
    mod_client, moderator, student, course
):
    make_thread(student, asked_at=_ago(5))
    make_thread(student, asked_at=_ago(6), assignee=moderator)
    make_thread(student, asked_at=_ago(7), assignee=ModeratorFactory())
    make_thread(student, asked_at=_ago(8), answered_by=moderator)
    html = _html(mod_client.get("/courses/"))
    assert 'class="nav-inbox" href="/inbox/" title="2 переписки ждут ответа"' in html
    assert '<span class="badge inbox-count" data-testid="inbox-count">2</span>' in html
    student_html = _html(_client(student).get("/courses/"))
    assert "nav-inbox" not in student_html
    assert "/inbox/" not in student_html


def test_the_header_link_costs_moderators_one_query(
    mod_client, student, moderator, django_assert_num_queries
):
    make_thread(student, asked_at=_ago(5))
    with count_queries() as queries:
        mod_client.get("/courses/")
    inbox_counts = [q for q in queries if 'FROM "chat_thread"' in q]
    assert len(inbox_counts) == 1
    with count_queries() as queries:
        _client(student).get("/courses/")
    assert not [q for q in queries if 'FROM "chat_thread"' in q]


def test_an_empty_inbox_says_so(mod_client):
    html = _html(mod_client.get("/inbox/"))
    assert "Вопросов пока нет." in html
    assert "inbox-count" not in html
    assert "Под эти фильтры ничего не подходит." in _html(mod_client.get("/inbox/?show=closed"))
