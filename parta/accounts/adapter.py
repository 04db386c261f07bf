from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.urls import reverse

from parta.accounts.models import Role
from parta.accounts.services import user_create
from parta.common.errors import ValidationFailed


class AccountAdapter(DefaultAccountAdapter):
    """Connects allauth's sign-up to Parta's service: a student is created with the
    full name and phone from the form and no usable password."""

    def save_user(self, request, user, form, commit=True):
        data = form.cleaned_data
        if not commit:
            user.email = data["email"].lower()
            user.full_name = data["full_name"]
            user.phone = data.get("phone", "")
            user.role = Role.STUDENT
            user.set_unusable_password()
            return user
        try:
            return user_create(
                email=data["email"],
                full_name=data["full_name"],
                phone=data.get("phone", ""),
                role=Role.STUDENT,
            )
        except ValidationFailed as exc:
            # The form validated these already; only a race on the same email gets
            # here, and the form shows the message instead of a server error.
            for field, messages in exc.errors.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            raise

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Give Parta's email templates the school's name, the sign-in page address and
        the code lifetime."""
        request = allauth_context.request
        context = {
            "school_name": settings.PARTA_SCHOOL_NAME,
            "code_minutes": max(1, allauth_settings.LOGIN_BY_CODE_TIMEOUT // 60),
            "login_url": request.build_absolute_uri(reverse("account_request_login_code")),
            **context,
        }
        super().send_mail(template_prefix, email, context)

    def get_login_redirect_url(self, request):
        return reverse("accounts:profile")
