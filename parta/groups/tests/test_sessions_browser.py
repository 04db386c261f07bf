"""A live session in a real browser: a moderator plans one for the course, a student
accepts it at /sessions/, the teacher sees the answer. Screenshots at desktop and phone
width."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.browser import screenshots
from parta.common.time import school_tz
from parta.groups.models import Invitation, LiveSession, Response
from parta.groups.services import membership_place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Page, base: str, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}]
    )


def test_a_moderator_plans_a_student_accepts_the_teacher_sees_it(page: Page, browser_live_server):
    course = CourseFactory(title="Алгебра", max_group_size=5)
    student = UserFactory(full_name="Анна Демидова")
    membership_place(student=student, course_id=course.pk)
    teacher = ModeratorFactory(full_name="Мария Учителева")
    base = browser_live_server.url

    _sign_in(page, base, ModeratorFactory(full_name="Модератор"))
    page.goto(f"{base}/workspace/courses/{course.pk}/sessions/")
    starts = (timezone.now() + timedelta(days=1)).astimezone(school_tz())
    page.get_by_label("Преподаватель").select_option(value=str(teacher.pk))
    page.get_by_label("Начало").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Длительность, минут").fill("45")
    page.get_by_label("Описание").fill("Повторение перед контрольной")
    screenshots(page, "plan")
    page.get_by_role("button", name="Запланировать и пригласить").click()
    expect(page.get_by_text("Занятие запланировано, приглашения отправлены.")).to_be_visible()
    session = LiveSession.objects.get()
    assert session.meeting_url.startswith("https://meet.jit.si/")

    _sign_in(page, base, student)
    page.goto(f"{base}/sessions/")
    expect(page.get_by_text("Повторение перед контрольной")).to_be_visible()
    screenshots(page, "mine")
    page.get_by_role("button", name="Принять").click()
    expect(page.get_by_text("Спасибо: вы приняли приглашение.")).to_be_visible()
    assert Invitation.objects.get(user=student).response == Response.ACCEPTED

    _sign_in(page, base, teacher)
    page.goto(f"{base}/workspace/sessions/{session.pk}/")
    expect(page.get_by_text("Принято (1)")).to_be_visible()
    expect(page.get_by_test_id("responses")).to_contain_text("Анна Демидова")
    screenshots(page, "session")
