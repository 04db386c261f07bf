"""What chat tells people, through the outbox (stored in the posting transaction).

- ``chat_reply``: a moderator answered; to the student, in the bell and by Telegram, or
  by email when their Telegram is not linked (or blocked): at most one email per thread in
  each 10-minute slot (dedup key ``chat:<thread>:email:<slot>``), however many replies.
- ``chat_question``: a student asks; to moderators and staff, in the bell and by Telegram
  for those who linked it. The Telegram alert's row keeps Telegram's message id
  (``Message.peer_id``) and its context the thread, so that a Telegram reply to the alert
  posts into the thread (``parta.bot.routers.chat_reply``). Sent when the question makes
  the thread wait for the school (a new question, or the student writing again after an
  answer or after it was closed), to everyone; while it already waits, only the assigned
  moderator hears of each further message (nobody else is told twice about one question).
"""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from parta.accounts.models import Role
from parta.notifications.channels.base import Channel
from parta.notifications.kinds import Kind
from parta.notifications.services import notify, notify_many

CHAT_REPLY = Kind(
    name="chat_reply",
    label=_("Answers to your questions"),
    channels=(Channel.SITE, Channel.TELEGRAM, Channel.EMAIL),
)
CHAT_QUESTION = Kind(
    name="chat_question",
    label=_("New questions from students"),
    channels=(Channel.SITE, Channel.TELEGRAM),
    moderators_only=True,
)
EMAIL_SLOT_SECONDS = 600
EXCERPT_CHARS = 600


def email_slot(now=None) -> int:
    """The 10-minute slot a moment falls in (one reply email per thread per slot)."""
    moment = now.timestamp() if now is not None else time.time()
    return int(moment // EMAIL_SLOT_SECONDS)


def _context(thread, message) -> dict:
    excerpt = Truncator(message.text).chars(EXCERPT_CHARS)
    return {
        "thread_id": thread.pk,
        "message_id": message.pk,
        "thread_kind": thread.kind,
        "subject": thread.subject,
        "course": thread.course.title if thread.course_id and thread.course else "",
        "excerpt": excerpt,
        "attachment": message.attachment_name if message.attachment else "",
        "author": message.author.full_name if message.author else "",
        "path": reverse("chat:thread", args=[thread.pk]),
    }


def reply_notify(*, thread, message) -> None:
    """A moderator's ``message`` in ``thread``: tell the student."""
    student = thread.student
    context = _context(thread, message)
    key = f"chat:{thread.pk}:reply:{message.pk}"
    if student.telegram_reachable:
        notify(
            user=student,
            kind=CHAT_REPLY.name,
            context=context,
            dedup_key=key,
            channels=[Channel.SITE, Channel.TELEGRAM],
        )
        return
    notify(
        user=student, kind=CHAT_REPLY.name, context=context, dedup_key=key, channels=[Channel.SITE]
    )
    notify(
        user=student,
        kind=CHAT_REPLY.name,
        context=context,
        dedup_key=f"chat:{thread.pk}:email:{email_slot(message.created_at)}",
        channels=[Channel.EMAIL],
    )


def school_people():
    """Everyone who answers questions: active moderators and staff."""
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(role__in=[Role.MODERATOR, Role.STAFF]) | Q(is_superuser=True))
        .order_by("id")
    )


def question_notify(*, thread, message, newly_waiting: bool) -> None:
    """The student's ``message`` in ``thread``: tell the moderators (see the module)."""
    if thread.assignee_id is not None:
        recipients = [thread.assignee] if thread.assignee.is_active else []
    elif newly_waiting:
        recipients = list(school_people())
    else:
        recipients = []
    if not recipients:
        return
    notify_many(
        recipients=[
            (
                person,
                [Channel.SITE, Channel.TELEGRAM] if person.telegram_reachable else [Channel.SITE],
            )
            for person in recipients
        ],
        kind=CHAT_QUESTION.name,
        context={**_context(thread, message), "student": thread.student.full_name},
        dedup_key=f"chat:{thread.pk}:question:{message.pk}",
    )
