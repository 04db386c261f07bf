"""Live settings: the environment's values until staff change them at /crm/settings/;
a change is validated, audited, and read by the code at once (no restart)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.audit.models import AuditEntry
from parta.catalog import services as catalog
from parta.catalog.tests.factories import CourseFactory, TaskFactory, TopicFactory
from parta.common.errors import PermissionDenied, ValidationFailed
from parta.common.live import live, live_all, live_forget
from parta.crm.live_settings import live_settings_current, live_settings_update
from parta.learning.services import task_answer_submit

pytestmark = pytest.mark.django_db

URL = "/crm/settings/"
API = "/api/v1/crm/settings/"


@pytest.fixture
def staff():
    return StaffFactory(email="owner@example.com")


@pytest.fixture
def en(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def staff_client(en, staff):
    en.force_login(staff)
    return en


def form(**changes) -> dict:
    values = {name: ("" if value is None else value) for name, value in live_all().items()}
    return {**values, "reason": "asked by the owner", **changes}


def test_until_edited_every_value_is_the_environments(settings):
    settings.PARTA_SCHOOL_NAME = "Школа Ромашка"
    settings.PARTA_CHAT_ASK_AFTER = 4
    settings.PARTA_TELEGRAM_RATE = 25.0
    assert live("SCHOOL_NAME") == "Школа Ромашка"
    assert live("CHAT_ASK_AFTER") == 4
    assert live("TELEGRAM_RATE") == 25
    assert live("SESSION_REMIND_MINUTES") == settings.PARTA_SESSION_REMIND_MINUTES
    assert live("DEFAULT_GROUP_SIZE") == settings.PARTA_DEFAULT_GROUP_SIZE
    assert live("SUPPORT_EMAIL") == ""


def test_the_page_shows_the_current_values(staff_client, settings):
    settings.PARTA_CHAT_ASK_AFTER = 3
    response = staff_client.get(URL)
    assert response.status_code == 200
    assert response.context["form"].initial["CHAT_ASK_AFTER"] == 3
    html = response.content.decode()
    assert "Wrong answers before a question to a moderator" in html
    assert reverse("faq:workspace") in html


def test_a_change_applies_to_the_task_page_at_once_and_is_audited(
    staff_client, staff, settings, django_capture_on_commit_callbacks
):
    settings.PARTA_CHAT_ASK_AFTER = 3
    course = CourseFactory(slug="algebra")
    task = TaskFactory(topic=TopicFactory(course=course), answer_text="42")
    student = UserFactory(language="en")
    AccessGrantFactory(user=student, course=course)
    task_answer_submit(user=student, task=task, data={"answer": "41"})
    task_url = reverse("learning:task", args=[course.slug, task.pk])
    ask_url = reverse("chat:task-ask", args=[task.pk])

    en = staff_client
    en.force_login(student)
    assert ask_url not in en.get(task_url).content.decode()

    en.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = en.post(URL, form(CHAT_ASK_AFTER=1, reason="Students wait too long"))
    assert response.status_code == 302
    assert "Settings saved" in en.get(URL).content.decode()

    en.force_login(student)
    assert ask_url in en.get(task_url).content.decode()

    entry = AuditEntry.objects.get()
    assert entry.action == "crm.settings_update"
    assert (entry.actor_id, entry.actor_role) == (staff.pk, "staff")
    assert (entry.before, entry.after) == ({"CHAT_ASK_AFTER": 3}, {"CHAT_ASK_AFTER": 1})
    assert entry.reason == "Students wait too long"
    assert entry.ip == "127.0.0.1"


def test_bad_input_is_refused_with_a_message_per_field(staff_client):
    before = live_all()
    response = staff_client.post(
        URL,
        form(
            SCHOOL_NAME="",
            SUPPORT_EMAIL="not-an-email",
            SUPPORT_TELEGRAM="ab",
            SUPPORT_PHONE="123",
            CHAT_ASK_AFTER=-1,
            TELEGRAM_RATE=1001,
            SESSION_REMIND_MINUTES="soon",
            DEFAULT_GROUP_SIZE=0,
            reason="",
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {
        "SCHOOL_NAME",
        "SUPPORT_EMAIL",
        "SUPPORT_TELEGRAM",
        "SUPPORT_PHONE",
        "CHAT_ASK_AFTER",
        "TELEGRAM_RATE",
        "SESSION_REMIND_MINUTES",
        "DEFAULT_GROUP_SIZE",
        "reason",
    }
    assert not AuditEntry.objects.exists()
    assert live_settings_current() == before


def test_telegram_names_phones_and_long_names_have_clear_messages(staff_client):
    response = staff_client.post(URL, form(SUPPORT_TELEGRAM="ab", SUPPORT_PHONE="123"))
    errors = response.context["form"].errors
    assert "Telegram username" in errors["SUPPORT_TELEGRAM"][0]
    assert "valid phone number" in errors["SUPPORT_PHONE"][0]
    response = staff_client.post(URL, form(SCHOOL_NAME="x" * 101))
    assert "At most 100 characters" in response.context["form"].errors["SCHOOL_NAME"][0]
    assert not AuditEntry.objects.exists()


def test_the_name_and_contacts_show_in_every_pages_header_and_footer(
    staff_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            URL,
            form(
                SCHOOL_NAME="Школа Ромашка",
                SUPPORT_EMAIL="Help@Romashka.example",
                SUPPORT_TELEGRAM="https://t.me/romashka_help",
                SUPPORT_PHONE="8 (912) 345-67-89",
            ),
        )
    assert live("SUPPORT_TELEGRAM") == "romashka_help"
    assert live("SUPPORT_PHONE") == "+79123456789"
    assert live("SUPPORT_EMAIL") == "help@romashka.example"
    staff_client.logout()
    html = staff_client.get(reverse("faq:support")).content.decode()
    assert '<span class="brand-name">Школа Ромашка</span>' in html
    assert "· Школа Ромашка</title>" in html
    assert 'href="mailto:help@romashka.example"' in html
    assert 'href="https://t.me/romashka_help"' in html
    assert 'href="tel:+79123456789">+7 912 345-67-89<' in html
    entry = AuditEntry.objects.get()
    assert entry.before == {
        "SCHOOL_NAME": "Parta",
        "SUPPORT_EMAIL": "",
        "SUPPORT_TELEGRAM": "",
        "SUPPORT_PHONE": "",
    }


def test_no_contacts_no_footer_block(en):
    assert "footer-contacts" not in en.get(reverse("faq:support")).content.decode()


def test_saving_unchanged_values_writes_nothing(staff_client):
    response = staff_client.post(URL, form(), follow=True)
    assert "Nothing changed." in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_a_change_rolled_back_stores_nothing_and_writes_no_entry(staff):
    @transaction.atomic
    def change_then_fail():
        live_settings_update(actor=staff, values={"DEFAULT_GROUP_SIZE": 12}, reason="try")
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        change_then_fail()
    live_forget()
    assert live("DEFAULT_GROUP_SIZE") == 30
    assert not AuditEntry.objects.exists()


def test_only_staff_change_settings_and_unknown_names_are_refused(staff):
    with pytest.raises(PermissionDenied):
        live_settings_update(actor=ModeratorFactory(), values={"CHAT_ASK_AFTER": 1}, reason="x")
    with pytest.raises(ValidationFailed) as caught:
        live_settings_update(actor=staff, values={"DEBUG": True}, reason="x")
    assert "Unknown settings: DEBUG." in caught.value.errors["non_field_errors"]
    assert not AuditEntry.objects.exists()


def test_the_reminder_lead_time_group_size_and_telegram_rate_follow_the_settings(
    staff, django_capture_on_commit_callbacks
):
    from parta.groups.services import membership_place
    from parta.groups.sessions import session_create, sessions_remind
    from parta.notifications.telegram_api import _limits

    with django_capture_on_commit_callbacks(execute=True):
        live_settings_update(
            actor=staff,
            values={"SESSION_REMIND_MINUTES": 120, "DEFAULT_GROUP_SIZE": 12, "TELEGRAM_RATE": 5},
            reason="autumn term",
        )
    course = catalog.course_create(title="Физика", slug="physics")
    assert course.max_group_size == 12
    assert _limits()[0] == 5.0
    membership_place(student=UserFactory(), course_id=course.pk)
    now = timezone.now()
    session_create(
        actor=staff, course=course, starts_at=now + timedelta(minutes=90), duration_minutes=60
    )
    # Ninety minutes ahead is inside a two-hour lead time (not inside the default 30).
    assert sessions_remind(now=now) == 1


def test_a_cold_cache_costs_one_query_then_none(django_assert_num_queries):
    live_forget()
    with django_assert_num_queries(1):
        live("SCHOOL_NAME")
    with django_assert_num_queries(0):
        live("CHAT_ASK_AFTER")
        live_all()


def test_reading_from_an_event_loop_does_not_touch_the_database_on_the_loop():
    """The bot reads the school's name inside asyncio: a miss is read off the loop."""
    live_forget()

    async def read():
        return live("SCHOOL_NAME")

    # A thread of its own: the browser tests may keep a loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(asyncio.run, read()).result() == "Parta"


