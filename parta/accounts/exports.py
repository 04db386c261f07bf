"""The registrations workbook, written with openpyxl's write-only mode so rows go
straight to disk and memory stays flat for any number of users."""

import tempfile
import zoneinfo
from collections.abc import Iterable
from datetime import datetime
from typing import IO

from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from parta.accounts.models import Role

# Past this size the temporary workbook leaves memory for a file on disk.
SPOOL_MAX_BYTES = 8 * 1024 * 1024


def registration_headers() -> list[str]:
    return [
        _("Email"),
        _("Full name"),
        _("Phone"),
        _("Role"),
        _("Registered at"),
        _("Telegram linked"),
    ]


def write_registrations(rows: Iterable[tuple], target: IO[bytes]) -> int:
    """Write the workbook to ``target``; return the number of user rows written.

    Times are shown in the school's time zone (Excel has no time zones)."""
    school_tz = zoneinfo.ZoneInfo(settings.PARTA_TIME_ZONE)
    # Resolved once: translating a lazy label per row costs a tenth of the export.
    role_labels = {value: str(label) for value, label in Role.choices}
    yes, no = _("yes"), _("no")

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Registrations"))
    sheet.freeze_panes = "A2"
    for letter, width in zip("ABCDEF", (34, 32, 18, 14, 20, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    bold = Font(bold=True)
    header = []
    for title in registration_headers():
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)

    count = 0
    for email, full_name, phone, role, created_at, telegram_linked in rows:
        registered: datetime = created_at.astimezone(school_tz).replace(tzinfo=None)
        sheet.append(
            [
                email,
                full_name,
                phone,
                role_labels.get(role, role),
                registered,
                yes if telegram_linked else no,
            ]
        )
        count += 1
    workbook.save(target)
    return count


def registrations_workbook_file(rows: Iterable[tuple]) -> tuple[IO[bytes], int]:
    """Write the workbook to a temporary file, rewound and ready to stream."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115
    count = write_registrations(rows, spool)
    spool.seek(0)
    return spool, count
