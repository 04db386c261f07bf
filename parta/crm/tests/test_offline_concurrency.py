"""An offline payment's document pays once, even recorded ten times at the same moment
(PostgreSQL: the payment row's unique key decides)."""

from __future__ import annotations

import pytest

from parta.access.models import AccessGrant
from parta.accounts.tests.factories import StaffFactory, UserFactory
from parta.audit.models import AuditEntry
from parta.billing.models import LedgerEntry, Order, Payment
from parta.billing.services.ledger import ledger_check
from parta.billing.services.offline import DocumentAlreadyRecorded, offline_payment_record
from parta.billing.tests.factories import CourseItemFactory
from parta.common.testing.concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ten_recordings_of_one_document_pay_once():
    staff = StaffFactory()
    student = UserFactory()
    item = CourseItemFactory(prices={"RUB": 150000})

    def record(_i):
        return offline_payment_record(
            user=student,
            by=staff,
            method="cash",
            document="ПКО 77",
            currency="RUB",
            amount=150000,
            item_id=item.pk,
            reason="paid at the desk",
        )

    results, errors = run_together(10, record)
    assert len(results) == 1, errors
    assert len(errors) == 9
    assert all(isinstance(e, DocumentAlreadyRecorded) for e in errors)
    assert Payment.objects.count() == 1
    assert Order.objects.count() == 1
    assert Order.objects.get().status == "paid"
    assert AccessGrant.objects.filter(user=student).count() == 1
    assert LedgerEntry.objects.count() == 2
    assert AuditEntry.objects.filter(action="billing.offline_payment").count() == 1
    assert ledger_check() == []


def test_ten_top_ups_with_one_document_credit_once():
    staff = StaffFactory()
    student = UserFactory()

    def record(_i):
        return offline_payment_record(
            user=student,
            by=staff,
            method="transfer",
            document="17",
            currency="RUB",
            amount=500000,
            reason="bank transfer",
        )

    results, errors = run_together(10, record)
    assert len(results) == 1
    assert len(errors) == 9
    assert student.balance_accounts.get().balance == 500000
    assert ledger_check() == []
