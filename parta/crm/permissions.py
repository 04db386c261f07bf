"""Who may open the CRM and what they see there.

Staff see everything. Moderators see the clients and the learning parts of a card
(statistics, threads, groups, sessions) and none of the money: no balances, orders,
payments, refunds, ledger or revenue, and no money actions. Students and visitors get 403
(visitors opening a page are sent to sign in first)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


def can_use_crm(user) -> bool:
    return bool(user.is_authenticated and user.is_active) and (
        user.is_school_staff or user.is_moderator
    )


def can_see_money(user) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_school_staff)


def _guard(check: Callable[[object], bool]) -> Callable[[Callable], Callable]:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user.is_authenticated and request.method in ("GET", "HEAD"):
                return redirect_to_login(request.get_full_path())
            if not check(user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# Staff and moderators (the clients list, the learning parts of a card).
crm_required = _guard(can_use_crm)
# Staff only (money, the dashboard's revenue, the audit log, live settings).
staff_required = _guard(can_see_money)
