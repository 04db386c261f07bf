"""The FAQ in the moderator workspace: categories and questions, written, ordered,
published or hidden, deleted after a confirmation.

Moderators and staff only (parta.catalog.workspace.workspace_required). Views parse the
form and call one service; its ValidationFailed goes back on the form."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parta.catalog.workspace import _put_errors, workspace_required
from parta.common.errors import ApplicationError
from parta.faq import services
from parta.faq.forms import CategoryForm, EntryForm
from parta.faq.models import Category, Entry
from parta.faq.selectors import workspace_categories

TEMPLATES = "faq/workspace/"


def _list_url(anchor: str = "") -> str:
    return reverse("faq:workspace") + (f"#{anchor}" if anchor else "")


@workspace_required
@require_GET
def index(request):
    return render(request, TEMPLATES + "index.html", {"categories": workspace_categories()})


# -- questions -------------------------------------------------------------------------


def _entry_arguments(cleaned: dict) -> dict:
    return {
        "category": cleaned["category"],
        "question": cleaned["question"],
        "answer": cleaned["answer"],
        "is_published": cleaned["is_published"],
        "position": cleaned["position"],
    }


@workspace_required
@require_http_methods(["GET", "POST"])
def entry_create(request):
    if request.method == "POST":
        form = EntryForm(request.POST)
        if form.is_valid():
            try:
                entry = services.entry_create(
                    actor=request.user, **_entry_arguments(form.cleaned_data)
                )
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Question added."))
                return redirect(_list_url(f"entry-{entry.pk}"))
    else:
        initial = {}
        category = request.GET.get("category", "")
        if category.isdigit() and len(category) < 19:
            initial["category"] = int(category)
        form = EntryForm(initial=initial)
    return render(request, TEMPLATES + "entry_form.html", {"form": form, "entry": None})


@workspace_required
@require_http_methods(["GET", "POST"])
def entry_edit(request, pk: int):
    entry = get_object_or_404(Entry.objects.select_related("category"), pk=pk)
    if request.method == "POST":
        form = EntryForm(request.POST)
        if form.is_valid():
            try:
                services.entry_update(
                    actor=request.user, entry=entry, **_entry_arguments(form.cleaned_data)
                )
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Question saved."))
                return redirect(_list_url(f"entry-{entry.pk}"))
    else:
        form = EntryForm(
            initial={
                "category": entry.category_id,
                "question": entry.question,
                "answer": entry.answer,
                "is_published": entry.is_published,
                "position": entry.position,
            }
        )
    return render(request, TEMPLATES + "entry_form.html", {"form": form, "entry": entry})


@workspace_required
@require_http_methods(["GET", "POST"])
def entry_delete(request, pk: int):
    entry = get_object_or_404(Entry.objects.select_related("category"), pk=pk)
    if request.method == "POST":
        services.entry_delete(actor=request.user, entry=entry)
        messages.success(request, _("Question deleted."))
        return redirect(_list_url(f"category-{entry.category_id}"))
    details = _("From the category “%(category)s”; students no longer see it.") % {
        "category": entry.category.title
    }
    context = {"object": entry, "details": details, "can_delete": True}
    return render(request, TEMPLATES + "confirm_delete.html", context)


@workspace_required
@require_POST
def entry_move(request, pk: int):
    entry = get_object_or_404(Entry, pk=pk)
    try:
        services.entry_move(
            actor=request.user, entry=entry, direction=request.POST.get("direction", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(_list_url(f"entry-{entry.pk}"))


# -- categories ------------------------------------------------------------------------


@workspace_required
@require_http_methods(["GET", "POST"])
def category_create(request):
    if request.method == "POST":
        form = CategoryForm(request.POST)
        if form.is_valid():
            try:
                category = services.category_create(actor=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Category added."))
                return redirect(_list_url(f"category-{category.pk}"))
    else:
        form = CategoryForm()
    return render(request, TEMPLATES + "category_form.html", {"form": form, "category": None})


@workspace_required
@require_http_methods(["GET", "POST"])
def category_edit(request, pk: int):
    category = get_object_or_404(Category, pk=pk)
    if request.method == "POST":
        form = CategoryForm(request.POST)
        if form.is_valid():
            try:
                services.category_update(
                    actor=request.user, category=category, **form.cleaned_data
                )
            except ApplicationError as exc:
                _put_errors(form, exc)
            else:
                messages.success(request, _("Category saved."))
                return redirect(_list_url(f"category-{category.pk}"))
    else:
        form = CategoryForm(initial={"title": category.title, "position": category.position})
    context = {"form": form, "category": category}
    return render(request, TEMPLATES + "category_form.html", context)


@workspace_required
@require_http_methods(["GET", "POST"])
def category_delete(request, pk: int):
    category = get_object_or_404(Category, pk=pk)
    if request.method == "POST":
        try:
            services.category_delete(actor=request.user, category=category)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(_list_url(f"category-{category.pk}"))
        messages.success(request, _("Category deleted."))
        return redirect(_list_url())
    details = ""
    try:
        services.category_delete_check(category=category)
    except ApplicationError as exc:
        details = exc.message
    context = {"object": category, "details": details, "can_delete": not details}
    return render(request, TEMPLATES + "confirm_delete.html", context)


@workspace_required
@require_POST
def category_move(request, pk: int):
    category = get_object_or_404(Category, pk=pk)
    try:
        services.category_move(
            actor=request.user, category=category, direction=request.POST.get("direction", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect(_list_url(f"category-{category.pk}"))
