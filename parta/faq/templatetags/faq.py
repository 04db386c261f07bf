from django import template

from parta.common.markdown import render_markdown
from parta.faq.highlight import highlight, highlight_html

register = template.Library()


@register.filter(name="faq_highlight")
def faq_highlight(value, words):
    """``{{ entry.question|faq_highlight:words }}``: escaped, the searched words in <mark>."""
    return highlight(value, list(words or []))


@register.filter(name="faq_markdown")
def faq_markdown(text, words):
    """``{{ entry.answer|faq_markdown:words }}``: the Markdown as safe HTML, words marked."""
    return highlight_html(str(render_markdown(text)), list(words or []))
