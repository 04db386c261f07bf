"""A student's journey in a real browser: sign in, open a course, watch a lesson, solve a
task (wrong, then right) and see the statistics with the chart drawn."""

import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import Page, expect

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import CourseFactory, LessonFactory, TaskFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The smallest valid MP4 header the upload checks and browsers accept as video/mp4.
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


def test_student_studies_and_sees_statistics(page: Page, browser_live_server, smtp_sink):
    course = CourseFactory(title="Геометрия", slug="geometry")
    topic = TopicFactory(course=course, title="Треугольники")
    lesson = LessonFactory(topic=topic, title="Сумма углов", body="Сумма углов равна **180°**.")
    lesson.video.save("angles.mp4", ContentFile(MP4_BYTES))
    TaskFactory(
        topic=topic, title="Третий угол", kind="number", answer_number=60,
        statement="Два угла по 60°. Найдите третий.", solution="180 − 60 − 60 = 60.",
    )  # fmt: skip
    TopicFactory(course=course, title="Окружности", opens_at=timezone.now() + timedelta(days=3))
    student = UserFactory(email="geo@example.com", full_name="Гео Метр")
    AccessGrantFactory(user=student, course=course)
    base = browser_live_server.url

    page.goto(base + "/accounts/login/code/")
    page.get_by_label("Email").fill("geo@example.com")
    page.locator("form button[type=submit]").first.click()
    [message] = smtp_sink.wait_for(1)
    code = re.search(r"^\s*(\d{6})\s*$", smtp_sink.text_of(message), re.MULTILINE).group(1)
    page.locator("input[name=code]").fill(code)
    page.locator("form button[type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/profile/$"))

    page.goto(base + "/courses/geometry/")
    expect(page.locator("main")).to_contain_text("Треугольники")
    expect(page.locator(".topic.locked")).to_contain_text("откроется")

    page.get_by_role("link", name=re.compile("Сумма углов")).click()
    expect(page.locator("main h1")).to_have_text("Сумма углов")
    video = page.locator("video")
    expect(video).to_be_visible()
    src = video.get_attribute("src")
    assert "/files/" in src
    assert page.request.get(src).status == 200  # the signed link serves the file

    page.goto(base + "/courses/geometry/")
    page.get_by_role("link", name=re.compile("Третий угол")).click()
    page.evaluate("() => { window.notReloaded = true; }")
    page.locator("input[name=answer]").fill("50")
    page.get_by_role("button", name="Проверить").click()
    expect(page.locator(".verdict.wrong")).to_contain_text("Попробуйте ещё раз")
    expect(page.locator(".solution")).to_have_count(0)
    page.locator("input[name=answer]").fill("60")
    page.get_by_role("button", name="Проверить").click()
    expect(page.locator(".verdict.ok")).to_contain_text("Верно")
    expect(page.locator(".solution")).to_contain_text("180 − 60 − 60 = 60")
    assert page.evaluate("() => window.notReloaded") is True  # answered without a reload

    page.get_by_role("link", name="Статистика").click()
    expect(page.locator(".stat-cards")).to_contain_text("1/1")
    expect(page.locator("[data-testid=streak]")).to_have_text("1")
    expect(page.locator("canvas#activity-chart[data-drawn=true]")).to_be_attached()
    bars = page.evaluate(
        "() => document.getElementById('activity-chart')._chart.data.datasets[0].data.at(-1)"
    )
    assert bars == 1

    # The profile shows the same statistics, loaded into the page with htmx.
    page.goto(base + "/profile/")
    expect(page.locator("#stats-panel canvas#activity-chart[data-drawn=true]")).to_be_attached()
    expect(page.locator("#stats-panel .stat-cards")).to_contain_text("1/1")
