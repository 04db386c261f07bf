"""The registrations workbook, written row by row in XlsxWriter's constant-memory mode:
each row goes to a temporary file as soon as it is written, so memory stays flat for any
number of users.

(openpyxl's write-only mode does the same job but builds a cell object per value; it
measured about 18,000 rows/s here against the 20,000 required, XlsxWriter about 30,000.
openpyxl stays for reading workbooks, in the tests.)"""

import tempfile
import zoneinfo
from collections.abc import Iterable
from typing import IO

import xlsxwriter
from django.conf import settings
from django.utils.translation import gettext as _

from parta.accounts.models import Role

# Past this size the finished workbook leaves memory for a file on disk.
SPOOL_MAX_BYTES = 8 * 1024 * 1024
COLUMN_WIDTHS = (34, 32, 18, 14, 20, 16)


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

    workbook = xlsxwriter.Workbook(
        target,
        {"constant_memory": True, "tmpdir": tempfile.gettempdir(), "strings_to_numbers": False},
    )
    sheet = workbook.add_worksheet(_("Registrations"))
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": "dd.mm.yyyy hh:mm"})
    for column, width in enumerate(COLUMN_WIDTHS):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, registration_headers(), bold)

    count = 0
    write_string = sheet.write_string
    for email, full_name, phone, role, created_at, telegram_linked in rows:
        count += 1
        write_string(count, 0, email)
        write_string(count, 1, full_name)
        if phone:
            write_string(count, 2, phone)
        write_string(count, 3, role_labels.get(role, role))
        sheet.write_datetime(count, 4, created_at.astimezone(school_tz).replace(tzinfo=None), when)
        write_string(count, 5, yes if telegram_linked else no)
    workbook.close()
    return count


def registrations_workbook_file(rows: Iterable[tuple]) -> tuple[IO[bytes], int]:
    """Write the workbook to a temporary file, rewound and ready to stream."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115
    count = write_registrations(rows, spool)
    spool.seek(0)
    return spool, count
