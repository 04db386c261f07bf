import json

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _


class SchoolLanguageMiddleware:
    """Activate the language the visitor chose (the language cookie set by the footer
    switch), else the school's default. Unlike LocaleMiddleware pages ignore the
    browser's Accept-Language: the school speaks Russian unless asked otherwise. An API
    client has no footer to click, so under /api/ an Accept-Language it sends is honoured."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        api = request.path.startswith("/api/")
        if chosen not in self.supported and api:
            chosen = self._accepted(request.headers.get("Accept-Language", ""))
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        patch_vary_headers(response, ("Cookie", "Accept-Language") if api else ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response

    def _accepted(self, header: str) -> str:
        for code, _quality in translation.trans_real.parse_accept_lang_header(header[:200]):
            base = code.split("-")[0].lower()
            if base in self.supported:
                return base
        return ""


NUL = "\x00"


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _querydict_has_nul(data) -> bool:
    return any(NUL in key or any(NUL in item for item in data.getlist(key)) for key in data)


class RejectNulMiddleware:
    """Refuse (400) a request with a NUL character in its path, query string, form fields
    or JSON body. No text column accepts one (PostgreSQL raises DataError), and nobody
    types one: one guard here instead of one in every view and serializer. Uploaded
    files are not looked at."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            return self._refuse(request)
        return self.get_response(request)

    def _has_nul(self, request) -> bool:
        if NUL in request.path or NUL in request.path_info or _querydict_has_nul(request.GET):
            return True
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return False
        content_type = request.content_type or ""
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:
                # Read the raw body first while it is small, so a view can still read it
                # (a webhook's signature); a large upload is parsed as a stream.
                length = int(request.META.get("CONTENT_LENGTH") or 0)
                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                if content_type != "multipart/form-data" or (limit and length <= limit):
                    request.body  # noqa: B018
                return _querydict_has_nul(request.POST)
            except Exception:  # a malformed body: left to the view to refuse
                return False
        if content_type == "application/json" or content_type.endswith("+json"):
            try:
                body = request.body
            except Exception:  # too large, or already read: left to the view
                return False
            if b"\\u0000" not in body and b"\x00" not in body:
                return False
            try:
                return _has_nul(json.loads(body))
            except ValueError:
                return b"\x00" in body
        return False

    def _refuse(self, request):
        message = _("The request contains a NUL character (\\0), which is not allowed.")
        if request.path.startswith("/api/") or "json" in (request.content_type or ""):
            return JsonResponse(
                {"detail": message, "code": "nul_character"},
                status=400,
                json_dumps_params={"ensure_ascii": False},
            )
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class PermissionsPolicyMiddleware:
    """Send PARTA_PERMISSIONS_POLICY as the Permissions-Policy header on every answer."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "PARTA_PERMISSIONS_POLICY", "")

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Permissions-Policy", self.policy)
        return response
