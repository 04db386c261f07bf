"""The inbox in templates: the header's link with its count, and waiting times."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

register = template.Library()


@register.inclusion_tag("chat/inbox_header_link.html", takes_context=True)
def inbox_link(context):
    """The header's "Inbox" link for moderators and staff, with the number of threads
    awaiting a reply that are nobody's or theirs: one COUNT query (none for others)."""
    from parta.chat.inbox import inbox_count

    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return {"count": inbox_count(user=user) if user is not None else 0}


@register.filter
def waited(since, now=None) -> str:
    """How long since ``since``, in its largest unit ("3 hours", "2 days")."""
    if not since:
        return ""
    if ((now or timezone.now()) - since).total_seconds() < 60:
        return _("under a minute")
    return timesince(since, now, depth=1)
