"""Writes for the catalogue: courses, topics, lessons, tasks with their choices, tests.

Every service validates all of its input before it writes anything and reports every
problem at once in one ValidationFailed, keyed by field name ("choices" for the list
of choices). Files are checked with parta.catalog.uploads; files a change leaves
behind are removed from storage once the transaction commits.

test_create, test_update and test_delete are marked `__test__ = False`, so pytest does
not mistake them for tests in a module that imports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.validators import DecimalValidator, URLValidator, validate_slug
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from parta.audit.services import record_change, snapshot
from parta.catalog.models import (
    AnswerKind,
    Author,
    Course,
    Lesson,
    SolutionVisibility,
    Task,
    TaskChoice,
    Test,
    Topic,
)
from parta.catalog.uploads import check_upload, validate_cover_image, validate_video_upload
from parta.common.errors import ValidationFailed
from parta.common.live import live
from parta.common.money import CURRENCY_EXPONENT

TITLE_MAX = 200
SLUG_MAX = 100
TRACK_MAX = 32
CHOICE_TEXT_MAX = 500
# Limits of the database columns (PositiveBigIntegerField, PositiveSmallIntegerField,
# PositiveIntegerField).
PRICE_MAX = 2**63 - 1
SMALL_INT_MAX = 32767
POSITION_MAX = 2**31 - 1
TIME_LIMIT_MAX_MINUTES = 7 * 24 * 60
CHOICE_KINDS = (AnswerKind.SINGLE, AnswerKind.MULTIPLE)

# What the audit log keeps of each kind of content (its before and after).
COURSE_AUDIT = (
    "title",
    "slug",
    "track",
    "description",
    "price_amount",
    "price_currency",
    "is_published",
    "position",
    "cover",
    "authors",
)
TOPIC_AUDIT = ("course", "title", "description", "opens_at", "position")
LESSON_AUDIT = ("topic", "title", "body", "video", "video_url", "is_free_preview", "position")
TASK_AUDIT = (
    "topic",
    "test",
    "title",
    "statement",
    "kind",
    "points",
    "answer_text",
    "answer_number",
    "tolerance",
    "solution",
    "solution_visibility",
    "solution_after_attempts",
    "chat_ask_after",
    "position",
)
TEST_AUDIT = ("topic", "title", "description", "time_limit_minutes", "position")


@dataclass(frozen=True, slots=True)
class ChoiceInput:
    """One choice of a single- or multiple-choice task, in display order. `id` names an
    existing choice of the same task to keep (so past answers that point at it stay
    meaningful); without it, or with an id the task does not have, a new row is made."""

    text: str
    is_correct: bool = False
    id: int | None = None


class _Errors:
    """Collects messages per field so a form can show every problem at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


# -- shared checks ---------------------------------------------------------------------


def _text(
    errors: _Errors, field: str, value: str, *, max_length: int, required: bool = True
) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        errors.add(field, _("This field cannot be empty."))
    elif len(cleaned) > max_length:
        errors.add(field, _("Too long: at most %(max)d characters.") % {"max": max_length})
    return cleaned


def _whole_number(errors: _Errors, field: str, value: int, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field, _("Enter a whole number."))
    elif not minimum <= value <= maximum:
        errors.add(
            field,
            _("Enter a number from %(min)d to %(max)d.") % {"min": minimum, "max": maximum},
        )
    return value


def _position(errors: _Errors, value: int | None, siblings: QuerySet) -> int:
    """The given position, or the one after the last sibling."""
    if value is None:
        last = siblings.aggregate(last=Max("position"))["last"]
        return (last or 0) + 1
    return _whole_number(errors, "position", value, minimum=0, maximum=POSITION_MAX)


def _decimal(errors: _Errors, field: str, value: Decimal) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        errors.add(field, _("Enter a number."))
        return value
    try:
        DecimalValidator(max_digits=20, decimal_places=6)(value)
    except ValidationError as exc:
        for message in exc.messages:
            errors.add(field, message)
    return value


