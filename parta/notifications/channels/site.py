"""In-site messages: nothing travels; once delivered, the row is what the bell shows."""

from __future__ import annotations

from parta.notifications.channels.base import Channel


class SiteSender:
    channel = Channel.SITE

    def send(self, message) -> str:
        return ""
