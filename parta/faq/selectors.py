"""Reading the FAQ: by category, searched, suggested; and the workspace's full list."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from parta.faq import search
from parta.faq.models import Category, Entry

# A search box's text; suggestions may come from a whole message being typed, of which
# the first words are used.
QUERY_MAX_LENGTH = 200
SEARCH_WORDS = 8
SUGGESTION_WORDS = 12
SUGGESTION_TEXT = 2000
SUGGESTIONS = 5
SEARCH_LIMIT = 50


def _published() -> QuerySet[Entry]:
    return Entry.objects.filter(is_published=True)


def faq_by_category() -> list[Category]:
    """Categories in order, each with its published questions in order as ``entries_shown``;
    categories without any are left out. Two queries."""
    categories = Category.objects.order_by("position", "id").prefetch_related(
        Prefetch(
            "entries",
            queryset=_published().order_by("position", "id"),
            to_attr="entries_shown",
        )
    )
    return [category for category in categories if category.entries_shown]


@dataclass(frozen=True)
class SearchResult:
    query: str
    # The words searched for (folded), for marking them in the results.
    words: list[str] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    # False when no entry has every word and these have some of them.
    all_words: bool = True


def _ranked(words: list[str], *, every_word: bool, limit: int) -> list[Entry]:
    entries = search.matching(
        _published().select_related("category"), words, every_word=every_word
    )
    return list(
        entries.order_by("-rank", "category__position", "category_id", "position", "id")[:limit]
    )


def faq_search(*, query: str, limit: int = SEARCH_LIMIT) -> SearchResult:
    """Published entries with every word of ``query``, best first (one query); when none
    has them all, those with some of them (a second query)."""
    query = " ".join((query or "").split())[:QUERY_MAX_LENGTH]
    words = search.search_words(query, limit=SEARCH_WORDS)
    if not words:
        return SearchResult(query=query, words=words)
    entries = _ranked(words, every_word=True, limit=limit)
    if entries or len(words) == 1:
        return SearchResult(query=query, words=words, entries=entries)
    entries = _ranked(words, every_word=False, limit=limit)
    return SearchResult(query=query, words=words, entries=entries, all_words=False)


def faq_suggestions(*, text: str, limit: int = SUGGESTIONS) -> SearchResult:
    """At most ``limit`` published entries for text being typed (a search or a whole
    question), those sharing more of its words first. One query; none for text without
    a meaningful word."""
    text = (text or "")[:SUGGESTION_TEXT]
    words = search.search_words(text, limit=SUGGESTION_WORDS)
    entries = _ranked(words, every_word=False, limit=limit) if words else []
    return SearchResult(query=" ".join(text.split()), words=words, entries=entries)


def workspace_categories() -> list[Category]:
    """Every category with every question (published or not), in order. Two queries."""
    return list(
        Category.objects.order_by("position", "id").prefetch_related(
            Prefetch("entries", queryset=Entry.objects.order_by("position", "id"))
        )
    )
