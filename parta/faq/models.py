"""Frequently asked questions: categories in order, and questions with Markdown answers.

Moderators and staff keep them in the workspace (/workspace/faq/); readers see the
published ones at /support/."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CATEGORY_TITLE_MAX_LENGTH = 100
QUESTION_MAX_LENGTH = 300
ANSWER_MAX_LENGTH = 10_000


class Category(models.Model):
    title = models.CharField(_("title"), max_length=CATEGORY_TITLE_MAX_LENGTH, unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("FAQ category")
        verbose_name_plural = _("FAQ categories")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="faq_category_title_not_empty"),
        ]

    def __str__(self) -> str:
        return self.title


class Entry(models.Model):
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="entries",
    )
    question = models.CharField(_("question"), max_length=QUESTION_MAX_LENGTH)
    answer = models.TextField(_("answer (Markdown)"))
    position = models.PositiveIntegerField(_("position"), default=0)
    is_published = models.BooleanField(_("published"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("FAQ entry")
        verbose_name_plural = _("FAQ entries")
        ordering = ["category__position", "category_id", "position", "id"]
        indexes = [
            models.Index(fields=["category", "position"], name="faq_entry_category_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(question="") & ~Q(answer=""), name="faq_entry_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.question