def _delete_file_on_commit(file: FieldFile | None) -> None:
    """Remove a stored file once the change that dropped it is committed."""
    if file and file.name:
        storage, name = file.storage, file.name
        transaction.on_commit(lambda: storage.delete(name))


def _check_file(errors: _Errors, validator, file: File | None, field: str) -> None:
    if file is None:
        return
    try:
        check_upload(validator, file, field=field)
    except ValidationFailed as exc:
        for message in exc.errors[field]:
            errors.add(field, message)


# -- courses ---------------------------------------------------------------------------


def _course_fields(
    errors: _Errors,
    *,
    title: str,
    slug: str,
    track: str,
    description: str,
    price_amount: int,
    price_currency: str,
    is_published: bool,
    position: int | None,
) -> dict:
    fields = {
        "title": _text(errors, "title", title, max_length=TITLE_MAX),
        "slug": _text(errors, "slug", slug, max_length=SLUG_MAX),
        "track": _text(errors, "track", track, max_length=TRACK_MAX, required=False),
        "description": (description or "").strip(),
        "price_amount": price_amount,
        "price_currency": price_currency,
        "is_published": bool(is_published),
        "position": _position(errors, position, Course.objects.all()),
    }
    if fields["slug"] and "slug" not in errors.errors:
        try:
            validate_slug(fields["slug"])
        except ValidationError:
            errors.add(
                "slug",
                _("Use only Latin letters, digits, hyphens and underscores in the address."),
            )
    if isinstance(price_amount, bool) or not isinstance(price_amount, int):
        errors.add("price_amount", _("The price must be a whole number of minor units."))
    elif price_amount < 0:
        errors.add("price_amount", _("The price cannot be negative."))
    elif price_amount > PRICE_MAX:
        errors.add("price_amount", _("The price is too large."))
    if price_currency not in CURRENCY_EXPONENT:
        errors.add(
            "price_currency",
            _("Unknown currency %(code)s.") % {"code": price_currency},
        )
    return fields


def _save_course(course: Course) -> None:
    try:
        # A savepoint, so a taken slug leaves the caller's transaction usable.
        with transaction.atomic():
            course.save()
    except IntegrityError as exc:
        raise ValidationFailed(
            {"slug": [_("A course with this address already exists. Choose another one.")]}
        ) from exc


@transaction.atomic
def course_create(
    *,
    actor=None,
    reason: str = "",
    title: str,
    slug: str,
    track: str = "",
    description: str = "",
    price_amount: int = 0,
    price_currency: str = "RUB",
    is_published: bool = False,
    position: int | None = None,
    authors: Iterable[Author] = (),
    cover: File | None = None,
) -> Course:
    errors = _Errors()
    fields = _course_fields(
        errors,
        title=title,
        slug=slug,
        track=track,
        description=description,
        price_amount=price_amount,
        price_currency=price_currency,
        is_published=is_published,
        position=position,
    )
    _check_file(errors, validate_cover_image, cover, "cover")
    errors.raise_if_any()
    # A new course's groups take the school's live default; the course then keeps its own.
    course = Course(**fields, max_group_size=live("DEFAULT_GROUP_SIZE"))
    _save_course(course)
    # The cover is stored only after the row exists: a taken slug leaves no file behind.
    if cover is not None:
        course.cover = cover
        course.save(update_fields=["cover", "updated_at"])
    course.authors.set(list(authors))
    record_change(
        actor=actor,
        action="catalog.course_create",
        obj=course,
        after=snapshot(course, COURSE_AUDIT),
        reason=reason,
    )
    return course


