"""Saves and deletes in the Django admin write audit entries in the admin's transaction."""

from __future__ import annotations

import pytest
from django.urls import reverse

from parta.accounts.models import Role
from parta.accounts.tests.factories import StaffFactory, UserFactory
from parta.audit.models import AuditEntry
from parta.catalog.tests.factories import CourseFactory
from parta.faq.models import Category, Entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return StaffFactory()


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    client.cookies["django_language"] = "en"
    return client


def test_an_admin_change_records_only_the_changed_fields(admin_client, staff):
    category = Category.objects.create(title="Оплата", position=1)
    url = reverse("admin:faq_category_change", args=[category.pk])
    response = admin_client.post(url, {"title": "Платежи", "position": 1})
    assert response.status_code == 302, response.content.decode()[:1000]
    entry = AuditEntry.objects.get()
    assert entry.action == "admin.change"
    assert (entry.actor_id, entry.actor_role) == (staff.pk, "staff")
    assert (entry.object_type, entry.object_id) == ("faq.category", str(category.pk))
    assert (entry.before, entry.after) == ({"title": "Оплата"}, {"title": "Платежи"})
    assert entry.ip == "127.0.0.1"
    # Saved unchanged: no entry.
    admin_client.post(url, {"title": "Платежи", "position": 1})
    assert AuditEntry.objects.count() == 1


def test_an_admin_add_and_delete_are_recorded(admin_client):
    category = Category.objects.create(title="Доступ")
    response = admin_client.post(
        reverse("admin:faq_entry_add"),
        {
            "category": category.pk,
            "question": "Как войти?",
            "answer": "Кодом из письма.",
            "position": 1,
            "is_published": "on",
            "created_at_0": "2026-01-01",
            "created_at_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = Entry.objects.get()
    added = AuditEntry.objects.get(action="admin.add")
    assert added.after["question"] == "Как войти?"
    assert added.after["category"] == category.pk
    assert added.before == {}
    response = admin_client.post(
        reverse("admin:faq_entry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    deleted = AuditEntry.objects.get(action="admin.delete")
    assert deleted.before["question"] == "Как войти?"
    assert deleted.object_id == str(entry.pk)
    assert not Entry.objects.exists()


def test_a_bulk_delete_from_the_list_records_each_row(admin_client):
    rows = [Category.objects.create(title=f"C{i}") for i in range(3)]
    response = admin_client.post(
        reverse("admin:faq_category_changelist"),
        {"action": "delete_selected", "_selected_action": [r.pk for r in rows], "post": "yes"},
    )
    assert response.status_code == 302
    assert sorted(
        AuditEntry.objects.filter(action="admin.delete").values_list("object_id", flat=True)
    ) == sorted(str(r.pk) for r in rows)


def test_a_refused_admin_form_writes_nothing(admin_client):
    category = Category.objects.create(title="Оплата")
    response = admin_client.post(
        reverse("admin:faq_category_change", args=[category.pk]), {"title": "", "position": 1}
    )
    assert response.status_code == 200
    assert not AuditEntry.objects.exists()


def test_a_role_changed_in_the_user_admin_is_on_the_persons_card(admin_client):
    person = UserFactory(full_name="Анна", email="anna@example.com")
    url = reverse("admin:accounts_user_change", args=[person.pk])
    form = {
        "email": person.email,
        "password": person.password,
        "full_name": person.full_name,
        "phone": "",
        "role": Role.MODERATOR,
        "telegram_chat_id": "",
        "is_active": "on",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = AuditEntry.objects.get()
    assert entry.action == "admin.change"
    assert entry.subject_id == person.pk
    assert (entry.before, entry.after) == ({"role": "student"}, {"role": "moderator"})
    assert "password" not in entry.after


def test_a_course_change_in_the_admin_lists_its_inline_rows(admin_client):
    course = CourseFactory(title="Алгебра", slug="algebra")
    url = reverse("admin:catalog_course_change", args=[course.pk])
    page = admin_client.get(url)
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name not in ("authors", "cover") and value is not None
    }
    data.update(
        {
            "title": "Алгебра 2",
            "topics-TOTAL_FORMS": 1,
            "topics-INITIAL_FORMS": 0,
            "topics-0-title": "Векторы",
            "topics-0-position": 1,
            "topics-0-description": "",
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = AuditEntry.objects.get()
    assert entry.before == {"title": "Алгебра"}
    assert entry.after["title"] == "Алгебра 2"
    assert entry.after["inlines"]["added"] == ["topic: Векторы"]
