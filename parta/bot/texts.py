"""The bot's longer replies, built in the active language (HTML: inserted values escaped)."""

from __future__ import annotations

from html import escape

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parta.bot.commands import visible_commands


def help_text(*, user) -> str:
    lines = [
        _("I am %(school)s's bot. What I can do:") % {"school": escape(settings.PARTA_SCHOOL_NAME)}
    ]
    lines += [
        f"/{command.name} — {command.description}" for command in visible_commands(user=user)
    ]
    if user is None:
        lines += [
            "",
            _("To link your account, open your profile on %(site)s and press “Connect Telegram”.")
            % {"site": escape(settings.PARTA_SITE_URL)},
        ]
    return "\n".join(lines)


def stats_text(*, stats) -> str:
    if not stats:
        return _("You have no courses yet.")
    blocks = [f"<b>{_('Your statistics')}</b>"]
    for item in stats:
        blocks.append(
            "\n".join(
                [
                    f"<b>{escape(item.course.title)}</b>",
                    _("Topics done: %(done)d of %(total)d")
                    % {"done": item.topics_done, "total": item.topics_total},
                    _("Tasks solved: %(done)d of %(total)d")
                    % {"done": item.tasks_solved, "total": item.tasks_total},
                    ngettext("Streak: %(count)d day", "Streak: %(count)d days", item.streak)
                    % {"count": item.streak},
                ]
            )
        )
    return "\n\n".join(blocks)
