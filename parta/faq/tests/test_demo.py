import io

import pytest
from django.core.management import call_command

from parta.faq import services
from parta.faq.models import Category, Entry
from parta.faq.selectors import faq_by_category, faq_search

pytestmark = pytest.mark.django_db


def test_the_seed_has_questions_in_every_category_and_respects_edits():
    call_command("seed_demo", stdout=io.StringIO())
    categories = faq_by_category()
    assert [c.title for c in categories] == [
        "Документы для поступления",
        "Баллы по специальностям",
        "Оплата",
        "Технические вопросы",
    ]
    assert all(len(c.entries_shown) >= 3 for c in categories)
    count = Entry.objects.count()
    # The demo text is searchable as a student would ask.
    assert faq_search(query="документы").entries
    assert faq_search(query="вернуть деньги").entries[0].question == (
        "Можно ли вернуть деньги за курс?"
    )
    # A moderator's change survives seeding again; nothing is added twice.
    services.entry_delete(entry=Entry.objects.get(question="Как оплатить курс?"))
    call_command("seed_demo", stdout=io.StringIO())
    assert Entry.objects.count() == count - 1
    assert Category.objects.count() == 4