@transaction.atomic
def course_update(
    *,
    actor=None,
    reason: str = "",
    course: Course,
    title: str,
    slug: str,
    track: str,
    description: str,
    price_amount: int,
    price_currency: str,
    is_published: bool,
    position: int,
    authors: Iterable[Author] | None = None,
    cover: File | None = None,
    remove_cover: bool = False,
) -> Course:
    """Save every field of the course. `authors=None` keeps the authors; a new `cover`
    replaces the old file, `remove_cover` drops it."""
    errors = _Errors()
    fields = _course_fields(
        errors,
        title=title,
        slug=slug,
        track=track,
        description=description,
        price_amount=price_amount,
        price_currency=price_currency,
        is_published=is_published,
        position=position,
    )
    _check_file(errors, validate_cover_image, cover, "cover")
    errors.raise_if_any()
    before = snapshot(course, COURSE_AUDIT)
    for name, value in fields.items():
        setattr(course, name, value)
    try:
        _save_course(course)
    except ValidationFailed:
        course.refresh_from_db()  # the caller's object shows what is stored, not the attempt
        raise
    if cover is not None or remove_cover:
        _delete_file_on_commit(course.cover)
        course.cover = cover if cover is not None else ""
        course.save(update_fields=["cover", "updated_at"])
    if authors is not None:
        course.authors.set(list(authors))
    record_change(
        actor=actor,
        action="catalog.course_update",
        obj=course,
        before=before,
        after=snapshot(course, COURSE_AUDIT),
        reason=reason,
        changed_only=True,
    )
    return course


# -- topics ----------------------------------------------------------------------------


def _topic_fields(
    errors: _Errors,
    *,
    title: str,
    description: str,
    opens_at: datetime | None,
    position: int | None,
    siblings: QuerySet,
) -> dict:
    if opens_at is not None and (
        not isinstance(opens_at, datetime) or timezone.is_naive(opens_at)
    ):
        errors.add("opens_at", _("Give the opening date with its time zone."))
    return {
        "title": _text(errors, "title", title, max_length=TITLE_MAX),
        "description": (description or "").strip(),
        "opens_at": opens_at,
        "position": _position(errors, position, siblings),
    }


@transaction.atomic
def topic_create(
    *,
    actor=None,
    reason: str = "",
    course: Course,
    title: str,
    description: str = "",
    opens_at: datetime | None = None,
    position: int | None = None,
) -> Topic:
    """A topic at the end of the course unless a position is given. Without
    `opens_at` it is open from the start."""
    errors = _Errors()
    fields = _topic_fields(
        errors,
        title=title,
        description=description,
        opens_at=opens_at,
        position=position,
        siblings=course.topics.all(),
    )
    errors.raise_if_any()
    topic = Topic.objects.create(course=course, **fields)
    record_change(
        actor=actor,
        action="catalog.topic_create",
        obj=topic,
        after=snapshot(topic, TOPIC_AUDIT),
        reason=reason,
    )
    return topic


@transaction.atomic
def topic_update(
    *,
    actor=None,
    reason: str = "",
    topic: Topic,
    title: str,
    description: str,
    opens_at: datetime | None,
    position: int,
) -> Topic:
    errors = _Errors()
    fields = _topic_fields(
        errors,
        title=title,
        description=description,
        opens_at=opens_at,
        position=position,
        siblings=Topic.objects.filter(course_id=topic.course_id).exclude(pk=topic.pk),
    )
    errors.raise_if_any()
    before = snapshot(topic, TOPIC_AUDIT)
    for name, value in fields.items():
        setattr(topic, name, value)
    topic.save()
    record_change(
        actor=actor,
        action="catalog.topic_update",
        obj=topic,
        before=before,
        after=snapshot(topic, TOPIC_AUDIT),
        reason=reason,
        changed_only=True,
    )
    return topic


@transaction.atomic
def topic_delete(*, topic: Topic, actor=None, reason: str = "") -> None:
    """Delete the topic with its lessons, tests and tasks (and students' answers to
    them); lesson videos are removed from storage on commit."""
    for lesson in topic.lessons.exclude(video=""):
        _delete_file_on_commit(lesson.video)
    record_change(
        actor=actor,
        action="catalog.topic_delete",
        obj=topic,
        before=snapshot(topic, TOPIC_AUDIT),
        reason=reason,
    )
    topic.delete()


# -- lessons ---------------------------------------------------------------------------


