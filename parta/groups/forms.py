"""Forms of the groups pages: they parse input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from parta.catalog.forms import DATETIME_LOCAL_FORMAT
from parta.groups.selectors import GroupFill
from parta.groups.services import GROUP_NAME_MAX, GROUP_SIZE_MAX


class GroupSizeForm(forms.Form):
    max_group_size = forms.IntegerField(
        label=_("Students per group"),
        min_value=1,
        max_value=GROUP_SIZE_MAX,
        help_text=_("New students join the fullest group that still has a seat."),
    )


class GroupForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=GROUP_NAME_MAX,
        required=False,
        help_text=_("Leave empty to call the group by its number."),
    )
    teacher = forms.ModelChoiceField(
        label=_("Teacher"), queryset=None, required=False, empty_label=_("— no teacher —")
    )

    def __init__(self, *args, teachers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teacher"].queryset = teachers


class MoveForm(forms.Form):
    """Move one of this group's students into another group of the course. Choices come
    from lists the page has already read (no queries of their own)."""

    student = forms.TypedChoiceField(label=_("Student"), coerce=int)
    target = forms.TypedChoiceField(label=_("Into group"), coerce=int)
    override = forms.BooleanField(
        label=_("Move even if that group is full (over its limit)"), required=False
    )

    def __init__(self, *args, members, targets: list[GroupFill], staff: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {m.student_id: m.student for m in members}
        self.targets = {fill.group.pk: fill.group for fill in targets}
        self.fields["student"].choices = [(m.student_id, m.student.full_name) for m in members]
        self.fields["target"].choices = [(fill.group.pk, _target_label(fill)) for fill in targets]
        if not staff:
            del self.fields["override"]

    def clean(self):
        data = super().clean()
        if "student" in data:
            data["student"] = self.members[data["student"]]
        if "target" in data:
            data["target"] = self.targets[data["target"]]
        return data


def _target_label(fill: GroupFill) -> str:
    label = _("%(group)s — %(members)d of %(size)d") % {
        "group": fill.group.display_name,
        "members": fill.members,
        "size": fill.size,
    }
    return _("%(label)s (full)") % {"label": label} if fill.is_full else label


class SessionForm(forms.Form):
    """A live session's fields; the groups and teachers offered come from the page."""

    groups = forms.ModelMultipleChoiceField(
        label=_("Groups"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: the whole course."),
    )
    teacher = forms.ModelChoiceField(
        label=_("Teacher"), queryset=None, required=False, empty_label=_("— no teacher —")
    )
    starts_at = forms.DateTimeField(
        label=_("Starts at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration, minutes"), min_value=1, max_value=12 * 60, initial=60
    )
    meeting_url = forms.CharField(
        label=_("Meeting link"),
        max_length=500,
        required=False,
        help_text=_("Leave empty for a new Jitsi room."),
    )
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, groups=None, teachers, **kwargs):
        super().__init__(*args, **kwargs)
        if groups is None:
            del self.fields["groups"]
        else:
            self.fields["groups"].queryset = groups
        self.fields["teacher"].queryset = teachers
        # Names only: the page does not list the staff's addresses.
        self.fields["teacher"].label_from_instance = lambda user: user.full_name or user.email


class AttendanceForm(forms.Form):
    """A checkbox per invitation (``attended_<id>``); unticked means absent."""

    def __init__(self, *args, invitations, **kwargs):
        super().__init__(*args, **kwargs)
        self.invitations = invitations
        for invitation in invitations:
            self.fields[f"attended_{invitation.pk}"] = forms.BooleanField(
                label=invitation.user.full_name,
                required=False,
                initial=bool(invitation.attended),
            )

    def marks(self) -> dict[int, bool]:
        return {
            invitation.pk: self.cleaned_data[f"attended_{invitation.pk}"]
            for invitation in self.invitations
        }
