"""The bot's longer replies, built in the active language (HTML: inserted values escaped)."""

from __future__ import annotations

from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from django.conf import settings
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from parta.bot.commands import visible_commands
from parta.common.live import live
from parta.common.time import school_tz
from parta.notifications.channels.base import Channel


def help_text(*, user) -> str:
    lines = [_("I am %(school)s's bot. What I can do:") % {"school": escape(live("SCHOOL_NAME"))}]
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
    heading = _("Your statistics")
    blocks = [f"<b>{heading}</b>"]
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


def _site_link(path: str) -> str:
    return settings.PARTA_SITE_URL.rstrip("/") + path


def _date(value) -> str:
    return date_format(localtime(value, school_tz()), "DATE_FORMAT")


def news_text(*, posts) -> str:
    """/news: the newest posts, each a link to the site, and a link to them all."""
    if not posts:
        return _("No news yet.")
    heading = _("Latest news")
    lines = [f"<b>{heading}</b>", ""]
    for post in posts:
        url = _site_link(reverse("news:detail", args=[post.pk]))
        link = f'<a href="{escape(url)}">{escape(post.title)}</a>'
        lines.append(f"{escape(_date(post.published_at))} · {link}")
    lines += [
        "",
        _("All news: %(url)s") % {"url": escape(_site_link(reverse("news:list")))},
    ]
    return "\n".join(lines)


CHANNEL_TITLES = {
    Channel.TELEGRAM: gettext_lazy("in Telegram"),
    Channel.EMAIL: gettext_lazy("by email"),
    Channel.SITE: gettext_lazy("on the site"),
}
# The order of the channel row under /settings: this chat's channel first.
SETTINGS_CHANNELS = (Channel.TELEGRAM, Channel.EMAIL, Channel.SITE)


def preferences_text(*, channel: str) -> str:
    heading = _("Notifications %(where)s") % {"where": CHANNEL_TITLES[Channel(channel)]}
    return "\n".join(
        [
            f"<b>{heading}</b>",
            _("Tap a line to switch it on (✅) or off (▫️). 🔒: always sent."),
            _("The other channels are below; everything is also on your profile: %(url)s")
            % {"url": escape(_site_link(reverse("accounts:profile")))},
        ]
    )


def preferences_keyboard(*, rows, channel: str) -> InlineKeyboardMarkup:
    """A button per kind sent on ``channel`` (from ``preferences_for``), then the channels."""
    keyboard = []
    for row in rows:
        choice = next((c for c in row.channels if c.channel == channel), None)
        if choice is None or not choice.available:
            continue
        if choice.locked:
            text, data = f"🔒 {row.label}", f"pref:locked:{channel}:{row.kind}"
        else:
            mark = "✅" if choice.enabled else "▫️"
            data = f"pref:set:{channel}:{row.kind}:{0 if choice.enabled else 1}"
            text = f"{mark} {row.label}"
        keyboard.append([InlineKeyboardButton(text=text, callback_data=data)])
    keyboard.append(
        [
            InlineKeyboardButton(
                text=("• " if other == channel else "") + str(other.label),
                callback_data=f"pref:show:{other.value}",
            )
            for other in SETTINGS_CHANNELS
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=keyboard)


# Room left in a Telegram message for the post's text under the preview's heading.
PREVIEW_TEXT_LIMIT = 3500


def broadcast_preview(*, post) -> str:
    body = post.body
    if len(body) > PREVIEW_TEXT_LIMIT:
        body = body[:PREVIEW_TEXT_LIMIT].rstrip() + "…"
    return "\n".join(
        [
            _("<b>Preview.</b> This goes to every student with active access:"),
            "",
            f"<b>{escape(post.title)}</b>",
            escape(body),
            "",
            _("Send it?"),
        ]
    )


def broadcast_sent(*, post, recipients: int) -> str:
    url = _site_link(reverse("news:workspace-post", args=[post.pk]))
    return "\n".join(
        [
            ngettext(
                "Sent: the post goes to %(count)d student.",
                "Sent: the post goes to %(count)d students.",
                recipients,
            )
            % {"count": recipients},
            _("Progress: %(url)s") % {"url": escape(url)},
        ]
    )
