from django import template

from parta.common.markdown import render_markdown
from parta.common.money import format_money

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    return render_markdown(text)


@register.filter
def money(amount: int, currency: str) -> str:
    """Minor units as money in the reader's language: {{ order.total|money:order.currency }}."""
    return format_money(int(amount), currency)


@register.filter
def bp_percent(rate_bp: int) -> str:
    """Basis points as a percent: 2000 -> "20%", 1250 -> "12.5%"."""
    whole, part = divmod(int(rate_bp), 100)
    return f"{whole}%" if part == 0 else f"{whole}.{part:02d}".rstrip("0") + "%"


@register.filter
def abs_value(value: int) -> int:
    return abs(int(value))
