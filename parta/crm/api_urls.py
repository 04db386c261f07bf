from django.urls import path

from parta.crm import audit_apis, card_apis, client_apis, dashboard_apis

# Included under /api/v1/ by config.urls, in the "api" namespace.
_CLIENT = "crm/clients/<id:pk>/"
urlpatterns: list = [
    path("crm/clients/", client_apis.ClientListApi.as_view(), name="crm-clients"),
    path("crm/audit/", audit_apis.AuditListApi.as_view(), name="crm-audit"),
    path("crm/settings/", audit_apis.LiveSettingsApi.as_view(), name="crm-settings"),
    path(_CLIENT, card_apis.ClientCardApi.as_view(), name="crm-client"),
    path(_CLIENT + "grants/", card_apis.GrantApi.as_view(), name="crm-client-grant"),
    path(
        _CLIENT + "offline-payments/",
        card_apis.OfflinePaymentApi.as_view(),
        name="crm-client-offline-payment",
    ),
    path(_CLIENT + "freezes/", card_apis.FreezeApi.as_view(), name="crm-client-freeze"),
    path(_CLIENT + "unfreezes/", card_apis.UnfreezeApi.as_view(), name="crm-client-unfreeze"),
    path(_CLIENT + "refunds/", card_apis.RefundApi.as_view(), name="crm-client-refund"),
    path(
        _CLIENT + "balance-adjustments/", card_apis.AdjustApi.as_view(), name="crm-client-adjust"
    ),
    path(_CLIENT + "moves/", card_apis.MoveApi.as_view(), name="crm-client-move"),
    path(_CLIENT + "messages/", card_apis.MessageApi.as_view(), name="crm-client-message"),
    path("crm/dashboard/", dashboard_apis.DashboardApi.as_view(), name="crm-dashboard"),
]