def _lesson_fields(
    errors: _Errors,
    *,
    title: str,
    body: str,
    video_url: str,
    is_free_preview: bool,
    position: int | None,
    siblings: QuerySet,
) -> dict:
    video_url = (video_url or "").strip()
    if video_url:
        try:
            URLValidator(schemes=["http", "https"])(video_url)
        except ValidationError:
            errors.add("video_url", _("Enter a full link starting with https://."))
        if len(video_url) > Lesson._meta.get_field("video_url").max_length:
            errors.add("video_url", _("The link is too long."))
    return {
        "title": _text(errors, "title", title, max_length=TITLE_MAX),
        "body": (body or "").strip(),
        "video_url": video_url,
        "is_free_preview": bool(is_free_preview),
        "position": _position(errors, position, siblings),
    }


def _video_and_link_conflict(errors: _Errors, *, has_file: bool, video_url: str) -> None:
    if has_file and video_url:
        errors.add(
            "video_url",
            _("A lesson has either a video file or an external link, not both."),
        )


@transaction.atomic
def lesson_create(
    *,
    actor=None,
    reason: str = "",
    topic: Topic,
    title: str,
    body: str = "",
    video: File | None = None,
    video_url: str = "",
    is_free_preview: bool = False,
    position: int | None = None,
) -> Lesson:
    errors = _Errors()
    fields = _lesson_fields(
        errors,
        title=title,
        body=body,
        video_url=video_url,
        is_free_preview=is_free_preview,
        position=position,
        siblings=topic.lessons.all(),
    )
    _check_file(errors, validate_video_upload, video, "video")
    _video_and_link_conflict(errors, has_file=video is not None, video_url=fields["video_url"])
    errors.raise_if_any()
    lesson = Lesson(topic=topic, **fields)
    if video is not None:
        lesson.video = video
    lesson.save()
    record_change(
        actor=actor,
        action="catalog.lesson_create",
        obj=lesson,
        after=snapshot(lesson, LESSON_AUDIT),
        reason=reason,
    )
    return lesson


@transaction.atomic
def lesson_update(
    *,
    actor=None,
    reason: str = "",
    lesson: Lesson,
    title: str,
    body: str,
    video_url: str,
    is_free_preview: bool,
    position: int,
    video: File | None = None,
    remove_video: bool = False,
) -> Lesson:
    """Save the lesson. A new `video` replaces the stored file; `remove_video` drops
    it (the old file is removed from storage on commit)."""
    errors = _Errors()
    fields = _lesson_fields(
        errors,
        title=title,
        body=body,
        video_url=video_url,
        is_free_preview=is_free_preview,
        position=position,
        siblings=Lesson.objects.filter(topic_id=lesson.topic_id).exclude(pk=lesson.pk),
    )
    _check_file(errors, validate_video_upload, video, "video")
    keeps_file = bool(lesson.video) and not remove_video
    _video_and_link_conflict(
        errors, has_file=video is not None or keeps_file, video_url=fields["video_url"]
    )
    errors.raise_if_any()
    before = snapshot(lesson, LESSON_AUDIT)
    for name, value in fields.items():
        setattr(lesson, name, value)
    if video is not None or remove_video:
        _delete_file_on_commit(lesson.video)
        lesson.video = video if video is not None else ""
    lesson.save()
    record_change(
        actor=actor,
        action="catalog.lesson_update",
        obj=lesson,
        before=before,
        after=snapshot(lesson, LESSON_AUDIT),
        reason=reason,
        changed_only=True,
    )
    return lesson


@transaction.atomic
def lesson_delete(*, lesson: Lesson, actor=None, reason: str = "") -> None:
    record_change(
        actor=actor,
        action="catalog.lesson_delete",
        obj=lesson,
        before=snapshot(lesson, LESSON_AUDIT),
        reason=reason,
    )
    _delete_file_on_commit(lesson.video)
    lesson.delete()


# -- tasks -----------------------------------------------------------------------------


