from django.conf import settings

from parta.common.live import live_all


def parta(request) -> dict:
    # One cache lookup for all of them: the school's name and its support contacts are
    # live settings (staff change them at /crm/settings/).
    values = live_all()
    telegram = values["SUPPORT_TELEGRAM"].lstrip("@")
    return {
        "PARTA_REPOSITORY_URL": settings.PARTA_REPOSITORY_URL,
        "PARTA_SCHOOL_NAME": values["SCHOOL_NAME"],
        "PARTA_SUPPORT": {
            "email": values["SUPPORT_EMAIL"],
            "telegram": telegram,
            "phone": values["SUPPORT_PHONE"],
            "phone_link": "".join(
                ch for ch in values["SUPPORT_PHONE"] if ch.isdigit() or ch == "+"
            ),
        },
    }
