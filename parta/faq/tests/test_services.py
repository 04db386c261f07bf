import pytest

from parta.common.errors import Conflict, ValidationFailed
from parta.faq import services
from parta.faq.forms import CategoryForm, EntryForm, SearchForm
from parta.faq.models import ANSWER_MAX_LENGTH, QUESTION_MAX_LENGTH, Category, Entry

pytestmark = pytest.mark.django_db


def _titles():
    return list(Category.objects.order_by("position", "id").values_list("title", flat=True))


def _questions(category):
    return list(category.entries.order_by("position", "id").values_list("question", flat=True))


def test_a_category_needs_a_title_of_its_own():
    with pytest.raises(ValidationFailed) as caught:
        services.category_create(title="   ")
    assert caught.value.errors == {"title": ["Give the category a title."]}
    services.category_create(title="Оплата")
    # Another case of the same title, Cyrillic too (SQLite would not fold it).
    with pytest.raises(ValidationFailed) as caught:
        services.category_create(title="  ОПЛАТА ")
    assert caught.value.errors == {"title": ["There is already a category with this title."]}
    with pytest.raises(ValidationFailed) as caught:
        services.category_create(title="x" * 101)
    assert caught.value.errors == {"title": ["At most 100 characters; this has 101."]}
    assert _titles() == ["Оплата"]


def test_categories_go_last_unless_placed_and_keep_their_place_when_edited():
    first = services.category_create(title="Документы")
    second = services.category_create(title="Оплата")
    assert (first.position, second.position) == (1, 2)
    top = services.category_create(title="Технические вопросы", position=0)
    assert _titles() == ["Технические вопросы", "Документы", "Оплата"]
    services.category_update(category=second, title="Оплата и возвраты")
    second.refresh_from_db()
    assert (second.title, second.position) == ("Оплата и возвраты", 2)
    # Its own title is not a clash.
    services.category_update(category=top, title="технические вопросы", position=5)
    assert _titles() == ["Документы", "Оплата и возвраты", "технические вопросы"]


@pytest.mark.parametrize("position", [-1, 2**31])
def test_a_position_out_of_range_is_refused(position, documents):
    message = "Enter a number from 0 to 2147483647."
    with pytest.raises(ValidationFailed) as caught:
        services.category_create(title="Оплата", position=position)
    assert caught.value.errors == {"position": [message]}
    with pytest.raises(ValidationFailed) as caught:
        services.entry_create(category=documents, question="Q?", answer="A", position=position)
    assert caught.value.errors == {"position": [message]}
    assert not Entry.objects.exists()


def test_a_category_with_questions_is_not_deleted(faq, documents, payments):
    with pytest.raises(Conflict) as caught:
        services.category_delete(category=documents)
    assert caught.value.message == (
        "The category has 2 questions: move them to another category or delete them first."
    )
    assert Category.objects.filter(pk=documents.pk).exists()
    for entry in list(documents.entries.all()):
        services.entry_delete(entry=entry)
    services.category_delete(category=documents)
    assert _titles() == ["Оплата"]
    # The hidden question counts too.
    services.entry_delete(entry=faq["card"])
    with pytest.raises(Conflict, match="has 1 question: move it"):
        services.category_delete(category=payments)


def test_categories_move_up_and_down():
    a, b, c = (services.category_create(title=t) for t in ("A", "B", "C"))
    services.category_move(category=c, direction="up")
    assert _titles() == ["A", "C", "B"]
    services.category_move(category=a, direction="down")
    assert _titles() == ["C", "A", "B"]
    # At the edge nothing changes; positions are 1..n again.
    services.category_move(category=c, direction="up")
    services.category_move(category=b, direction="down")
    assert _titles() == ["C", "A", "B"]
    assert list(Category.objects.order_by("position").values_list("position", flat=True)) == [
        1,
        2,
        3,
    ]
    with pytest.raises(ValidationFailed) as caught:
        services.category_move(category=a, direction="sideways")
    assert caught.value.errors == {"direction": ["Move a row up or down."]}


