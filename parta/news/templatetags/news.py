from datetime import date

from django import template
from django.utils.safestring import SafeString

from parta.common.markdown import render_markdown

register = template.Library()


@register.simple_tag
def news_body(post_id) -> SafeString:
    """A post's text as safe HTML, read when the message is rendered (the outbox stores
    only the post's id, not its text, for each of thousands of recipients)."""
    from parta.news.models import Post

    body = Post.objects.filter(pk=post_id).values_list("body", flat=True).first()
    return render_markdown(body or "")


@register.filter
def isodate(value):
    """A date stored as ISO text in a message's context, as a date for |date."""
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return value


@register.simple_tag
def news_unsubscribe_url(user) -> str:
    """The one-click unsubscribe address of ``user``'s news emails."""
    from parta.news.unsubscribe import unsubscribe_url

    return unsubscribe_url(user=user, kind="news")
