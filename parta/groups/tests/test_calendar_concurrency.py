"""Calendar links under concurrency, on PostgreSQL: the first visits of one person from
several tabs at once make one link, and new links made at once leave exactly one working
address."""

import pytest
from django.test import Client
from django.urls import reverse

from parta.accounts.tests.factories import UserFactory
from parta.common.testing.concurrency import run_together
from parta.groups.calendar_feeds import feed_get_or_create, feed_rotate
from parta.groups.models import CalendarFeed

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_first_visits_at_once_make_one_link():
    user = UserFactory()
    results, errors = run_together(8, lambda _i: feed_get_or_create(user=user).token)
    assert errors == []
    assert len(set(results)) == 1
    assert CalendarFeed.objects.filter(user=user).count() == 1


def test_new_links_at_once_leave_one_working_address():
    user = UserFactory()
    first = feed_get_or_create(user=user).token
    results, errors = run_together(6, lambda _i: feed_rotate(user=user).token)
    assert errors == []
    assert len(set(results)) == 6
    working = [
        token
        for token in [first, *results]
        if Client().get(reverse("groups:calendar-feed", args=[token])).status_code == 200
    ]
    assert working == [CalendarFeed.objects.get(user=user).token]
