from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


class SchoolLanguageMiddleware:
    """Activate the language the visitor chose (the language cookie set by the footer
    switch), else the school's default. Unlike LocaleMiddleware it ignores the
    browser's Accept-Language: the school speaks Russian unless asked otherwise."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response
