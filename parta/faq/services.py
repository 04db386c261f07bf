"""Keeping the FAQ: categories and questions, their order, publishing.

Every service checks all of its input before writing and reports every problem at once
in one ValidationFailed keyed by field name. Positions order categories on the page and
questions within their category; ``*_move`` swaps a row with its neighbour and numbers
the siblings 1, 2, 3… again (rows locked first, so two moderators moving at once cannot
leave two rows on one position by accident)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parta.audit.services import record_change, snapshot
from parta.common.errors import Conflict, ValidationFailed
from parta.faq.models import (
    ANSWER_MAX_LENGTH,
    CATEGORY_TITLE_MAX_LENGTH,
    QUESTION_MAX_LENGTH,
    Category,
    Entry,
)

# The column is a PositiveIntegerField (PostgreSQL's integer).
POSITION_MAX = 2**31 - 1
DIRECTIONS = ("up", "down")
# What the audit log keeps (before and after).
CATEGORY_AUDIT = ("title", "position")
ENTRY_AUDIT = ("category", "question", "answer", "position", "is_published")


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def _one_line(value: str) -> str:
    return " ".join((value or "").split())


def _length(errors: _Errors, field: str, value: str, *, limit: int, empty: str) -> None:
    if not value:
        errors.add(field, empty)
    elif len(value) > limit:
        errors.add(
            field,
            _("At most %(limit)s characters; this has %(count)s.")
            % {"limit": f"{limit:,}".replace(",", " "), "count": len(value)},
        )


def _position(errors: _Errors, value: int | None, siblings: QuerySet) -> int:
    """The given position, or the one after the last sibling."""
    if value is None:
        last = siblings.aggregate(last=Max("position"))["last"]
        return (last or 0) + 1
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add("position", _("Enter a whole number."))
    elif not 0 <= value <= POSITION_MAX:
        errors.add(
            "position",
            _("Enter a number from %(min)d to %(max)d.") % {"min": 0, "max": POSITION_MAX},
        )
    return value


def _renumber(rows: list, moved, direction: str) -> None:
    """Swap ``moved`` with its neighbour in ``rows`` (in display order), then store
    positions 1..n for the rows whose position changed."""
    if direction not in DIRECTIONS:
        raise ValidationFailed({"direction": [_("Move a row up or down.")]})
    index = next((i for i, row in enumerate(rows) if row.pk == moved.pk), None)
    if index is None:  # deleted meanwhile
        return
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
    changed = []
    for position, row in enumerate(rows, start=1):
        if row.position != position:
            row.position = position
            changed.append(row)
    if changed:
        type(moved).objects.bulk_update(changed, ["position"])
    moved.position = next(row.position for row in rows if row.pk == moved.pk)


# -- categories ------------------------------------------------------------------------


def _category_title(errors: _Errors, title: str, *, exclude: int | None = None) -> str:
    title = _one_line(title)
    _length(
        errors,
        "title",
        title,
        limit=CATEGORY_TITLE_MAX_LENGTH,
        empty=_("Give the category a title."),
    )
    if title:
        # Categories are few: compare in Python, which folds Cyrillic case on SQLite too.
        taken = Category.objects.exclude(pk=exclude).values_list("title", flat=True)
        if any(other.casefold() == title.casefold() for other in taken):
            errors.add("title", _("There is already a category with this title."))
    return title


def _save_category(category: Category) -> Category:
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError:
        # Another moderator saved the same title a moment ago.
        raise ValidationFailed(
            {"title": [_("There is already a category with this title.")]}
        ) from None
    return category


@transaction.atomic
def category_create(
    *, title: str, position: int | None = None, actor=None, reason: str = ""
) -> Category:
    """A category at the end of the list unless a position is given."""
    errors = _Errors()
    title = _category_title(errors, title)
    position = _position(errors, position, Category.objects.all())
    errors.raise_if_any()
    category = _save_category(Category(title=title, position=position))
    record_change(
        actor=actor,
        action="faq.category_create",
        obj=category,
        after=snapshot(category, CATEGORY_AUDIT),
        reason=reason,
    )
    return category


@transaction.atomic
def category_update(
    *,
    category: Category,
    title: str,
    position: int | None = None,
    actor=None,
    reason: str = "",
) -> Category:
    errors = _Errors()
    title = _category_title(errors, title, exclude=category.pk)
    position = category.position if position is None else _position(errors, position, None)
    errors.raise_if_any()
    before = snapshot(category, CATEGORY_AUDIT)
    category.title, category.position = title, position
    _save_category(category)
    record_change(
        actor=actor,
        action="faq.category_update",
        obj=category,
        before=before,
        after=snapshot(category, CATEGORY_AUDIT),
        reason=reason,
        changed_only=True,
    )
    return category


def category_delete_check(*, category: Category) -> None:
    """Conflict while the category has questions: they are moved or deleted first, so no
    answer is lost by one click. (The confirmation page asks before showing the button.)"""
    count = category.entries.count()
    if count:
        raise Conflict(
            ngettext(
                "The category has %(count)d question: move it to another category "
                "or delete it first.",
                "The category has %(count)d questions: move them to another category "
                "or delete them first.",
                count,
            )
            % {"count": count}
        )


@transaction.atomic
def category_delete(*, category: Category, actor=None, reason: str = "") -> None:
    """Only an empty category (see ``category_delete_check``)."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    category_delete_check(category=category)
    record_change(
        actor=actor,
        action="faq.category_delete",
        obj=category,
        before=snapshot(category, CATEGORY_AUDIT),
        reason=reason,
    )
    category.delete()


