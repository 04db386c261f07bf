import phonenumbers
from django.conf import settings

from parta.common.live import live_all


def parta(request) -> dict:
    # One cache lookup for all of them: the school's name and its support contacts are
    # live settings (staff change them at /crm/settings/).
    values = live_all()
    telegram = values["SUPPORT_TELEGRAM"].lstrip("@")
    phone = values["SUPPORT_PHONE"]
    return {
        "PARTA_REPOSITORY_URL": settings.PARTA_REPOSITORY_URL,
        "PARTA_SCHOOL_NAME": values["SCHOOL_NAME"],
        "PARTA_SUPPORT": {
            "email": values["SUPPORT_EMAIL"],
            "telegram": telegram,
            "phone": _readable(phone),
            "phone_link": "".join(ch for ch in phone if ch.isdigit() or ch == "+"),
        },
    }


def _readable(phone: str) -> str:
    """+79123456789 as +7 912 345-67-89 (stored in E.164)."""
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
