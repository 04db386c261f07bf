from datetime import timedelta

import factory
from django.utils import timezone

from parta.access.models import AccessGrant, GrantSource
from parta.accounts.tests.factories import UserFactory
from parta.catalog.tests.factories import CourseFactory


class AccessGrantFactory(factory.django.DjangoModelFactory):
    """Use the services in tests that care about the cache; this factory writes rows
    directly (as data set-up for a fresh cache)."""

    class Meta:
        model = AccessGrant

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)
    source = GrantSource.MANUAL
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    available_until = None
    is_active = True