@transaction.atomic
def category_move(*, category: Category, direction: str, actor=None, reason: str = "") -> Category:
    """One place up or down in the list."""
    rows = list(Category.objects.select_for_update().order_by("position", "id"))
    before = _position_of(rows, category)
    _renumber(rows, category, direction)
    _record_move(actor, "faq.category_move", category, before, reason)
    return category


def _position_of(rows: list, row) -> int | None:
    return next((other.position for other in rows if other.pk == row.pk), None)


def _record_move(actor, action: str, row, before: int | None, reason: str) -> None:
    if before is not None:
        record_change(
            actor=actor,
            action=action,
            obj=row,
            before={"position": before},
            after={"position": row.position},
            reason=reason,
            changed_only=True,
        )


# -- entries ---------------------------------------------------------------------------


def _entry_fields(
    errors: _Errors, *, category: Category | None, question: str, answer: str
) -> tuple[str, str]:
    # Locked, so that a moderator deleting it meanwhile waits for this question (and
    # then refuses) instead of deleting it under it.
    if not (
        isinstance(category, Category)
        and category.pk is not None
        and Category.objects.select_for_update().filter(pk=category.pk).exists()
    ):
        errors.add("category", _("Choose a category."))
    question = _one_line(question)
    _length(
        errors, "question", question, limit=QUESTION_MAX_LENGTH, empty=_("Write the question.")
    )
    answer = (answer or "").replace("\r\n", "\n").strip()
    _length(errors, "answer", answer, limit=ANSWER_MAX_LENGTH, empty=_("Write the answer."))
    return question, answer


@transaction.atomic
def entry_create(
    *,
    category: Category | None,
    question: str,
    answer: str,
    position: int | None = None,
    is_published: bool = True,
    actor=None,
    reason: str = "",
) -> Entry:
    """A question at the end of its category unless a position is given."""
    errors = _Errors()
    question, answer = _entry_fields(errors, category=category, question=question, answer=answer)
    if "category" in errors.errors:
        position = 0 if position is None else _position(errors, position, None)
    else:
        position = _position(errors, position, Entry.objects.filter(category=category))
    errors.raise_if_any()
    entry = Entry(
        category=category,
        question=question,
        answer=answer,
        position=position,
        is_published=bool(is_published),
    )
    entry.save()
    record_change(
        actor=actor,
        action="faq.entry_create",
        obj=entry,
        after=snapshot(entry, ENTRY_AUDIT),
        reason=reason,
    )
    return entry


@transaction.atomic
def entry_update(
    *,
    entry: Entry,
    category: Category | None,
    question: str,
    answer: str,
    is_published: bool,
    position: int | None = None,
    actor=None,
    reason: str = "",
) -> Entry:
    """Without a position the question keeps its place; moved to another category it
    goes to that category's end."""
    errors = _Errors()
    question, answer = _entry_fields(errors, category=category, question=question, answer=answer)
    if position is not None:
        position = _position(errors, position, None)
    elif "category" not in errors.errors and category.pk != entry.category_id:
        position = _position(errors, None, Entry.objects.filter(category=category))
    else:
        position = entry.position
    errors.raise_if_any()
    before = snapshot(entry, ENTRY_AUDIT)
    entry.category, entry.question, entry.answer = category, question, answer
    entry.position, entry.is_published = position, bool(is_published)
    entry.save()
    record_change(
        actor=actor,
        action="faq.entry_update",
        obj=entry,
        before=before,
        after=snapshot(entry, ENTRY_AUDIT),
        reason=reason,
        changed_only=True,
    )
    return entry


@transaction.atomic
def entry_delete(*, entry: Entry, actor=None, reason: str = "") -> None:
    stored = Entry.objects.select_for_update().filter(pk=entry.pk).first()
    if stored is None:
        return
    record_change(
        actor=actor,
        action="faq.entry_delete",
        obj=stored,
        before=snapshot(stored, ENTRY_AUDIT),
        reason=reason,
    )
    stored.delete()


@transaction.atomic
def entry_move(*, entry: Entry, direction: str, actor=None, reason: str = "") -> Entry:
    """One place up or down within its category."""
    rows = list(
        Entry.objects.select_for_update()
        .filter(category_id=entry.category_id)
        .order_by("position", "id")
        .only("id", "position")
    )
    before = _position_of(rows, entry)
    _renumber(rows, entry, direction)
    _record_move(actor, "faq.entry_move", entry, before, reason)
    return entry
