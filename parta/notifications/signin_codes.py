"""Sign-in codes: sent synchronously by allauth (the person is waiting for them), recorded in
the outbox as sent so that staff see them beside everything else. The code itself is never
stored."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from parta.notifications.channels.base import Channel
from parta.notifications.kinds import Kind

LOGIN_CODE = Kind(
    name="login_code",
    label=_("Sign-in codes"),
    mandatory=True,
    channels=(Channel.EMAIL,),
)
LOGIN_CODE_TEMPLATE = "account/email/login_code"


def record_login_code(*, template_prefix: str, email: str) -> None:
    if template_prefix != LOGIN_CODE_TEMPLATE:
        return
    from parta.notifications.services import message_record_sent

    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is None:
        return
    message_record_sent(
        user=user,
        kind=LOGIN_CODE.name,
        dedup_key=f"login_code:{uuid.uuid4().hex}",
        context={},
    )
