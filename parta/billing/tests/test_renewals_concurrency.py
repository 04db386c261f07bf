"""Two (or eight) beat runs at once charge a renewal's period once, on PostgreSQL: the
renewal's row lock and the one-charge-per-period constraint decide."""

import pytest
from django.test import Client
from django.urls import reverse

from parta.accounts.tests.factories import UserFactory
from parta.billing.models import AutoRenewal, Order, OrderStatus, Payment, RenewalCharge
from parta.billing.providers import registry
from parta.billing.services.renewals import renewals_charge
from parta.billing.tests.factories import PlanItemFactory
from parta.billing.tests.test_yookassa import notify
from parta.common.testing.concurrency import run_together
from parta.common.testing.fake_yookassa import FakeYooKassa

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _subscribe(client: Client, fake=None) -> AutoRenewal:
    item = PlanItemFactory()
    answer = client.post(
        reverse("billing:buy", args=[item.pk]),
        {"currency": "RUB", "auto_renew": "1"},
        headers={"Accept": "application/json"},
    ).json()
    if fake is None:
        client.post(answer["url"], {"action": "pay", "save_card": "1"})
    else:
        fake.pay(answer["session_id"])
        notify(client, fake.notification("payment.succeeded", answer["session_id"]))
    return AutoRenewal.objects.get(first_order_id=answer["order_id"], status="active")


@pytest.mark.parametrize("runs", [2, 8])
def test_beat_runs_at_once_charge_the_sandbox_once(runs):
    client = Client()
    client.force_login(UserFactory())
    renewals = [_subscribe(client) for _ in range(3)]
    due = max(r.next_charge_at for r in renewals)

    results, errors = run_together(runs, lambda _i: renewals_charge(now=due))
    assert errors == []
    assert sum(results) == 3  # each renewal charged by exactly one of the runs
    assert RenewalCharge.objects.count() == 3
    assert Order.objects.filter(status=OrderStatus.PAID).count() == 6
    assert Payment.objects.filter(provider_payment_id__startswith="sbx_ch_").count() == 3
    assert set(AutoRenewal.objects.values_list("period", flat=True)) == {2}


def test_beat_runs_at_once_call_yookassa_once(settings):
    with FakeYooKassa() as fake:
        settings.PARTA_PAYMENT_PROVIDERS = ["sandbox", "yookassa"]
        settings.PARTA_PAYMENT_PROVIDER_BY_CURRENCY = {"RUB": "yookassa"}
        settings.YOOKASSA_SHOP_ID = fake.shop_id
        settings.YOOKASSA_SECRET_KEY = fake.secret_key
        settings.YOOKASSA_API_URL = fake.api_url
        settings.YOOKASSA_NOTIFICATION_IPS = ["127.0.0.1/32"]
        registry.reset()
        client = Client()
        client.force_login(UserFactory())
        renewal = _subscribe(client, fake)

        results, errors = run_together(4, lambda _i: renewals_charge(now=renewal.next_charge_at))
        assert errors == []
        assert sorted(results) == [0, 0, 0, 1]
        charges = [c for c in fake.calls_to("/v3/payments") if "payment_method_id" in c.json()]
        assert len(charges) == 1
        assert RenewalCharge.objects.get().order.status == OrderStatus.PAID
    registry.reset()
