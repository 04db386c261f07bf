"""The client card (/crm/clients/<id>/) and its actions.

An action is two POSTs to /crm/clients/<id>/actions/<action>/: the form, answered with
what is about to happen (the confirmation step), then the same fields with
``confirmed``, which spends the form's one-time key and calls the service. Money and
access actions are staff only; moving a group and sending a message are for moderators
too (moderators are the ones in touch with students about their studies)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from parta.catalog.workspace import _put_errors
from parta.common.errors import ApplicationError
from parta.common.errors import PermissionDenied as DeniedByService
from parta.crm.card import client_card, client_get
from parta.crm.card_forms import FORMS, ActionForm
from parta.crm.formkeys import KeySpent, form_key_check, form_key_issue, form_key_spend
from parta.crm.permissions import can_see_money, crm_required

TEMPLATES = "crm/card/"


def _client_or_404(pk: int):
    client = client_get(pk=pk)
    if client is None:
        raise Http404
    return client


def _allowed(form_class: type[ActionForm], user) -> bool:
    return can_see_money(user) or not form_class.staff_only


def _forms(request, card) -> list[ActionForm]:
    return [
        form_class(
            card=card,
            viewer=request.user,
            key=form_key_issue(user=request.user, action=action, client_id=card.client.pk),
        )
        for action, form_class in FORMS.items()
        if _allowed(form_class, request.user)
    ]


@crm_required
@require_GET
def client_page(request, pk: int) -> HttpResponse:
    client = _client_or_404(pk)
    card = client_card(client=client, viewer=request.user)
    context = {"card": card, "client": client, "forms": _forms(request, card)}
    return render(request, TEMPLATES + "client.html", context)


def _render_action(request, form: ActionForm, *, confirm: bool, status: int) -> HttpResponse:
    summary = ""
    if confirm:
        try:
            summary = form.summary()
        except ApplicationError as exc:  # e.g. a refund with nothing left to refund
            _put_errors(form, exc)
            confirm, status = False, exc.status_code
    context = {"client": form.client, "form": form, "confirm": confirm, "summary": summary}
    return render(request, TEMPLATES + "action.html", context, status=status)


@crm_required
@require_POST
def client_action(request, pk: int, action: str) -> HttpResponse:
    form_class = FORMS.get(action)
    if form_class is None:
        raise Http404
    if not _allowed(form_class, request.user):
        raise PermissionDenied
    client = _client_or_404(pk)
    key = request.POST.get(f"{action}-key", "")
    try:
        form_key_check(key, user=request.user, action=action, client_id=client.pk)
    except DeniedByService as exc:
        raise PermissionDenied(exc.message) from exc
    card = client_card(client=client, viewer=request.user)
    form = form_class(request.POST, card=card, viewer=request.user)
    if not form.is_valid():
        return _render_action(request, form, confirm=False, status=400)
    if not form.cleaned_data.get("confirmed"):
        return _render_action(request, form, confirm=True, status=200)
    try:
        with form_key_spend(key, user=request.user, action=action, client_id=client.pk):
            done = form.perform()
    except KeySpent as exc:
        messages.warning(request, exc.message)
        return redirect("crm:client", client.pk)
    except DeniedByService as exc:
        raise PermissionDenied(exc.message) from exc
    except ApplicationError as exc:
        _put_errors(form, exc)
        return _render_action(request, form, confirm=False, status=exc.status_code)
    messages.success(request, done)
    return redirect("crm:client", client.pk)
