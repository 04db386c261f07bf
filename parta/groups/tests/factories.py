import factory

from parta.catalog.tests.factories import CourseFactory
from parta.groups.models import Group


class GroupFactory(factory.django.DjangoModelFactory):
    """An empty group; students join through parta.groups.services (which keep the seat
    counts), never by creating memberships here."""

    class Meta:
        model = Group

    course = factory.SubFactory(CourseFactory)
    number = factory.Sequence(lambda n: n + 1)
