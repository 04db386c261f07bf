"""bench/chat.py's server: Parta's ASGI application (config.asgi) plus a bare websocket
echo at /ws/bench/echo/ (no session, no database: the yardstick for the chat's delay)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from channels.generic.websocket import AsyncWebsocketConsumer

from config.asgi import application as parta_application

ECHO_PATH = "/ws/bench/echo/"


class EchoConsumer(AsyncWebsocketConsumer):
    async def receive(self, text_data=None, bytes_data=None):
        await self.send(text_data=text_data, bytes_data=bytes_data)


echo_application = EchoConsumer.as_asgi()


async def application(scope, receive, send):
    if scope["type"] == "websocket" and scope["path"] == ECHO_PATH:
        return await echo_application(scope, receive, send)
    return await parta_application(scope, receive, send)
