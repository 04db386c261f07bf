from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


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
