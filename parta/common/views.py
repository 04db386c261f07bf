from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    """Liveness and readiness in one: 200 when the database answers, 503 when not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            database_ok = cursor.fetchone() == (1,)
    except DatabaseError:
        database_ok = False
    body = {"status": "ok" if database_ok else "unavailable", "database": database_ok}
    return JsonResponse(body, status=200 if database_ok else 503)


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
