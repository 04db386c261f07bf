"""Facts about the request being served, shared by the apps that need them."""

from __future__ import annotations


def client_ip(request) -> str:
    """The visitor's address as allauth sees it (so proxies are trusted the same way for
    sign-in limits and the audit log); "unknown" when allauth refuses to name one."""
    from allauth.account.adapter import get_adapter
    from django.core.exceptions import PermissionDenied

    try:
        return get_adapter().get_client_ip(request)
    except PermissionDenied:
        return "unknown"
