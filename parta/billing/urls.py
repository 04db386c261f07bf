from django.urls import path

from parta.billing import account_views, views

app_name = "billing"

urlpatterns = [
    path("item/<id:pk>/", views.item_page, name="item"),
    path(
        "item/<id:pk>/pay-from-balance/",
        views.item_pay_from_balance,
        name="item-pay-from-balance",
    ),
    path("buy/<id:pk>/", views.buy_view, name="buy"),
    path("order/<id:pk>/", views.order_page, name="order"),
    path(
        "order/<id:pk>/pay-from-balance/",
        views.order_pay_from_balance,
        name="order-pay-from-balance",
    ),
    path("order/<id:pk>/retry/", views.order_retry, name="order-retry"),
    path("sandbox/checkout/<str:session_id>/", views.sandbox_checkout, name="sandbox-checkout"),
    path("payments/webhook/<str:provider>/", views.webhook, name="webhook"),
    path("purchases/", account_views.purchases, name="purchases"),
    path("purchases/<id:pk>/refund/", account_views.purchase_refund, name="purchase-refund"),
    path("purchases/<id:pk>/freeze/", account_views.purchase_freeze, name="purchase-freeze"),
    path(
        "purchases/renewals/<id:pk>/cancel/",
        account_views.renewal_cancel,
        name="renewal-cancel",
    ),
    path("freezes/<id:pk>/end/", account_views.purchase_unfreeze, name="freeze-end"),
    path("balance/", account_views.balance, name="balance"),
    path("balance/top-up/", account_views.balance_topup, name="balance-topup"),
    path(
        "balance/top-ups/<id:pk>/refund/",
        account_views.balance_topup_refund,
        name="topup-refund",
    ),
]
