"""The balance ledger: accounts per user and currency, append-only entries, holds.

Every change locks the account row (select_for_update), so concurrent spends and
refunds serialise; the database refuses a negative balance or a hold above it
(CheckConstraints), and each posting's ``reference`` is unique, so replays post once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from parta.accounts.models import User
from parta.audit.services import record
from parta.billing.models import (
    BalanceAccount,
    EntryKind,
    Hold,
    HoldStatus,
    LedgerEntry,
    Order,
    Payment,
)
from parta.common.errors import Conflict, ValidationFailed
from parta.common.money import CURRENCY_EXPONENT, Money


class InsufficientFunds(Conflict):
    code = "insufficient_funds"


def account_for_update(*, user_id: int, currency: str) -> BalanceAccount:
    """The user's account in ``currency``, created if needed and locked for this
    transaction, in one statement: an upsert whose no-op update takes the row lock
    (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``)."""
    table = connection.ops.quote_name(BalanceAccount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, currency, balance, held) VALUES (%s, %s, 0, 0) "
            f"ON CONFLICT (user_id, currency) DO UPDATE SET balance = {table}.balance "
            "RETURNING id, balance, held",
            [user_id, currency],
        )
        account_id, balance, held = cursor.fetchone()
    account = BalanceAccount(
        id=account_id, user_id=user_id, currency=currency, balance=balance, held=held
    )
    account._state.adding = False
    account._state.db = connection.alias
    return account


@dataclass(frozen=True)
class Posting:
    entry: LedgerEntry
    created: bool


@transaction.atomic
def ledger_post(
    *,
    user_id: int,
    currency: str,
    kind: EntryKind,
    amount: int,
    reference: str,
    description: str = "",
    order: Order | None = None,
    payment: Payment | None = None,
) -> Posting:
    """Post one entry (see LedgerEntry for the sign convention). Idempotent on
    ``reference``; refuses to take the available balance below zero."""
    if amount == 0:
        raise ValueError("a ledger entry cannot be zero")
    account = account_for_update(user_id=user_id, currency=currency)
    existing = LedgerEntry.objects.filter(reference=reference).first()
    if existing is not None:
        return Posting(entry=existing, created=False)
    if amount < 0 and account.available + amount < 0:
        raise InsufficientFunds(
            _("Not enough money on the balance: %(available)s available.")
            % {"available": Money(account.available, currency).format()}
        )
    account.balance += amount
    account.save(update_fields=["balance"])
    entry = LedgerEntry.objects.create(
        account=account,
        kind=kind,
        amount=amount,
        balance_after=account.balance,
        reference=reference,
        description=description,
        order=order,
        payment=payment,
    )
    return Posting(entry=entry, created=True)


@dataclass(frozen=True)
class Line:
    kind: EntryKind
    amount: int
    reference: str
    description: str = ""


def ledger_post_lines(
    *,
    user_id: int,
    currency: str,
    lines: list[Line],
    order: Order | None = None,
    payment: Payment | None = None,
    savepoint: bool = True,
    check_existing: bool = True,
) -> list[LedgerEntry]:
    """Post several entries to one account under one lock (e.g. money paid in for an
    order and spent on it). Idempotent per line reference; the running balance may
    not dip below zero at any line. ``savepoint=False`` for callers whose own
    transaction rolls back on any error, ``check_existing=False`` for callers that know
    the references are new (the unique constraint still refuses a repeat): each saves
    round trips on a hot path."""
    with transaction.atomic(savepoint=savepoint):
        return _post_lines(
            user_id=user_id,
            currency=currency,
            lines=lines,
            order=order,
            payment=payment,
            check_existing=check_existing,
        )


def _post_lines(*, user_id, currency, lines, order, payment, check_existing) -> list[LedgerEntry]:
    account = account_for_update(user_id=user_id, currency=currency)
    references = [line.reference for line in lines]
    done = (
        set(
            LedgerEntry.objects.filter(reference__in=references).values_list(
                "reference", flat=True
            )
        )
        if check_existing
        else set()
    )
    balance = account.balance
    entries = []
    for line in lines:
        if line.reference in done or line.amount == 0:
            continue
        balance += line.amount
        if balance - account.held < 0:
            raise InsufficientFunds(
                _("Not enough money on the balance: %(available)s available.")
                % {"available": Money(account.available, currency).format()}
            )
        entries.append(
            LedgerEntry(
                account=account,
                kind=line.kind,
                amount=line.amount,
                balance_after=balance,
                reference=line.reference,
                description=line.description,
                order=order,
                payment=payment if line.amount > 0 else None,
            )
        )
    if entries:
        LedgerEntry.objects.bulk_create(entries)
        if balance != account.balance:
            account.balance = balance
            account.save(update_fields=["balance"])
    return entries


@transaction.atomic
def hold_place(*, user_id: int, currency: str, amount: int, reference: str) -> Hold:
    account = account_for_update(user_id=user_id, currency=currency)
    existing = Hold.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    if amount <= 0:
        raise ValueError("a hold must be positive")
    if account.available < amount:
        raise InsufficientFunds(
            _("Not enough money on the balance: %(available)s available.")
            % {"available": Money(account.available, currency).format()}
        )
    account.held += amount
    account.save(update_fields=["held"])
    return Hold.objects.create(account=account, amount=amount, reference=reference)


@transaction.atomic
def hold_release(*, hold: Hold) -> Hold:
    account = BalanceAccount.objects.select_for_update().get(pk=hold.account_id)
    hold = Hold.objects.select_for_update().get(pk=hold.pk)
    if hold.status != HoldStatus.ACTIVE:
        return hold
    account.held -= hold.amount
    account.save(update_fields=["held"])
    hold.status = HoldStatus.RELEASED
    hold.save(update_fields=["status", "updated_at"])
    return hold


@transaction.atomic
def hold_capture(
    *, hold: Hold, kind: EntryKind, description: str = "", payment: Payment | None = None
) -> LedgerEntry:
    """Turn a hold into a negative entry of the same amount."""
    account = BalanceAccount.objects.select_for_update().get(pk=hold.account_id)
    hold = Hold.objects.select_for_update().get(pk=hold.pk)
    reference = f"{hold.reference}:captured"
    if hold.status == HoldStatus.CAPTURED:
        return LedgerEntry.objects.get(reference=reference)
    if hold.status != HoldStatus.ACTIVE:
        raise Conflict(_("This hold was already released."))
    account.held -= hold.amount
    account.balance -= hold.amount
    account.save(update_fields=["held", "balance"])
    hold.status = HoldStatus.CAPTURED
    hold.save(update_fields=["status", "updated_at"])
    return LedgerEntry.objects.create(
        account=account,
        kind=kind,
        amount=-hold.amount,
        balance_after=account.balance,
        reference=reference,
        description=description,
        payment=payment,
    )


@dataclass(frozen=True)
class LedgerProblem:
    account_id: int
    message: str


def ledger_check() -> list[LedgerProblem]:
    """Every account's balance equals the sum of its entries, its hold equals its
    active holds, and the last entry's running balance matches."""
    problems = []
    sums = dict(
        LedgerEntry.objects.values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )
    holds = dict(
        Hold.objects.filter(status=HoldStatus.ACTIVE)
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )
    for account in BalanceAccount.objects.all().iterator():
        total = sums.get(account.id, 0) or 0
        if total != account.balance:
            problems.append(
                LedgerProblem(account.id, f"balance {account.balance} != sum of entries {total}")
            )
        if (holds.get(account.id, 0) or 0) != account.held:
            problems.append(
                LedgerProblem(
                    account.id, f"held {account.held} != active holds {holds.get(account.id, 0)}"
                )
            )
        if account.balance < 0 or account.held > account.balance:
            problems.append(LedgerProblem(account.id, "negative balance or hold above balance"))
    return problems


