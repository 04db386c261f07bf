"""Who is acting and from where, for the audit entries written while a request is served.

The middleware sets it for each request; `record` reads it when its caller passes no IP.
A context variable, so each thread and each asyncio task sees its own request."""

from __future__ import annotations

from contextvars import ContextVar
from ipaddress import ip_address

from parta.common.http import client_ip

_ip: ContextVar[str | None] = ContextVar("parta_audit_ip", default=None)


def current_ip() -> str | None:
    return _ip.get()


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _ip.set(_request_ip(request))
        try:
            return self.get_response(request)
        finally:
            _ip.reset(token)


def _request_ip(request) -> str | None:
    """The request's address if it is one (an entry stores a valid IP or none)."""
    try:
        return str(ip_address(client_ip(request)))
    except ValueError:
        return None
