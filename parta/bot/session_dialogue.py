"""/newsession: the steps of a moderator's dialogue that plans a live session in the bot.

course → group (or the whole course) → teacher → start → duration → link → confirm.

The dialogue's state lives in the Django cache (Redis, or the database table: every bot
process sees it), one dialogue per person under a short random id. A button's data carries
only that id, the step and a row id: ``ns:<dialogue>:<step>:<value>``. Every press and typed
answer is checked against the state: a button of another person's or a finished dialogue, of
a step already passed, or with an id that was not offered is refused and changes nothing.
The answers are checked by the live sessions' own rules (``session_fields_errors``), and the
session is made by ``session_create``, exactly as from the site (the same invitations), once
per dialogue: a claim in the cache lets only the first Create press through.

Handlers call these through ``sync_to_async``; each returns a ``Screen`` to send.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape

from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parta.catalog.models import Course
from parta.common.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from parta.common.time import school_tz
from parta.groups.models import Group, Invitation, Membership
from parta.groups.selectors import teacher_choices
from parta.groups.services import may_manage_groups
from parta.groups.sessions import session_create, session_fields_errors

CALLBACK_PREFIX = "ns"  # ns:<dialogue id>:<step>:<value>
# A dialogue left alone this long is forgotten (its buttons then say so).
STATE_SECONDS = 60 * 60
COURSE_BUTTONS = 30
GROUP_BUTTONS = 40
TEACHER_BUTTONS = 20
DURATIONS = (45, 60, 90, 120)

COURSE, GROUP, TEACHER, WHEN, DURATION, LINK, CONFIRM, DONE = (
    "c",
    "g",
    "t",
    "w",
    "d",
    "l",
    "ok",
    "done",
)
CANCEL = "x"
TEXT_STEPS = {WHEN, DURATION, LINK}
STEPS_IN_ALL = 6
_DATA = re.compile(r"ns:([0-9a-f]{8}):(c|g|t|d|l|ok|x):(\d{1,18})")

_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{4}))?[,\s]+(\d{1,2})[:.](\d{2})")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[T\s]+(\d{1,2}):(\d{2})")
_HOURS = re.compile(r"(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class Screen:
    """A message to send: HTML text and rows of (label, callback data) buttons."""

    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)
    # The dialogue waits for typed text after this message (a reply to it is an answer).
    dialogue_id: str = ""
    expects_text: bool = False


def may_plan(user) -> bool:
    """Who plans live sessions from the bot: as on the site, moderators and staff."""
    return user is not None and may_manage_groups(user)


def not_allowed_text(user) -> str:
    if user is None:
        return _(
            "Only the school's moderators and staff can plan live sessions, from a chat "
            "linked to their account."
        )
    return _("Only the school's moderators and staff can plan live sessions.")


# --- State -----------------------------------------------------------------------------


def _key(user) -> str:
    return f"bot:newsession:{user.pk}"


def _claim_key(user, dialogue_id: str) -> str:
    return f"bot:newsession:{user.pk}:{dialogue_id}:create"


def _load(user) -> dict | None:
    state = cache.get(_key(user))
    return state if isinstance(state, dict) else None


def _save(user, state: dict) -> None:
    cache.set(_key(user), state, STATE_SECONDS)


def _over() -> NotFound:
    return NotFound(
        _("This button belongs to a dialogue that is over. Send /newsession to start a new one.")
    )


def _data(state: dict, step: str, value: int | str = 0) -> str:
    return f"{CALLBACK_PREFIX}:{state['id']}:{step}:{value}"


def _cancel_row(state: dict) -> list[tuple[str, str]]:
    return [(_("Cancel"), _data(state, CANCEL))]


def _step_line(number: int, question: str) -> str:
    return _("Step %(number)d of %(total)d. %(question)s") % {
        "number": number,
        "total": STEPS_IN_ALL,
        "question": question,
    }


# --- What the screens show -------------------------------------------------------------


def _course(state: dict) -> Course:
    course = Course.objects.filter(pk=state["course_id"]).first()
    if course is None:
        raise NotFound(_("This course no longer exists. Send /newsession to start again."))
    return course


def _group(state: dict) -> Group | None:
    if not state.get("group_id"):
        return None
    group = Group.objects.filter(pk=state["group_id"], course_id=state["course_id"]).first()
    if group is None:
        raise NotFound(_("This group no longer exists. Send /newsession to start again."))
    return group


def _teacher(state: dict):
    if not state.get("teacher_id"):
        return None
    teacher = teacher_choices().filter(pk=state["teacher_id"]).first()
    if teacher is None:
        raise PermissionDenied(
            _("This person can no longer teach sessions. Send /newsession to start again.")
        )
    return teacher


def _start(state: dict) -> datetime:
    return datetime.fromisoformat(state["starts_at"])


def _when_text(moment: datetime) -> str:
    local = moment.astimezone(school_tz())
    return f"{date_format(local, 'DATE_FORMAT')}, {local:%H:%M}"


def _minutes_label(minutes: int) -> str:
    return _("%(minutes)d min") % {"minutes": minutes}


def _course_screen(state: dict, courses: list[Course]) -> Screen:
    heading = _("New live session")
    rows = [[(course.title, _data(state, COURSE, course.pk))] for course in courses]
    return Screen(
        text=f"<b>{heading}</b>\n" + escape(_step_line(1, _("Which course?"))),
        buttons=[*rows, _cancel_row(state)],
        dialogue_id=state["id"],
    )


def _students_label(count: int) -> str:
    return ngettext("%(count)d student", "%(count)d students", count) % {"count": count}


def _group_screen(state: dict, course: Course) -> Screen:
    groups = list(
        Group.objects.filter(course=course)
        .select_related("teacher")
        .order_by("number")[:GROUP_BUTTONS]
    )
    state["offered"] = [group.pk for group in groups]
    whole = _course_students(course)
    rows = [
        [
            (
                _("The whole course · %(students)s") % {"students": _students_label(whole)},
                _data(state, GROUP, 0),
            )
        ]
    ]
    for group in groups:
        label = f"{group.display_name} · {_students_label(group.members_count)}"
        if group.teacher_id:
            label += f" · {group.teacher.full_name or group.teacher.email}"
        rows.append([(label, _data(state, GROUP, group.pk))])
    text = "\n".join(
        [
            _("Course: %(course)s") % {"course": escape(course.title)},
            escape(_step_line(2, _("Which group? Or the whole course."))),
        ]
    )
    return Screen(text=text, buttons=[*rows, _cancel_row(state)], dialogue_id=state["id"])


def _course_students(course: Course) -> int:
    return (
        Membership.objects.filter(course=course, ended_at=None)
        .values("student_id")
        .distinct()
        .count()
    )


def _teacher_screen(state: dict, course: Course, group: Group | None) -> Screen:
    # The group's own teacher first; for the whole course, the teachers of its groups.
    if group is not None:
        preferred_ids = [group.teacher_id] if group.teacher_id else []
    else:
        preferred_ids = list(
            Group.objects.filter(course=course, teacher__isnull=False)
            .order_by("number")
            .values_list("teacher_id", flat=True)[:TEACHER_BUTTONS]
        )
    preferred = {user.pk: user for user in teacher_choices().filter(pk__in=preferred_ids)}
    first = [preferred[pk] for pk in dict.fromkeys(preferred_ids) if pk in preferred]
    rest = list(teacher_choices().exclude(pk__in=preferred)[: TEACHER_BUTTONS - len(first)])
    state["offered"] = [user.pk for user in first + rest]
    rows = [
        [(f"⭐ {user.full_name or user.email}", _data(state, TEACHER, user.pk))] for user in first
    ]
    rows += [[(user.full_name or user.email, _data(state, TEACHER, user.pk))] for user in rest]
    rows.append([(_("No teacher"), _data(state, TEACHER, 0))])
    for_whom = group.display_name if group is not None else _("the whole course")
    lines = [
        _("Course: %(course)s") % {"course": escape(course.title)},
        _("For: %(whom)s") % {"whom": escape(for_whom)},
        escape(_step_line(3, _("Who teaches it?"))),
    ]
    if first and group is not None:
        lines.append(escape(_("⭐ teaches this group.")))
    elif first:
        lines.append(escape(_("⭐ teaches a group of this course.")))
    return Screen(
        text="\n".join(lines), buttons=[*rows, _cancel_row(state)], dialogue_id=state["id"]
    )


def _when_prompt(state: dict) -> Screen:
    example = timezone.now().astimezone(school_tz()) + timedelta(days=1)
    text = "\n".join(
        [
            escape(_step_line(4, _("When does it start?"))),
            escape(
                _(
                    "Send the date and time, %(zone)s time, in one of these forms: "
                    "12.12 18:30, 12.12.2026 18:30 or 2026-12-12 18:30."
                )
                % {"zone": settings.PARTA_TIME_ZONE}
            ),
            escape(
                _("For example, tomorrow at 18:30: %(example)s")
                % {"example": f"{example:%d.%m} 18:30"}
            ),
        ]
    )
    return Screen(
        text=text, buttons=[_cancel_row(state)], dialogue_id=state["id"], expects_text=True
    )


def _duration_prompt(state: dict) -> Screen:
    text = "\n".join(
        [
            _("Starts: %(when)s") % {"when": escape(_when_text(_start(state)))},
            escape(_step_line(5, _("How long is it?"))),
            escape(
                _(
                    "Press a button, or send the length in minutes (90) or hours and minutes "
                    "(1:30); at most 12 hours."
                )
            ),
        ]
    )
    row = [(_minutes_label(minutes), _data(state, DURATION, minutes)) for minutes in DURATIONS]
    return Screen(
        text=text,
        buttons=[row, _cancel_row(state)],
        dialogue_id=state["id"],
        expects_text=True,
    )


def _link_prompt(state: dict) -> Screen:
    text = "\n".join(
        [
            _("Duration: %(duration)s")
            % {"duration": escape(_minutes_label(state["duration_minutes"]))},
            escape(_step_line(6, _("Where does it take place?"))),
            escape(
                _(
                    "Send the meeting link (an http or https address), or press “Make a "
                    "Jitsi room” for a new room."
                )
            ),
        ]
    )
    return Screen(
        text=text,
        buttons=[[(_("Make a Jitsi room"), _data(state, LINK, 0))], _cancel_row(state)],
        dialogue_id=state["id"],
        expects_text=True,
    )


def _confirm_screen(state: dict) -> Screen:
    course, group, teacher = _course(state), _group(state), _teacher(state)
    if group is not None:
        for_whom = group.display_name
        invited = Membership.objects.filter(group=group, ended_at=None).count()
    else:
        for_whom = _("the whole course")
        invited = _course_students(course)
    link = state["meeting_url"] or _("a new Jitsi room")
    heading = _("Check the session")
    lines = [
        f"<b>{escape(heading)}</b>",
        _("Course: %(course)s") % {"course": escape(course.title)},
        _("For: %(whom)s") % {"whom": escape(for_whom)},
        _("Teacher: %(teacher)s")
        % {
            "teacher": escape((teacher.full_name or teacher.email) if teacher else _("no teacher"))
        },
        _("Starts: %(when)s (%(zone)s)")
        % {"when": escape(_when_text(_start(state))), "zone": escape(settings.PARTA_TIME_ZONE)},
        _("Duration: %(duration)s")
        % {"duration": escape(_minutes_label(state["duration_minutes"]))},
        _("Link: %(link)s") % {"link": escape(link)},
        "",
        escape(
            ngettext(
                "The invitation goes to %(count)d student.",
                "The invitation goes to %(count)d students.",
                invited,
            )
            % {"count": invited}
        ),
    ]
    return Screen(
        text="\n".join(lines),
        buttons=[[(_("Create"), _data(state, CONFIRM)), (_("Cancel"), _data(state, CANCEL))]],
        dialogue_id=state["id"],
    )


# --- Reading typed answers -------------------------------------------------------------


class BadAnswer(ApplicationError):
    pass


def parse_start(text: str, *, now: datetime | None = None) -> datetime:
    """A start typed in the school's time zone: ``12.12 18:30`` (this year, or the next
    when that day has passed), ``12.12.2026 18:30`` or ``2026-12-12 18:30``."""
    text = " ".join((text or "").split())
    tz = school_tz()
    today = (now or timezone.now()).astimezone(tz).date()
    if match := _DOTTED.fullmatch(text):
        day, month, year, hour, minute = match.groups()
        year_given = year is not None
        parts = [int(year) if year_given else today.year, int(month), int(day)]
    elif match := _ISO.fullmatch(text):
        year, month, day, hour, minute = match.groups()
        year_given = True
        parts = [int(year), int(month), int(day)]
    else:
        raise BadAnswer(
            _(
                "I did not understand the date and time. Send them like 12.12 18:30, "
                "12.12.2026 18:30 or 2026-12-12 18:30."
            )
        )
    try:
        day_of = date(*parts)
        if not year_given and day_of < today:
            day_of = date(today.year + 1, day_of.month, day_of.day)
        return datetime(day_of.year, day_of.month, day_of.day, int(hour), int(minute), tzinfo=tz)
    except ValueError:
        raise BadAnswer(_("There is no such date or time. Check it and send it again.")) from None


def parse_minutes(text: str) -> int:
    """A length typed as minutes (``90``) or hours and minutes (``1:30``)."""
    text = (text or "").strip()
    if text.isdigit() and len(text) <= 6:
        return int(text)
    if match := _HOURS.fullmatch(text):
        return int(match[1]) * 60 + int(match[2])
    raise BadAnswer(_("Send the length in minutes (90) or in hours and minutes (1:30)."))


# --- The steps -------------------------------------------------------------------------


def _check(user) -> None:
    if not may_plan(user):
        raise PermissionDenied(not_allowed_text(user))


def dialogue_start(*, user) -> Screen:
    """/newsession: a new dialogue (an earlier one's buttons stop working); the courses."""
    _check(user)
    courses = list(Course.objects.order_by("position", "title", "id")[:COURSE_BUTTONS])
    if not courses:
        raise Conflict(_("There are no courses yet: add one on the site first."))
    state = {"id": secrets.token_hex(4), "step": COURSE, "offered": [c.pk for c in courses]}
    screen = _course_screen(state, courses)
    _save(user, state)
    return screen


def _offered(state: dict, value: int) -> None:
    if value not in state.get("offered", []):
        raise PermissionDenied(_("This choice is not offered here."))


def dialogue_press(*, user, data: str) -> Screen:
    """A button of the dialogue; the next screen. Anything forged, stale or not offered is
    refused (an ``ApplicationError`` whose message is the answer) and changes nothing."""
    match = _DATA.fullmatch(data or "")
    if match is None:
        raise NotFound(_("This button no longer works."))
    _check(user)
    dialogue_id, step, value = match[1], match[2], int(match[3])
    state = _load(user)
    if state is None or state["id"] != dialogue_id:
        raise _over()
    if state["step"] == DONE:
        if step == CONFIRM:
            raise Conflict(_("This session has already been created."))
        raise Conflict(_("This dialogue is over. Send /newsession to plan another session."))
    if step == CANCEL:
        cache.delete(_key(user))
        return Screen(text=escape(_("Cancelled: no session was created.")))
    if step != state["step"]:
        raise Conflict(_("This step is already done: use the buttons under the latest message."))
    if step == COURSE:
        _offered(state, value)
        state["course_id"] = value
        screen = _group_screen(state, _course(state))
        state["step"] = GROUP
    elif step == GROUP:
        if value:
            _offered(state, value)
        state["group_id"] = value
        screen = _teacher_screen(state, _course(state), _group(state))
        state["step"] = TEACHER
    elif step == TEACHER:
        if value:
            _offered(state, value)
        state["teacher_id"] = value
        _teacher(state)
        state["step"] = WHEN
        screen = _when_prompt(state)
    elif step == DURATION:
        if value not in DURATIONS:
            raise PermissionDenied(_("This choice is not offered here."))
        state["duration_minutes"] = value
        state["step"] = LINK
        screen = _link_prompt(state)
    elif step == LINK:
        if value != 0:
            raise PermissionDenied(_("This choice is not offered here."))
        state["meeting_url"] = ""
        state["step"] = CONFIRM
        screen = _confirm_screen(state)
    else:
        return _confirm(user, state)
    _save(user, state)
    return screen


def dialogue_expects_text(*, user, reply_to: int | None = None) -> bool:
    """Whether a typed message is an answer to the dialogue: it waits for text, and the
    message is not a reply to some other message (a reply to a student's question stays
    one)."""
    if not may_plan(user):
        return False
    state = _load(user)
    if state is None or state["step"] not in TEXT_STEPS:
        return False
    return reply_to is None or reply_to in state.get("prompts", [])


def dialogue_prompt_sent(*, user, dialogue_id: str, message_id: int) -> None:
    """Remember the message that asked, so that a Telegram reply to it is an answer."""
    state = _load(user)
    if state is not None and state["id"] == dialogue_id:
        state["prompts"] = [*state.get("prompts", [])[-4:], message_id]
        _save(user, state)


def _again(state: dict, message: str) -> Screen:
    """The step's question again, under what was wrong."""
    prompt = {WHEN: _when_prompt, DURATION: _duration_prompt, LINK: _link_prompt}[state["step"]]
    screen = prompt(state)
    return Screen(
        text=escape(message) + "\n\n" + screen.text,
        buttons=screen.buttons,
        dialogue_id=screen.dialogue_id,
        expects_text=True,
    )


def dialogue_answer(*, user, text: str) -> Screen:
    """A typed answer (start, duration or link); the next screen, or the same question
    again under what was wrong."""
    _check(user)
    state = _load(user)
    if state is None or state["step"] not in TEXT_STEPS:
        raise _over()
    try:
        if state["step"] == WHEN:
            starts_at = parse_start(text)
            errors = session_fields_errors(starts_at=starts_at)
            if errors:
                return _again(state, errors["starts_at"][0])
            state["starts_at"] = starts_at.isoformat()
            state["step"] = DURATION
            screen = _duration_prompt(state)
        elif state["step"] == DURATION:
            minutes = parse_minutes(text)
            errors = session_fields_errors(duration_minutes=minutes)
            if errors:
                return _again(state, errors["duration_minutes"][0])
            state["duration_minutes"] = minutes
            state["step"] = LINK
            screen = _link_prompt(state)
        else:
            url = (text or "").strip()
            errors = session_fields_errors(meeting_url=url)
            if errors:
                return _again(state, errors["meeting_url"][0])
            state["meeting_url"] = url
            state["step"] = CONFIRM
            screen = _confirm_screen(state)
    except BadAnswer as exc:
        return _again(state, exc.message)
    _save(user, state)
    return screen


def _confirm(user, state: dict) -> Screen:
    """Create: the session, by the site's service, once. A second press finds the claim."""
    claim = _claim_key(user, state["id"])
    if not cache.add(claim, 1, STATE_SECONDS):
        raise Conflict(_("This session has already been created."))
    try:
        starts_at = _start(state)
        session = session_create(
            actor=user,
            course=_course(state),
            groups=[group] if (group := _group(state)) is not None else [],
            teacher=_teacher(state),
            starts_at=starts_at,
            duration_minutes=state["duration_minutes"],
            meeting_url=state["meeting_url"],
        )
    except ApplicationError as exc:
        cache.delete(claim)
        errors = getattr(exc, "errors", {})
        if "starts_at" in errors:
            # The start passed while the dialogue waited: ask for it again.
            state["step"] = WHEN
            screen = _again(state, errors["starts_at"][0])
            _save(user, state)
            return screen
        raise
    state["step"] = DONE
    state["session_id"] = session.pk
    _save(user, state)
    invited = Invitation.objects.filter(session=session).count()
    url = settings.PARTA_SITE_URL.rstrip("/") + reverse("groups:session", args=[session.pk])
    lines = [
        escape(
            ngettext(
                "Created: the session is planned and the invitation goes to %(count)d student.",
                "Created: the session is planned and the invitation goes to %(count)d students.",
                invited,
            )
            % {"count": invited}
        ),
        _("Its page: %(url)s") % {"url": escape(url)},
    ]
    return Screen(text="\n".join(lines))
