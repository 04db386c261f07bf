"""Email through Django's email backend: a text and an HTML part rendered from the kind's
templates in the person's language.

SMTP's answers become the outbox's outcomes: a server that is down, slow or answers 4xx
(greylisting, a full queue) means try again later; a recipient refused with 5xx means this
message will never be accepted.
"""

from __future__ import annotations

import contextlib
import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection

from parta.notifications.channels.base import Channel, DeliveryFailed, RetryLater, SkipDelivery
from parta.notifications.kinds import get_kind
from parta.notifications.rendering import render_message


def _message_id(message) -> str:
    # Derived from the row, so a resend carries the same id and a receiver that already
    # has it may drop the duplicate.
    domain = urlsplit(settings.PARTA_SITE_URL).hostname or "parta.local"
    return f"<notification-{message.pk}@{domain}>"


def _headers(message) -> dict[str, str]:
    kind = get_kind(message.kind)
    headers = dict((message.context or {}).get("email_headers") or {})
    if kind.email_headers is not None:
        headers.update(kind.email_headers(user=message.user, context=message.context or {}))
    headers["Message-ID"] = _message_id(message)
    return {str(name): str(value) for name, value in headers.items()}


def _smtp_code_outcome(code: int, text: str) -> Exception:
    if 400 <= code < 500:
        return RetryLater(f"SMTP {code}: {text}")
    return DeliveryFailed(f"SMTP {code}: {text}")


def _text(raw) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


class EmailSender:
    """Keeps one backend connection for a worker's run (``close()`` ends it)."""

    channel = Channel.EMAIL

    def __init__(self) -> None:
        self._connection = None

    def _open(self):
        if self._connection is None:
            connection = get_connection(fail_silently=False)
            # Opened here so that the backend keeps it for the next messages of the run.
            connection.open()
            self._connection = connection
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            # A dead connection is closed already.
            with contextlib.suppress(Exception):
                connection.close()

    def send(self, message) -> str:
        user = message.user
        if not user.email:
            raise SkipDelivery("no email address")
        rendered = render_message(user=user, kind=message.kind, context=message.context or {})
        headers = _headers(message)
        email = EmailMultiAlternatives(
            subject=rendered.subject,
            body=rendered.text,
            from_email=None,
            to=[user.email],
            headers=headers,
        )
        email.attach_alternative(rendered.html, "text/html")
        try:
            email.connection = self._open()
            email.send()
        except BadHeaderError as exc:
            raise DeliveryFailed(f"bad header: {exc}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            code, text = next(iter(exc.recipients.values()), (550, b"refused"))
            raise _smtp_code_outcome(code, f"recipient refused: {_text(text)}") from exc
        except smtplib.SMTPResponseException as exc:
            # Sender refused, data refused, HELO or authentication trouble: the server's
            # code says whether to try again.
            self.close()
            if isinstance(exc, (smtplib.SMTPConnectError, smtplib.SMTPAuthenticationError)):
                raise RetryLater(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}") from exc
            raise _smtp_code_outcome(exc.smtp_code, _text(exc.smtp_error)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Refused connection, timeout, dropped connection (SMTPException is an OSError).
            self.close()
            raise RetryLater(f"SMTP unavailable: {exc.__class__.__name__}: {exc}") from exc
        return headers["Message-ID"]
