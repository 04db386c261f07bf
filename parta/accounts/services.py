"""Writes for people: creating students and moderators, editing profiles, changing a
person's role or blocking them (staff only, audited), telling the staff about locked
sign-ins."""

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from parta.accounts.models import Role, User
from parta.accounts.phone import normalize_phone
from parta.audit.services import record_change
from parta.common.errors import PermissionDenied, ValidationFailed

FULL_NAME_MAX = 150


def _clean_email(email: str) -> str:
    value = (email or "").strip().lower()
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValidationFailed({"email": [_("Enter a valid email address.")]}) from exc
    return value


def _clean_full_name(full_name: str) -> str:
    value = " ".join((full_name or "").split())
    if not value:
        raise ValidationFailed({"full_name": [_("Enter your full name.")]})
    if len(value) > FULL_NAME_MAX:
        raise ValidationFailed(
            {"full_name": [_("The name is too long (at most %d characters).") % FULL_NAME_MAX]}
        )
    return value


def _clean_phone(phone: str) -> str:
    try:
        return normalize_phone(phone)
    except ValidationError as exc:
        raise ValidationFailed({"phone": exc.messages}) from exc


@transaction.atomic
def user_create(
    *,
    email: str,
    full_name: str,
    phone: str = "",
    role: Role = Role.STUDENT,
    password: str | None = None,
    email_verified: bool = False,
) -> User:
    """Create a user. With ``email_verified`` the address is recorded as verified, so a
    moderator or a demo account can log in without a confirmation round."""
    email = _clean_email(email)
    full_name = _clean_full_name(full_name)
    phone = _clean_phone(phone)
    try:
        # A savepoint, so a duplicate leaves the caller's transaction usable.
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=password,
                full_name=full_name,
                phone=phone,
                role=role,
            )
    except IntegrityError as exc:
        raise ValidationFailed({"email": [_("A user with this email already exists.")]}) from exc
    if email_verified:
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user


@transaction.atomic
def moderator_create(*, email: str, password: str, full_name: str) -> User:
    """Create a moderator who logs in with email and password. The password must pass
    the project's password validators."""
    email = _clean_email(email)
    full_name = _clean_full_name(full_name)
    if User.objects.filter(email__iexact=email).exists():
        # Checked up front for a clear message; the unique constraint still decides.
        raise ValidationFailed({"email": [_("A user with this email already exists.")]})
    try:
        validate_password(password, user=User(email=email, full_name=full_name))
    except ValidationError as exc:
        raise ValidationFailed({"password": exc.messages}) from exc
    return user_create(
        email=email,
        full_name=full_name,
        role=Role.MODERATOR,
        password=password,
        email_verified=True,
    )


@transaction.atomic
def user_update_profile(*, user: User, full_name: str, phone: str) -> User:
    user.full_name = _clean_full_name(full_name)
    user.phone = _clean_phone(phone)
    user.save(update_fields=["full_name", "phone", "updated_at"])
    return user


def _check_staff(actor: User, user: User) -> None:
    if not (actor.is_authenticated and actor.is_active and actor.is_school_staff):
        raise PermissionDenied(_("Only staff change roles and block people."))
    if actor.pk == user.pk:
        raise PermissionDenied(_("You cannot change your own role or block yourself."))


@transaction.atomic
def user_role_set(*, actor: User, user: User, role: str, reason: str = "") -> User:
    """Make ``user`` a student, a moderator or a staff member. Staff only, never oneself
    (the last door out of the CRM is not closed by a slip)."""
    _check_staff(actor, user)
    if role not in Role.values:
        raise ValidationFailed({"role": [_("Choose a student, moderator or staff role.")]})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.role == role:
        return user
    before = {"role": user.role}
    user.role = role
    user.save(update_fields=["role", "updated_at"])
    record_change(
        actor=actor,
        action="accounts.role_set",
        obj=user,
        subject=user,
        before=before,
        after={"role": role},
        reason=reason,
    )
    return user


@transaction.atomic
def user_active_set(*, actor: User, user: User, active: bool, reason: str = "") -> User:
    """Block (``active=False``: no sign-in, no API token) or unblock a person. Staff only,
    never oneself; a block needs a reason."""
    _check_staff(actor, user)
    reason = (reason or "").strip()
    if not active and not reason:
        raise ValidationFailed({"reason": [_("Say why the person is blocked.")]})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active == bool(active):
        return user
    user.is_active = bool(active)
    user.save(update_fields=["is_active", "updated_at"])
    record_change(
        actor=actor,
        action="accounts.unblock" if active else "accounts.block",
        obj=user,
        subject=user,
        before={"is_active": not user.is_active},
        after={"is_active": user.is_active},
        reason=reason,
    )
    return user


# The outbox sits above accounts: it registers here how a sign-in lock reaches the staff
# (parta.notifications.signin_locks), so the alert is stored and delivered like any message.
signin_lock_hooks: list = []


@transaction.atomic
def signin_lock_notify(*, email: str, ip: str, kind: str) -> bool:
    """Tell the school's staff (through the outbox, delivered on commit) that sign-in for
    ``email`` hit its ceiling of wrong codes (``kind="code"``, now locked) or wrong
    passwords (``kind="password"``).
    Only for an existing account: a lock on an address nobody owns protects no one and
    would let anyone flood the staff's mailbox. Returns whether a message was queued."""
    if not User.objects.filter(email__iexact=email).exists():
        return False
    if kind == "code":
        seconds = settings.PARTA_CODE_LOCK_SECONDS
    else:
        seconds = settings.PARTA_PASSWORD_FAILS_PER_EMAIL[1]
    hours = max(1, round(int(seconds) / 3600))
    for hook in signin_lock_hooks:
        hook(email=email, ip=ip, kind=kind, locked_hours=hours)
    return True
