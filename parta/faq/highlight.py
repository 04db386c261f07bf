"""Marking the searched words in a question or a rendered answer (<mark>).

Only a reading aid: the database decides what matches. A word of five letters or more is
matched by its beginning without its last two letters (at least four), so «документов»
also marks «документы» and «оплату» marks «оплата»; «е» also marks «ё»."""

from __future__ import annotations

import re

from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

# A tag of serialized HTML, attribute values (quoted) and all: words are marked in the
# text between tags only.
_TAG = re.compile(r"(<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>)")


def _stem(word: str) -> str:
    if len(word) <= 4 or word.isdigit():
        return word
    return word[: max(4, len(word) - 2)]


def _pattern(words: list[str]) -> re.Pattern | None:
    stems = sorted({_stem(word) for word in words if word}, key=len, reverse=True)
    if not stems:
        return None
    alternatives = "|".join(re.escape(stem).replace("е", "[её]") for stem in stems)
    # Not inside a word, nor an entity's name (&amp; &#39;).
    return re.compile(rf"(?<![\w&#])(?:{alternatives})\w*", re.IGNORECASE)


def highlight_html(html: str, words: list[str]) -> SafeString:
    """``html`` (safe markup) with the words marked in its text."""
    pattern = _pattern(words)
    if pattern is None:
        return mark_safe(html)
    parts = _TAG.split(html)
    for index in range(0, len(parts), 2):
        parts[index] = pattern.sub(lambda match: f"<mark>{match[0]}</mark>", parts[index])
    return mark_safe("".join(parts))


def highlight(value, words: list[str]) -> SafeString:
    """Plain text is escaped first; safe markup is marked as it is."""
    return highlight_html(str(conditional_escape(value)), words)
