from django.urls import path

from parta.billing import apis

urlpatterns = [
    path("billing/orders/", apis.OrderListApi.as_view(), name="billing-orders"),
    path("billing/orders/<id:pk>/", apis.OrderDetailApi.as_view(), name="billing-order"),
    path(
        "billing/orders/<id:pk>/checkout/",
        apis.OrderCheckoutApi.as_view(),
        name="billing-order-checkout",
    ),
    path(
        "billing/orders/<id:pk>/pay-from-balance/",
        apis.OrderPayFromBalanceApi.as_view(),
        name="billing-order-pay-from-balance",
    ),
    path("billing/buy/", apis.BuyApi.as_view(), name="billing-buy"),
    path("billing/top-ups/", apis.TopUpApi.as_view(), name="billing-topup"),
    path("billing/refunds/", apis.RefundApi.as_view(), name="billing-refunds"),
    path("billing/refunds/quote/", apis.RefundQuoteApi.as_view(), name="billing-refund-quote"),
    path("billing/balance/", apis.BalanceApi.as_view(), name="billing-balance"),
    path("billing/freezes/", apis.FreezeApi.as_view(), name="billing-freezes"),
    path("billing/adjustments/", apis.AdjustmentApi.as_view(), name="billing-adjustments"),
    path("billing/freezes/<id:pk>/end/", apis.FreezeEndApi.as_view(), name="billing-freeze-end"),
    path("billing/renewals/", apis.RenewalListApi.as_view(), name="billing-renewals"),
    path("billing/renewals/<id:pk>/", apis.RenewalDetailApi.as_view(), name="billing-renewal"),
    path(
        "billing/renewals/<id:pk>/cancel/",
        apis.RenewalCancelApi.as_view(),
        name="billing-renewal-cancel",
    ),
]
