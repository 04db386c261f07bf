import re

import pytest
from django.urls import reverse

from parta.faq import services
from parta.faq.models import Category, Entry

pytestmark = pytest.mark.django_db

WORKSPACE_GETS = ["/workspace/faq/", "/workspace/faq/new/", "/workspace/faq/categories/new/"]


def _workspace_urls(faq, documents):
    entry = faq["documents"].pk
    return [
        *WORKSPACE_GETS,
        f"/workspace/faq/{entry}/",
        f"/workspace/faq/{entry}/delete/",
        f"/workspace/faq/categories/{documents.pk}/",
        f"/workspace/faq/categories/{documents.pk}/delete/",
    ]


def test_students_get_403_and_visitors_sign_in_first(client, student, faq, documents):
    moves = [
        f"/workspace/faq/{faq['documents'].pk}/move/",
        f"/workspace/faq/categories/{documents.pk}/move/",
    ]
    for url in _workspace_urls(faq, documents):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    client.force_login(student)
    for url in _workspace_urls(faq, documents) + moves:
        assert client.post(url, {"title": "x", "direction": "up"}).status_code == 403
    for url in _workspace_urls(faq, documents):
        assert client.get(url).status_code == 403
    assert Entry.objects.count() == 4
    assert Category.objects.get(pk=documents.pk).title == "Документы для поступления"


