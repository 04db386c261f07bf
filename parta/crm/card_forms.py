"""The client card's action forms. Each reads its input, offers only what belongs to the
client (their grants, freezes, top-ups, their courses' groups), says in one sentence
what it is about to do (the confirmation step) and then calls one service of
parta.crm.services. Every form asks for a reason and carries a one-time key."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from parta.billing.services.offline import OfflineMethod, document_normalise
from parta.catalog.forms import parse_major_units
from parta.common.money import Money
from parta.crm import services
from parta.crm.card import ClientCard
from parta.notifications.channels.base import Channel


def _currency_choices():
    return [(code, code) for code in settings.PARTA_CURRENCIES]


def _amount(text: str, currency: str, *, signed: bool = False) -> int:
    text = (text or "").strip()
    sign = 1
    if signed and text[:1] in "+-" and text:
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    elif text.startswith("-"):
        raise ValidationError(_("The amount must be positive."))
    amount = parse_major_units(text, currency)
    return sign * amount


class ActionForm(forms.Form):
    action = ""
    title = ""
    staff_only = True

    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Kept in the audit log."),
    )
    key = forms.CharField(widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, card: ClientCard, viewer, key: str = ""):
        super().__init__(data, initial={"key": key}, prefix=self.action)
        self.card = card
        self.client = card.client
        self.viewer = viewer
        # The reason and the hidden fields last.
        self.order_fields([n for n in self.fields if n not in ("reason", "key", "confirmed")])

    def summary(self) -> str:  # pragma: no cover - every action defines it
        raise NotImplementedError

    def perform(self) -> str:  # pragma: no cover
        raise NotImplementedError


class GrantForm(ActionForm):
    action = "grant"
    title = gettext_lazy("Grant access")

    target = forms.ChoiceField(label=gettext_lazy("Course or plan"))
    days = forms.IntegerField(
        label=gettext_lazy("Days"), min_value=1, max_value=services.GRANT_DAYS_MAX, initial=30
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [
            (_("Courses"), [(f"course:{c.pk}", c.title) for c in self.card.courses]),
            (_("Plans"), [(f"plan:{p.pk}", p.title) for p in self.card.plans]),
        ]

    def _target(self):
        kind, _sep, pk = self.cleaned_data["target"].partition(":")
        objects = self.card.courses if kind == "course" else self.card.plans
        return kind, next(o for o in objects if str(o.pk) == pk)

    def summary(self) -> str:
        kind, target = self._target()
        until = timezone.localtime() + timedelta(days=self.cleaned_data["days"])
        text = (
            _("Give %(client)s the course “%(title)s” until %(until)s.")
            if kind == "course"
            else _("Give %(client)s every course of the plan “%(title)s” until %(until)s.")
        )
        return text % {
            "client": self.client.full_name,
            "title": target.title,
            "until": until.strftime("%d.%m.%Y"),
        }

    def perform(self) -> str:
        kind, target = self._target()
        grants = services.client_access_grant(
            client=self.client,
            by=self.viewer,
            days=self.cleaned_data["days"],
            reason=self.cleaned_data["reason"],
            course=target if kind == "course" else None,
            plan=target if kind == "plan" else None,
        )
        return ngettext(
            "Access granted to %(n)d course.", "Access granted to %(n)d courses.", len(grants)
        ) % {"n": len(grants)}


class OfflinePaymentForm(ActionForm):
    action = "offline-payment"
    title = gettext_lazy("Record an offline payment")

    method = forms.ChoiceField(label=gettext_lazy("Paid by"), choices=OfflineMethod.choices)
    document = forms.CharField(label=gettext_lazy("Document number"), max_length=64)
    item = forms.ChoiceField(label=gettext_lazy("What for"), required=False)
    currency = forms.ChoiceField(label=gettext_lazy("Currency"))
    amount = forms.CharField(label=gettext_lazy("Amount received"), max_length=30)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = [("", _("Onto the balance"))] + [
            (str(i.pk), i.title) for i in self.card.items
        ]
        self.fields["currency"].choices = _currency_choices()

    def clean(self):
        data = super().clean()
        if "amount" in data and "currency" in data:
            try:
                data["amount"] = _amount(data["amount"], data["currency"])
            except ValidationError as exc:
                self.add_error("amount", exc)
        return data

    def _item_title(self) -> str:
        item = self.cleaned_data.get("item")
        return next((i.title for i in self.card.items if str(i.pk) == item), "")

    def summary(self) -> str:
        data = self.cleaned_data
        values = {
            "amount": Money(data["amount"], data["currency"]).format(),
            "method": OfflineMethod(data["method"]).label,
            "document": document_normalise(data["document"]),
            "client": self.client.full_name,
            "item": self._item_title(),
        }
        if data.get("item"):
            return (
                _(
                    "Record %(amount)s (%(method)s, document %(document)s) from %(client)s "
                    "for “%(item)s”: the order is paid and access is granted."
                )
                % values
            )
        return (
            _(
                "Record %(amount)s (%(method)s, document %(document)s) from %(client)s onto "
                "their balance."
            )
            % values
        )

    def perform(self) -> str:
        data = self.cleaned_data
        payment = services.client_offline_payment(
            client=self.client,
            by=self.viewer,
            method=data["method"],
            document=data["document"],
            currency=data["currency"],
            amount=data["amount"],
            item_id=int(data["item"]) if data.get("item") else None,
            reason=data["reason"],
        )
        return _("Payment recorded: %(amount)s.") % {
            "amount": Money(payment.amount, payment.currency).format()
        }


class FreezeForm(ActionForm):
    action = "freeze"
    title = gettext_lazy("Freeze access")

    grant = forms.ChoiceField(label=gettext_lazy("Access"))
    days = forms.IntegerField(label=gettext_lazy("Days"), min_value=1, max_value=365, initial=7)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grant"].choices = [
            (str(g.pk), _grant_label(g)) for g in self.card.grants if g.available_until
        ]

    def _grant(self):
        return next(g for g in self.card.grants if str(g.pk) == self.cleaned_data["grant"])

    def summary(self) -> str:
        return ngettext(
            "Freeze “%(course)s” of %(client)s for %(days)d day.",
            "Freeze “%(course)s” of %(client)s for %(days)d days.",
            self.cleaned_data["days"],
        ) % {
            "course": self._grant().course.title,
            "client": self.client.full_name,
            "days": self.cleaned_data["days"],
        }

    def perform(self) -> str:
        freezes = services.client_freeze(
            grant=self._grant(),
            by=self.viewer,
            days=self.cleaned_data["days"],
            reason=self.cleaned_data["reason"],
        )
        return ngettext("%(n)d course frozen.", "%(n)d courses frozen.", len(freezes)) % {
            "n": len(freezes)
        }


class UnfreezeForm(ActionForm):
    action = "unfreeze"
    title = gettext_lazy("Unfreeze access")

    freeze = forms.ChoiceField(label=gettext_lazy("Freeze"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        now = timezone.now()
        self.running = {
            str(f.pk): (g, f)
            for g in self.card.grants
            for f in g.freezes.all()
            if f.ended_at is None and f.ends_at > now
        }
        self.fields["freeze"].choices = [
            (
                pk,
                _("%(course)s, until %(until)s")
                % {
                    "course": g.course.title,
                    "until": timezone.localtime(f.ends_at).strftime("%d.%m.%Y"),
                },
            )
            for pk, (g, f) in self.running.items()
        ]

    def summary(self) -> str:
        grant, _freeze = self.running[self.cleaned_data["freeze"]]
        return _("End the freeze of “%(course)s” of %(client)s now; unused days go back.") % {
            "course": grant.course.title,
            "client": self.client.full_name,
        }

    def perform(self) -> str:
        _grant, freeze = self.running[self.cleaned_data["freeze"]]
        services.client_unfreeze(freeze=freeze, by=self.viewer, reason=self.cleaned_data["reason"])
        return _("Access is running again.")


class RefundForm(ActionForm):
    action = "refund"
    title = gettext_lazy("Refund")

    target = forms.ChoiceField(label=gettext_lazy("What to refund"))
    destination = forms.ChoiceField(
        label=gettext_lazy("Where the money goes"),
        choices=[
            ("card", gettext_lazy("Back to the payment (card, cash)")),
            ("balance", gettext_lazy("To the balance")),
        ],
        help_text=gettext_lazy("A purchase: its unused days. A top-up goes back to its payment."),
    )
    amount = forms.CharField(
        label=gettext_lazy("Amount (top-ups only)"), max_length=30, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        paid = [
            g for g in self.card.grants if g.is_active and g.reference.startswith("order-line:")
        ]
        self.fields["target"].choices = [
            (_("Purchases"), [(f"grant:{g.pk}", _grant_label(g)) for g in paid]),
            (
                _("Top-ups"),
                [
                    (
                        f"topup:{e.pk}",
                        _("Top-up of %(amount)s, %(date)s")
                        % {
                            "amount": Money(e.amount, e.account.currency).format(),
                            "date": timezone.localtime(e.created_at).strftime("%d.%m.%Y"),
                        },
                    )
                    for e in self.card.topups
                ],
            ),
        ]
        self.grants = {f"grant:{g.pk}": g for g in paid}
        self.topups = {f"topup:{e.pk}": e for e in self.card.topups}

    def clean(self):
        data = super().clean()
        target = data.get("target", "")
        if target in self.topups:
            entry = self.topups[target]
            try:
                data["amount"] = _amount(data.get("amount", ""), entry.account.currency)
            except ValidationError as exc:
                self.add_error("amount", exc)
        return data

    def summary(self) -> str:
        from parta.billing.services.refunds import refund_quote

        target = self.cleaned_data["target"]
        if target in self.topups:
            entry = self.topups[target]
            return _("Send %(amount)s of the top-up back to its payment.") % {
                "amount": Money(self.cleaned_data["amount"], entry.account.currency).format()
            }
        grant = self.grants[target]
        quote = refund_quote(grant=grant)
        where = (
            _("to the balance")
            if self.cleaned_data["destination"] == "balance"
            else _("back to the payment")
        )
        return _("Refund %(amount)s of %(paid)s for “%(course)s” %(where)s; the access ends.") % {
            "amount": Money(quote.amount, quote.currency).format(),
            "paid": Money(quote.paid, quote.currency).format(),
            "course": grant.course.title,
            "where": where,
        }

    def perform(self) -> str:
        target = self.cleaned_data["target"]
        refund = services.client_refund(
            by=self.viewer,
            reason=self.cleaned_data["reason"],
            grant=self.grants.get(target),
            to_balance=self.cleaned_data["destination"] == "balance",
            topup=self.topups.get(target),
            amount=self.cleaned_data.get("amount") if target in self.topups else None,
        )
        return _("Refund %(amount)s: %(status)s.") % {
            "amount": Money(refund.amount, refund.currency).format(),
            "status": refund.get_status_display(),
        }


class AdjustForm(ActionForm):
    action = "adjust"
    title = gettext_lazy("Correct the balance")

    currency = forms.ChoiceField(label=gettext_lazy("Currency"))
    amount = forms.CharField(
        label=gettext_lazy("Amount"),
        max_length=30,
        help_text=gettext_lazy("Negative takes money away, e.g. -500."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = _currency_choices()

    def clean(self):
        data = super().clean()
        if "amount" in data and "currency" in data:
            try:
                data["amount"] = _amount(data["amount"], data["currency"], signed=True)
            except ValidationError as exc:
                self.add_error("amount", exc)
            else:
                if data["amount"] == 0:
                    self.add_error("amount", _("Give a non-zero amount."))
        return data

    def summary(self) -> str:
        amount = self.cleaned_data["amount"]
        money = Money(abs(amount), self.cleaned_data["currency"]).format()
        text = (
            _("Add %(money)s to the balance of %(client)s.")
            if amount > 0
            else _("Take %(money)s from the balance of %(client)s.")
        )
        return text % {"money": money, "client": self.client.full_name}

    def perform(self) -> str:
        posting = services.client_balance_adjust(
            client=self.client,
            by=self.viewer,
            currency=self.cleaned_data["currency"],
            amount=self.cleaned_data["amount"],
            reason=self.cleaned_data["reason"],
            key=str(uuid.uuid5(uuid.NAMESPACE_URL, self.cleaned_data["key"])),
        )
        return _("Balance now: %(money)s.") % {
            "money": Money(posting.entry.balance_after, self.cleaned_data["currency"]).format()
        }


class MoveForm(ActionForm):
    action = "move"
    title = gettext_lazy("Move to another group")
    staff_only = False

    group = forms.ChoiceField(label=gettext_lazy("Group"))
    override = forms.BooleanField(
        label=gettext_lazy("Even if the group is full (staff)"), required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = {m.group_id: m for m in self.card.current_memberships}
        sizes = {m.course_id: (m.course.title, m.course.max_group_size) for m in current.values()}
        self.groups = {str(g.pk): g for g in self.card.move_groups if g.pk not in current}
        self.fields["group"].choices = [
            (
                pk,
                _("%(course)s: %(group)s (%(count)d of %(size)d)")
                % {
                    "course": sizes[g.course_id][0],
                    "group": g.display_name,
                    "count": g.members_count,
                    "size": sizes[g.course_id][1],
                },
            )
            for pk, g in self.groups.items()
        ]
        if not services.can_see_money(self.viewer):
            del self.fields["override"]

    def summary(self) -> str:
        group = self.groups[self.cleaned_data["group"]]
        text = _("Move %(client)s into %(group)s.") % {
            "client": self.client.full_name,
            "group": group.display_name,
        }
        if self.cleaned_data.get("override"):
            text += " " + _("If the group is full, over its limit.")
        return text

    def perform(self) -> str:
        group = self.groups[self.cleaned_data["group"]]
        services.client_move(
            client=self.client,
            group=group,
            by=self.viewer,
            reason=self.cleaned_data["reason"],
            override=bool(self.cleaned_data.get("override")),
        )
        return _("Moved into %(group)s.") % {"group": group.display_name}


class MessageForm(ActionForm):
    action = "message"
    title = gettext_lazy("Send a message")
    staff_only = False

    channel = forms.ChoiceField(
        label=gettext_lazy("By"),
        choices=[(Channel.EMAIL.value, Channel.EMAIL.label), (Channel.TELEGRAM.value, "Telegram")],
    )
    text = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=services.MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def summary(self) -> str:
        return _("Send %(client)s this message by %(channel)s: “%(text)s”") % {
            "client": self.client.full_name,
            "channel": dict(self.fields["channel"].choices)[self.cleaned_data["channel"]],
            "text": self.cleaned_data["text"][:200],
        }

    def perform(self) -> str:
        services.client_message_send(
            client=self.client,
            by=self.viewer,
            channel=self.cleaned_data["channel"],
            text=self.cleaned_data["text"],
            reason=self.cleaned_data["reason"],
            key=self.cleaned_data["key"][-40:],
        )
        return _("The message is queued; its delivery shows under notifications.")


def _grant_label(grant) -> str:
    until = (
        timezone.localtime(grant.available_until).strftime("%d.%m.%Y")
        if grant.available_until
        else _("open-ended")
    )
    return _("%(course)s, until %(until)s") % {"course": grant.course.title, "until": until}


FORMS: dict[str, type[ActionForm]] = {
    form.action: form
    for form in (
        GrantForm,
        OfflinePaymentForm,
        FreezeForm,
        UnfreezeForm,
        RefundForm,
        AdjustForm,
        MoveForm,
        MessageForm,
    )
}
