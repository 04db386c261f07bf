"""The school's calendar: days begin and end in settings.PARTA_TIME_ZONE."""

import zoneinfo
from datetime import date, datetime

from django.conf import settings
from django.utils import timezone


def school_tz() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.PARTA_TIME_ZONE)


def school_day(moment: datetime) -> date:
    """The school-calendar date of an aware moment."""
    return moment.astimezone(school_tz()).date()


def school_today() -> date:
    return school_day(timezone.now())
