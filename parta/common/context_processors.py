from django.conf import settings


def parta(request) -> dict:
    return {
        "PARTA_REPOSITORY_URL": settings.PARTA_REPOSITORY_URL,
        "PARTA_SCHOOL_NAME": settings.PARTA_SCHOOL_NAME,
    }
