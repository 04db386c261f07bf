"""Cache: Redis when REDIS_URL is set (failing over to the database while Redis is down),
the database otherwise.

Every cached fact that can change (access answers and their versions, rate limits, the
users behind API tokens) must be seen by every server process, so the default without
Redis is Django's database cache (the ``parta_cache`` table, created by the
``parta.common`` migrations), never process memory. PARTA_CACHE=locmem keeps the cache in
process memory instead: only right for one process (`check --deploy` warns, W002).
"""

from config.env import env

REDIS_URL = env.str("REDIS_URL", default="")
CACHE_TABLE = "parta_cache"
_prefix = env.str("PARTA_CACHE_PREFIX", default="parta")

_database = {
    "BACKEND": "parta.common.cache.ReplayableDatabaseCache",
    "LOCATION": CACHE_TABLE,
    "KEY_PREFIX": _prefix,
    "OPTIONS": {"MAX_ENTRIES": env.int("PARTA_CACHE_MAX_ENTRIES", default=100_000)},
}

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "parta.common.cache.FailoverRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": _prefix,
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "FALLBACK": "database",
                # A Redis that stops answering is noticed within a second.
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
            },
        },
        "database": _database,
    }
elif env.str("PARTA_CACHE", default="database") == "locmem":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "parta",
        }
    }
else:
    CACHES = {"default": _database}
