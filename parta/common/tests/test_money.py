"""One money formatter for pages, messages and API errors."""

import pytest
from django.template import Context, Template
from django.utils import translation

from parta.common.money import Money, format_money

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1050, "RUB", f"10,50{NBSP}₽"),
        (297000, "RUB", f"2{NBSP}970{NBSP}₽"),
        (287100, "RUB", f"2{NBSP}871{NBSP}₽"),
        (99, "RUB", f"0,99{NBSP}₽"),
        (0, "RUB", f"0{NBSP}₽"),
        (123456789, "RUB", f"1{NBSP}234{NBSP}567,89{NBSP}₽"),
        (-150000, "RUB", f"−1{NBSP}500{NBSP}₽"),
        (1990, "USD", f"19,90{NBSP}$"),
    ],
)
def test_russian_format(amount, currency, text):
    assert format_money(amount, currency, language="ru") == text
    assert Money(amount, currency).format("ru") == text


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (1050, "RUB", "₽10.50"),
        (297000, "RUB", "₽2,970"),
        (1990, "USD", "$19.90"),
        (123456789, "EUR", "€1,234,567.89"),
        (-5, "USD", "−$0.05"),
    ],
)
def test_english_format(amount, currency, text):
    assert format_money(amount, currency, language="en") == text


def test_the_active_language_decides():
    with translation.override("ru"):
        assert str(Money(1050, "RUB")) == f"10,50{NBSP}₽"
    with translation.override("en"):
        assert str(Money(1050, "RUB")) == "₽10.50"


def test_the_template_filter_uses_the_formatter():
    template = Template("{% load parta %}{{ amount|money:'RUB' }}")
    with translation.override("ru"):
        assert template.render(Context({"amount": 297000})) == f"2{NBSP}970{NBSP}₽"
    with translation.override("en"):
        assert template.render(Context({"amount": 1050})) == "₽10.50"
