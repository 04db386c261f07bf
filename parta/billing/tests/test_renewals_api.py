"""The auto-renewals API: the signed-in user's renewals with their next charge and the
last charge's outcome, one renewal, cancelling it (again: the same answer; ended: 409),
staff reading a client's, and the list's query count pinned whatever the data."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from parta.accounts.tests.factories import ModeratorFactory, StaffFactory, UserFactory
from parta.audit.models import AuditEntry
from parta.billing.models import AutoRenewal, RenewalCharge, RenewalStatus
from parta.billing.services.renewals import renewals_charge
from parta.billing.tests.factories import PlanFactory, PlanItemFactory, TaxRateFactory
from parta.billing.tests.test_renewals import buy_with_renewal

pytestmark = pytest.mark.django_db

LIST = reverse("api:billing-renewals")


def _detail(pk: int) -> str:
    return reverse("api:billing-renewal", args=[pk])


def _cancel(pk: int) -> str:
    return reverse("api:billing-renewal-cancel", args=[pk])


@pytest.fixture
def api(buyer):
    client = APIClient()
    client.force_authenticate(buyer)
    return client


def _renewal(client, buyer, *, title="Месяц", later_charges="approve") -> AutoRenewal:
    item = PlanItemFactory(plan=PlanFactory(title=title, duration_days=30))
    buy_with_renewal(client, item, later_charges=later_charges)
    return AutoRenewal.objects.filter(user=buyer).latest("id")


def test_the_list_shows_each_renewal_with_its_next_charge(client, buyer, api):
    TaxRateFactory(rate_bp=2000, inclusive=False, name="НДС")
    renewal = _renewal(client, buyer)
    response = api.get(LIST)
    assert response.status_code == 200
    (row,) = response.json()
    assert row["id"] == renewal.pk
    assert row["plan"] == "Месяц"
    assert row["status"] == "active"
    assert row["provider"] == "sandbox"
    assert row["currency"] == "RUB"
    assert row["period"] == 1
    assert row["last_charge"] is None
    # 30 days at 100.00 plus 20% tax, in kopecks, and the moment it is charged.
    assert row["next_charge"]["amount"] == 360000
    assert row["next_charge"]["currency"] == "RUB"
    assert datetime.fromisoformat(row["next_charge"]["at"]) == renewal.next_charge_at
    # Written like the other moments of the answer (the school's offset).
    assert row["next_charge"]["at"][-6:] == row["created_at"][-6:]
    assert api.get(_detail(renewal.pk)).json() == row


def test_a_charged_and_a_declined_renewal_show_the_last_charge(client, buyer, api):
    good = _renewal(client, buyer, title="Месяц")
    bad = _renewal(client, buyer, title="Год", later_charges="decline")
    due = max(good.next_charge_at, bad.next_charge_at)
    assert renewals_charge(now=due) == 1
    rows = {row["id"]: row for row in api.get(LIST).json()}
    charged = rows[good.pk]["last_charge"]
    assert charged["period"] == 2
    assert charged["status"] == "succeeded"
    assert charged["order_id"] == RenewalCharge.objects.get(renewal=good).order_id
    assert charged["failure_reason"] == ""
    assert rows[good.pk]["period"] == 2
    declined = rows[bad.pk]["last_charge"]
    assert declined["status"] == "failed"
    assert declined["attempts"] == 1
    assert declined["failure_reason"]
    assert rows[bad.pk]["failures"] == 1
    assert rows[bad.pk]["next_charge"] is not None  # tried again later
    # A third period: the last charge is the newest of the two.
    good.refresh_from_db()
    assert renewals_charge(now=good.next_charge_at) >= 1
    assert RenewalCharge.objects.filter(renewal=good).count() == 2
    row = api.get(_detail(good.pk)).json()
    assert (row["period"], row["last_charge"]["period"]) == (3, 3)


def test_cancel_turns_it_off_and_again_changes_nothing(client, buyer, api):
    renewal = _renewal(client, buyer)
    response = api.post(_cancel(renewal.pk))
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["next_charge"] is None
    renewal.refresh_from_db()
    ended_at = renewal.ended_at
    assert renewal.status == RenewalStatus.CANCELLED
    again = api.post(_cancel(renewal.pk))
    assert again.status_code == 200
    assert again.json()["status"] == "cancelled"
    renewal.refresh_from_db()
    assert renewal.ended_at == ended_at
    assert renewals_charge(now=renewal.next_charge_at + timedelta(days=1)) == 0
    assert not RenewalCharge.objects.exists()
    # Cancelling is a POST: a GET acts on nothing.
    assert api.get(_cancel(renewal.pk)).status_code == 405


def test_an_ended_renewal_cannot_be_cancelled(client, buyer, api):
    renewal = _renewal(client, buyer)
    AutoRenewal.objects.filter(pk=renewal.pk).update(status=RenewalStatus.ENDED)
    response = api.post(_cancel(renewal.pk))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert body["detail"]
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ENDED


def test_someone_elses_renewal_is_not_found(client, buyer):
    renewal = _renewal(client, buyer)
    other = APIClient()
    other.force_authenticate(UserFactory())
    assert other.get(LIST).json() == []
    for response in (other.get(_detail(renewal.pk)), other.post(_cancel(renewal.pk))):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ACTIVE
    # Nor can a student list it by naming its owner.
    listed = other.get(LIST, {"user": buyer.pk})
    assert listed.status_code == 403
    assert listed.json()["code"] == "permission_denied"


def test_anonymous_is_refused(client, buyer):
    renewal = _renewal(client, buyer)
    anonymous = APIClient()
    assert anonymous.get(LIST).status_code == 401
    assert anonymous.get(_detail(renewal.pk)).status_code == 401
    assert anonymous.post(_cancel(renewal.pk)).status_code == 401
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ACTIVE


def test_bad_ids_are_clear_4xx(api):
    assert api.get(_detail(999999)).status_code == 404
    assert api.post(_cancel(999999)).status_code == 404
    assert api.get(f"{LIST}{2**63}/").status_code == 404
    assert api.get(f"{LIST}abc/").status_code == 404
    for bad in ("abc", "0", "-1", str(2**63)):
        response = api.get(LIST, {"user": bad})
        assert response.status_code == 400, bad
        assert "user" in response.json()["errors"]


def test_staff_list_and_cancel_a_clients_renewals(client, buyer):
    renewal = _renewal(client, buyer)
    for staff_user in (StaffFactory(), ModeratorFactory()):
        staff = APIClient()
        staff.force_authenticate(staff_user)
        assert staff.get(LIST).json() == []  # their own: none
        (row,) = staff.get(LIST, {"user": buyer.pk}).json()
        assert row["id"] == renewal.pk
        assert staff.get(_detail(renewal.pk)).json()["id"] == renewal.pk
        missing = staff.get(LIST, {"user": 999999})
        assert missing.status_code == 404
    # A moderator sees a client's renewals but does not touch their money.
    refused = staff.post(_cancel(renewal.pk))
    assert refused.status_code == 403
    assert refused.json()["detail"]
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.ACTIVE
    assert not AuditEntry.objects.filter(action="billing.renewal_cancel").exists()
    owner = StaffFactory()
    staff.force_authenticate(owner)
    response = staff.post(_cancel(renewal.pk))
    assert response.status_code == 200
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.CANCELLED
    assert renewal.outcome == f"Cancelled by staff (user #{owner.pk})."
    (entry,) = AuditEntry.objects.filter(action="billing.renewal_cancel")
    assert (entry.actor_id, entry.subject_id) == (owner.pk, buyer.pk)
    assert (entry.before, entry.after) == ({"status": "active"}, {"status": "cancelled"})


def test_the_list_runs_the_same_queries_for_one_renewal_or_many(
    client, buyer, api, django_assert_num_queries
):
    TaxRateFactory(rate_bp=2000, inclusive=True, name="НДС")
    first = _renewal(client, buyer, title="Первый")
    # renewals, their plans' prices, their last charges, the taxes
    with django_assert_num_queries(4):
        assert len(api.get(LIST).json()) == 1
    renewals = [first] + [_renewal(client, buyer, title=f"План {i}") for i in range(3)]
    renewals.append(_renewal(client, buyer, title="Отказ", later_charges="decline"))
    due = max(r.next_charge_at for r in renewals)
    renewals_charge(now=due)
    # A second try of the declined one: two charges' attempts, one row still.
    renewals_charge(now=due + timedelta(days=3))
    AutoRenewal.objects.filter(pk=renewals[1].pk).update(status=RenewalStatus.CANCELLED)
    assert RenewalCharge.objects.count() == 5
    with django_assert_num_queries(4):
        rows = api.get(LIST).json()
    assert len(rows) == 5
    assert {row["last_charge"]["status"] for row in rows} == {"succeeded", "failed"}
    # None on: the taxes are not read.
    AutoRenewal.objects.update(status=RenewalStatus.ENDED)
    with django_assert_num_queries(3):
        assert len(api.get(LIST).json()) == 5