# --- who may ---------------------------------------------------------------------


def test_moderators_and_students_get_403_visitors_sign_in(en):
    en.force_login(ModeratorFactory())
    assert en.get(URL).status_code == 403
    assert en.post(URL, form()).status_code == 403
    en.force_login(UserFactory())
    assert en.get(URL).status_code == 403
    en.logout()
    assert en.get(URL).status_code == 302
    assert not AuditEntry.objects.exists()


def _token(user) -> str:
    return "Token " + Token.objects.create(user=user).key


def test_the_api_reads_and_changes_with_a_reason_for_staff_only(
    client, staff, django_capture_on_commit_callbacks
):
    auth = _token(staff)
    assert client.get(API, HTTP_AUTHORIZATION=auth).json()["CHAT_ASK_AFTER"] == live(
        "CHAT_ASK_AFTER"
    )
    response = client.patch(
        API, {"TELEGRAM_RATE": 5000}, content_type="application/json", HTTP_AUTHORIZATION=auth
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"TELEGRAM_RATE", "reason"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(
            API,
            {"TELEGRAM_RATE": 10, "reason": "provider limit"},
            content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )
    assert response.status_code == 200
    assert response.json()["TELEGRAM_RATE"] == 10
    assert live("TELEGRAM_RATE") == 10
    entry = AuditEntry.objects.get()
    assert (entry.after, entry.reason) == ({"TELEGRAM_RATE": 10}, "provider limit")
    for outsider in (ModeratorFactory(), UserFactory()):
        headers = {"HTTP_AUTHORIZATION": _token(outsider)}
        assert client.get(API, **headers).status_code == 403
        response = client.patch(
            API, {"TELEGRAM_RATE": 3, "reason": "x"}, content_type="application/json", **headers
        )
        assert response.status_code == 403
    assert AuditEntry.objects.count() == 1
