import pytest

from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.faq import services


@pytest.fixture
def moderator(db):
    return ModeratorFactory()


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def student(db):
    return UserFactory(email="ann@example.com")


@pytest.fixture
def documents(db):
    return services.category_create(title="Документы для поступления")


@pytest.fixture
def payments(db):
    return services.category_create(title="Оплата")


@pytest.fixture
def faq(documents, payments):
    """A small published FAQ in two categories, and one hidden question."""
    entries = {
        "documents": services.entry_create(
            category=documents,
            question="Какие документы нужны для поступления?",
            answer="Паспорт, аттестат и **СНИЛС**.",
        ),
        "deadline": services.entry_create(
            category=documents,
            question="Когда подавать заявление?",
            answer="Приём начинается 20 июня.",
        ),
        "card": services.entry_create(
            category=payments,
            question="Как оплатить курс картой?",
            answer="Оплата банковской картой на странице курса.",
        ),
        "hidden": services.entry_create(
            category=payments,
            question="Черновик про оплату документов",
            answer="Ещё не готово.",
            is_published=False,
        ),
    }
    return entries
