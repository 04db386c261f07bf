"""The bell's pages: the list of in-site notifications (mark one or all read) and the
preferences form. Plain forms that work without JavaScript; htmx swaps them in place."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parta.common.errors import ApplicationError, NotFound
from parta.notifications.bell import notification_mark_all_read, notification_mark_read
from parta.notifications.preferences import preferences_for, preferences_update
from parta.notifications.selectors import bell_items, site_messages, unread_count

PAGE_SIZE = 20
# The dropdown under the bell shows the latest few.
LATEST = 5


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _back(request, fallback: str):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


@login_required
@require_GET
def notification_list(request):
    paginator = Paginator(site_messages(user=request.user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/list.html",
        {
            "page": page,
            "items": bell_items(user=request.user, messages=page.object_list),
            "unread": unread_count(user=request.user),
        },
    )


@login_required
@require_GET
def notification_latest(request):
    """The dropdown's contents (htmx loads it when the bell opens)."""
    latest = list(site_messages(user=request.user)[:LATEST])
    return render(
        request,
        "notifications/_latest.html",
        {
            "items": bell_items(user=request.user, messages=latest),
            "unread": unread_count(user=request.user),
        },
    )


@login_required
@require_POST
def notification_read(request, pk: int):
    """Mark one read and go on to ``next`` (the message's page, or back where it was
    marked). htmx follows the redirect and swaps in the item it selects."""
    try:
        notification_mark_read(user=request.user, message_id=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return _back(request, "notifications:list")


@login_required
@require_POST
def notification_read_all(request):
    notification_mark_all_read(user=request.user)
    return _back(request, "notifications:list")


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request):
    saved = False
    if request.method == "POST":
        # A checkbox left unticked is not sent: every choice shown is decided by the form.
        changes = [
            (row.kind, choice.channel.value, f"{row.kind}:{choice.channel.value}" in request.POST)
            for row in preferences_for(user=request.user)
            if not row.mandatory
            for choice in row.channels
            if choice.available
        ]
        try:
            preferences_update(user=request.user, changes=changes)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            saved = True
            if not _htmx(request):
                messages.success(request, _("Notification settings saved."))
                return _back(request, "notifications:preferences")
    page = "_preferences_form.html" if _htmx(request) else "preferences.html"
    return render(
        request,
        f"notifications/{page}",
        {"rows": preferences_for(user=request.user), "saved": saved},
    )
