"""Tags for the live sessions' notification templates."""

from django import template

from parta.groups.sessions import respond_url

register = template.Library()


@register.simple_tag
def session_respond_url(session_id, user, response):
    """The one-click signed link that records ``user``'s answer (no sign-in needed)."""
    return respond_url(session_id=int(session_id), user_id=user.pk, response=response)
