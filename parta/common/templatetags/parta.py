from django import template

from parta.common.markdown import render_markdown
from parta.common.money import Money

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str):
    return render_markdown(text)


@register.filter
def money(amount: int, currency: str) -> str:
    return Money(int(amount), currency).format()
