"""The workspace's post form: it only parses input; parta.news.services holds the rules
(its errors are put back on the form)."""

from __future__ import annotations

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from parta.catalog.forms import DATETIME_LOCAL_FORMAT, StoredFileInput
from parta.catalog.models import Course
from parta.catalog.uploads import IMAGE_EXTENSIONS
from parta.common.forms import ModelChoiceField
from parta.news.models import BODY_MAX_LENGTH, Audience


class PostForm(forms.Form):
    # Not required here: the service says what is missing, in its own words.
    title = forms.CharField(label=_("Title"), required=False, strip=True)
    body = forms.CharField(
        label=_("Text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=lazy(
            lambda: (
                gettext("Markdown, at most %(limit)s characters.")
                % {"limit": f"{BODY_MAX_LENGTH:,}".replace(",", " ")}
            ),
            str,
        )(),
    )
    image = forms.FileField(
        label=_("Image"),
        required=False,
        widget=StoredFileInput(attrs={"accept": ",".join(f".{e}" for e in IMAGE_EXTENSIONS)}),
        help_text=_("Optional. JPEG, PNG or WebP."),
    )
    audience = forms.ChoiceField(
        label=_("Who gets it"),
        choices=Audience.choices,
        initial=Audience.ALL,
        widget=forms.RadioSelect,
    )
    course = ModelChoiceField(
        label=_("Course"),
        queryset=Course.objects.order_by("position", "id"),
        required=False,
        help_text=_("For “Students of one course”."),
    )
    publish_at = forms.DateTimeField(
        label=_("Publish at"),
        required=False,
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
        help_text=_("School time. Empty: “Publish” sends it at once."),
    )
