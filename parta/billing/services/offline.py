"""Offline payments: cash or a bank transfer taken by the school and recorded by staff on
the client's card. Each is an order paid through the ``offline`` provider, so it grants
and posts to the ledger exactly as an online payment does (``order_paid``).

A document (a cash receipt's or a payment order's number) pays once: the payment row's
unique (provider, provider_payment_id) is inserted first, so of any number of
recordings of one document at once, one commits and the others are refused."""

from __future__ import annotations

from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from parta.accounts.models import User
from parta.audit.services import record
from parta.billing.models import Payment
from parta.billing.services.fulfilment import order_paid
from parta.billing.services.orders import _currency, order_create, topup_create
from parta.common.db import insert_unless_exists
from parta.common.errors import Conflict, PermissionDenied, ValidationFailed
from parta.common.money import CURRENCY_EXPONENT, Money

PROVIDER = "offline"
# One recording takes at most this (major units): more is a typo.
MAX_OFFLINE_MAJOR_UNITS = 1_000_000
DOCUMENT_MAX_LENGTH = 64


class OfflineMethod(models.TextChoices):
    CASH = "cash", gettext_lazy("Cash")
    TRANSFER = "transfer", gettext_lazy("Bank transfer")


class DocumentAlreadyRecorded(Conflict):
    code = "document_already_recorded"


def document_normalise(document: str) -> str:
    """One spelling per document: spaces collapsed, letters in upper case."""
    return " ".join((document or "").split()).upper()


def payment_reference(*, method: str, document: str) -> str:
    """The payment's id at the offline provider: cash receipts and payment orders are
    numbered in their own series, so the document is unique within its method."""
    return f"{method}:{document_normalise(document)}"


def _validate(*, by, method, document, currency, amount, reason) -> tuple[str, str, str]:
    if not (getattr(by, "is_authenticated", False) and by.is_active and by.is_school_staff):
        raise PermissionDenied(_("Only staff record payments."))
    errors: dict[str, list[str]] = {}
    if method not in OfflineMethod.values:
        errors["method"] = [_("Choose cash or bank transfer.")]
    document = document_normalise(document)
    if not document:
        errors["document"] = [_("Give the document's number.")]
    elif len(document) > DOCUMENT_MAX_LENGTH:
        errors["document"] = [
            _("A document's number is at most %(max)d characters.") % {"max": DOCUMENT_MAX_LENGTH}
        ]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Say why the payment is recorded.")]
    if errors:
        raise ValidationFailed(errors)
    code = _currency(currency)
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed({"amount": [_("The amount received must be positive.")]})
    most = MAX_OFFLINE_MAJOR_UNITS * 10 ** CURRENCY_EXPONENT[code]
    if amount > most:
        raise ValidationFailed(
            {
                "amount": [
                    _("One payment is at most %(most)s.") % {"most": Money(most, code).format()}
                ]
            }
        )
    return document, code, reason


@transaction.atomic
def offline_payment_record(
    *,
    user: User,
    by: User,
    method: str,
    document: str,
    currency: str,
    amount: int,
    item_id: int | None = None,
    reason: str,
) -> Payment:
    """Record money received by the school for ``user``: for an item (a course or a plan,
    whose price must be the amount received) or, without one, onto the balance. The
    order is paid through the offline provider: grants, receipt and ledger entries as
    for any payment. Audited once, with the payment."""
    document, currency, reason = _validate(
        by=by, method=method, document=document, currency=currency, amount=amount, reason=reason
    )
    if item_id is not None:
        order = order_create(user=user, item_ids=[item_id], currency=currency, provider=PROVIDER)
        if order.total != amount:
            raise ValidationFailed(
                {
                    "amount": [
                        _("The amount received (%(amount)s) is not the price (%(price)s).")
                        % {
                            "amount": Money(amount, currency).format(),
                            "price": Money(order.total, currency).format(),
                        }
                    ]
                }
            )
    else:
        order = topup_create(user=user, amount=amount, currency=currency, provider=PROVIDER)
    reference = payment_reference(method=method, document=document)
    payment = Payment(
        provider=PROVIDER,
        provider_payment_id=reference,
        order=order,
        user_id=user.pk,
        amount=order.total,
        currency=currency,
    )
    # Insert first: a second recording of the document waits here for the first one's
    # commit, then finds the row and is refused (its order rolls back with it).
    if not insert_unless_exists(payment):
        raise DocumentAlreadyRecorded(
            _("Document %(document)s has already been recorded.") % {"document": document},
            field="document",
        )
    order_paid(
        order=order,
        provider=PROVIDER,
        provider_payment_id=reference,
        amount=amount,
        currency=currency,
    )
    record(
        actor=by,
        action="billing.offline_payment",
        obj=payment,
        subject=user,
        before={},
        after={
            "order": order.pk,
            "purpose": order.purpose,
            "item": item_id,
            "method": method,
            "document": document,
            "amount": amount,
            "currency": currency,
        },
        reason=reason,
    )
    return payment


def offline_method_of(payment: Payment) -> str:
    """The method's label of an offline payment (empty for any other)."""
    if payment.provider != PROVIDER:
        return ""
    method = payment.provider_payment_id.split(":", 1)[0]
    return str(OfflineMethod(method).label) if method in OfflineMethod.values else ""
