from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from parta.crm.permissions import can_see_money

register = template.Library()

# (route, label, staff only). A page not routed yet is left out of the tabs.
TABS = (
    ("crm:dashboard", _("Dashboard"), True),
    ("crm:clients", _("Clients"), False),
    ("crm:audit", _("Audit log"), True),
    ("crm:settings", _("Settings"), True),
)


@register.inclusion_tag("crm/_tabs.html", takes_context=True)
def crm_tabs(context) -> dict:
    request = context["request"]
    money = can_see_money(request.user)
    tabs = []
    for route, label, staff_only in TABS:
        if staff_only and not money:
            continue
        try:
            url = reverse(route)
        except NoReverseMatch:
            continue
        current = request.path == url or (url != "/crm/" and request.path.startswith(url))
        tabs.append({"url": url, "label": label, "current": current})
    return {"tabs": tabs}