def _clean_choices(errors: _Errors, kind: str, choices: Sequence[ChoiceInput]) -> list:
    if kind not in CHOICE_KINDS:
        # Other kinds have no choices; whatever the form carried is dropped.
        return []
    cleaned = []
    for choice in choices:
        text = (choice.text or "").strip()
        if not text:
            errors.add("choices", _("A choice cannot be empty."))
        elif len(text) > CHOICE_TEXT_MAX:
            errors.add(
                "choices",
                _("A choice is too long: at most %(max)d characters.") % {"max": CHOICE_TEXT_MAX},
            )
        cleaned.append(ChoiceInput(text=text, is_correct=bool(choice.is_correct), id=choice.id))
    texts = [choice.text for choice in cleaned]
    if len(set(texts)) != len(texts):
        errors.add("choices", _("Two choices have the same text."))
    correct = sum(choice.is_correct for choice in cleaned)
    if len(cleaned) < 2:
        errors.add("choices", _("Give at least two choices."))
    if kind == AnswerKind.SINGLE and correct != 1:
        errors.add("choices", _("Mark exactly one choice as correct."))
    if kind == AnswerKind.MULTIPLE and correct < 1:
        errors.add("choices", _("Mark at least one choice as correct."))
    return cleaned


# "Leave this field as it is" for optional arguments of updates.
KEEP = object()


def _task_fields(
    errors: _Errors,
    *,
    topic_id: int,
    test: Test | None,
    title: str,
    statement: str,
    kind: str,
    points: int,
    answer_text: str,
    answer_number: Decimal | None,
    tolerance: Decimal,
    solution: str,
    solution_visibility: str,
    solution_after_attempts: int,
    chat_ask_after: int | None,
    position: int | None,
    siblings: QuerySet,
) -> dict:
    fields = {
        "test": test,
        "title": _text(errors, "title", title, max_length=TITLE_MAX),
        "statement": _text(errors, "statement", statement, max_length=100_000),
        "kind": kind,
        "points": _whole_number(errors, "points", points, minimum=0, maximum=SMALL_INT_MAX),
        "answer_text": "",
        "answer_number": None,
        "tolerance": Decimal(0),
        "solution": (solution or "").strip(),
        "solution_visibility": solution_visibility,
        "solution_after_attempts": solution_after_attempts,
        "chat_ask_after": chat_ask_after,
        "position": _position(errors, position, siblings),
    }
    if test is not None and test.topic_id != topic_id:
        errors.add("test", _("This test belongs to another topic."))
    if kind not in AnswerKind.values:
        errors.add("kind", _("Choose an answer kind."))
    elif kind == AnswerKind.TEXT:
        lines = [line.strip() for line in (answer_text or "").splitlines()]
        fields["answer_text"] = "\n".join(line for line in lines if line)
        if not fields["answer_text"]:
            errors.add("answer_text", _("Give at least one accepted answer, one per line."))
    elif kind == AnswerKind.NUMBER:
        if answer_number is None:
            errors.add("answer_number", _("A numeric task needs its answer."))
        else:
            fields["answer_number"] = _decimal(errors, "answer_number", answer_number)
        if tolerance is None:
            tolerance = Decimal(0)
        fields["tolerance"] = _decimal(errors, "tolerance", tolerance)
        if isinstance(tolerance, Decimal) and tolerance.is_finite() and tolerance < 0:
            errors.add("tolerance", _("The tolerance cannot be negative."))
    if solution_visibility not in SolutionVisibility.values:
        errors.add("solution_visibility", _("Choose when the solution is shown."))
    _whole_number(
        errors,
        "solution_after_attempts",
        solution_after_attempts,
        minimum=0,
        maximum=SMALL_INT_MAX,
    )
    if chat_ask_after is not None:
        _whole_number(errors, "chat_ask_after", chat_ask_after, minimum=0, maximum=SMALL_INT_MAX)
    if (
        solution_visibility == SolutionVisibility.AFTER_ATTEMPTS
        and "solution_after_attempts" not in errors.errors
        and solution_after_attempts < 1
    ):
        errors.add(
            "solution_after_attempts",
            _("Set at least 1 attempt before the solution is shown."),
        )
    return fields


