"""Calendars: the private feed (times in the school's zone, whose sessions, cancelled and
moved ones, a new link, unknown tokens), one session's .ics and who may have it, the
link on /sessions/, the API, the admin, and query counts that do not grow."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar
from rest_framework.test import APIClient

from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.audit.models import AuditEntry
from parta.catalog.tests.factories import CourseFactory
from parta.common.testing.queries import count_queries
from parta.groups.calendar_feeds import feed_get_or_create, feed_links, session_uid
from parta.groups.models import CalendarFeed, Group, Invitation, LiveSession, Response
from parta.groups.services import membership_place
from parta.groups.sessions import (
    invitation_respond,
    session_cancel,
    session_create,
    session_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client):
    client.cookies["django_language"] = "en"


@pytest.fixture
def moderator():
    return ModeratorFactory(full_name="Maria Teacher")


@pytest.fixture
def course():
    return CourseFactory(title="Geometry", max_group_size=10)


@pytest.fixture
def student(course):
    person = UserFactory(language="en")
    membership_place(student=person, course_id=course.pk)
    return person


def _plan(course, *, actor=None, starts_at=None, **fields) -> LiveSession:
    return session_create(
        actor=actor or ModeratorFactory(),
        course=course,
        starts_at=starts_at or timezone.now() + timedelta(days=1),
        duration_minutes=fields.pop("duration_minutes", 60),
        meeting_url=fields.pop("meeting_url", "https://meet.example.com/room-1"),
        **fields,
    )


def _feed(client, user) -> tuple[str, Calendar]:
    url = reverse("groups:calendar-feed", args=[feed_get_or_create(user=user).token])
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    text = response.content.decode()
    return text, Calendar.from_ical(response.content)


def _events(calendar: Calendar) -> dict[str, object]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.mark.parametrize(
    ("zone", "utc_hour"),
    [("Europe/Moscow", 16), ("America/New_York", 23)],  # 19:30 local, March 2030 (EDT)
)
def test_the_feed_parses_with_times_in_the_school_zone(
    client, settings, course, student, moderator, zone, utc_hour
):
    settings.TIME_ZONE = zone
    settings.PARTA_TIME_ZONE = zone
    local = datetime(2030, 3, 20, 19, 30, tzinfo=ZoneInfo(zone))
    session = _plan(course, starts_at=local, duration_minutes=90, teacher=moderator)
    text, calendar = _feed(client, student)
    assert calendar["VERSION"] == "2.0"
    assert f"DTSTART;TZID={zone}:20300320T193000" in text
    assert f"DTEND;TZID={zone}:20300320T210000" in text
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [zone]
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("DTSTART")
    assert start.astimezone(UTC) == datetime(2030, 3, 20, utc_hour, 30, tzinfo=UTC)
    assert start.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == datetime(2030, 3, 20, 19, 30)
    assert event.decoded("DTEND") - start == timedelta(minutes=90)
    assert str(event["UID"]) == session_uid(session)
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Live session: Geometry"
    assert "Maria Teacher" in str(event["DESCRIPTION"])
    assert str(event["URL"]) == "https://meet.example.com/room-1"
    assert event.decoded("DTSTAMP").tzinfo is not None


def test_a_moved_session_keeps_its_uid_and_a_higher_sequence_and_a_cancelled_one_says_so(
    client, course, student, moderator
):
    session = _plan(course, actor=moderator)
    _, before = _feed(client, student)
    first = _events(before)[session_uid(session)]
    LiveSession.objects.filter(pk=session.pk).update(
        updated_at=session.updated_at - timedelta(seconds=5),
        created_at=session.created_at - timedelta(seconds=5),
    )
    session.refresh_from_db()
    session_update(
        actor=moderator,
        session=session,
        starts_at=session.starts_at + timedelta(hours=2),
        duration_minutes=45,
    )
    _, moved = _feed(client, student)
    second = _events(moved)[session_uid(session)]
    assert second.decoded("DTSTART") - first.decoded("DTSTART") == timedelta(hours=2)
    assert int(second["SEQUENCE"]) > int(first["SEQUENCE"])
    session_cancel(actor=moderator, session=session)
    text, cancelled = _feed(client, student)
    third = _events(cancelled)[session_uid(session)]
    assert str(third["STATUS"]) == "CANCELLED"
    assert int(third["SEQUENCE"]) >= int(second["SEQUENCE"])
    assert str(third["SUMMARY"]) == "Cancelled: Geometry"
    assert "meet.example.com" not in text


def test_a_student_reads_their_sessions_and_not_anothers(client, course, student):
    other_course = CourseFactory(title="Algebra", max_group_size=10)
    other = UserFactory(language="en")
    membership_place(student=other, course_id=other_course.pk)
    mine = _plan(course)
    declined = _plan(course, starts_at=timezone.now() + timedelta(days=2))
    theirs = _plan(other_course)
    invitation = Invitation.objects.get(session=declined, user=student)
    invitation_respond(user=student, invitation_id=invitation.pk, response=Response.DECLINED)
    _, calendar = _feed(client, student)
    assert set(_events(calendar)) == {session_uid(mine)}
    _, calendar = _feed(client, other)
    assert set(_events(calendar)) == {session_uid(theirs)}


def test_teachers_read_what_they_teach_and_moderators_what_they_planned(client, course):
    teacher = ModeratorFactory()
    planner = ModeratorFactory()
    staff = StaffFactory()
    taught = _plan(course, actor=planner, teacher=teacher)
    planned = _plan(course, actor=planner)
    by_staff = _plan(course, actor=staff)
    _plan(course)  # someone else's
    assert set(_events(_feed(client, teacher)[1])) == {session_uid(taught)}
    assert set(_events(_feed(client, planner)[1])) == {session_uid(taught), session_uid(planned)}
    assert set(_events(_feed(client, staff)[1])) == {session_uid(by_staff)}


def test_a_new_link_makes_the_old_address_404(client, student):
    old = reverse("groups:calendar-feed", args=[feed_get_or_create(user=student).token])
    assert Client().get(old).status_code == 200
    client.force_login(student)
    response = client.post(reverse("groups:calendar-new-link"), follow=True)
    assert "the old one no longer works" in response.content.decode()
    assert Client().get(old).status_code == 404
    new = reverse("groups:calendar-feed", args=[CalendarFeed.objects.get(user=student).token])
    assert new != old
    assert Client().get(new).status_code == 200
    assert not AuditEntry.objects.exists()  # one's own new link is not for the audit log


def test_unknown_tokens_and_inactive_people_are_404(student):
    assert Client().get(reverse("groups:calendar-feed", args=["nope"])).status_code == 404
    long = reverse("groups:calendar-feed", args=["x" * 200])
    assert Client().get(long).status_code == 404
    url = reverse("groups:calendar-feed", args=[feed_get_or_create(user=student).token])
    student.is_active = False
    student.save()
    assert Client().get(url).status_code == 404


def test_the_new_link_is_a_post_with_csrf(student):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(student)
    token = feed_get_or_create(user=student).token
    assert strict.get(reverse("groups:calendar-new-link")).status_code == 405
    assert strict.post(reverse("groups:calendar-new-link")).status_code == 403
    assert CalendarFeed.objects.get(user=student).token == token


def test_the_sessions_page_shows_the_link_and_the_new_link_button(client, course, student):
    session = _plan(course)
    client.force_login(student)
    html = client.get(reverse("groups:my-sessions")).content.decode()
    links = feed_links(CalendarFeed.objects.get(user=student))
    assert f'value="{links["url"]}"' in html
    assert links["webcal_url"] in html
    assert "calendar.google.com" in html
    assert f'action="{reverse("groups:calendar-new-link")}"' in html
    assert "csrfmiddlewaretoken" in html
    assert reverse("groups:session-ics", args=[session.pk]) in html
    # The same link on the next visit.
    assert links["url"] in client.get(reverse("groups:my-sessions")).content.decode()
    assert CalendarFeed.objects.count() == 1


def test_moderators_see_what_they_lead_on_the_sessions_page_and_the_menu_link(client, course):
    moderator = ModeratorFactory()
    session = _plan(course, actor=moderator)
    client.force_login(moderator)
    html = client.get(reverse("groups:my-sessions")).content.decode()
    assert 'data-testid="led"' in html
    assert reverse("groups:session", args=[session.pk]) in html
    assert f'href="{reverse("groups:my-sessions")}"' in html  # the header's menu


def test_the_session_ics_is_for_those_who_may_see_it(client, course, student, moderator):
    session = _plan(course, actor=moderator)
    url = reverse("groups:session-ics", args=[session.pk])
    assert client.get(url).status_code == 302  # sign in first
    for person in (student, moderator, StaffFactory()):
        client.force_login(person)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        (event,) = Calendar.from_ical(response.content).walk("VEVENT")
        assert str(event["UID"]) == session_uid(session)
        assert str(event["URL"]) == session.meeting_url
    outsider = UserFactory()
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.get(reverse("groups:session-ics", args=[999999])).status_code == 404
    session_cancel(actor=moderator, session=session)
    client.force_login(student)
    response = client.get(url)
    assert b"STATUS:CANCELLED" in response.content
    assert b"meet.example.com" not in response.content


def test_the_workspace_session_page_offers_the_ics(client, course, moderator):
    session = _plan(course, actor=moderator)
    client.force_login(moderator)
    html = client.get(reverse("groups:session", args=[session.pk])).content.decode()
    assert f'href="{reverse("groups:session-ics", args=[session.pk])}"' in html


def test_the_feed_reads_in_a_fixed_number_of_queries(course, student):
    url = reverse("groups:calendar-feed", args=[feed_get_or_create(user=student).token])

    def count() -> int:
        with count_queries() as queries:
            assert Client().get(url).status_code == 200
        return len(queries)

    _plan(course)
    few = count()
    for n in range(2, 8):
        group = Group.objects.filter(course=course).first()
        _plan(
            course,
            starts_at=timezone.now() + timedelta(days=n),
            teacher=ModeratorFactory(),
            groups=[group],
        )
    assert len(Calendar.from_ical(Client().get(url).content).walk("VEVENT")) == 7
    assert count() == few
    # The feed and its person, the sessions with course and teacher, their groups.
    assert few == 3


def test_the_session_ics_reads_in_a_fixed_number_of_queries(client, course, student):
    session = _plan(course)
    client.force_login(student)
    url = reverse("groups:session-ics", args=[session.pk])
    with count_queries() as few:
        assert client.get(url).status_code == 200
    for _ in range(5):
        membership_place(student=UserFactory(), course_id=course.pk)
    bigger = _plan(course)
    with count_queries() as more:
        assert client.get(reverse("groups:session-ics", args=[bigger.pk])).status_code == 200
    assert len(more) == len(few)


def test_the_api_gives_the_link_and_makes_a_new_one(student):
    api = APIClient()
    assert api.get("/api/v1/calendar-feed/").status_code in (401, 403)
    api.force_authenticate(student)
    first = api.get("/api/v1/calendar-feed/").json()
    assert api.get("/api/v1/calendar-feed/").json() == first
    assert first["url"].endswith(".ics")
    assert first["webcal_url"].startswith("webcal://")
    old_path = "/" + first["url"].split("/", 3)[3]
    assert Client().get(old_path).status_code == 200
    rotated = api.post("/api/v1/calendar-feed/")
    assert rotated.status_code == 200
    assert rotated.json()["url"] != first["url"]
    assert Client().get(old_path).status_code == 404
    new_path = "/" + rotated.json()["url"].split("/", 3)[3]
    assert Client().get(new_path).status_code == 200


def test_the_api_is_in_the_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]["/api/v1/calendar-feed/"]
    assert {"get", "post"} <= set(paths)
    assert paths["post"]["operationId"] == "calendar_feed_rotate"


def test_the_admin_never_shows_the_token_and_makes_new_links(client, student):
    feed = feed_get_or_create(user=student)
    client.force_login(StaffFactory())
    changelist = reverse("admin:groups_calendarfeed_changelist")
    html = client.get(changelist).content.decode()
    assert student.email in html
    assert feed.token not in html
    change = client.get(reverse("admin:groups_calendarfeed_change", args=[feed.pk]))
    assert feed.token not in change.content.decode()
    assert client.get(reverse("admin:groups_calendarfeed_add")).status_code == 403
    response = client.post(
        changelist, {"action": "make_new_links", "_selected_action": [feed.pk]}, follow=True
    )
    assert response.status_code == 200
    assert CalendarFeed.objects.get(pk=feed.pk).token != feed.token
    entry = AuditEntry.objects.get(action="groups.calendar_feed_rotate")
    assert entry.subject == student
    assert feed.token not in str(entry.before) + str(entry.after)
    assert Client().get(reverse("groups:calendar-feed", args=[feed.token])).status_code == 404


def test_the_feed_answers_head_and_refuses_writes(student):
    url = reverse("groups:calendar-feed", args=[feed_get_or_create(user=student).token])
    assert Client().head(url).status_code == 200
    assert Client().post(url).status_code == 405


def test_the_moderators_sessions_page_reads_in_a_fixed_number_of_queries(client, course):
    moderator = ModeratorFactory()
    client.force_login(moderator)
    url = reverse("groups:my-sessions")

    def count() -> int:
        with count_queries() as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    _plan(course, actor=moderator)
    count()  # the first visit makes the calendar link
    few = count()
    for n in range(2, 8):
        _plan(
            course,
            actor=moderator,
            teacher=ModeratorFactory(),
            starts_at=timezone.now() + timedelta(days=n),
        )
    assert 'data-testid="led"' in client.get(url).content.decode()
    assert count() == few
