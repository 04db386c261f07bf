"""A stored message rendered for its person: subject, text and HTML, in their language."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import translation
from django.utils.html import linebreaks

from parta.common.live import live
from parta.notifications.kinds import get_kind


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render_message(*, user, kind: str, context: dict) -> Rendered:
    """Render ``kind``'s templates for ``user`` (see ``parta.notifications.kinds``)."""
    get_kind(kind)
    base = f"notifications/{kind}"
    full = {
        **context,
        "user": user,
        "site_url": settings.PARTA_SITE_URL,
        "school_name": live("SCHOOL_NAME"),
    }
    with translation.override(user.message_language):
        subject = " ".join(render_to_string(f"{base}/subject.txt", full).split())
        text = render_to_string(f"{base}/body.txt", full).strip()
        try:
            template = get_template(f"{base}/body.html")
        except TemplateDoesNotExist:
            html = linebreaks(text, autoescape=True)
        else:
            html = template.render(full).strip()
    return Rendered(subject=subject, text=text, html=html)
