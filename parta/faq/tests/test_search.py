"""The FAQ search: what both databases find, what only PostgreSQL's Russian full-text
search finds (word forms), the suggestions for a question being typed, and the marks."""

import pytest
from django.db import connection

from parta.faq import services
from parta.faq.highlight import highlight, highlight_html
from parta.faq.search import search_words
from parta.faq.selectors import faq_search, faq_suggestions

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plain match")


def _found(query: str) -> list[str]:
    return [entry.question for entry in faq_search(query=query).entries]


def test_words_are_folded_and_stop_words_dropped():
    assert search_words("Как ОПЛАТИТЬ курс, если ещё нет карты?", limit=8) == [
        "оплатить",
        "курс",
        "карты",
    ]
    assert search_words("а и в к", limit=8) == []
    assert search_words("один два три один", limit=2) == ["один", "два"]
    # Nothing of the tsquery syntax survives.
    assert search_words("оплата' | !(док:* & <->", limit=8) == ["оплата", "док"]


def test_published_entries_are_found_in_any_case(faq):
    assert _found("документы") == ["Какие документы нужны для поступления?"]
    # Cyrillic case is folded on SQLite too (its own LIKE folds ASCII only).
    assert _found("ДОКУМЕНТЫ") == ["Какие документы нужны для поступления?"]
    # The answer is searched too (here a word in bold Markdown).
    assert _found("снилс") == ["Какие документы нужны для поступления?"]
    # A hidden question is never found.
    assert "Черновик про оплату документов" not in _found("черновик")


def test_a_word_being_typed_is_found_by_its_beginning(faq):
    assert _found("докум") == ["Какие документы нужны для поступления?"]
    assert faq_suggestions(text="докум").entries[0].question == (
        "Какие документы нужны для поступления?"
    )


def test_yo_and_ye_are_the_same_letter(documents):
    services.entry_create(category=documents, question="Когда будет зачёт?", answer="В мае.")
    assert _found("зачет") == ["Когда будет зачёт?"]
    assert _found("ЗАЧЁТ") == ["Когда будет зачёт?"]


def test_every_word_is_needed_else_entries_with_some_are_offered(faq, django_assert_num_queries):
    with django_assert_num_queries(1):
        result = faq_search(query="документы поступления")
    assert result.all_words is True
    assert [e.question for e in result.entries] == ["Какие документы нужны для поступления?"]
    # No published entry has both words: those with either come, flagged (a second query).
    with django_assert_num_queries(2):
        result = faq_search(query="документы картой")
    assert result.all_words is False
    assert {e.question for e in result.entries} == {
        "Какие документы нужны для поступления?",
        "Как оплатить курс картой?",
    }
    assert faq_search(query="как и что").entries == []
    assert faq_search(query="  ").words == []


def test_a_match_in_the_question_ranks_above_one_in_the_answer(documents):
    services.entry_create(
        category=documents, question="Что взять с собой?", answer="Заявление и паспорт."
    )
    services.entry_create(
        category=documents, question="Как написать заявление?", answer="По образцу вуза."
    )
    assert _found("заявление") == ["Как написать заявление?", "Что взять с собой?"]


def test_hostile_search_text_is_only_words(faq):
    for text in ("документы' OR 1=1 --", "док:* & !оплата | (", "<script>документы</script>"):
        assert "Какие документы нужны для поступления?" in _found(text)
    assert _found("x" * 5000) == []


@pytest.mark.postgres
def test_postgres_finds_russian_words_in_other_forms(faq):
    # «документов», «документами» → the stem документ; «оплату» → оплат (the answer's
    # «Оплата»); a form and a word being typed together.
    assert _found("документов") == ["Какие документы нужны для поступления?"]
    assert _found("документами для поступлении") == ["Какие документы нужны для поступления?"]
    assert _found("оплату") == ["Как оплатить курс картой?"]
    assert _found("карта оплат") == ["Как оплатить курс картой?"]


@sqlite_only
def test_sqlite_matches_the_letters_as_typed(faq):
    # The plain match: another form of a word is not found (PostgreSQL finds it).
    assert _found("документов") == []
    assert _found("документ") == ["Какие документы нужны для поступления?"]


def test_suggestions_for_a_whole_question_share_some_of_its_words(
    documents, payments, django_assert_num_queries
):
    for n in range(7):
        services.entry_create(category=payments, question=f"Документы номер {n}", answer="Ответ.")
    best = services.entry_create(
        category=documents,
        question="Какие документы взять в приёмную комиссию?",
        answer="Паспорт и аттестат.",
    )
    text = (
        "Здравствуйте! Подскажите, пожалуйста, какие документы нужно взять с собой "
        "в приёмную комиссию МГУ? И когда оплата?"
    )
    with django_assert_num_queries(1):
        result = faq_suggestions(text=text)
    assert len(result.entries) == 5
    assert result.entries[0] == best
    # Text without a meaningful word costs no query.
    with django_assert_num_queries(0):
        assert faq_suggestions(text="ну и что?").entries == []


def test_highlight_marks_words_and_their_forms_in_text_only():
    assert highlight("Какие документы <нужны>?", ["документов"]) == (
        "Какие <mark>документы</mark> &lt;нужны&gt;?"
    )
    assert highlight("Оплата картой", ["оплату"]) == "<mark>Оплата</mark> картой"
    assert highlight("Ёлка и елка", ["елка"]) == "<mark>Ёлка</mark> и <mark>елка</mark>"
    html = '<p><a href="/документы/" title="a > документы">документы</a> &amp; amp</p>'
    assert highlight_html(html, ["документы", "amp"]) == (
        '<p><a href="/документы/" title="a > документы"><mark>документы</mark></a>'
        " &amp; <mark>amp</mark></p>"
    )
    assert highlight("<b>x</b>", []) == "&lt;b&gt;x&lt;/b&gt;"


@pytest.mark.postgres
def test_postgres_searches_through_the_gin_index(faq):
    from parta.faq import search
    from parta.faq.models import Entry

    # The index (migration 0001) is on the very document the search builds; with a
    # table this small the planner would scan it, so scans are switched off here.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    entries = search.matching(Entry.objects.all(), ["документов"], every_word=True)
    assert "faq_entry_search" in entries.explain()
