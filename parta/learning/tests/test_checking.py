from decimal import Decimal

import pytest
from django.http import QueryDict
from hypothesis import given
from hypothesis import strategies as st

from parta.catalog.models import AnswerKind, Task, TaskChoice
from parta.common.errors import ValidationFailed
from parta.learning.checking import is_correct, normalise_text, parse_answer, parse_number


def _task(**fields) -> Task:
    return Task(title="t", statement="s", **fields)


def test_text_is_case_and_space_insensitive():
    task = _task(kind=AnswerKind.TEXT, answer_text="Ёлка 2\nspruce")
    for given_answer in ["ёлка 2", "  ЕЛКА2 ", "Spruce", "s p r u c e"]:
        assert is_correct(task, parse_answer(task, {"answer": given_answer}))
    assert not is_correct(task, parse_answer(task, {"answer": "pine"}))


def test_text_needs_an_answer_and_limits_its_length():
    task = _task(kind=AnswerKind.TEXT, answer_text="x")
    with pytest.raises(ValidationFailed):
        parse_answer(task, {"answer": "   "})
    with pytest.raises(ValidationFailed):
        parse_answer(task, {})
    with pytest.raises(ValidationFailed):
        parse_answer(task, {"answer": "x" * 501})
    with pytest.raises(ValidationFailed, match="not allowed"):
        parse_answer(task, {"answer": "pi\x00ne"})  # PostgreSQL's JSON cannot hold it


@pytest.mark.parametrize("raw", ["abc", "1..2", "", "   ", "NaN", "Infinity", "1e", "--1"])
def test_number_refuses_what_is_not_a_number(raw):
    task = _task(kind=AnswerKind.NUMBER, answer_number=Decimal(1))
    with pytest.raises(ValidationFailed) as exc:
        parse_answer(task, {"answer": raw})
    assert "answer" in exc.value.errors


@pytest.mark.parametrize(
    ("raw", "value"), [("3,14", "3.14"), (" -2 ", "-2"), ("1 000", "1000"), ("−5", "-5")]
)
def test_number_reads_common_spellings(raw, value):
    assert parse_number(raw) == Decimal(value)


_decimals = st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False)
_tolerances = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False)


@given(answer=_decimals, tolerance=_tolerances, given_value=_decimals)
def test_number_within_tolerance_is_correct_and_outside_is_not(answer, tolerance, given_value):
    task = _task(kind=AnswerKind.NUMBER, answer_number=answer, tolerance=tolerance)
    verdict = is_correct(task, parse_answer(task, {"answer": str(given_value)}))
    assert verdict == (abs(given_value - answer) <= tolerance)


@given(answer=_decimals, tolerance=_tolerances)
def test_number_edges_of_the_tolerance_count(answer, tolerance):
    task = _task(kind=AnswerKind.NUMBER, answer_number=answer, tolerance=tolerance)
    for edge in (answer - tolerance, answer + tolerance):
        assert is_correct(task, parse_answer(task, {"answer": str(edge)}))


def _choices(task, spec):
    return [
        TaskChoice(id=i, task=task, text=f"c{i}", is_correct=ok) for i, ok in enumerate(spec, 1)
    ]


def test_single_choice():
    task = _task(kind=AnswerKind.SINGLE)
    choices = _choices(task, [False, True, False])
    assert is_correct(task, parse_answer(task, {"choice": "2"}, choices), choices)
    assert not is_correct(task, parse_answer(task, {"choice": 1}, choices), choices)


@pytest.mark.parametrize("data", [{}, {"choice": "99"}, {"choice": "x"}, {"choice": ["1", "2"]}])
def test_single_choice_refuses_unknown_or_several(data):
    task = _task(kind=AnswerKind.SINGLE)
    with pytest.raises(ValidationFailed):
        parse_answer(task, data, _choices(task, [True, False]))


def test_multiple_choice_needs_exactly_the_correct_set():
    task = _task(kind=AnswerKind.MULTIPLE)
    choices = _choices(task, [True, True, False])
    form = QueryDict("choices=1&choices=2")
    assert is_correct(task, parse_answer(task, form, choices), choices)
    assert not is_correct(task, parse_answer(task, {"choices": [1]}, choices), choices)
    assert not is_correct(task, parse_answer(task, {"choices": [1, 2, 3]}, choices), choices)


@pytest.mark.parametrize("data", [{}, {"choices": []}, {"choices": [1, 42]}, {"choices": ["a"]}])
def test_multiple_choice_refuses_empty_or_unknown(data):
    task = _task(kind=AnswerKind.MULTIPLE)
    with pytest.raises(ValidationFailed):
        parse_answer(task, data, _choices(task, [True, False]))


def test_normalise_text():
    assert normalise_text(" A  b\tЁ ") == "abе"