def test_bad_input_gives_form_errors_and_stores_nothing(client, moderator, documents):
    client.force_login(moderator)
    response = client.post("/workspace/faq/categories/new/", {"title": " ", "position": "-3"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Дайте категории название." in page
    assert "Введите число от 0 до 2147483647." in page
    response = client.post(
        "/workspace/faq/categories/new/", {"title": "документы для поступления"}
    )
    assert "Категория с таким названием уже есть." in response.content.decode()
    response = client.post(
        "/workspace/faq/new/",
        {"category": "999999999999999999999", "question": "Q?", "answer": "A"},
    )
    assert response.status_code == 200
    assert "Выберите корректный вариант." in response.content.decode()
    response = client.post(
        "/workspace/faq/new/",
        {"category": documents.pk, "question": " ", "answer": "x" * 10_001, "position": "x"},
    )
    assert "Введите целое число." in response.content.decode()
    response = client.post(
        "/workspace/faq/new/",
        {"category": documents.pk, "question": " ", "answer": "x" * 10_001},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Напишите вопрос." in page
    assert "Не больше 10 000 символов, а здесь 10001." in page
    assert Category.objects.count() == 1
    assert not Entry.objects.exists()


def test_a_moderator_writes_edits_orders_and_deletes_questions(
    client, moderator, documents, payments
):
    client.force_login(moderator)
    assert client.get(f"/workspace/faq/new/?category={payments.pk}").status_code == 200
    response = client.post(
        "/workspace/faq/new/",
        {"category": documents.pk, "question": "Нужен ли СНИЛС?", "answer": "Да, **нужен**.",
         "is_published": "on"},
    )  # fmt: skip
    first = Entry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/workspace/faq/#entry-{first.pk}"
    client.post(
        "/workspace/faq/new/",
        {"category": documents.pk, "question": "Нужны ли фото?", "answer": "Иногда."},
    )
    second = Entry.objects.get(question="Нужны ли фото?")
    assert second.is_published is False  # the box was not ticked
    assert second.position == 2
    client.post(f"/workspace/faq/{second.pk}/move/", {"direction": "up"})
    assert list(documents.entries.order_by("position").values_list("pk", flat=True)) == [
        second.pk,
        first.pk,
    ]
    edit = client.get(f"/workspace/faq/{first.pk}/").content.decode()
    assert "Да, **нужен**." in edit
    client.post(
        f"/workspace/faq/{first.pk}/",
        {"category": payments.pk, "question": "Нужен ли СНИЛС?", "answer": "Да.",
         "is_published": "on"},
    )  # fmt: skip
    first.refresh_from_db()
    assert (first.category, first.answer) == (payments, "Да.")

    confirm = client.get(f"/workspace/faq/{first.pk}/delete/").content.decode()
    assert "Удалить «Нужен ли СНИЛС?»?" in confirm
    assert Entry.objects.filter(pk=first.pk).exists()  # asking is not deleting
    response = client.post(f"/workspace/faq/{first.pk}/delete/")
    assert response.status_code == 302
    assert not Entry.objects.filter(pk=first.pk).exists()
    assert client.get(f"/workspace/faq/{first.pk}/").status_code == 404


def test_categories_are_added_renamed_ordered_and_only_empty_ones_deleted(
    client, moderator, faq, documents, payments
):
    client.force_login(moderator)
    response = client.post("/workspace/faq/categories/new/", {"title": "Технические вопросы"})
    technical = Category.objects.get(title="Технические вопросы")
    assert response["Location"] == f"/workspace/faq/#category-{technical.pk}"
    assert technical.position == 3
    client.post(f"/workspace/faq/categories/{technical.pk}/move/", {"direction": "up"})
    assert list(Category.objects.order_by("position").values_list("title", flat=True)) == [
        "Документы для поступления",
        "Технические вопросы",
        "Оплата",
    ]
    client.post(f"/workspace/faq/categories/{payments.pk}/", {"title": "Оплата и возвраты"})
    payments.refresh_from_db()
    assert (payments.title, payments.position) == ("Оплата и возвраты", 3)

    confirm = client.get(f"/workspace/faq/categories/{documents.pk}/delete/").content.decode()
    assert "В категории 2 вопроса" in confirm
    assert 'type="submit">Удалить' not in confirm
    response = client.post(f"/workspace/faq/categories/{documents.pk}/delete/", follow=True)
    assert "В категории 2 вопроса" in response.content.decode()
    assert Category.objects.filter(pk=documents.pk).exists()
    confirm = client.get(f"/workspace/faq/categories/{technical.pk}/delete/").content.decode()
    assert 'type="submit">Удалить' in confirm
    client.post(f"/workspace/faq/categories/{technical.pk}/delete/")
    assert not Category.objects.filter(pk=technical.pk).exists()
    # A bad direction is a message, not an error page.
    response = client.post(
        f"/workspace/faq/{faq['card'].pk}/move/", {"direction": "x"}, follow=True
    )
    assert "Переместите строку вверх или вниз." in response.content.decode()


def test_the_workspace_list_reads_in_fixed_queries(
    client, moderator, faq, documents, django_assert_num_queries
):
    client.force_login(moderator)
    client.get("/workspace/faq/")  # the session is warm
    # Session, user, the bell's count, the inbox's count, categories, entries.
    with django_assert_num_queries(6):
        page = client.get("/workspace/faq/").content.decode()
    assert "Черновик про оплату документов" in page
    assert "скрыт" in page
    for n in range(10):
        category = services.category_create(title=f"Категория {n}")
        for m in range(3):
            services.entry_create(category=category, question=f"Вопрос {n}.{m}", answer="A")
    with django_assert_num_queries(6):
        assert client.get("/workspace/faq/").status_code == 200


def test_support_lists_the_published_questions_by_category(
    client, faq, documents, payments, django_assert_num_queries
):
    with django_assert_num_queries(2):
        response = client.get("/support/")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("Документы для поступления") < page.index("Оплата")
    assert "Какие документы нужны для поступления?" in page
    assert "<strong>СНИЛС</strong>" in page
    assert "Черновик про оплату документов" not in page
    assert "Моего вопроса здесь нет" in page
    assert 'href="/support/new/"' in page
    for n in range(20):
        services.entry_create(category=payments, question=f"Вопрос {n}", answer="**A**")
    services.category_create(title="Пустая")
    with django_assert_num_queries(2):
        page = client.get("/support/").content.decode()
    assert "Пустая" not in page  # nothing published in it


def test_support_search_marks_the_words_and_links_the_question_to_chat(
    client, student, faq, django_assert_num_queries
):
    client.force_login(student)
    client.get("/support/")
    # Session, user, the bell's count and one search query.
    with django_assert_num_queries(4):
        response = client.get("/support/", {"q": "  ДОКУМЕНТЫ "})
    page = response.content.decode()
    assert "1 ответ по запросу «ДОКУМЕНТЫ»" in page
    assert "Какие <mark>документы</mark> нужны для поступления?" in page
    assert "Как оплатить курс картой?" not in page
    [ask] = re.findall(r'id="faq-ask" href="([^"]+)"', page)
    assert ask == "/support/new/?q=%D0%94%D0%9E%D0%9A%D0%A3%D0%9C%D0%95%D0%9D%D0%A2%D0%AB"
    page = client.get("/support/", {"q": "документы картой"}).content.decode()
    assert "2 ответа по запросу" in page
    assert "Ни в одном ответе нет всех этих слов" in page
    page = client.get("/support/", {"q": "квантовая хромодинамика"}).content.decode()
    assert "Ничего не нашлось" in page
    assert "/support/new/?q=" in page
    response = client.get("/support/", {"q": "я" * 201})
    assert response.status_code == 200
    assert "Поиск должен быть короче 200 символов." in response.content.decode()
    assert (
        "<script"
        not in client.get("/support/", {"q": "<script>x</script>"})
        .content.decode()
        .split("</head>")[1]
    )


def test_suggestions_are_a_small_fragment(client, faq, payments, django_assert_num_queries):
    for n in range(8):
        services.entry_create(category=payments, question=f"Оплата по счёту {n}", answer="A")
    with django_assert_num_queries(1):
        response = client.get("/support/suggest/", {"q": "оплата"})
    fragment = response.content.decode()
    assert response.status_code == 200
    assert fragment.lstrip().startswith('<div id="faq-suggestions"')
    assert "<html" not in fragment
    assert fragment.count("<details") == 5
    assert "<mark>" in fragment
    assert "faq-ask" not in fragment  # only with ask=1
    fragment = client.get("/support/suggest/", {"q": "докум", "ask": "1"}).content.decode()
    assert "Какие <mark>документы</mark> нужны для поступления?" in fragment
    assert 'href="/support/new/?q=%D0%B4%D0%BE%D0%BA%D1%83%D0%BC"' in fragment
    # A long message being written comes by POST (as chat's support form sends it).
    text = "Добрый день! " + "Подскажите, какие документы нужны для поступления? " * 60
    response = client.post("/support/suggest/", {"text": text})
    assert response.status_code == 200
    assert "Какие <mark>документы</mark>" in response.content.decode()
    with django_assert_num_queries(0):
        fragment = client.get("/support/suggest/", {"q": "и"}).content.decode()
    assert "<details" not in fragment
    fragment = client.get("/support/suggest/", {"q": "квантовая"}).content.decode()
    assert "Похожих вопросов пока нет." in fragment


@pytest.mark.parametrize("who", ["anonymous", "student", "moderator"])
def test_the_header_links_to_support_on_every_page(client, who, student, moderator, faq):
    if who != "anonymous":
        client.force_login(student if who == "student" else moderator)
    pages = ["/", "/courses/", "/support/"]
    pages += {"anonymous": ["/accounts/login/"], "student": ["/news/", "/profile/"],
              "moderator": ["/workspace/", "/workspace/faq/"]}[who]  # fmt: skip
    for url in pages:
        page = client.get(url).content.decode()
        header = page.split('<header class="site-header">')[1].split("</header>")[0]
        assert '<a class="nav-support" href="/support/">Поддержка</a>' in header, url
    client.cookies["django_language"] = "en"
    header = client.get("/").content.decode().split("</header>")[0]
    assert '<a class="nav-support" href="/support/">Support</a>' in header
    assert reverse("faq:support") == "/support/"
