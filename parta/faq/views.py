"""The support page (/support/): the FAQ by category, its search, and the suggestions
shown while a student types (an htmx fragment chat's support form reuses)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from parta.faq.forms import SearchForm
from parta.faq.selectors import QUERY_MAX_LENGTH, faq_by_category, faq_search, faq_suggestions


def support_new_url(text: str = "") -> str:
    """chat's form opening a support thread, with the typed text prefilled."""
    base = reverse("chat:support-new")
    text = " ".join((text or "").split())[:QUERY_MAX_LENGTH]
    return f"{base}?{urlencode({'q': text})}" if text else base


@require_GET
def support(request):
    """The questions by category; with ``?q=`` the entries matching it, words marked."""
    form = SearchForm(request.GET)
    query = ""
    if form.is_valid():
        query = " ".join(form.cleaned_data["q"].split())
    result = faq_search(query=query) if query else None
    context = {
        "form": form,
        "query": query,
        "result": result,
        "categories": faq_by_category() if result is None else [],
        # The panel beside the box: its suggestions come while typing.
        "suggestions": None,
        "ask_url": support_new_url(query),
    }
    return render(request, "faq/support.html", context)


@require_http_methods(["GET", "POST"])
def suggest(request):
    """``faq/_suggestions.html`` for the text being typed, at most five entries.

    The text comes as ``q`` (the search box) or ``text`` (a message being written, e.g.
    chat's support form), by GET or, for a long message, POST. ``ask=1`` adds the link
    "My question is not here" to the support form with the text prefilled. One query,
    none without a meaningful word. Works without htmx too (it is a plain fragment)."""
    data = request.POST if request.method == "POST" else request.GET
    text = data.get("q") or data.get("text") or ""
    context = {"suggestions": faq_suggestions(text=text)}
    if (data.get("ask") or request.GET.get("ask")) == "1":
        context["ask_url"] = support_new_url(text)
    return render(request, "faq/_suggestions.html", context)
