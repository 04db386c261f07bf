"""Parta's versions of allauth's sign-in pages where allauth's own do not fit: the code
page (limits on wrong codes, "send again", change the email, a cancel that goes back to
the code request) and the password pages, which are for moderators and staff only."""

from functools import wraps
from urllib.parse import urlencode

from allauth.account import app_settings as allauth_settings
from allauth.account import views as allauth_views
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from parta.accounts import signin_limits
from parta.accounts.models import Role

EMAIL_MAX = 254


def _request_code_url(email: str = "") -> str:
    url = reverse("account_request_login_code")
    return f"{url}?{urlencode({'email': email})}" if email else url


class RequestLoginCodeView(allauth_views.RequestLoginCodeView):
    """The code request page, with the email filled in when it comes back from the code
    page to fix a typo. allauth sends anyone with a code pending back to the code page;
    here the page stays open, so a mistyped email can be replaced (a new request
    replaces the pending one)."""

    def _redirect_to_pending_stage(self, request, stage):
        return None

    def get_initial(self) -> dict:
        initial = super().get_initial()
        email = self.request.GET.get("email", "").strip()
        if email and len(email) <= EMAIL_MAX:
            initial["email"] = email
        return initial


class ConfirmLoginCodeView(allauth_views.ConfirmLoginCodeView):
    def _email(self) -> str:
        return self._process.state.get("email") or ""

    def _refuse(self, message: str):
        self._process.abort()
        messages.error(self.request, message)
        return redirect(_request_code_url(self._email()))

    def post(self, request, *args, **kwargs):
        if self._action == "verify":
            # Checked before the code is compared: a locked email or address gets no try.
            try:
                signin_limits.code_attempt_check(
                    email=self._email(), ip=signin_limits.client_ip(request)
                )
            except signin_limits.SignInLimited as exc:
                return self._refuse(exc.message)
        return super().post(request, *args, **kwargs)

    def _resend_form_valid(self, form):
        try:
            signin_limits.code_request_check_and_count(
                email=self._email(), ip=signin_limits.client_ip(self.request)
            )
        except signin_limits.SignInLimited as exc:
            messages.error(self.request, exc.message)
            return redirect(self.passthrough_next_url(reverse("account_confirm_login_code")))
        return super()._resend_form_valid(form)

    def form_invalid(self, form):
        if self._action == "verify":
            locked = signin_limits.code_attempt_failed(
                email=self._email(), ip=signin_limits.client_ip(self.request)
            )
            if locked:
                return self._refuse(
                    _(
                        "Too many wrong codes for this address: sign-in by code is paused "
                        "and the school has been told."
                    )
                    + " "
                    + signin_limits.wait_phrase(signin_limits.code_locked_for(self._email()))
                )
        return super().form_invalid(form)

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["change_email_url"] = _request_code_url(self._email())
        context["code_minutes"] = max(1, allauth_settings.LOGIN_BY_CODE_TIMEOUT // 60)
        return context


def _not_for_students(view):
    """Students have no password: the pages that set or change one send them to their
    profile with a word on how they sign in."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.role == Role.STUDENT:
            messages.info(
                request,
                _(
                    "Students have no password: each time you sign in, a one-time code "
                    "comes to your email."
                ),
            )
            return redirect("accounts:profile")
        return view(request, *args, **kwargs)

    return wrapped


request_login_code = RequestLoginCodeView.as_view()
confirm_login_code = ConfirmLoginCodeView.as_view()
password_set = _not_for_students(allauth_views.password_set)
password_change = _not_for_students(allauth_views.password_change)
