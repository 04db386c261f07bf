from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from parta.access import selectors
from parta.access.models import AccessGrant, GrantSource
from parta.access.selectors import access_check, accessible_course_ids, decide
from parta.access.services import (
    access_grant_create,
    access_grant_deactivate,
    access_grant_update,
)
from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.catalog.tests.factories import CourseFactory
from parta.common.errors import ValidationFailed

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_decide_no_grants():
    decision, change = decide([], T0)
    assert not decision.allowed
    assert change is None


def test_decide_open_ended_and_expired():
    assert decide([(T0 - H, None)], T0)[0].allowed
    expired, change = decide([(T0 - 2 * H, T0 - H)], T0)
    assert not expired.allowed
    assert change is None
    # The end moment itself is outside the grant.
    assert not decide([(T0 - H, T0)], T0)[0].allowed


def test_decide_future_grant_says_when_it_starts():
    decision, change = decide([(T0 + H, T0 + 5 * H)], T0)
    assert not decision.allowed
    assert change == T0 + H


def test_decide_merges_renewals_into_one_until():
    grants = [(T0 - 5 * H, T0 + H), (T0, T0 + 3 * H), (T0 + 3 * H, T0 + 9 * H)]
    decision, change = decide(grants, T0)
    assert decision.allowed
    assert decision.until == T0 + 9 * H
    assert change == T0 + 9 * H


@given(
    st.lists(
        st.tuples(st.integers(-50, 50), st.one_of(st.none(), st.integers(1, 40))),
        max_size=6,
    ),
    st.integers(-60, 60),
)
def test_decide_agrees_with_a_plain_reading(raw, at):
    """Allowed exactly when some grant covers the moment; `until` covers it too."""
    grants = [(T0 + k * H, None if d is None else T0 + (k + d) * H) for k, d in raw]
    now = T0 + at * H
    decision, _change = decide(grants, now)
    covering = [(s, e) for s, e in grants if s <= now and (e is None or e > now)]
    assert decision.allowed == bool(covering)
    if decision.allowed:
        if any(e is None for _s, e in covering):
            assert decision.until is None
        else:
            assert decision.until is None or decision.until >= max(e for _s, e in covering)


@pytest.mark.django_db
class TestAccessCheck:
    def test_student_without_grant_is_refused(self):
        assert not access_check(user=UserFactory(), course_id=CourseFactory().id).allowed

    def test_grant_gives_access_until_its_end(self):
        grant = AccessGrantFactory(available_until=timezone.now() + timedelta(days=3))
        decision = access_check(user=grant.user, course_id=grant.course_id)
        assert decision.allowed
        assert decision.until == grant.available_until

    @pytest.mark.parametrize("factory", [ModeratorFactory, StaffFactory])
    def test_moderators_and_staff_see_every_course(self, factory):
        decision = access_check(user=factory(), course_id=CourseFactory().id)
        assert decision.allowed
        assert decision.staff

    def test_inactive_grant_gives_nothing(self):
        grant = AccessGrantFactory(is_active=False)
        assert not access_check(user=grant.user, course_id=grant.course_id).allowed

    def test_answer_is_cached(self, django_assert_num_queries):
        grant = AccessGrantFactory()
        access_check(user=grant.user, course_id=grant.course_id)
        with django_assert_num_queries(0):
            assert access_check(user=grant.user, course_id=grant.course_id).allowed

    def test_a_cached_time_limited_answer_keeps_its_end(self, django_assert_num_queries):
        grant = AccessGrantFactory(available_until=timezone.now() + timedelta(days=3))
        access_check(user=grant.user, course_id=grant.course_id)
        with django_assert_num_queries(0):
            decision = access_check(user=grant.user, course_id=grant.course_id)
        assert decision.allowed
        assert decision.until == grant.available_until

    def test_cache_never_outlives_expiry(self, monkeypatch):
        end = timezone.now() + timedelta(minutes=5)
        grant = AccessGrantFactory(available_until=end)
        assert access_check(user=grant.user, course_id=grant.course_id).allowed
        later = end + timedelta(seconds=1)
        monkeypatch.setattr("parta.access.selectors.timezone.now", lambda: later)
        assert not access_check(user=grant.user, course_id=grant.course_id).allowed

    def test_every_grant_change_invalidates_the_cache(self, django_capture_on_commit_callbacks):
        user, course = UserFactory(), CourseFactory()
        assert not access_check(user=user, course_id=course.id).allowed  # cached "no"
        with django_capture_on_commit_callbacks(execute=True):
            grant = access_grant_create(user=user, course=course, source=GrantSource.MANUAL)
        assert access_check(user=user, course_id=course.id).allowed

        with django_capture_on_commit_callbacks(execute=True):
            access_grant_update(
                grant=grant,
                starts_at=grant.starts_at,
                available_until=timezone.now() + timedelta(days=1),
                is_active=True,
            )
        assert access_check(user=user, course_id=course.id).until is not None

        with django_capture_on_commit_callbacks(execute=True):
            access_grant_deactivate(grant=grant)
        assert not access_check(user=user, course_id=course.id).allowed

    def test_an_answer_written_late_after_a_change_is_never_used(
        self, monkeypatch, django_capture_on_commit_callbacks
    ):
        """A reader that looked at the grants just before a change committed writes its
        answer after the change's invalidation ran: the version bump makes it unusable
        (without it the stale "no" would have stayed cached for an hour)."""
        user, course = UserFactory(), CourseFactory()
        read_grants = selectors._intervals_by_course

        def grant_lands_meanwhile(user_id, course_ids):
            seen = read_grants(user_id, course_ids)
            with django_capture_on_commit_callbacks(execute=True):
                access_grant_create(user=user, course=course, source=GrantSource.MANUAL)
            return seen

        monkeypatch.setattr(selectors, "_intervals_by_course", grant_lands_meanwhile)
        assert not access_check(user=user, course_id=course.id).allowed  # the racing read
        monkeypatch.setattr(selectors, "_intervals_by_course", read_grants)
        assert access_check(user=user, course_id=course.id).allowed
        assert accessible_course_ids(user=user, course_ids=[course.id]) == {course.id}

    def test_grant_must_end_after_it_starts(self):
        user, course = UserFactory(), CourseFactory()
        now = timezone.now()
        with pytest.raises(ValidationFailed):
            access_grant_create(
                user=user, course=course, source=GrantSource.MANUAL, starts_at=now,
                available_until=now,
            )  # fmt: skip
        assert not AccessGrant.objects.exists()

    def test_accessible_course_ids_for_lists(self, django_assert_max_num_queries):
        user = UserFactory()
        mine, expired, other = CourseFactory(), CourseFactory(), CourseFactory()
        AccessGrantFactory(user=user, course=mine)
        AccessGrantFactory(
            user=user,
            course=expired,
            starts_at=timezone.now() - timedelta(days=10),
            available_until=timezone.now() - timedelta(days=1),
        )
        with django_assert_max_num_queries(1):
            ids = accessible_course_ids(user=user, course_ids=[mine.id, expired.id, other.id])
        assert ids == {mine.id}
