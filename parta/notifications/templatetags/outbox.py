"""Filters for notification templates, whose context is JSON (dates arrive as ISO strings)."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils.dateparse import parse_date, parse_datetime

register = template.Library()


@register.filter
def isodate(value):
    """An ISO date or date-time string as a date or datetime (anything else as it is)."""
    if isinstance(value, (date, datetime)) or not isinstance(value, str):
        return value
    try:
        return parse_datetime(value) or parse_date(value) or value
    except ValueError:
        return value
