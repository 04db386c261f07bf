"""The clients list's filters: one form for the page, the export and the API, so a bad
value gets the same clear message everywhere."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from parta.billing.models import Plan
from parta.catalog.models import Course
from parta.crm.clients import SORTS, ClientFilters
from parta.crm.status import STATUS_FILTERS
from parta.groups.models import Group

DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]


class GroupChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Group) -> str:
        name = obj.name or _("Group %(number)d") % {"number": obj.number}
        return f"{obj.course.title} · {name}"


class ClientFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False, strip=True)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Every status")), *STATUS_FILTERS.items()],
    )
    course = forms.ModelChoiceField(
        label=_("Course"),
        queryset=Course.objects.order_by("title", "id").only("id", "title"),
        required=False,
        empty_label=_("Every course"),
    )
    group = GroupChoiceField(
        label=_("Group"),
        queryset=Group.objects.select_related("course")
        .order_by("course__title", "number")
        .only("id", "number", "name", "course__title"),
        required=False,
        empty_label=_("Every group"),
    )
    plan = forms.ModelChoiceField(
        label=_("Plan"),
        queryset=Plan.objects.order_by("title", "id").only("id", "title"),
        required=False,
        empty_label=_("Every plan"),
    )
    registered_from = forms.DateField(
        label=_("Registered from"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    registered_to = forms.DateField(
        label=_("Registered until"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    active_from = forms.DateField(
        label=_("Last active from"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    active_to = forms.DateField(
        label=_("Last active until"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=list(SORTS.items()))

    def clean(self):
        data = super().clean()
        for start, end in (("registered_from", "registered_to"), ("active_from", "active_to")):
            if data.get(start) and data.get(end) and data[start] > data[end]:
                self.add_error(end, _("The end of the range is before its start."))
        return data

    def filters(self) -> ClientFilters:
        """The filters of a valid form."""
        data = self.cleaned_data
        return ClientFilters(
            search=" ".join((data.get("q") or "").split()),
            status=data.get("status") or "",
            course_id=data["course"].pk if data.get("course") else None,
            group_id=data["group"].pk if data.get("group") else None,
            plan_id=data["plan"].pk if data.get("plan") else None,
            registered_from=data.get("registered_from"),
            registered_to=data.get("registered_to"),
            active_from=data.get("active_from"),
            active_to=data.get("active_to"),
            sort=data.get("sort") or "name",
        )

    def error_text(self) -> str:
        """Every error in one line, each named by its field's label."""
        parts = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else ""
            for error in errors:
                parts.append(f"{label}: {error}" if label else str(error))
        return " ".join(parts)
