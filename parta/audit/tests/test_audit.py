"""The audit log is append-only and written in the transaction of the change."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from parta.accounts.tests.factories import StaffFactory, UserFactory
from parta.audit.context import AuditContextMiddleware, current_ip
from parta.audit.models import AppendOnly, AuditEntry
from parta.audit.services import record

pytestmark = pytest.mark.django_db


def test_an_entry_records_who_what_and_the_change():
    staff = StaffFactory()
    client = UserFactory()
    with transaction.atomic():
        entry = record(
            actor=staff,
            action="accounts.rename",
            obj=client,
            subject=client,
            before={"full_name": "Old"},
            after={"full_name": "New"},
            reason="asked by phone",
            ip="127.0.0.1",
        )
    entry.refresh_from_db()
    assert entry.actor_id == staff.pk
    assert entry.actor_label == str(staff)
    assert entry.actor_role == "staff"
    assert (entry.object_type, entry.object_id) == ("accounts.user", str(client.pk))
    assert entry.subject_id == client.pk
    assert (entry.before, entry.after) == ({"full_name": "Old"}, {"full_name": "New"})
    assert entry.reason == "asked by phone"
    assert entry.ip == "127.0.0.1"


@pytest.mark.django_db(transaction=True)
def test_an_entry_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record(actor=None, action="system.test")
    assert not AuditEntry.objects.exists()


def test_a_rolled_back_change_leaves_no_entry():
    @transaction.atomic
    def change_that_fails():
        record(actor=None, action="system.test")
        raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        change_that_fails()
    assert not AuditEntry.objects.exists()


def test_entries_cannot_be_changed_or_deleted_through_django():
    with transaction.atomic():
        entry = record(actor=None, action="system.test", after={"n": 1})
    entry.reason = "rewritten"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    entry.refresh_from_db()
    assert entry.reason == ""


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_an_entry():
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    with transaction.atomic():
        entry = record(actor=None, action="system.test")
    for sql in (
        "UPDATE audit_auditentry SET reason = 'x' WHERE id = %s",
        "DELETE FROM audit_auditentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk, reason="").exists()


def test_deleting_a_person_keeps_their_entries():
    staff = StaffFactory()
    with transaction.atomic():
        record(actor=staff, action="system.test")
    label, pk = str(staff), staff.pk
    staff.delete()
    entry = AuditEntry.objects.get()
    assert (entry.actor_id, entry.actor_label) == (pk, label)


def test_the_ip_comes_from_the_request_being_served():
    """The middleware gives entries written while a request is served its address."""
    seen = []

    def view(request):
        with transaction.atomic():
            seen.append(record(actor=None, action="system.test").ip)
        return HttpResponse()

    AuditContextMiddleware(view)(RequestFactory(REMOTE_ADDR="10.1.2.3").get("/"))
    assert seen == ["10.1.2.3"]
    assert current_ip() is None


def test_the_admin_shows_entries_but_offers_no_change_or_delete():
    staff = StaffFactory()
    with transaction.atomic():
        entry = record(actor=staff, action="system.test")
    browser = Client()
    browser.force_login(staff)
    page = browser.get(reverse("admin:audit_auditentry_change", args=[entry.pk]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    delete = browser.post(
        reverse("admin:audit_auditentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_every_action_recorded_in_the_code_has_a_name_for_the_crm():
    """The CRM shows an entry's action by its label; a new action recorded without one would
    show up as its code."""
    import re
    from pathlib import Path

    from parta.audit.labels import ACTION_LABELS

    root = Path(__file__).resolve().parents[2]
    recorded = set()
    for path in root.rglob("*.py"):
        if "tests" in path.parts:
            continue
        recorded.update(re.findall(r'action="([a-z_]+\.[a-z_]+)"', path.read_text()))
    assert {"billing.refund", "access.freeze", "groups.move"} <= recorded
    assert sorted(recorded - set(ACTION_LABELS)) == []
