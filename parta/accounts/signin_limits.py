"""Limits on guessing sign-in secrets: passwords (the moderators' form and /admin/login/)
and one-time codes. Counters live in Django's cache (sliding windows of timestamps), so
they are shared by every server process the cache is shared by. The numbers are settings
(config/settings/auth.py) and are described in the README ("People and how they sign in").

Passwords are counted three ways, so that a stranger cannot lock a teacher out:
- per (email, address): the usual lock, felt only by whoever guesses from that address;
- per email from any address: a higher ceiling against guessing spread over many addresses;
- per address over any emails: one address trying many accounts.

Codes: wrong codes per email and per address a day, and code requests per email and per
address a minute. When an email reaches its daily ceiling of wrong codes, sign-in by code
for it is locked and the school's staff are told by email.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from parta.common.http import client_ip as common_client_ip

_PREFIX = "parta:signin"
_LOCK_WAIT = 1.0


@dataclass(frozen=True)
class Limit:
    """At most ``amount`` events in any ``window`` seconds."""

    name: str
    amount: int
    window: int


class SignInLimited(Exception):
    """Refused for now; ``retry_after`` seconds until the next try is accepted."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _limit(name: str) -> Limit:
    amount, window = getattr(settings, name)
    return Limit(name=name, amount=int(amount), window=int(window))


def password_pair_limit() -> Limit:
    return _limit("PARTA_PASSWORD_FAILS_PER_EMAIL_AND_IP")


def password_email_limit() -> Limit:
    return _limit("PARTA_PASSWORD_FAILS_PER_EMAIL")


def password_ip_limit() -> Limit:
    return _limit("PARTA_PASSWORD_FAILS_PER_IP")


def code_email_limit() -> Limit:
    return _limit("PARTA_CODE_FAILS_PER_EMAIL")


def code_ip_limit() -> Limit:
    return _limit("PARTA_CODE_FAILS_PER_IP")


def code_request_email_limit() -> Limit:
    return _limit("PARTA_CODE_REQUESTS_PER_EMAIL")


def code_request_ip_limit() -> Limit:
    return _limit("PARTA_CODE_REQUESTS_PER_IP")


# --- Sliding-window counters in the cache ----------------------------------------------


def _key(limit: Limit, *parts: str) -> str:
    ident = "\x1f".join(part.strip().lower() for part in parts)
    return f"{_PREFIX}:{limit.name}:{hashlib.sha256(ident.encode()).hexdigest()[:40]}"


class _Mutex:
    """A short cross-process lock on one counter (cache.add is atomic in every backend
    Parta uses). When it cannot be had in time the update goes ahead anyway: losing one
    increment under a storm is better than refusing the right password."""

    def __init__(self, key: str):
        self.key = f"{key}:mutex"
        self.held = False

    def __enter__(self):
        deadline = time.monotonic() + _LOCK_WAIT
        while not cache.add(self.key, 1, timeout=5):
            if time.monotonic() > deadline:
                return self
            time.sleep(0.01)
        self.held = True
        return self

    def __exit__(self, *exc):
        if self.held:
            cache.delete(self.key)


def _recent(key: str, window: int, now: float) -> list[float]:
    history = cache.get(key) or []
    return sorted((stamp for stamp in history if stamp > now - window), reverse=True)


def _retry_after(history: list[float], limit: Limit, now: float) -> int:
    """Seconds until fewer than ``limit.amount`` events remain in the window."""
    if len(history) < limit.amount:
        return 0
    # The amount-th newest event has to leave the window.
    return max(1, int(history[limit.amount - 1] + limit.window - now + 0.999))


def limit_retry_after(limit: Limit, *parts: str) -> int:
    """0 when the next event is allowed, else the seconds to wait."""
    now = time.time()
    return _retry_after(_recent(_key(limit, *parts), limit.window, now), limit, now)


def limit_hit(limit: Limit, *parts: str) -> int:
    """Record one event; return how many are now in the window."""
    key = _key(limit, *parts)
    now = time.time()
    with _Mutex(key):
        history = _recent(key, limit.window, now)
        history.insert(0, now)
        # Older events than the amount can never matter again.
        cache.set(key, history[: limit.amount + 1], limit.window)
    return len(history)


def limit_clear(limit: Limit, *parts: str) -> None:
    cache.delete(_key(limit, *parts))


# --- Messages ---------------------------------------------------------------------------


