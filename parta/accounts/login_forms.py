# Kept apart from parta.accounts.forms: allauth imports that module (the sign-up form
# class) while loading its own forms, so importing allauth's forms there is circular.
from allauth.account.forms import LoginForm, PasswordField
from allauth.utils import set_form_field_order
from django.utils.translation import gettext_lazy as _


class PasswordLoginForm(LoginForm):
    """allauth drops the password field from its login form when sign-up asks for no
    password. Students indeed have none, but moderators and staff sign in with one, so
    Parta's password login page keeps it (students use the code page)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "password" not in self.fields:
            self.fields["password"] = PasswordField(
                label=_("Password"), autocomplete="current-password"
            )
            set_form_field_order(self, ["login", "password", "remember"])
