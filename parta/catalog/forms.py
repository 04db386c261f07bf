"""Forms of the moderator workspace. They only parse input into Python values; the
rules live in parta.catalog.services, whose errors the views put back on these forms."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from parta.catalog.models import AnswerKind, Author, SolutionVisibility, Test
from parta.catalog.services import CHOICE_TEXT_MAX, TITLE_MAX, ChoiceInput
from parta.catalog.uploads import (
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    validate_cover_image,
    validate_video_upload,
)
from parta.common.forms import ModelChoiceField, ModelMultipleChoiceField
from parta.common.money import CURRENCY_CHOICES, CURRENCY_EXPONENT

_PRICE_RE = re.compile(r"^(\d{1,18})(?:[.,](\d*))?$")
_SPACES_RE = re.compile(r"[\s_\u00a0\u202f]")
DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def parse_major_units(text: str, currency: str) -> int:
    """ "1990.00", "1 990,5" or "1990" in major units -> minor units, by integer
    arithmetic only."""
    exponent = CURRENCY_EXPONENT[currency]
    match = _PRICE_RE.match(_SPACES_RE.sub("", text or ""))
    if match is None:
        raise ValidationError(_("Enter the price as a number, for example 1990.00."), code="price")
    major, fraction = match.group(1), match.group(2) or ""
    if len(fraction) > exponent:
        raise ValidationError(
            _("At most %(digits)d digits after the point.") % {"digits": exponent},
            code="price",
        )
    return int(major) * 10**exponent + int(fraction.ljust(exponent, "0") or "0")


def format_major_units(amount: int, currency: str) -> str:
    """199000 RUB -> "1990.00", for the price field of a form."""
    exponent = CURRENCY_EXPONENT.get(currency, 2)
    if exponent == 0:
        return str(amount)
    major, minor = divmod(amount, 10**exponent)
    return f"{major}.{minor:0{exponent}d}"


def _accept(extensions: tuple[str, ...]) -> str:
    return ",".join(f".{extension}" for extension in extensions)


class StoredFileInput(forms.ClearableFileInput):
    """Names the stored file instead of linking to it: stored files are served only
    through signed links, not at their storage URL."""

    template_name = "catalog/workspace/widgets/stored_file_input.html"


class DecimalInput(forms.DecimalField):
    """A decimal that also takes a comma as the decimal point and ignores spaces."""

    def to_python(self, value):
        if isinstance(value, str):
            value = _SPACES_RE.sub("", value).replace(",", ".")
        return super().to_python(value)


class CourseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    slug = forms.SlugField(
        label=_("Address"),
        max_length=100,
        help_text=_("Part of the course's web address: Latin letters, digits and hyphens."),
    )
    track = forms.CharField(
        label=_("Track"),
        max_length=32,
        required=False,
        help_text=_('For example "60+" or "80+".'),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Markdown."),
    )
    authors = ModelMultipleChoiceField(
        label=_("Authors"),
        queryset=Author.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    price = forms.CharField(
        label=_("Price"),
        max_length=32,
        initial="0",
        help_text=_("In whole currency units, not kopecks or cents: 1990.00. Zero is free."),
    )
    price_currency = forms.ChoiceField(
        label=_("Currency"), choices=CURRENCY_CHOICES, initial="RUB"
    )
    cover = forms.FileField(
        label=_("Cover image"),
        required=False,
        validators=[validate_cover_image],
        widget=StoredFileInput(attrs={"accept": _accept(IMAGE_EXTENSIONS)}),
        help_text=_("JPEG, PNG or WebP."),
    )
    is_published = forms.BooleanField(label=_("Published"), required=False)
    position = forms.IntegerField(
        label=_("Position"),
        required=False,
        min_value=0,
        help_text=_("Courses are listed by position. Empty: at the end."),
    )

    def clean(self):
        cleaned = super().clean()
        currency = cleaned.get("price_currency")
        if "price" in cleaned and currency in CURRENCY_EXPONENT:
            try:
                cleaned["price_amount"] = parse_major_units(cleaned["price"], currency)
            except ValidationError as exc:
                self.add_error("price", exc)
        return cleaned


class TopicForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    opens_at = forms.DateTimeField(
        label=_("Opens at"),
        required=False,
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
        help_text=_("School time. Empty: open from the start."),
    )
    position = forms.IntegerField(
        label=_("Position"), required=False, min_value=0, help_text=_("Empty: at the end.")
    )


class LessonForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    body = forms.CharField(
        label=_("Text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Markdown."),
    )
    video = forms.FileField(
        label=_("Video file"),
        required=False,
        validators=[validate_video_upload],
        widget=StoredFileInput(attrs={"accept": _accept(VIDEO_EXTENSIONS)}),
        help_text=_("MP4, WebM or MOV."),
    )
    video_url = forms.URLField(
        label=_("Or an external video link"),
        required=False,
        assume_scheme="https",
        help_text=_("For example a YouTube or Kinescope link. Leave empty with a file."),
    )
    is_free_preview = forms.BooleanField(
        label=_("Free preview"),
        required=False,
        help_text=_("Anyone may open it, without access."),
    )
    position = forms.IntegerField(
        label=_("Position"), required=False, min_value=0, help_text=_("Empty: at the end.")
    )


class TestForm(forms.Form):
    __test__ = False  # a form, not a test class for pytest to collect

    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    time_limit_minutes = forms.IntegerField(label=_("Time limit (minutes)"), initial=30)
    position = forms.IntegerField(
        label=_("Position"), required=False, min_value=0, help_text=_("Empty: at the end.")
    )


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_MAX)
    test = ModelChoiceField(
        label=_("Test"),
        queryset=Test.objects.none(),
        required=False,
        empty_label=_("— not in a test —"),
        help_text=_("A task inside a test is answered only during the test."),
    )
    statement = forms.CharField(
        label=_("Statement"), widget=forms.Textarea(attrs={"rows": 8}), help_text=_("Markdown.")
    )
    kind = forms.ChoiceField(
        label=_("Answer kind"), choices=AnswerKind.choices, initial=AnswerKind.TEXT
    )
    points = forms.IntegerField(label=_("Points"), initial=1)
    answer_text = forms.CharField(
        label=_("Accepted answers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For an exact-text task: one per line; case and spaces are ignored."),
    )
    answer_number = DecimalInput(
        label=_("Numeric answer"),
        required=False,
        max_digits=20,
        decimal_places=6,
        help_text=_("For a numeric task."),
    )
    tolerance = DecimalInput(
        label=_("Tolerance"),
        required=False,
        max_digits=20,
        decimal_places=6,
        initial=Decimal(0),
        help_text=_("Allowed deviation from the numeric answer, for example 0.01."),
    )
    solution = forms.CharField(
        label=_("Solution"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Markdown."),
    )
    solution_visibility = forms.ChoiceField(
        label=_("Solution shown"),
        choices=SolutionVisibility.choices,
        initial=SolutionVisibility.AFTER_SOLVED,
    )
    solution_after_attempts = forms.IntegerField(
        label=_("Attempts before the solution"),
        initial=3,
        help_text=_('Used with "After N attempts".'),
    )
    chat_ask_after = forms.IntegerField(
        label=_("Wrong answers before “Ask a moderator”"),
        required=False,
        min_value=0,
        max_value=1000,
        help_text=_("Empty: the school's setting. 0: the student may ask at once."),
    )
    position = forms.IntegerField(
        label=_("Position"), required=False, min_value=0, help_text=_("Empty: at the end.")
    )

    def __init__(self, *args, topic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["test"].queryset = Test.objects.filter(topic=topic)


class ChoiceForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    text = forms.CharField(
        label=_("Choice"),
        required=False,
        max_length=CHOICE_TEXT_MAX,
        widget=forms.TextInput(attrs={"aria-label": _("Choice text")}),
    )
    is_correct = forms.BooleanField(label=_("Correct"), required=False)


CHOICES_MAX = 30
CHOICE_ROWS_MIN = 4


def choice_formset(*, data=None, initial: list[dict] | None = None) -> forms.BaseFormSet:
    """The choices of a task: its current ones plus empty rows to add more."""
    initial = initial or []
    extra = max(2, CHOICE_ROWS_MIN - len(initial))
    formset_class = forms.formset_factory(
        ChoiceForm, extra=extra, max_num=CHOICES_MAX, validate_max=True, absolute_max=CHOICES_MAX
    )
    return formset_class(data=data, initial=initial, prefix="choices")


def choices_from_formset(formset: forms.BaseFormSet) -> list[ChoiceInput]:
    """Rows with text, in order; an empty row marked correct is passed on so the
    service can say what is wrong with it."""
    choices = []
    for form in formset.forms:
        data = form.cleaned_data
        if not data or (not data.get("text", "").strip() and not data.get("is_correct")):
            continue
        choices.append(
            ChoiceInput(
                text=data.get("text", ""),
                is_correct=bool(data.get("is_correct")),
                id=data.get("id"),
            )
        )
    return choices