def wait_phrase(seconds: int) -> str:
    """ "Подождите 42 секунды" / "Wait 42 seconds", in minutes or hours when long."""
    seconds = max(1, int(seconds))
    if seconds < 120:
        return ngettext(
            "Wait %(n)d second and try again.", "Wait %(n)d seconds and try again.", seconds
        ) % {"n": seconds}
    minutes = (seconds + 59) // 60
    if minutes < 120:
        return ngettext(
            "Wait %(n)d minute and try again.", "Wait %(n)d minutes and try again.", minutes
        ) % {"n": minutes}
    hours = (minutes + 59) // 60
    return ngettext("Wait %(n)d hour and try again.", "Wait %(n)d hours and try again.", hours) % {
        "n": hours
    }


def _too_many_passwords(retry_after: int) -> SignInLimited:
    return SignInLimited(
        _("Too many wrong passwords.") + " " + wait_phrase(retry_after), retry_after=retry_after
    )


# --- Passwords --------------------------------------------------------------------------


def password_attempt_check(*, email: str, ip: str) -> None:
    """Raise SignInLimited when a password from this address for this email may not be
    tried now."""
    email = (email or "").strip().lower()
    waits = [
        limit_retry_after(password_pair_limit(), email, ip),
        limit_retry_after(password_email_limit(), email),
        limit_retry_after(password_ip_limit(), ip),
    ]
    wait = max(waits)
    if wait:
        raise _too_many_passwords(wait)


def password_attempt_failed(*, email: str, ip: str) -> None:
    email = (email or "").strip().lower()
    limit_hit(password_pair_limit(), email, ip)
    email_limit = password_email_limit()
    email_count = limit_hit(email_limit, email)
    limit_hit(password_ip_limit(), ip)
    # The staff hear of a ceiling once per window, however long the guessing goes on.
    if (
        email
        and email_count >= email_limit.amount
        and cache.add(_key(email_limit, "notified", email), 1, timeout=email_limit.window)
    ):
        from parta.accounts.services import signin_lock_notify

        signin_lock_notify(email=email, ip=ip, kind="password")


def password_attempt_succeeded(*, email: str, ip: str) -> None:
    """The right password from this address: its own count starts again. The per-email
    and per-address counts stay, so a guesser cannot reset them with a known account."""
    limit_clear(password_pair_limit(), (email or "").strip().lower(), ip)


# --- One-time codes -----------------------------------------------------------------------


def _code_lock_key(email: str) -> str:
    return f"{_PREFIX}:code-lock:{hashlib.sha256(email.encode()).hexdigest()[:40]}"


def code_locked_for(email: str) -> int:
    """Seconds left on the code lock of this email (0 when not locked)."""
    until = cache.get(_code_lock_key((email or "").strip().lower()))
    if not until:
        return 0
    return max(0, int(until - time.time() + 0.999))


def _code_locked_error(retry_after: int) -> SignInLimited:
    return SignInLimited(
        _(
            "Too many wrong codes for this address: sign-in by code is paused and the school "
            "has been told."
        )
        + " "
        + wait_phrase(retry_after),
        retry_after=retry_after,
    )


def code_attempt_check(*, email: str, ip: str) -> None:
    """Raise SignInLimited when no code for this email may be tried from this address."""
    locked = code_locked_for(email)
    if locked:
        raise _code_locked_error(locked)
    wait = limit_retry_after(code_ip_limit(), ip)
    if wait:
        raise SignInLimited(
            _("Too many wrong codes from your network.") + " " + wait_phrase(wait),
            retry_after=wait,
        )


def code_attempt_failed(*, email: str, ip: str) -> bool:
    """Record a wrong code; return True when this email is now locked."""
    email = (email or "").strip().lower()
    limit_hit(code_ip_limit(), ip)
    limit = code_email_limit()
    if limit_hit(limit, email) < limit.amount:
        return False
    lock_seconds = int(settings.PARTA_CODE_LOCK_SECONDS)
    # cache.add: only the attempt that sets the lock tells the staff.
    if cache.add(_code_lock_key(email), time.time() + lock_seconds, timeout=lock_seconds):
        from parta.accounts.services import signin_lock_notify

        signin_lock_notify(email=email, ip=ip, kind="code")
    return True


def code_request_check_and_count(*, email: str, ip: str) -> None:
    """Count a request for a code (a new one or "send again"); raise SignInLimited,
    counting nothing, when one was asked for too often."""
    email = (email or "").strip().lower()
    # No code is sent where none could be tried.
    code_attempt_check(email=email, ip=ip)
    wait = max(
        limit_retry_after(code_request_email_limit(), email),
        limit_retry_after(code_request_ip_limit(), ip),
    )
    if wait:
        raise SignInLimited(
            _("Codes were asked for too often.") + " " + wait_phrase(wait),
            retry_after=wait,
        )
    limit_hit(code_request_email_limit(), email)
    limit_hit(code_request_ip_limit(), ip)


def client_ip(request) -> str:
    """The address the limits are counted by."""
    return common_client_ip(request)
