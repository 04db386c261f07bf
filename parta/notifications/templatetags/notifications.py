"""The bell in the header, the preferences table, and dates in messages."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import dateformat
from django.utils.dateparse import parse_datetime

from parta.common.time import school_tz

register = template.Library()


@register.filter
def school_date(value, fmt: str = "j E Y") -> str:
    """An ISO moment (as messages store them) or a datetime, shown in the school's time
    zone: {{ ends_at|school_date:"j E Y, H:i" }}. Month names follow the active language."""
    if not value:
        return ""
    moment = value if isinstance(value, datetime) else parse_datetime(str(value))
    if moment is None:
        return str(value)
    return dateformat.format(moment.astimezone(school_tz()), fmt)


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def bell(context):
    """The header's bell: one COUNT query for a signed-in user."""
    from parta.notifications.selectors import unread_count

    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    unread = unread_count(user=user) if user is not None else 0
    return {"unread": unread, "request": request}


@register.inclusion_tag("notifications/_preferences_form.html", takes_context=True)
def notification_preferences(context, saved: bool = False):
    """The preferences table (a plain form that htmx submits in place)."""
    from parta.notifications.preferences import preferences_for

    request = context["request"]
    return {
        "rows": preferences_for(user=request.user),
        "csrf_token": context.get("csrf_token"),
        "request": request,
        "saved": saved,
    }
