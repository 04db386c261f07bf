"""The CRM's audit log (/crm/audit/) and live settings (/crm/settings/): staff only."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from parta.audit.labels import action_label
from parta.audit.selectors import audit_list
from parta.common.errors import ApplicationError, ValidationFailed
from parta.common.live import live_all
from parta.common.time import school_tz
from parta.crm.live_settings import LiveSettingsForm, live_settings_update
from parta.crm.permissions import staff_required

PAGE_SIZE = 50
PAGE_MAX = 10_000
NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]*)?$")
# A value longer than this is cut in the list (the admin shows the whole entry).
VALUE_SHOWN = 160


def _person(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    if value.isdigit():
        if int(value) > 2**63 - 1:
            raise ValidationError(_("Enter a person's email or id."))
        return value
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(_("Enter a person's email or id.")) from None
    return value.lower()


class AuditFilterForm(forms.Form):
    """The list's filters, from the query string. Every field is optional."""

    actor = forms.CharField(
        label=gettext_lazy("Who"),
        required=False,
        max_length=254,
        help_text=gettext_lazy("Email or id."),
    )
    action = forms.CharField(
        label=gettext_lazy("Action"),
        required=False,
        max_length=64,
        help_text=gettext_lazy('For example catalog.course_update, or "catalog." for all.'),
    )
    object_type = forms.CharField(
        label=gettext_lazy("Object type"),
        required=False,
        max_length=64,
        help_text=gettext_lazy("For example catalog.course."),
    )
    object_id = forms.CharField(label=gettext_lazy("Object id"), required=False, max_length=64)
    subject = forms.CharField(
        label=gettext_lazy("Client"),
        required=False,
        max_length=254,
        help_text=gettext_lazy("Email or id."),
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=PAGE_MAX)

    def clean_actor(self) -> str:
        return _person(self.cleaned_data["actor"])

    def clean_subject(self) -> str:
        return _person(self.cleaned_data["subject"])

    def clean_action(self) -> str:
        value = self.cleaned_data["action"].strip()
        if value and not NAME.match(value):
            raise ValidationError(_("An action looks like catalog.course_update."))
        return value

    def clean_object_type(self) -> str:
        value = self.cleaned_data["object_type"].strip().lower()
        if value and not re.match(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$", value):
            raise ValidationError(_("An object type looks like catalog.course."))
        return value

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def selector_arguments(self) -> dict:
        """What ``audit_list`` takes: the dates become the school's day boundaries."""
        data = self.cleaned_data
        zone = school_tz()
        since = until = None
        if data.get("date_from"):
            since = datetime.combine(data["date_from"], time.min, tzinfo=zone)
        if data.get("date_to"):
            until = datetime.combine(data["date_to"] + timedelta(days=1), time.min, tzinfo=zone)
        return {
            "actor": data.get("actor", ""),
            "action": data.get("action", ""),
            "object_type": data.get("object_type", ""),
            "object_id": (data.get("object_id") or "").strip(),
            "subject": data.get("subject", ""),
            "since": since,
            "until": until,
        }


def _shown(value) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_SHOWN else text[: VALUE_SHOWN - 1] + "…"


def _changes(entry) -> list[tuple[str, str, str]]:
    keys = list(dict.fromkeys([*entry.before, *entry.after]))
    return [(key, _shown(entry.before.get(key)), _shown(entry.after.get(key))) for key in keys]


def _page_url(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    return "?" + query.urlencode()


@staff_required
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    entries: list = []
    page = 1
    has_next = False
    if form.is_bound and not form.is_valid():
        # Nothing is listed under filters that mean nothing; the form says why.
        pass
    else:
        arguments = form.selector_arguments() if form.is_bound else {}
        page = (form.cleaned_data.get("page") if form.is_bound else None) or 1
        offset = (page - 1) * PAGE_SIZE
        # One query: a row more than the page tells whether an older page exists.
        rows = list(audit_list(**arguments)[offset : offset + PAGE_SIZE + 1])
        has_next = len(rows) > PAGE_SIZE
        entries = rows[:PAGE_SIZE]
        for entry in entries:
            entry.label = action_label(entry.action)
            entry.changes = _changes(entry)
    context = {
        "form": form,
        "entries": entries,
        "page": page,
        "newer_url": _page_url(request, page - 1) if page > 1 else "",
        "older_url": _page_url(request, page + 1) if has_next else "",
    }
    return render(request, "crm/audit.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def live_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = LiveSettingsForm(request.POST)
        if form.is_valid():
            try:
                changed = live_settings_update(
                    actor=request.user,
                    values=form.setting_values(),
                    reason=form.cleaned_data["reason"],
                )
            except ValidationFailed as exc:
                form.put_errors(exc)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                if changed:
                    messages.success(request, _("Settings saved; they apply at once."))
                else:
                    messages.info(request, _("Nothing changed."))
                return redirect("crm:settings")
    else:
        form = LiveSettingsForm(initial=live_all())
    return render(request, "crm/settings.html", {"form": form})
