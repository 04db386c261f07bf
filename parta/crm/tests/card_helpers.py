"""Sending the client card's action forms the way the page does: the form, then its
confirmation, with the one-time key the page would have issued."""

from __future__ import annotations

from django.urls import reverse

from parta.crm.formkeys import form_key_issue


def action_url(client_id: int, action: str) -> str:
    return reverse("crm:client-action", args=[client_id, action])


def fields(action: str, data: dict, *, key: str, confirmed: bool = False) -> dict:
    body = {f"{action}-{name}": value for name, value in data.items()}
    body[f"{action}-key"] = key
    if confirmed:
        body[f"{action}-confirmed"] = "1"
    return body


def act(http, *, user, client_id: int, action: str, data: dict, key: str | None = None):
    """Both steps; returns (the confirmation page, the answer to the confirmation)."""
    key = key or form_key_issue(user=user, action=action, client_id=client_id)
    url = action_url(client_id, action)
    step = http.post(url, fields(action, data, key=key))
    if step.status_code != 200:
        return step, None
    return step, http.post(url, fields(action, data, key=key, confirmed=True))
