"""System checks for the whole site (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.caches, deploy=True)
def shared_cache_in_production(app_configs, **kwargs):
    """Cached answers (access decisions, rate limits, tokens) are invalidated in the
    cache; a local-memory cache is private to one process, so with several server
    processes a change made in one of them would not reach the others."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith("LocMemCache") and not settings.DEBUG:
        return [
            Warning(
                "The cache is local memory: with more than one server process, access "
                "changes and rate limits are not shared between them.",
                hint="Set REDIS_URL (one Redis for all processes), or leave PARTA_CACHE "
                "unset for the database cache.",
                id="parta.W002",
            )
        ]
    return []
