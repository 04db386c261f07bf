from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    """Liveness and readiness in one, with each dependency: ``{"database": true,
    "redis": false}`` (``redis`` only when REDIS_URL is set). 503 only when the database
    does not answer: without Redis the site still works, from the database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            database_ok = cursor.fetchone() == (1,)
    except DatabaseError:
        database_ok = False
    body = {"status": "ok" if database_ok else "unavailable", "database": database_ok}
    if settings.REDIS_URL:
        body["redis"] = _redis_ok()
        if database_ok and not body["redis"]:
            body["status"] = "degraded"
    return JsonResponse(body, status=200 if database_ok else 503)


def _redis_ok() -> bool:
    from django_redis import get_redis_connection

    try:
        return bool(get_redis_connection("default").ping())
    except Exception:  # any failure to reach it
        return False


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception):
    """404: an address under /api/ that matches nothing answers in the API's error shape."""
    if _is_api(request):
        body = {"detail": _("Not found."), "code": "not_found"}
        return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500: JSON under /api/, the site's error page elsewhere."""
    if _is_api(request):
        body = {"detail": _("Something went wrong on our side."), "code": "server_error"}
        return JsonResponse(body, status=500, json_dumps_params={"ensure_ascii": False})
    return defaults.server_error(request)
