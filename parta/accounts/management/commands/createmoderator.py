import getpass
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from parta.accounts.services import moderator_create
from parta.common.errors import ValidationFailed


class Command(BaseCommand):
    help = (
        "Create a moderator (teacher, curator) who logs in with email and password. "
        "Without --password the password is asked for twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", help="Asked for interactively when omitted.")
        parser.add_argument(
            "--full-name", help="Shown to students; defaults to the part of the email before @."
        )

    def handle(self, *args, email: str, password: str | None, full_name: str | None, **options):
        full_name = full_name or email.split("@")[0]
        if password is None:
            password = self._ask_password()
        try:
            user = moderator_create(email=email, password=password, full_name=full_name)
        except ValidationFailed as exc:
            lines = [msg for messages in exc.errors.values() for msg in messages]
            raise CommandError(_("Moderator not created:") + "\n  " + "\n  ".join(lines)) from exc
        self.stdout.write(self.style.SUCCESS(f"Moderator created: {user.email}"))

    def _ask_password(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError("No terminal to ask for a password: pass --password.")
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password (again): ")
        if first != second:
            raise CommandError("The two passwords differ; nothing was created.")
        return first
