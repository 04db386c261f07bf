from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parta.common.models import TimeStampedModel
from parta.common.money import CURRENCY_CHOICES, Money


class Author(TimeStampedModel):
    name = models.CharField(_("name"), max_length=150)
    bio = models.TextField(_("about"), blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="author_profile",
    )

    class Meta:
        verbose_name = _("author")
        verbose_name_plural = _("authors")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Course(TimeStampedModel):
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    track = models.CharField(
        _("track"), max_length=32, blank=True, help_text=_('For example "60+" or "80+".')
    )
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    cover = models.FileField(_("cover"), upload_to="courses/covers/", blank=True)
    authors = models.ManyToManyField(Author, verbose_name=_("authors"), blank=True)
    price_amount = models.PositiveBigIntegerField(
        _("price (minor units)"), default=0, help_text=_("In kopecks or cents: 199000 = 1990.00.")
    )
    price_currency = models.CharField(
        _("currency"), max_length=3, choices=CURRENCY_CHOICES, default="RUB"
    )
    is_published = models.BooleanField(_("published"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)
    # Students per study group (parta.groups): placement never fills a group past it.
    max_group_size = models.PositiveIntegerField(
        _("students per group"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text=_("New students join the fullest group that still has a seat."),
    )

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_group_size__gte=1), name="catalog_course_group_size_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def price(self) -> Money:
        return Money(self.price_amount, self.price_currency)


class Topic(TimeStampedModel):
    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.CASCADE, related_name="topics"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    # Empty means open from the start.
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["course", "position"])]

    def __str__(self) -> str:
        return self.title

    def is_open(self, at=None) -> bool:
        return self.opens_at is None or self.opens_at <= (at or timezone.now())


class Lesson(TimeStampedModel):
    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.CASCADE, related_name="lessons"
    )
    title = models.CharField(_("title"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    body = models.TextField(_("text"), blank=True, help_text=_("Markdown."))
    video = models.FileField(_("video file"), upload_to="lessons/videos/", blank=True)
    video_url = models.URLField(_("external video URL"), blank=True)
    is_free_preview = models.BooleanField(
        _("free preview"), default=False, help_text=_("Anyone may open it, without access.")
    )

    class Meta:
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["topic", "position"])]

    def __str__(self) -> str:
        return self.title


class Test(TimeStampedModel):
    """A timed set of tasks: one attempt, scored as a whole."""

    __test__ = False  # not a pytest test class, despite the name

    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.CASCADE, related_name="tests"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    time_limit_minutes = models.PositiveIntegerField(
        _("time limit (minutes)"), default=30, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("test")
        verbose_name_plural = _("tests")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(time_limit_minutes__gte=1), name="catalog_test_time_limit_positive"
            )
        ]

    def __str__(self) -> str:
        return self.title


class AnswerKind(models.TextChoices):
    TEXT = "text", _("Exact text")
    NUMBER = "number", _("Number")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")


class SolutionVisibility(models.TextChoices):
    ALWAYS = "always", _("Always")
    AFTER_SOLVED = "after_solved", _("After it is solved")
    AFTER_ATTEMPTS = "after_attempts", _("After N attempts")
    NEVER = "never", _("Never")


class Task(TimeStampedModel):
    """A task with a server-checked answer. A task with a test belongs to that test
    and is only answered inside the test's attempt."""

    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.CASCADE, related_name="tasks"
    )
    test = models.ForeignKey(
        Test,
        verbose_name=_("test"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="tasks",
    )
    title = models.CharField(_("title"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    statement = models.TextField(_("statement"), help_text=_("Markdown."))
    kind = models.CharField(_("answer kind"), max_length=16, choices=AnswerKind.choices)
    points = models.PositiveSmallIntegerField(_("points"), default=1)
    # TEXT: accepted answers, one per line (compared ignoring case and spaces).
    answer_text = models.TextField(_("accepted answers"), blank=True)
    # NUMBER: the answer and the allowed absolute deviation.
    answer_number = models.DecimalField(
        _("numeric answer"), max_digits=20, decimal_places=6, null=True, blank=True
    )
    tolerance = models.DecimalField(_("tolerance"), max_digits=20, decimal_places=6, default=0)
    solution = models.TextField(_("solution"), blank=True, help_text=_("Markdown."))
    solution_visibility = models.CharField(
        _("solution shown"),
        max_length=16,
        choices=SolutionVisibility.choices,
        default=SolutionVisibility.AFTER_SOLVED,
    )
    solution_after_attempts = models.PositiveSmallIntegerField(
        _("attempts before the solution"), default=3
    )
    # How many wrong answers before the task page offers "Ask a moderator"; empty: the
    # school's setting (PARTA_CHAT_ASK_AFTER).
    chat_ask_after = models.PositiveSmallIntegerField(
        _("wrong answers before asking a moderator"),
        null=True,
        blank=True,
        help_text=_("Empty: the school's default."),
    )

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["topic", "position"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(tolerance__gte=0), name="catalog_task_tolerance_gte_0"
            ),
            models.CheckConstraint(
                condition=~Q(kind="number") | Q(answer_number__isnull=False),
                name="catalog_task_number_has_answer",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TaskChoice(models.Model):
    task = models.ForeignKey(
        Task, verbose_name=_("task"), on_delete=models.CASCADE, related_name="choices"
    )
    text = models.CharField(_("text"), max_length=500)
    is_correct = models.BooleanField(_("correct"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text
