"""The dashboard page: the period's figures as tables, and charts drawn from them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from parta.common.errors import ValidationFailed
from parta.crm.dashboard import PRESETS, daily_rows, dashboard_data, period_for
from parta.crm.permissions import can_see_money, crm_required


@crm_required
def dashboard(request: HttpRequest) -> HttpResponse:
    params = request.GET
    errors: dict[str, list[str]] = {}
    try:
        period = period_for(
            preset=params.get("preset", ""),
            start=params.get("start", ""),
            end=params.get("end", ""),
        )
    except ValidationFailed as exc:
        errors = exc.errors
        period = period_for()
    money = can_see_money(request.user)
    data = dashboard_data(start=period.start, end=period.end, money=money)
    custom = period.preset is None or params.get("preset") == "custom"
    return render(
        request,
        "crm/dashboard.html",
        {
            "data": data,
            "rows": daily_rows(data),
            "period": period,
            "presets": PRESETS,
            "custom": custom or bool(errors),
            "errors": errors,
            "form_start": params.get("start", "") if errors else period.start.isoformat(),
            "form_end": params.get("end", "") if errors else period.end.isoformat(),
            "money": money,
            "chart_labels": {
                "revenue": _("Revenue"),
                "registrations": _("Registrations"),
                "solved": _("Tasks solved"),
                "active": _("Active students"),
                "members": _("Students"),
                "seats": _("Seats"),
                "expiring": _("Access ending"),
                "ended": _("Ended"),
                "renewed": _("Renewed"),
            },
        },
    )
