"""Drive the sandbox like a buyer would: /buy/, the hosted page, Pay or Decline."""

from django.test import Client
from django.urls import reverse

from parta.billing.models import Order


def buy_json(client: Client, item_id: int, **params) -> dict:
    """GET /buy/<item>/ as the seed does; with a coupon, the item page's POST."""
    url = reverse("billing:buy", args=[item_id])
    if params.get("coupon"):
        response = client.post(url, params, headers={"Accept": "application/json"})
    else:
        response = client.get(url, params)
    return {"status": response.status_code, **response.json()}


def pay(client: Client, session_url: str, action: str = "pay") -> Order:
    response = client.post(session_url, {"action": action})
    assert response.status_code == 302, response.content[:500]
    order_id = int(response["Location"].split("/order/")[1].split("/")[0])
    return Order.objects.get(pk=order_id)
