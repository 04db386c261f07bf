"""Reading a student's answer and checking it against a task, on the server only.

`parse_answer` turns raw input (a form or a JSON body) into a normalised answer or
raises ValidationFailed with a message for the student; `is_correct` compares a
normalised answer with the task's key. Neither ever sends the key anywhere.
"""

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from parta.catalog.models import AnswerKind, Task, TaskChoice
from parta.common.errors import ValidationFailed

MAX_TEXT_ANSWER = 500
# Numbers from 1e30 up are refused: far past any key, and arithmetic on a huge exponent
# (1e99999999) overflows the decimal context.
MAX_NUMBER_EXPONENT = 29
_SPACES = re.compile(r"\s+")


def normalise_text(value: str) -> str:
    """Case- and space-insensitive form: "  Ёлка 2 " and "елка2" are the same answer."""
    return _SPACES.sub("", value).casefold().replace("ё", "е")


def parse_number(raw: str) -> Decimal:
    cleaned = _SPACES.sub("", raw or "").replace(",", ".").replace("−", "-")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValidationFailed({"answer": [_("Enter a number, for example 3.14.")]}) from exc
    if not value.is_finite():
        raise ValidationFailed({"answer": [_("Enter a number, for example 3.14.")]})
    if value and value.adjusted() > MAX_NUMBER_EXPONENT:
        raise ValidationFailed({"answer": [_("This number is too large.")]})
    return value


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, str | int):
        return [value]
    return list(value)


def _choice_ids(values: Iterable, valid: set[int]) -> list[int]:
    ids = []
    for value in values:
        try:
            choice_id = int(value)
        except (TypeError, ValueError) as exc:
            raise ValidationFailed({"answer": [_("Choose from the listed options.")]}) from exc
        if choice_id not in valid:
            raise ValidationFailed({"answer": [_("Choose from the listed options.")]})
        ids.append(choice_id)
    return sorted(set(ids))


def parse_answer(task: Task, data: Mapping, choices: list[TaskChoice] | None = None) -> dict:
    """Normalise the student's input for ``task``. ``data`` holds "answer" (text or
    number), "choice" (one id) or "choices" (several ids); a QueryDict works too."""
    if task.kind in (AnswerKind.TEXT, AnswerKind.NUMBER):
        raw = data.get("answer")
        if not isinstance(raw, str | int | float) or not str(raw).strip():
            raise ValidationFailed({"answer": [_("Enter an answer.")]})
        raw = str(raw).strip()
        if len(raw) > MAX_TEXT_ANSWER:
            raise ValidationFailed(
                {
                    "answer": [
                        _("The answer is too long (at most %d characters).") % MAX_TEXT_ANSWER
                    ]
                }
            )
        if "\x00" in raw:
            # Never a character anyone types; PostgreSQL's JSON cannot store it either.
            raise ValidationFailed(
                {"answer": [_("The answer contains a character that is not allowed.")]}
            )
        if task.kind == AnswerKind.TEXT:
            return {"text": raw}
        return {"number": str(parse_number(raw))}

    choices = list(task.choices.all()) if choices is None else choices
    valid = {choice.id for choice in choices}
    if task.kind == AnswerKind.SINGLE:
        picked = _as_list(
            data.getlist("choice") if hasattr(data, "getlist") else data.get("choice")
        )
        if len(picked) != 1:
            raise ValidationFailed({"answer": [_("Choose one option.")]})
        return {"choice": _choice_ids(picked, valid)[0]}

    picked = _as_list(data.getlist("choices") if hasattr(data, "getlist") else data.get("choices"))
    if not picked:
        raise ValidationFailed({"answer": [_("Choose at least one option.")]})
    return {"choices": _choice_ids(picked, valid)}


def is_correct(task: Task, answer: dict, choices: list[TaskChoice] | None = None) -> bool:
    if task.kind == AnswerKind.TEXT:
        given = normalise_text(answer["text"])
        accepted = {normalise_text(line) for line in task.answer_text.splitlines() if line.strip()}
        return given in accepted
    if task.kind == AnswerKind.NUMBER:
        if task.answer_number is None:
            return False
        return abs(Decimal(answer["number"]) - task.answer_number) <= task.tolerance
    choices = list(task.choices.all()) if choices is None else choices
    correct = {choice.id for choice in choices if choice.is_correct}
    if task.kind == AnswerKind.SINGLE:
        return answer["choice"] in correct
    return set(answer["choices"]) == correct
