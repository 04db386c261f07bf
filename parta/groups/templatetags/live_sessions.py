"""Tags for live sessions: the notification templates' answer links and the course page's
block of the person's upcoming sessions."""

from django import template

from parta.common.time import school_tz
from parta.groups.session_selectors import course_invitations_upcoming
from parta.groups.sessions import respond_url

register = template.Library()


@register.simple_tag
def session_respond_url(session_id, user, response):
    """The one-click signed link that records ``user``'s answer (no sign-in needed)."""
    return respond_url(session_id=int(session_id), user_id=user.pk, response=response)


@register.inclusion_tag("groups/_course_sessions_mine.html", takes_context=True)
def my_course_sessions(context, course):
    """The signed-in person's upcoming sessions of ``course`` (the course page): one
    query; nothing is shown when there are none."""
    user = context["request"].user
    invitations = course_invitations_upcoming(user=user, course_id=course.pk)
    return {"invitations": invitations, "school_tz": school_tz().key}