# A staff correction larger than this is a typo (and would overflow the ledger's integers).
MAX_ADJUSTMENT_MAJOR_UNITS = 10_000_000


@transaction.atomic
def balance_adjust(
    *,
    user_id: int,
    currency: str,
    amount: int,
    reason: str,
    by_id: int,
    key: str,
    by=None,
) -> Posting:
    """A staff correction of a balance: a new entry (never an edit), with the reason and
    who made it. ``key`` makes a retried request post once. A correction that would take
    the available balance below zero is refused (the ledger never goes negative). The
    audit entry (who, the balance before and after, the reason) is written once, with the
    entry; a retry that posts nothing writes none."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount == 0:
        raise ValidationFailed({"amount": [_("Give a non-zero amount.")]})
    if currency not in CURRENCY_EXPONENT:
        raise ValidationFailed(
            {"currency": [_("Unknown currency %(code)s.") % {"code": currency[:3] or "?"}]}
        )
    limit = MAX_ADJUSTMENT_MAJOR_UNITS * 10 ** CURRENCY_EXPONENT[currency]
    if abs(amount) > limit:
        raise ValidationFailed(
            {
                "amount": [
                    _("One correction may move at most %(limit)s.")
                    % {"limit": Money(limit, currency).format()}
                ]
            }
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": [_("Say why the balance is corrected.")]})
    posting = ledger_post(
        user_id=user_id,
        currency=currency,
        kind=EntryKind.ADJUSTMENT,
        amount=amount,
        reference=f"adjust:{key}",
        description=_("Correction by staff #%(id)s: %(reason)s")
        % {"id": by_id, "reason": reason[:200]},
    )
    if posting.created:
        entry = posting.entry
        record(
            actor=by if by is not None else User.objects.filter(pk=by_id).first(),
            action="billing.balance_adjust",
            obj=entry,
            subject=User(pk=user_id),
            before={"balance": entry.balance_after - amount, "currency": currency},
            after={"balance": entry.balance_after, "amount": amount, "currency": currency},
            reason=reason,
        )
    return posting
