"""Finding FAQ entries by the words a student types.

PostgreSQL: full-text search with the ``russian`` configuration and a prefix on every
word. The Russian stemmer reduces a word and its forms to one stem («документы»,
«документов», «документами» are all ``документ``; «оплату» and «оплата» are ``оплат``) and
also folds «ё» into «е»; the ``simple`` configuration with prefixes alone would find
«документ» in «документов» but not «оплату» in «оплата». The prefix (``:*``) on the
stemmed word finds a word still being typed («докум» finds «документы»). Latin words go
through the English stemmer of the same configuration. The question weighs more than
the answer in the rank.

SQLite (the embedded default): a plain case-insensitive substring match of each word.
SQLite's own LIKE and lower() fold ASCII only, so a deterministic ``parta_fold`` function
(Python's casefold, «ё» as «е») is registered on every SQLite connection.

A search needs every word; suggestions (while a student types a whole question) rank
entries by how many of the words they have, so one word absent from every answer does
not hide the rest.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import (
    Case,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)

# Words shorter than this, and these common (or polite) ones, say nothing about the question
# (PostgreSQL's Russian configuration drops its own stop words too).
MIN_WORD_LENGTH = 2
_STOP_WORDS = """
    а без бы был была были было в вам вас весь во вот все вы где да даже для до его ее
    если есть еще же за и из или им их к как ко когда кто ли либо между меня мне можно
    мой мы на над надо не него нее нет ни них но ну о об однако он она они оно от очень
    по под после при про с со так также там те тем то того тоже только том ты у уже хотя
    чего чей чем что чтобы чье чья эта эти это я
    какая какие каких какой какое который которые
    здравствуйте добрый привет подскажите пожалуйста спасибо
    a an and are be can do for how i in is it my of on or the to what when where why with
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())  # folded: «е» for «ё»
_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Case and «ё» folded, for comparing words."""
    return (text or "").casefold().replace("ё", "е")


def search_words(text: str, *, limit: int) -> list[str]:
    """The distinct meaningful words of ``text``, folded, in order, at most ``limit``."""
    words: list[str] = []
    for word in _WORD.findall(fold(text)):
        word = word.strip("_")
        if len(word) < MIN_WORD_LENGTH or word in STOP_WORDS or word in words:
            continue
        words.append(word)
        if len(words) == limit:
            break
    return words


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            "parta_fold",
            1,
            lambda value: fold(value) if value is not None else None,
            deterministic=True,
        )


class _Fold(Func):
    function = "parta_fold"
    output_field = TextField()


def is_full_text() -> bool:
    return connection.vendor == "postgresql"


def matching(entries: QuerySet, words: list[str], *, every_word: bool) -> QuerySet:
    """``entries`` that have every word (or any of them), annotated with ``rank``
    (higher first); no words, no entries."""
    if not words:
        return entries.none()
    if is_full_text():
        return _full_text(entries, words, every_word=every_word)
    return _plain(entries, words, every_word=every_word)


def _full_text(entries: QuerySet, words: list[str], *, every_word: bool) -> QuerySet:
    vector = SearchVector("question", weight="A", config="russian") + SearchVector(
        "answer", weight="B", config="russian"
    )
    # Each word is \w+ only: nothing in it is tsquery syntax.
    operator = " & " if every_word else " | "
    query = SearchQuery(
        operator.join(f"{word}:*" for word in words), search_type="raw", config="russian"
    )
    # The document only filters (alias): selecting it would compute it once more.
    return (
        entries.alias(document=vector)
        .annotate(rank=SearchRank(vector, query))
        .filter(document=query)
    )


def _plain(entries: QuerySet, words: list[str], *, every_word: bool) -> QuerySet:
    entries = entries.annotate(
        folded_question=_Fold(F("question")), folded_answer=_Fold(F("answer"))
    )
    score = Value(0, output_field=IntegerField())
    for word in words:
        score = score + Case(When(folded_question__contains=word, then=Value(2)), default=Value(0))
        score = score + Case(When(folded_answer__contains=word, then=Value(1)), default=Value(0))
    entries = entries.annotate(rank=ExpressionWrapper(score, output_field=FloatField()))
    if every_word:
        for word in words:
            entries = entries.filter(
                Q(folded_question__contains=word) | Q(folded_answer__contains=word)
            )
        return entries
    return entries.filter(rank__gt=0)
