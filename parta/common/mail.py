"""Email backend of the embedded default: every message goes to the console and is
saved as a file under PARTA_MAIL_DIR (var/mail/), so codes can be read either way."""

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.core.mail.backends.filebased import EmailBackend as FileBackend


class ConsoleAndFolderBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs):
        super().__init__(fail_silently=fail_silently)
        self.console = ConsoleBackend(fail_silently=fail_silently, **kwargs)
        self.folder = FileBackend(
            file_path=settings.PARTA_MAIL_DIR, fail_silently=fail_silently, **kwargs
        )

    def send_messages(self, email_messages) -> int:
        if not email_messages:
            return 0
        self.console.send_messages(email_messages)
        return self.folder.send_messages(email_messages)
