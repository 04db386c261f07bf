"""Helpers for server-rendered pages."""

from django.shortcuts import render

from parta.common.errors import ApplicationError


def error_page(request, exc: ApplicationError):
    """Render a service error as a page with its message and status (403, 404, 409...)."""
    template = {403: "403.html", 404: "404.html"}.get(exc.status_code, "error.html")
    return render(request, template, {"message": exc.message}, status=exc.status_code)
