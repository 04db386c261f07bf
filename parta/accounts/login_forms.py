# Kept apart from parta.accounts.forms: allauth imports that module (the sign-up form
# class) while loading its own forms, so importing allauth's forms there is circular.
from allauth.account.forms import (
    LoginForm,
    PasswordField,
    RequestLoginCodeForm,
    ResetPasswordForm,
    ResetPasswordKeyForm,
)
from allauth.core import context
from allauth.utils import set_form_field_order
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.utils.translation import gettext_lazy as _

from parta.accounts import signin_limits
from parta.accounts.models import Role


class PasswordLoginForm(LoginForm):
    """allauth drops the password field from its login form when sign-up asks for no
    password. Students indeed have none, but moderators and staff sign in with one, so
    Parta's password login page keeps it (students use the code page). Wrong passwords
    are limited by parta.accounts.signin_limits (see AccountAdapter.pre_authenticate)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "password" not in self.fields:
            self.fields["password"] = PasswordField(
                label=_("Password"), autocomplete="current-password"
            )
            set_form_field_order(self, ["login", "password", "remember"])


class LimitedRequestLoginCodeForm(RequestLoginCodeForm):
    """ "Send me a code", limited per email and per address by Parta's counters, which
    say how long to wait (allauth's own answer spoke of failed attempts)."""

    def clean_email(self) -> str:
        email = super().clean_email()
        if email:
            try:
                signin_limits.code_request_check_and_count(
                    email=email, ip=signin_limits.client_ip(context.request)
                )
            except signin_limits.SignInLimited as exc:
                raise forms.ValidationError(exc.message, code="rate_limited") from exc
        return email


class StaffResetPasswordForm(ResetPasswordForm):
    """Only moderators and staff have passwords, so only they can reset one. A student's
    address is answered like an unknown one (the page says the same either way)."""

    def clean_email(self) -> str:
        email = super().clean_email()
        self.users = [user for user in self.users if user.role != Role.STUDENT]
        return email


class StaffResetPasswordKeyForm(ResetPasswordKeyForm):
    """A reset link mailed to a student (before they could not get one) sets nothing."""

    def clean(self):
        if self.user is not None and self.user.role == Role.STUDENT:
            raise forms.ValidationError(
                _(
                    "Students have no password: each time you sign in, a one-time code "
                    "comes to your email."
                ),
                code="student",
            )
        return super().clean()


class LimitedAdminLoginForm(AdminAuthenticationForm):
    """/admin/login/ shares the moderators' password limits: the same counters, the same
    lock."""

    def clean(self):
        email = (self.cleaned_data.get("username") or "").strip().lower()
        password = self.cleaned_data.get("password")
        ip = signin_limits.client_ip(self.request)
        if email and password:
            try:
                signin_limits.password_attempt_check(email=email, ip=ip)
            except signin_limits.SignInLimited as exc:
                raise forms.ValidationError(exc.message, code="rate_limited") from exc
        try:
            return super().clean()
        except forms.ValidationError:
            # A wrong password (not a right one for an account without admin rights).
            if email and password and self.user_cache is None:
                signin_limits.password_attempt_failed(email=email, ip=ip)
            raise
        finally:
            if self.user_cache is not None and email:
                signin_limits.password_attempt_succeeded(email=email, ip=ip)
