"""The site as an ASGI application: HTTP through Django, websockets through channels.

Served by uvicorn: `make run` (one process, in-memory channel layer) and in production
with several workers (the command is in README; channels-redis joins the workers).
"""

import os

import django
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.base")

# Streamed responses are read this much at a time (in the request's thread).
STREAM_READ_BYTES = 256 * 1024


def _read_some(parts, size: int = STREAM_READ_BYTES) -> bytes:
    """The next ``size`` bytes or more of a response's parts; b"" once they are spent."""
    taken, total = [], 0
    for part in parts:
        taken.append(part)
        total += len(part)
        if total >= size:
            break
    return b"".join(taken)


async def _in_steps(parts):
    read = sync_to_async(_read_some)
    while chunk := await read(parts):
        yield chunk


class StreamingASGIHandler(ASGIHandler):
    """Django's ASGI handler, except for responses that stream from a synchronous iterator
    (FileResponse: videos and files, the registrations export, WhiteNoise's static files).
    Django would read such a body whole into memory before sending a byte; here it is
    read in steps of STREAM_READ_BYTES, each sent before the next is read, so a large
    video costs a few hundred kilobytes of memory per download, not its size."""

    async def send_response(self, response, send):
        if response.streaming and not response.is_async:
            response.streaming_content = _in_steps(iter(response.streaming_content))
        await super().send_response(response, send)


def _pool_database_connections() -> None:
    """Each ASGI request runs its synchronous code in a thread of its own, so Django's
    persistent connections are never reused: every request would open (and drop) a
    PostgreSQL connection. The server process keeps a pool instead (psycopg's, at most
    PARTA_ASGI_DATABASE_POOL connections; 0 turns it off)."""
    size = settings.PARTA_ASGI_DATABASE_POOL
    database = settings.DATABASES["default"]
    if size <= 0 or database["ENGINE"] != "django.db.backends.postgresql":
        return
    database["CONN_MAX_AGE"] = 0
    options = database.setdefault("OPTIONS", {})
    # A request waits up to `timeout` seconds for a free connection.
    options.setdefault("pool", {"min_size": 1, "max_size": size, "timeout": 10})


# Only when this module is what starts Django (an ASGI server importing it), not when a
# test or a script that already runs Django imports it.
if not settings.configured:
    _pool_database_connections()
django.setup(set_prefix=False)
django_application = StreamingASGIHandler()

# Django is set up first: the routing below imports models.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.core.cache import caches  # noqa: E402

# The channel layer and the cache load their modules (channels-redis, redis) on first use;
# they are loaded here, in one thread, before any request: the first requests would import
# them from the event loop's thread and request threads at once, which can deadlock
# Python's import locks (seen as an HTTP 500 on a websocket handshake).
get_channel_layer()
caches["default"]

from parta.chat.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        # Sockets opened by pages of this site only (the Origin is one of ALLOWED_HOSTS),
        # signed in by the session cookie.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