def _replace_choices(task: Task, choices: list[ChoiceInput]) -> None:
    """Make the task's choices exactly `choices`, in order. Rows named by id are kept
    and updated, so students' past answers that point at them stay meaningful."""
    existing = {choice.pk: choice for choice in task.choices.all()}
    keep, create = [], []
    for position, choice in enumerate(choices, start=1):
        row = existing.pop(choice.id, None) if choice.id is not None else None
        if row is None:
            create.append(
                TaskChoice(
                    task=task, text=choice.text, is_correct=choice.is_correct, position=position
                )
            )
        else:
            row.text, row.is_correct, row.position = choice.text, choice.is_correct, position
            keep.append(row)
    if existing:
        TaskChoice.objects.filter(pk__in=existing).delete()
    if keep:
        TaskChoice.objects.bulk_update(keep, ["text", "is_correct", "position"])
    if create:
        TaskChoice.objects.bulk_create(create)


def _task_snapshot(task: Task) -> dict:
    values = snapshot(task, TASK_AUDIT)
    values["choices"] = [
        {"text": text, "is_correct": is_correct}
        for text, is_correct in task.choices.order_by("position", "id").values_list(
            "text", "is_correct"
        )
    ]
    return values


@transaction.atomic
def task_create(
    *,
    actor=None,
    reason: str = "",
    topic: Topic,
    title: str,
    statement: str,
    kind: str,
    points: int = 1,
    test: Test | None = None,
    answer_text: str = "",
    answer_number: Decimal | None = None,
    tolerance: Decimal = Decimal(0),
    solution: str = "",
    solution_visibility: str = SolutionVisibility.AFTER_SOLVED,
    solution_after_attempts: int = 3,
    chat_ask_after: int | None = None,
    choices: Sequence[ChoiceInput] = (),
    position: int | None = None,
) -> Task:
    """A task of the topic, inside `test` when given (the test must be of the same
    topic). Only the answer fields of its kind are kept. `chat_ask_after`: wrong answers
    before "Ask a moderator" (None: the school's setting)."""
    errors = _Errors()
    fields = _task_fields(
        errors,
        topic_id=topic.pk,
        test=test,
        title=title,
        statement=statement,
        kind=kind,
        points=points,
        answer_text=answer_text,
        answer_number=answer_number,
        tolerance=tolerance,
        solution=solution,
        solution_visibility=solution_visibility,
        solution_after_attempts=solution_after_attempts,
        chat_ask_after=chat_ask_after,
        position=position,
        siblings=topic.tasks.all(),
    )
    cleaned_choices = _clean_choices(errors, kind, choices)
    errors.raise_if_any()
    task = Task.objects.create(topic=topic, **fields)
    _replace_choices(task, cleaned_choices)
    record_change(
        actor=actor,
        action="catalog.task_create",
        obj=task,
        after=_task_snapshot(task),
        reason=reason,
    )
    return task


@transaction.atomic
def task_update(
    *,
    actor=None,
    reason: str = "",
    task: Task,
    title: str,
    statement: str,
    kind: str,
    points: int,
    test: Test | None,
    answer_text: str,
    answer_number: Decimal | None,
    tolerance: Decimal,
    solution: str,
    solution_visibility: str,
    solution_after_attempts: int,
    choices: Sequence[ChoiceInput],
    position: int,
    chat_ask_after: int | object | None = KEEP,
) -> Task:
    """Save every field of the task and make its choices exactly `choices`. Nothing
    changes when any of it is invalid. `chat_ask_after` is left as it was unless given."""
    errors = _Errors()
    fields = _task_fields(
        errors,
        topic_id=task.topic_id,
        test=test,
        title=title,
        statement=statement,
        kind=kind,
        points=points,
        answer_text=answer_text,
        answer_number=answer_number,
        tolerance=tolerance,
        solution=solution,
        solution_visibility=solution_visibility,
        solution_after_attempts=solution_after_attempts,
        chat_ask_after=task.chat_ask_after if chat_ask_after is KEEP else chat_ask_after,
        position=position,
        siblings=Task.objects.filter(topic_id=task.topic_id).exclude(pk=task.pk),
    )
    cleaned_choices = _clean_choices(errors, kind, choices)
    errors.raise_if_any()
    before = _task_snapshot(task)
    for name, value in fields.items():
        setattr(task, name, value)
    task.save()
    _replace_choices(task, cleaned_choices)
    record_change(
        actor=actor,
        action="catalog.task_update",
        obj=task,
        before=before,
        after=_task_snapshot(task),
        reason=reason,
        changed_only=True,
    )
    return task


