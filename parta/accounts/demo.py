"""Demo people for `seed_demo`; later domains add their own demo data next to theirs."""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db import transaction

from parta.accounts.models import Role, User
from parta.accounts.services import user_create

DEMO_PASSWORD = "parta-demo-2026"
DEMO_STUDENT_EMAIL = "student@parta.local"
DEMO_MODERATOR_EMAIL = "moderator@parta.local"
DEMO_STAFF_EMAIL = "admin@parta.local"


@dataclass(frozen=True)
class DemoPeople:
    student: User
    moderator: User
    staff: User


def _ensure(email: str, **fields) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = user_create(email=email, email_verified=True, **fields)
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"primary": True, "verified": True}
    )
    return user


@transaction.atomic
def seed_people() -> DemoPeople:
    student = _ensure(
        DEMO_STUDENT_EMAIL, full_name="Анна Демидова", phone="+79990001122", role=Role.STUDENT
    )
    moderator = _ensure(
        DEMO_MODERATOR_EMAIL,
        full_name="Мария Учителева",
        role=Role.MODERATOR,
        password=DEMO_PASSWORD,
    )
    staff = User.objects.filter(email=DEMO_STAFF_EMAIL).first()
    if staff is None:
        staff = User.objects.create_superuser(
            email=DEMO_STAFF_EMAIL, password=DEMO_PASSWORD, full_name="Владелец школы"
        )
    EmailAddress.objects.get_or_create(
        user=staff, email=DEMO_STAFF_EMAIL, defaults={"primary": True, "verified": True}
    )
    return DemoPeople(student=student, moderator=moderator, staff=staff)
