"""Template helpers for threads: a message's text as safe HTML, Parta's own lines in the
viewer's language, and short-lived links to attachments."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from parta.chat.text import linkify as _linkify

register = template.Library()

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")


@register.filter
def linkify(text: str):
    """Escaped text with its web links clickable (``parta.chat.text.linkify``)."""
    return _linkify(text)


@register.simple_tag
def system_line(message, viewer) -> str:
    """The sentence a line from Parta stands for, for this viewer (escaped by the page)."""
    from parta.catalog.workspace import can_use_workspace
    from parta.chat.services import SYSTEM_TASK_SOLVED

    if message.text == SYSTEM_TASK_SOLVED:
        # Only the thread's student sees it apart from the school.
        if viewer is not None and not can_use_workspace(viewer):
            return _("You solved the task. Well done!")
        return _("The student solved the task.")
    return message.text


@register.simple_tag
def attachment_url(message) -> str:
    """A short-lived signed link to the message's file ("" when it has none)."""
    from parta.common.files import signed_file_url

    if not message.attachment:
        return ""
    return signed_file_url(file=message.attachment)


@register.filter
def is_image(message) -> bool:
    return bool(message.attachment) and message.attachment.name.lower().endswith(IMAGE_EXTENSIONS)
