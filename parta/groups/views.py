"""Groups pages for moderators and staff (in the workspace): a course's groups with their
fill and size; one group with its students, its name and teacher, and moves."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from parta.catalog.models import Course
from parta.catalog.workspace import _put_errors, workspace_required
from parta.common.errors import ApplicationError, ValidationFailed
from parta.groups import selectors, services
from parta.groups.forms import GroupForm, GroupSizeForm, MoveForm

TEMPLATES = "groups/"


@workspace_required
@require_http_methods(["GET", "POST"])
def course_groups(request, pk: int):
    course = get_object_or_404(Course, pk=pk)
    initial = {"max_group_size": course.max_group_size}
    form = GroupSizeForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.course_group_size_set(
                    course=course, size=form.cleaned_data["max_group_size"], by=request.user
                )
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Saved: a group takes %(size)d students.") % {"size": course.max_group_size},
                )
                return redirect("groups:course-groups", course.pk)
        status = 400
    context = {"course": course, "fill": selectors.course_fill(course=course), "size_form": form}
    return render(request, TEMPLATES + "course_groups.html", context, status=status)


def _group_or_404(pk: int):
    group = selectors.group_get(pk=pk)
    if group is None:
        raise Http404
    return group


def _move_form(request, group, members, data=None) -> MoveForm:
    targets = [
        fill
        for fill in selectors.course_fill(course=group.course).groups
        if fill.group.pk != group.pk
    ]
    return MoveForm(
        data, members=members, targets=targets, staff=services.may_overfill(request.user)
    )


def _render_group(request, group, *, members, edit_form=None, move_form=None, status=200):
    if edit_form is None:
        edit_form = GroupForm(
            initial={"name": group.name, "teacher": group.teacher_id},
            teachers=selectors.teacher_choices(),
        )
    context = {
        "course": group.course,
        "group": group,
        "fill": selectors.group_fill(group=group),
        "members": members,
        "history": selectors.group_history(group=group),
        "edit_form": edit_form,
        "move_form": move_form or _move_form(request, group, members),
    }
    return render(request, TEMPLATES + "group.html", context, status=status)


@workspace_required
@require_http_methods(["GET", "POST"])
def group_page(request, pk: int):
    """The group: its students, and the form for its name and teacher."""
    group = _group_or_404(pk)
    members = selectors.group_members(group=group)
    if request.method != "POST":
        return _render_group(request, group, members=members)
    form = GroupForm(request.POST, teachers=selectors.teacher_choices())
    if form.is_valid():
        try:
            services.group_update(
                group=group,
                by=request.user,
                name=form.cleaned_data["name"],
                teacher=form.cleaned_data["teacher"],
            )
        except ApplicationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("groups:group", group.pk)
    return _render_group(request, group, members=members, edit_form=form, status=400)


@workspace_required
@require_POST
def group_move(request, pk: int):
    """Move one of the group's students into another group of the course."""
    group = _group_or_404(pk)
    members = selectors.group_members(group=group)
    form = _move_form(request, group, members, request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.membership_move(
                student=data["student"],
                group=data["target"],
                by=request.user,
                override=data.get("override", False),
            )
        except ValidationFailed as exc:
            _put_errors(form, exc, aliases={"group": "target"})
        except ApplicationError as exc:
            status = exc.status_code
            form.add_error("target" if exc.field == "group" else None, exc.message)
        else:
            messages.success(
                request,
                _("%(student)s is now in %(group)s.")
                % {"student": data["student"].full_name, "group": data["target"].display_name},
            )
            return redirect("groups:group", group.pk)
    return _render_group(request, group, members=members, move_form=form, status=status)
