from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from parta.common.models import TimeStampedModel


class Role(models.TextChoices):
    STUDENT = "student", _("Student")
    MODERATOR = "moderator", _("Moderator")
    STAFF = "staff", _("Staff")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields):
        if not email:
            raise ValueError("An email is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields):
        fields.setdefault("role", Role.STUDENT)
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields):
        """Staff (the school's owner and operators) are Django superusers."""
        fields["role"] = Role.STAFF
        fields["is_staff"] = True
        fields["is_superuser"] = True
        fields.setdefault("full_name", email.split("@")[0])
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin, TimeStampedModel):
    """A person of the school. The email is the login; students have no password and
    log in by codes sent to it; moderators and staff also have a password."""

    email = models.EmailField(_("email"), max_length=254, unique=True)
    full_name = models.CharField(_("full name"), max_length=150)
    # E.164 ("+79991234567") or empty; see parta.accounts.phone.
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.STUDENT)
    telegram_chat_id = models.BigIntegerField(_("Telegram chat id"), null=True, blank=True)
    # Set when Telegram says the person blocked the bot: Telegram is skipped until they relink.
    telegram_blocked_at = models.DateTimeField(_("blocked the bot at"), null=True, blank=True)
    # The language of what Parta sends them; empty: the school's (LANGUAGE_CODE).
    language = models.CharField(
        _("language"), max_length=8, blank=True, choices=settings.LANGUAGES
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("can use the admin"), default=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
            models.UniqueConstraint(
                fields=["telegram_chat_id"],
                condition=models.Q(telegram_chat_id__isnull=False),
                name="accounts_user_telegram_chat_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="accounts_user_role_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(full_name=""), name="accounts_user_full_name_present"
            ),
        ]
        # The CRM's clients list (students by name or registration, a page at a time) and
        # the dashboard's registrations per day.
        indexes = [
            models.Index(
                fields=["full_name", "id"],
                condition=models.Q(role="student"),
                name="accounts_student_name",
            ),
            models.Index(
                fields=["created_at", "id"],
                condition=models.Q(role="student"),
                name="accounts_student_registered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT

    @property
    def is_moderator(self) -> bool:
        return self.role == Role.MODERATOR

    @property
    def is_school_staff(self) -> bool:
        return self.role == Role.STAFF or self.is_superuser

    @property
    def telegram_linked(self) -> bool:
        return self.telegram_chat_id is not None

    @property
    def telegram_reachable(self) -> bool:
        return self.telegram_chat_id is not None and self.telegram_blocked_at is None

    @property
    def message_language(self) -> str:
        return self.language or settings.LANGUAGE_CODE
