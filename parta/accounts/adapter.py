from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django import forms
from django.urls import reverse

from parta.accounts import signin_limits
from parta.accounts.models import Role
from parta.accounts.services import user_create
from parta.common.errors import ValidationFailed
from parta.common.live import live

# Told of every mail handed to the backend, as ``hook(template_prefix=..., email=...)``: the
# outbox, which sits above accounts, records sign-in codes through it (parta.notifications.apps).
mail_sent_hooks: list = []


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
            "school_name": live("SCHOOL_NAME"),
            "code_minutes": max(1, allauth_settings.LOGIN_BY_CODE_TIMEOUT // 60),
            "login_url": request.build_absolute_uri(reverse("account_request_login_code")),
            **context,
        }
        super().send_mail(template_prefix, email, context)
        for hook in mail_sent_hooks:
            hook(template_prefix=template_prefix, email=email)

    # Password sign-in. allauth's own counter locks an email after five wrong passwords
    # from anyone; Parta's counts per (email, address) with a higher per-email ceiling
    # (parta.accounts.signin_limits), shared with /admin/login/.

    def pre_authenticate(self, request, **credentials) -> None:
        try:
            signin_limits.password_attempt_check(
                email=credentials.get("email", ""), ip=signin_limits.client_ip(request)
            )
        except signin_limits.SignInLimited as exc:
            raise forms.ValidationError(exc.message, code="too_many_login_attempts") from exc

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None and user.role == Role.STUDENT:
            # Students have no password; one left over from before still opens nothing.
            self.authentication_failed(request, **credentials)
            return None
        if user is not None and "password" in credentials:
            signin_limits.password_attempt_succeeded(
                email=credentials.get("email", ""), ip=signin_limits.client_ip(request)
            )
        return user

    def authentication_failed(self, request, **credentials) -> None:
        if "password" in credentials:
            signin_limits.password_attempt_failed(
                email=credentials.get("email", ""), ip=signin_limits.client_ip(request)
            )

    def get_login_redirect_url(self, request):
        return reverse("accounts:profile")
