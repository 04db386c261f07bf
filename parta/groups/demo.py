"""Demo study groups for `seed_demo`: the students were placed when they got access;
here the first group of the course gets the demo moderator as its teacher. Idempotent."""

from django.db import transaction

from parta.accounts.models import User
from parta.catalog.models import Course
from parta.groups.models import Group
from parta.groups.services import group_update


@transaction.atomic
def seed_groups(*, course: Course, teacher: User, by: User) -> list[Group]:
    groups = list(Group.objects.filter(course=course).order_by("number"))
    if groups and groups[0].teacher_id is None:
        group_update(group=groups[0], by=by, name=groups[0].name, teacher=teacher)
    return groups
