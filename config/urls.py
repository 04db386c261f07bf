from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from parta.common import views as common_views
from parta.learning import views as learning_views

api_v1 = [
    path("", include("parta.accounts.api_urls")),
    path("", include("parta.learning.api_urls")),
    path("", include("parta.billing.api_urls")),
    path("", include("parta.news.api_urls")),
    path("", include("parta.faq.api_urls")),
    path("", include("parta.notifications.api_urls")),
    path("", include("parta.bot.api_urls")),
    path("", include("parta.chat.api_urls")),
    path("", include("parta.chat.inbox_api_urls")),
    path("", include("parta.groups.api_urls")),
    path("", include("parta.crm.api_urls")),
]

urlpatterns = [
    # The API first: its hot paths should not be matched against every page pattern.
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("", learning_views.home, name="home"),
    path("healthz", common_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("parta.accounts.auth_urls")),
    path("accounts/", include("allauth.urls")),
    path("files/", include("parta.common.files_urls")),
    path("telegram/", include("parta.bot.urls")),
    path("", include("parta.accounts.urls")),
    path("", include("parta.catalog.urls")),
    path("", include("parta.groups.urls")),
    path("", include("parta.learning.urls")),
    path("", include("parta.billing.urls")),
    path("", include("parta.news.urls")),
    path("", include("parta.faq.urls")),
    path("", include("parta.notifications.urls")),
    path("", include("parta.chat.urls")),
    path("", include("parta.chat.inbox_urls")),
    path("crm/", include("parta.crm.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = "parta.common.views.page_not_found"
handler500 = "parta.common.views.server_error"

admin.site.site_header = "Parta"
admin.site.site_title = "Parta"
