from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from parta.accounts.phone import normalize_phone
from parta.accounts.services import FULL_NAME_MAX


class _PersonFields(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=FULL_NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": _("Anna Petrova")}),
        error_messages={"required": _("Enter your full name.")},
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        required=False,
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "type": "tel", "placeholder": "+7 999 123-45-67"}
        ),
    )

    def clean_full_name(self) -> str:
        value = " ".join(self.cleaned_data["full_name"].split())
        if not value:
            raise ValidationError(_("Enter your full name."))
        return value

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("phone", ""))


class SignupExtraForm(_PersonFields):
    """Fields allauth's sign-up form adds to the email (ACCOUNT_SIGNUP_FORM_CLASS)."""

    def signup(self, request, user) -> None:
        # Required by allauth's interface. Nothing is left to do here: the account
        # adapter creates the user with these fields already filled in.
        return None


class ProfileForm(_PersonFields):
    pass
