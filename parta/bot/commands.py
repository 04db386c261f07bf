"""The bot's commands as /help lists them; each feature's router module adds its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from parta.bot.services import can_broadcast
from parta.groups.services import may_manage_groups


@dataclass(frozen=True)
class BotCommand:
    name: str
    description: str
    # Who sees it in /help (everyone when None).
    shown_to: Callable[[object | None], bool] | None = None


def linked(user) -> bool:
    return user is not None


COMMANDS: list[BotCommand] = [
    BotCommand("start", _("link your account (with the link from your profile)")),
    BotCommand("stats", _("your progress in each course"), shown_to=linked),
    BotCommand("news", _("the latest school news"), shown_to=linked),
    BotCommand("settings", _("which notifications you get, and where"), shown_to=linked),
    BotCommand(
        "broadcast",
        _("send news to students with active access: /broadcast text"),
        shown_to=can_broadcast,
    ),
    BotCommand(
        "newsession",
        _("plan a live session: course, group, teacher, time, link"),
        shown_to=lambda user: user is not None and may_manage_groups(user),
    ),
    BotCommand("unlink", _("unlink this chat from your account"), shown_to=linked),
    BotCommand("help", _("this list")),
]


def visible_commands(*, user) -> list[BotCommand]:
    return [c for c in COMMANDS if c.shown_to is None or c.shown_to(user)]
