"""The workspace's FAQ forms and the search box: they only parse input;
parta.faq.services holds the rules (its errors are put back on the form)."""

from __future__ import annotations

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from parta.common.forms import ModelChoiceField
from parta.faq.models import ANSWER_MAX_LENGTH, Category
from parta.faq.selectors import QUERY_MAX_LENGTH


def _position_field(help_text) -> forms.IntegerField:
    return forms.IntegerField(label=_("Position"), required=False, help_text=help_text)


class CategoryForm(forms.Form):
    # Not required here: the service says what is missing, in its own words.
    title = forms.CharField(label=_("Title"), required=False)
    position = _position_field(
        _(
            "Categories are shown by position. Empty: a new one goes last, an edited one "
            "keeps its place."
        )
    )


class EntryForm(forms.Form):
    category = ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.order_by("position", "id"),
        required=False,
        empty_label=None,
    )
    question = forms.CharField(label=_("Question"), required=False)
    answer = forms.CharField(
        label=_("Answer"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=lazy(
            lambda: (
                gettext("Markdown, at most %(limit)s characters.")
                % {"limit": f"{ANSWER_MAX_LENGTH:,}".replace(",", " ")}
            ),
            str,
        )(),
    )
    is_published = forms.BooleanField(
        label=_("Published"),
        required=False,
        initial=True,
        help_text=_("Shown at /support/ and suggested to students."),
    )
    position = _position_field(
        _(
            "Questions are shown by position within their category. Empty: a new one "
            "goes last, an edited one keeps its place."
        )
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search the questions"),
        required=False,
        max_length=QUERY_MAX_LENGTH,
        error_messages={"max_length": _("Keep the search under %(limit_value)d characters.")},
    )
