"""The moderators' inbox: reads and writes for moderators and staff.

Reads: every thread with filters (awaiting a reply, mine, unassigned, closed; task or
support; a course), the threads whose student waits first, the longest wait on top, then
the rest by their last message; each with an unread mark for the viewer (the student wrote
after the viewer's last look, ``ThreadSeen``); the header's count; private notes; saved
replies; what a moderator sees beside a task thread.

Writes (``@transaction.atomic``, each on the thread's row locked ``FOR UPDATE`` where two
moderators may act at once): take a thread, assign it to someone of the school (or to
nobody), add a private note, keep the saved replies, close and reopen a thread. Every
write checks that its actor is an active moderator or staff member, so no interface can
reach a note or a saved reply on behalf of a student.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from parta.accounts.models import Role
from parta.catalog.models import Course, Task
from parta.catalog.workspace import can_use_workspace
from parta.chat.models import (
    TEXT_MAX_LENGTH,
    ChatMessage,
    MessageSource,
    SavedReply,
    Thread,
    ThreadKind,
    ThreadNote,
    ThreadSeen,
    ThreadState,
)
from parta.chat.selectors import Attempts, task_attempts
from parta.common.converters import MAX_ID
from parta.common.errors import Conflict, PermissionDenied, ValidationFailed
from parta.learning.selectors import CourseStats, correct_answer_text, course_stats

INBOX_PER_PAGE = 30
SAVED_REPLY_TITLE_MAX_LENGTH = 120


class InboxShow:
    """Which threads the inbox shows (the ``show`` filter)."""

    ALL = "all"
    WAITING = "waiting"  # the student awaits a moderator's reply
    MINE = "mine"  # assigned to the viewer (any state)
    UNASSIGNED = "unassigned"  # open and assigned to nobody
    CLOSED = "closed"

    values = (ALL, WAITING, MINE, UNASSIGNED, CLOSED)

    labels = {
        ALL: pgettext_lazy("inbox tab", "All"),
        WAITING: pgettext_lazy("inbox tab", "Awaiting a reply"),
        MINE: pgettext_lazy("inbox tab", "Mine"),
        UNASSIGNED: pgettext_lazy("inbox tab", "Unassigned"),
        CLOSED: pgettext_lazy("inbox tab", "Closed"),
    }


@dataclass(frozen=True)
class InboxFilters:
    show: str = InboxShow.ALL
    # "task", "support" or "" (both).
    kind: str = ""
    course_id: int | None = None

    @property
    def is_default(self) -> bool:
        return self == InboxFilters()

    def query(self, **changes) -> str:
        """The filters as a query string (defaults left out), with ``changes`` (``page``
        among them)."""
        values = {"show": self.show, "kind": self.kind, "course": self.course_id or ""}
        values.update(changes)
        defaults = {"show": InboxShow.ALL, "kind": "", "course": "", "page": 1}
        return urlencode(
            {k: v for k, v in values.items() if v is not None and v != defaults.get(k, "")}
        )


def inbox_filters_parse(*, show=None, kind=None, course=None) -> InboxFilters:
    """The filters from query parameters (strings; missing or empty: the default). Every
    bad value is named at once (``ValidationFailed``)."""
    errors: dict[str, list[str]] = {}
    show = show or InboxShow.ALL
    if show not in InboxShow.values:
        errors["show"] = [
            _("show must be one of: %(values)s.") % {"values": ", ".join(InboxShow.values)}
        ]
    kind = kind or ""
    if kind not in ("", *ThreadKind.values):
        errors["kind"] = [
            _("kind must be one of: %(values)s.") % {"values": ", ".join(ThreadKind.values)}
        ]
    course_id = None
    if course not in (None, ""):
        raw = str(course)
        if not raw.isdigit() or len(raw) > 19 or not 0 < int(raw) <= MAX_ID:
            errors["course"] = [_("course must be a course's id.")]
        else:
            course_id = int(raw)
    if errors:
        raise ValidationFailed(errors)
    return InboxFilters(show=show, kind=kind, course_id=course_id)


# --- Who is of the school ---------------------------------------------------------------------


def _is_school(user) -> bool:
    return bool(user is not None and user.is_active and can_use_workspace(user))


def _require_school(user) -> None:
    if not _is_school(user):
        raise PermissionDenied(_("Only moderators and staff work in the inbox."))


def school_members() -> QuerySet:
    """Active moderators and staff, by name: whom a thread may be assigned to."""
    return (
        get_user_model()
        .objects.filter(Q(role__in=[Role.MODERATOR, Role.STAFF]) | Q(is_superuser=True))
        .filter(is_active=True)
        .only("id", "full_name", "email", "role", "is_superuser", "is_active")
        .order_by("full_name", "id")
    )


# --- The list ----------------------------------------------------------------------------------


def _with_unread(threads: QuerySet[Thread], viewer) -> QuerySet[Thread]:
    """``my_seen_at`` (the viewer's last look) and ``unread``: the student wrote since."""
    seen = ThreadSeen.objects.filter(thread=OuterRef("pk"), user=viewer).values("seen_at")[:1]
    return threads.annotate(my_seen_at=Subquery(seen)).annotate(
        unread=ExpressionWrapper(
            Q(last_student_message_at__isnull=False)
            & (Q(my_seen_at__isnull=True) | Q(last_student_message_at__gt=F("my_seen_at"))),
            output_field=BooleanField(),
        )
    )


def inbox_threads(*, viewer, filters: InboxFilters | None = None) -> QuerySet[Thread]:
    """Threads for the inbox, filtered: those whose student waits come first, the longest
    wait on top; then the rest, the latest message first. Each has ``unread`` and
    ``my_seen_at`` for ``viewer``; the student, the course and the assignee come in the
    same query."""
    filters = filters or InboxFilters()
    threads = Thread.objects.select_related("student", "course", "assignee").only(
        *(f.name for f in Thread._meta.concrete_fields if not f.is_relation),
        "task_id",
        "student__id",
        "student__full_name",
        "student__email",
        "course__id",
        "course__title",
        "assignee__id",
        "assignee__full_name",
    )
    if filters.show == InboxShow.WAITING:
        threads = threads.filter(state=ThreadState.AWAITING_MODERATOR)
    elif filters.show == InboxShow.MINE:
        threads = threads.filter(assignee=viewer)
    elif filters.show == InboxShow.UNASSIGNED:
        threads = threads.filter(assignee__isnull=True).exclude(state=ThreadState.CLOSED)
    elif filters.show == InboxShow.CLOSED:
        threads = threads.filter(state=ThreadState.CLOSED)
    if filters.kind:
        threads = threads.filter(kind=filters.kind)
    if filters.course_id is not None:
        threads = threads.filter(course_id=filters.course_id)
    return _with_unread(threads, viewer).order_by(
        F("waiting_since").asc(nulls_last=True),
        F("last_message_at").desc(nulls_last=True),
        "-id",
    )


def inbox_page(
    *, viewer, filters: InboxFilters | None = None, page=1, per_page: int = INBOX_PER_PAGE
) -> Page:
    """A page of ``inbox_threads``: two queries (the count and the rows)."""
    return Paginator(inbox_threads(viewer=viewer, filters=filters), per_page).get_page(page)


def inbox_count(*, user) -> int:
    """The header's number: threads awaiting a reply that are nobody's or ``user``'s (one
    COUNT; none for someone outside the school)."""
    if not getattr(user, "is_authenticated", False) or not can_use_workspace(user):
        return 0
    return (
        Thread.objects.filter(state=ThreadState.AWAITING_MODERATOR)
        .filter(Q(assignee__isnull=True) | Q(assignee=user))
        .count()
    )


def inbox_courses() -> list[Course]:
    """The courses the course filter offers."""
    return list(Course.objects.only("id", "title").order_by("position", "id"))


# --- One thread ------------------------------------------------------------------------------


def thread_notes(*, thread: Thread) -> list[ThreadNote]:
    """The thread's private notes, oldest first, with their authors (one query)."""
    return list(ThreadNote.objects.filter(thread=thread).select_related("author").order_by("id"))


def saved_reply_list() -> list[SavedReply]:
    return list(SavedReply.objects.order_by("position", "title", "id"))


@dataclass(frozen=True)
class TaskContext:
    """What a moderator sees beside a task thread."""

    task: Task
    correct_answer: str
    attempts: Attempts


def thread_task_context(*, thread: Thread) -> TaskContext | None:
    """The task's statement and solution (on ``thread.task``), its answer key as a person
    reads it, and the student's attempts; None for support or a deleted task. Three
    queries whatever the number of attempts (``thread`` comes from ``thread_for_viewer``,
    with its task)."""
    if thread.kind != ThreadKind.TASK or thread.task_id is None:
        return None
    task = thread.task
    # One read of the choices serves the attempts (their texts) and the key.
    prefetch_related_objects([task], "choices")
    return TaskContext(
        task=task,
        correct_answer=correct_answer_text(task=task, choices=list(task.choices.all())),
        attempts=task_attempts(thread=thread),
    )


def thread_student_stats(*, thread: Thread) -> CourseStats | None:
    """The student's statistics in the thread's course (five queries), or None."""
    if thread.course_id is None or thread.course is None:
        return None
    return course_stats(user=thread.student, course=thread.course)


# --- Taking and assigning ----------------------------------------------------------------------


def _locked(thread: Thread) -> Thread:
    """The thread's row, locked. Nothing joined: a row another transaction changed while
    we waited is read again after the lock, but PostgreSQL would join the old assignee's
    row to it (an empty one for a thread that was nobody's)."""
    return Thread.objects.select_for_update().get(pk=thread.pk)


_UNCHANGED = object()


def _refresh(thread: Thread, locked: Thread, *, assignee=_UNCHANGED) -> Thread:
    """Copy what a write changed onto the caller's object too, and return it."""
    for name in ("state", "waiting_since", "closed_at"):
        setattr(thread, name, getattr(locked, name))
    if assignee is not _UNCHANGED:
        thread.assignee = assignee
    return thread


@transaction.atomic
def thread_take(*, thread: Thread, moderator) -> Thread:
    """``moderator`` takes ``thread`` (assigns it to themselves). Refused with who has it
    when another moderator took it first (``Conflict``); taking one's own thread again
    changes nothing."""
    _require_school(moderator)
    locked = _locked(thread)
    if locked.assignee_id is not None and locked.assignee_id != moderator.pk:
        holder = get_user_model().objects.only("full_name").get(pk=locked.assignee_id)
        raise Conflict(
            _("%(name)s has already taken this thread.") % {"name": holder.full_name},
            extra={"assignee": locked.assignee_id},
        )
    if locked.assignee_id is None:
        locked.assignee = moderator
        locked.save(update_fields=["assignee"])
    return _refresh(thread, locked, assignee=moderator)


@transaction.atomic
def thread_assign(*, thread: Thread, assignee, by) -> Thread:
    """``by`` hands ``thread`` to ``assignee`` (a moderator or staff member), or to nobody
    (``assignee=None``). Anyone else is refused with a clear message."""
    _require_school(by)
    if assignee is not None and not _is_school(assignee):
        raise ValidationFailed(
            {
                "assignee": [
                    _(
                        "A thread can be assigned only to an active moderator or staff "
                        "member; %(name)s is not one."
                    )
                    % {"name": assignee.full_name or assignee.email}
                ]
            }
        )
    locked = _locked(thread)
    new_id = assignee.pk if assignee is not None else None
    if locked.assignee_id != new_id:
        locked.assignee = assignee
        locked.save(update_fields=["assignee"])
    return _refresh(thread, locked, assignee=assignee)


# --- Private notes ---------------------------------------------------------------------------


def _clean_text(text, *, field: str, empty: str) -> str:
    if not isinstance(text, str):
        raise ValidationFailed({field: [_("This must be text.")]})
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ValidationFailed({field: [empty]})
    if len(text) > TEXT_MAX_LENGTH:
        raise ValidationFailed(
            {
                field: [
                    _("Too long: %(length)d characters, the limit is %(limit)d.")
                    % {"length": len(text), "limit": TEXT_MAX_LENGTH}
                ]
            }
        )
    return text.strip("\n")


@transaction.atomic
def thread_note_add(*, thread: Thread, author, text: str) -> ThreadNote:
    """A private note on ``thread`` for the school (never shown to the student)."""
    _require_school(author)
    text = _clean_text(text, field="text", empty=_("Write the note."))
    return ThreadNote.objects.create(thread=thread, author=author, text=text)


# --- Saved replies ----------------------------------------------------------------------------


def _saved_reply_fields(*, title, text, position) -> tuple[str, str, int | None]:
    errors: dict[str, list[str]] = {}
    clean_title = title.strip() if isinstance(title, str) else ""
    if not clean_title:
        errors["title"] = [_("Give the reply a short title (it is the button's label).")]
    elif len(clean_title) > SAVED_REPLY_TITLE_MAX_LENGTH:
        errors["title"] = [
            _("The title is too long: at most %(limit)d characters.")
            % {"limit": SAVED_REPLY_TITLE_MAX_LENGTH}
        ]
    clean_text = ""
    try:
        clean_text = _clean_text(text, field="text", empty=_("Write the reply's text."))
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if position is not None and (
        isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 10**6
    ):
        errors["position"] = [_("The position must be a whole number from 0 to 1,000,000.")]
    if errors:
        raise ValidationFailed(errors)
    return clean_title, clean_text, position


@transaction.atomic
def saved_reply_create(*, author, title: str, text: str, position: int | None = None):
    """A reply for every moderator to insert with a click; without a position it goes
    last."""
    _require_school(author)
    title, text, position = _saved_reply_fields(title=title, text=text, position=position)
    if position is None:
        last = SavedReply.objects.aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
    return SavedReply.objects.create(title=title, text=text, position=position, author=author)


@transaction.atomic
def saved_reply_update(
    *, reply: SavedReply, by, title: str, text: str, position: int | None = None
) -> SavedReply:
    _require_school(by)
    title, text, position = _saved_reply_fields(title=title, text=text, position=position)
    reply.title, reply.text = title, text
    if position is not None:
        reply.position = position
    reply.save(update_fields=["title", "text", "position"])
    return reply


@transaction.atomic
def saved_reply_delete(*, reply: SavedReply, by) -> None:
    _require_school(by)
    SavedReply.objects.filter(pk=reply.pk).delete()


# --- Closing and reopening --------------------------------------------------------------------


@transaction.atomic
def thread_close(*, thread: Thread, by) -> Thread:
    """Close ``thread``: nobody waits any more (a new message from either side opens it
    again). Closing a closed thread is refused (``Conflict``)."""
    _require_school(by)
    locked = _locked(thread)
    if locked.state == ThreadState.CLOSED:
        raise Conflict(_("This thread is already closed."))
    locked.state = ThreadState.CLOSED
    locked.closed_at = timezone.now()
    locked.waiting_since = None
    locked.save(update_fields=["state", "closed_at", "waiting_since"])
    return _refresh(thread, locked)


def _first_unanswered_at(thread: Thread) -> datetime | None:
    """When the student's first message after the school's last one was written."""
    messages = ChatMessage.objects.filter(thread=thread, from_staff=False).exclude(
        source=MessageSource.SYSTEM
    )
    if thread.last_staff_message_at is not None:
        messages = messages.filter(created_at__gt=thread.last_staff_message_at)
    first = messages.order_by("created_at", "id").values_list("created_at", flat=True).first()
    return first or thread.last_student_message_at


@transaction.atomic
def thread_reopen(*, thread: Thread, by) -> Thread:
    """Open a closed thread again, in the state its last message gives: the student wrote
    last, so they wait again (since their first unanswered message); or the school did.
    Reopening an open thread is refused (``Conflict``)."""
    _require_school(by)
    locked = _locked(thread)
    if locked.state != ThreadState.CLOSED:
        raise Conflict(_("This thread is open already."))
    student_last = locked.last_student_message_at
    staff_last = locked.last_staff_message_at
    if student_last is not None and (staff_last is None or student_last > staff_last):
        locked.state = ThreadState.AWAITING_MODERATOR
        locked.waiting_since = _first_unanswered_at(locked)
    else:
        locked.state = ThreadState.AWAITING_STUDENT
        locked.waiting_since = None
    locked.closed_at = None
    locked.save(update_fields=["state", "closed_at", "waiting_since"])
    return _refresh(thread, locked)
