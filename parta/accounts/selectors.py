"""Reads for people."""

from collections.abc import Iterator
from datetime import datetime

from django.db.models import QuerySet

from parta.accounts.models import User

REGISTRATION_COLUMNS = ("email", "full_name", "phone", "role", "created_at", "telegram_chat_id")


def registration_rows(
    queryset: QuerySet[User] | None = None, *, chunk_size: int = 2000
) -> Iterator[tuple[str, str, str, str, datetime, bool]]:
    """Yield one tuple per user for the registrations export, oldest first, fetched in
    chunks so memory stays flat whatever the number of users."""
    qs = User.objects.all() if queryset is None else queryset
    qs = qs.order_by("created_at", "id").values_list(*REGISTRATION_COLUMNS)
    for email, full_name, phone, role, created_at, chat_id in qs.iterator(chunk_size=chunk_size):
        yield email, full_name, phone, role, created_at, chat_id is not None
