"""The site as an ASGI application: HTTP through Django, websockets through channels.

Served by uvicorn: `make run` (one process, in-memory channel layer) and in production
with several workers (the command is in README; channels-redis joins the workers).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.base")
# Django is set up first: the routing below imports models.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

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
