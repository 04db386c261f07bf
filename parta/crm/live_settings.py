"""Changing the live settings (parta.common.live): validation, the write, the audit entry.

Staff only. A change stores the new values with django-constance's database backend,
writes one audit entry (the values before and after, the reason) in the same transaction,
and drops the cached values once it commits: every process reads the new values on its
next lookup, without a restart."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parta.accounts.phone import normalize_phone
from parta.audit.services import record
from parta.common.errors import PermissionDenied, ValidationFailed
from parta.common.live import LIVE_SETTINGS, live_forget
from parta.crm.permissions import can_see_money

SCHOOL_NAME_MAX = 100
REASON_MAX = 1000
TELEGRAM_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
TELEGRAM_LINK = re.compile(r"^(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me)/([^/?#]+)/?$")

# The form's labels and hints, in the order shown.
LABELS = {
    "SCHOOL_NAME": (gettext_lazy("School name"), gettext_lazy("In every page's header.")),
    "SUPPORT_EMAIL": (gettext_lazy("Support email"), gettext_lazy("In the footer; empty: none.")),
    "SUPPORT_TELEGRAM": (
        gettext_lazy("Support Telegram"),
        gettext_lazy("A username (@school_support) or a t.me link; empty: none."),
    ),
    "SUPPORT_PHONE": (gettext_lazy("Support phone"), gettext_lazy("In the footer; empty: none.")),
    "CHAT_ASK_AFTER": (
        gettext_lazy("Wrong answers before a question to a moderator"),
        gettext_lazy("A task may set its own number; 0: at once."),
    ),
    "TELEGRAM_RATE": (
        gettext_lazy("Telegram messages a second"),
        gettext_lazy("For broadcasts and every other message, all workers together."),
    ),
    "SESSION_REMIND_MINUTES": (
        gettext_lazy("Reminder before a live session, minutes"),
        gettext_lazy("The reminder with the meeting link goes out this long before the start."),
    ),
    "DEFAULT_GROUP_SIZE": (
        gettext_lazy("Students per group of a new course"),
        gettext_lazy("Each course then keeps its own number (changed on its groups page)."),
    ),
}


def _text(errors: dict, name: str, value: Any) -> str:
    if not isinstance(value, str):
        errors[name] = [_("Enter text.")]
        return ""
    return " ".join(value.split())


def _clean_one(errors: dict, name: str, value: Any) -> Any:
    spec = LIVE_SETTINGS[name]
    if spec.kind is int:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            errors[name] = [_("Enter a whole number.")]
            return None
        if not spec.minimum <= value <= spec.maximum:
            errors[name] = [
                _("Enter a number from %(min)d to %(max)d.")
                % {"min": spec.minimum, "max": spec.maximum}
            ]
        return value
    text = _text(errors, name, value)
    if name in errors:
        return None
    if name == "SCHOOL_NAME":
        if not text:
            errors[name] = [_("Give the school a name.")]
        elif len(text) > SCHOOL_NAME_MAX:
            errors[name] = [
                _("At most %(max)d characters; this has %(count)d.")
                % {"max": SCHOOL_NAME_MAX, "count": len(text)}
            ]
    elif name == "SUPPORT_EMAIL" and text:
        text = text.lower()
        try:
            validate_email(text)
        except ValidationError:
            errors[name] = [_("Enter a valid email address.")]
    elif name == "SUPPORT_TELEGRAM" and text:
        link = TELEGRAM_LINK.match(text)
        username = (link.group(1) if link else text).lstrip("@")
        if not TELEGRAM_NAME.match(username):
            errors[name] = [
                _(
                    "Enter a Telegram username (5 to 32 Latin letters, digits or underscores, "
                    "starting with a letter) or a t.me link."
                )
            ]
        text = username
    elif name == "SUPPORT_PHONE" and text:
        try:
            text = normalize_phone(text)
        except ValidationError as exc:
            errors[name] = list(exc.messages)
    return text


def live_settings_clean(values: dict[str, Any]) -> dict[str, Any]:
    """The values as stored, or ValidationFailed with every problem at once."""
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(values) - set(LIVE_SETTINGS))
    if unknown:
        errors["non_field_errors"] = [
            _("Unknown settings: %(names)s.") % {"names": ", ".join(unknown)}
        ]
    cleaned = {
        name: _clean_one(errors, name, value)
        for name, value in values.items()
        if name in LIVE_SETTINGS
    }
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def live_settings_current() -> dict[str, Any]:
    """Every live setting's value now, read from the database (not the cache)."""
    from constance import config

    saved = config._backend.mget(list(LIVE_SETTINGS))
    return {
        name: spec.default() if saved.get(name) is None else saved[name]
        for name, spec in LIVE_SETTINGS.items()
    }


@transaction.atomic
def live_settings_update(*, actor, values: dict[str, Any], reason: str) -> dict[str, Any]:
    """Store the values that differ from the current ones; the changed ones, by name
    (nothing changed: no entry, nothing stored)."""
    from constance import config

    if not can_see_money(actor):
        raise PermissionDenied(_("Only staff change the school's settings."))
    reason = reason.strip() if isinstance(reason, str) else ""
    errors: dict[str, list[str]] = {}
    try:
        cleaned = live_settings_clean(values)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        cleaned = {}
    if not reason:
        errors["reason"] = [_("Say why the settings change.")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("At most %(max)d characters.") % {"max": REASON_MAX}]
    if errors:
        raise ValidationFailed(errors)
    current = live_settings_current()
    changed = {name: value for name, value in cleaned.items() if current[name] != value}
    if not changed:
        return {}
    for name, value in changed.items():
        config._backend.set(name, value)
    record(
        actor=actor,
        action="crm.settings_update",
        before={name: current[name] for name in changed},
        after=changed,
        reason=reason,
    )
    transaction.on_commit(live_forget)
    return changed


class LiveSettingsForm(forms.Form):
    """Every live setting, and the reason for the change. The service validates: its
    messages land on the fields here."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, spec in LIVE_SETTINGS.items():
            label, hint = LABELS[name]
            if spec.kind is int:
                field = forms.IntegerField(
                    label=label,
                    help_text=hint,
                    min_value=spec.minimum,
                    max_value=spec.maximum,
                )
            else:
                field = forms.CharField(
                    label=label,
                    help_text=hint,
                    required=name == "SCHOOL_NAME",
                    max_length=254,
                )
            self.fields[name] = field
        self.fields["reason"] = forms.CharField(
            label=gettext_lazy("Reason for the change"),
            max_length=REASON_MAX,
            widget=forms.Textarea(attrs={"rows": 2}),
            help_text=gettext_lazy("Kept in the audit log with the values before and after."),
        )

    def clean(self):
        data = super().clean()
        # The service's checks too, so that every problem shows at once.
        values = {name: data[name] for name in LIVE_SETTINGS if name in data}
        try:
            data.update(live_settings_clean(values))
        except ValidationFailed as exc:
            self.put_errors(exc)
        return data

    def setting_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in LIVE_SETTINGS}

    def put_errors(self, exc: ValidationFailed) -> None:
        for field, messages in exc.errors.items():
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
