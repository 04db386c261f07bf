"""The filtered clients list as an Excel workbook, written row by row in XlsxWriter's
constant-memory mode into a spooled temporary file (as parta.accounts.exports does), so
any number of clients streams with flat memory.

Money columns hold numbers in major units (a "0.00" format), one column per currency
in use for each of paid, refunded and balance; a last row adds them up."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import IO

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from parta.accounts.exports import SPOOL_MAX_BYTES
from parta.common.money import CURRENCY_EXPONENT
from parta.common.time import school_tz
from parta.crm.clients import ClientRow


def client_headers(currencies: list[str]) -> list[str]:
    headers = [
        _("Full name"),
        _("Email"),
        _("Phone"),
        _("Registered at"),
        _("Last active"),
        _("Status"),
        _("Reason"),
        _("Status until"),
    ]
    for label in (
        pgettext("money column", "Paid"),
        pgettext("money column", "Refunded"),
        pgettext("money column", "Balance"),
    ):
        headers += [f"{label}, {currency}" for currency in currencies]
    return headers


def write_clients(rows: Iterable[ClientRow], currencies: list[str], target: IO[bytes]) -> int:
    """Write the workbook to ``target``; return the number of client rows."""
    tz = school_tz()
    workbook = xlsxwriter.Workbook(
        target,
        {"constant_memory": True, "tmpdir": tempfile.gettempdir(), "strings_to_numbers": False},
    )
    sheet = workbook.add_worksheet(_("Clients"))
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": "dd.mm.yyyy hh:mm"})
    day = workbook.add_format({"num_format": "dd.mm.yyyy"})
    amount = workbook.add_format({"num_format": "#,##0.00"})
    amount_bold = workbook.add_format({"num_format": "#,##0.00", "bold": True})
    for column, width in enumerate((30, 30, 16, 16, 12, 14, 40, 16)):
        sheet.set_column(column, column, width)
    money_start = 8
    sheet.set_column(money_start, money_start + 3 * len(currencies), 14)
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, client_headers(currencies), bold)
    sums = [0] * (3 * len(currencies))

    count = 0
    for row in rows:
        count += 1
        user = row.user
        sheet.write_string(count, 0, user.full_name)
        sheet.write_string(count, 1, user.email)
        if user.phone:
            sheet.write_string(count, 2, user.phone)
        sheet.write_datetime(count, 3, user.created_at.astimezone(tz).replace(tzinfo=None), when)
        if row.last_active:
            sheet.write_datetime(count, 4, row.last_active, day)
        sheet.write_string(count, 5, row.status_label)
        sheet.write_string(count, 6, row.reason)
        if row.status_until:
            sheet.write_datetime(
                count, 7, row.status_until.astimezone(tz).replace(tzinfo=None), when
            )
        balances = {money.currency: money.amount for money in row.balances}
        for group, values in enumerate((row.paid, row.refunded, balances)):
            for index, currency in enumerate(currencies):
                minor = values.get(currency)
                if minor is None:
                    continue
                column = group * len(currencies) + index
                sums[column] += minor
                sheet.write_number(
                    count, money_start + column, minor / 10 ** CURRENCY_EXPONENT[currency], amount
                )
    total_row = count + 1
    sheet.write_string(total_row, 0, _("Total"), bold)
    for column, minor in enumerate(sums):
        currency = currencies[column % len(currencies)]
        sheet.write_number(
            total_row,
            money_start + column,
            minor / 10 ** CURRENCY_EXPONENT[currency],
            amount_bold,
        )
    workbook.close()
    return count


def clients_workbook_file(
    rows: Iterable[ClientRow], currencies: list[str]
) -> tuple[IO[bytes], int]:
    """The workbook in a temporary file, rewound and ready to stream."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115
    count = write_clients(rows, currencies, spool)
    spool.seek(0)
    return spool, count


def export_filename() -> str:
    return f"parta-clients-{timezone.localtime().strftime('%Y%m%d-%H%M')}.xlsx"