@transaction.atomic
def task_delete(*, task: Task, actor=None, reason: str = "") -> None:
    """Delete the task with its choices and students' answers to it."""
    record_change(
        actor=actor,
        action="catalog.task_delete",
        obj=task,
        before=_task_snapshot(task),
        reason=reason,
    )
    task.delete()


# -- tests -----------------------------------------------------------------------------


def _test_fields(
    errors: _Errors,
    *,
    title: str,
    description: str,
    time_limit_minutes: int,
    position: int | None,
    siblings: QuerySet,
) -> dict:
    return {
        "title": _text(errors, "title", title, max_length=TITLE_MAX),
        "description": (description or "").strip(),
        "time_limit_minutes": _whole_number(
            errors,
            "time_limit_minutes",
            time_limit_minutes,
            minimum=1,
            maximum=TIME_LIMIT_MAX_MINUTES,
        ),
        "position": _position(errors, position, siblings),
    }


@transaction.atomic
def test_create(
    *,
    actor=None,  # noqa: PT028 (a service, not a test)
    reason: str = "",  # noqa: PT028
    topic: Topic,
    title: str,
    description: str = "",  # noqa: PT028 (a service, not a test)
    time_limit_minutes: int = 30,  # noqa: PT028
    position: int | None = None,  # noqa: PT028
) -> Test:
    errors = _Errors()
    fields = _test_fields(
        errors,
        title=title,
        description=description,
        time_limit_minutes=time_limit_minutes,
        position=position,
        siblings=topic.tests.all(),
    )
    errors.raise_if_any()
    test = Test.objects.create(topic=topic, **fields)
    record_change(
        actor=actor,
        action="catalog.test_create",
        obj=test,
        after=snapshot(test, TEST_AUDIT),
        reason=reason,
    )
    return test


@transaction.atomic
def test_update(
    *,
    actor=None,  # noqa: PT028 (a service, not a test)
    reason: str = "",  # noqa: PT028
    test: Test,
    title: str,
    description: str,
    time_limit_minutes: int,
    position: int,
) -> Test:
    errors = _Errors()
    fields = _test_fields(
        errors,
        title=title,
        description=description,
        time_limit_minutes=time_limit_minutes,
        position=position,
        siblings=Test.objects.filter(topic_id=test.topic_id).exclude(pk=test.pk),
    )
    errors.raise_if_any()
    before = snapshot(test, TEST_AUDIT)
    for name, value in fields.items():
        setattr(test, name, value)
    test.save()
    record_change(
        actor=actor,
        action="catalog.test_update",
        obj=test,
        before=before,
        after=snapshot(test, TEST_AUDIT),
        reason=reason,
        changed_only=True,
    )
    return test


@transaction.atomic
def test_delete(
    *,
    test: Test,
    actor=None,  # noqa: PT028 (a service, not a test)
    reason: str = "",  # noqa: PT028
) -> None:
    """Delete the test with its tasks and students' attempts."""
    record_change(
        actor=actor,
        action="catalog.test_delete",
        obj=test,
        before=snapshot(test, TEST_AUDIT),
        reason=reason,
    )
    test.delete()


# Not tests: keep pytest from collecting these where a test module imports them.
test_create.__test__ = test_update.__test__ = test_delete.__test__ = False
