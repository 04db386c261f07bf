"""Websocket routes (served by config/asgi.py)."""

from django.urls import path, re_path

from parta.chat import consumers

websocket_urlpatterns = [
    path("ws/chat/threads/<id:thread_id>/", consumers.ThreadConsumer.as_asgi()),
    re_path(r"", consumers.NoRouteConsumer.as_asgi()),
]