def test_an_entry_reports_every_problem_at_once():
    with pytest.raises(ValidationFailed) as caught:
        services.entry_create(category=None, question=" \n ", answer="")
    assert caught.value.errors == {
        "category": ["Choose a category."],
        "question": ["Write the question."],
        "answer": ["Write the answer."],
    }
    # A category that is not (or no longer) stored is refused the same way.
    gone = Category(pk=10**12, title="Удалена")
    with pytest.raises(ValidationFailed) as caught:
        services.entry_create(category=gone, question="Q?", answer="A")
    assert caught.value.errors == {"category": ["Choose a category."]}
    assert not Entry.objects.exists()


def test_too_long_texts_name_the_limit(documents):
    with pytest.raises(ValidationFailed) as caught:
        services.entry_create(
            category=documents, question="в" * (QUESTION_MAX_LENGTH + 1), answer="о" * 10_001
        )
    assert caught.value.errors == {
        "question": ["At most 300 characters; this has 301."],
        "answer": ["At most 10 000 characters; this has 10001."],
    }
    entry = services.entry_create(
        category=documents, question="в" * QUESTION_MAX_LENGTH, answer="о" * ANSWER_MAX_LENGTH
    )
    assert len(entry.answer) == ANSWER_MAX_LENGTH


def test_an_entry_is_stored_tidy_at_the_end_of_its_category(documents, payments):
    first = services.entry_create(
        category=documents,
        question="  Какие\n документы   нужны? ",
        answer="\r\n- паспорт\r\n- аттестат\r\n",
    )
    assert first.question == "Какие документы нужны?"
    assert first.answer == "- паспорт\n- аттестат"
    assert first.is_published is True
    second = services.entry_create(category=documents, question="Когда?", answer="В июне.")
    other = services.entry_create(category=payments, question="Как оплатить?", answer="Картой.")
    assert (first.position, second.position, other.position) == (1, 2, 1)


def test_editing_keeps_the_place_and_moving_category_goes_last(faq, documents, payments):
    entry = faq["documents"]
    services.entry_update(
        entry=entry,
        category=documents,
        question="Какие документы нужны в вуз?",
        answer=entry.answer,
        is_published=False,
    )
    entry.refresh_from_db()
    assert (entry.position, entry.is_published) == (1, False)
    services.entry_update(
        entry=entry, category=payments, question=entry.question, answer="A", is_published=True
    )
    assert _questions(payments)[-1] == "Какие документы нужны в вуз?"
    assert _questions(documents) == ["Когда подавать заявление?"]
    with pytest.raises(ValidationFailed) as caught:
        services.entry_update(entry=entry, category=payments, question="", answer="A",
                              is_published=True)  # fmt: skip
    assert caught.value.errors == {"question": ["Write the question."]}
    entry.refresh_from_db()
    assert entry.question == "Какие документы нужны в вуз?"


def test_entries_move_within_their_category(faq, documents, payments):
    services.entry_move(entry=faq["deadline"], direction="up")
    assert _questions(documents) == [
        "Когда подавать заявление?",
        "Какие документы нужны для поступления?",
    ]
    # Another category's order is not touched.
    assert _questions(payments) == ["Как оплатить курс картой?", "Черновик про оплату документов"]
    services.entry_move(entry=faq["deadline"], direction="up")
    assert _questions(documents)[0] == "Когда подавать заявление?"


def test_forms_refuse_what_is_not_a_choice_or_a_number(documents):
    for value in ("abc", str(2**64), "-1", str(documents.pk + 1000)):
        form = EntryForm({"category": value, "question": "Q", "answer": "A"})
        assert not form.is_valid()
        assert "category" in form.errors
    form = CategoryForm({"title": "T", "position": "first"})
    assert not form.is_valid()
    assert form.errors["position"] == ["Enter a whole number."]
    form = EntryForm({"category": documents.pk, "question": "Q", "answer": "A"})
    assert form.is_valid()
    assert form.cleaned_data["category"] == documents
    assert not SearchForm({"q": "x" * 201}).is_valid()
    assert SearchForm({"q": "x" * 200}).is_valid()
