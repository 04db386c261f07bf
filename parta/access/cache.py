"""The shared cache of access decisions, safe against a late write.

Every user has a version in the cache (a random token), and every change to one of their
grants replaces it once the transaction commits. A decision is stored together with the
version that was read *before* the database was, and it is used only while that version
is still current. A reader that looked at the database just before a grant change
committed may still write its answer after the change's invalidation ran, but the bump
has already made that answer unusable: without versions it would have stayed for up to
an hour.

A missing version counts as "0", so a user whose grants never changed needs no key. (If
Redis ever evicts a version key, answers computed before the user's first change could
match "0" again; they still expire within CACHE_SECONDS.)

Single-course answers (the access check API, lesson pages) are also mirrored in each
process (parta.common.localcache): a bump announces the user on a Redis channel and
every process forgets the user's answers before its next read, so a repeated question
costs no round trip at all.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.core.cache import cache

from parta.common.localcache import LocalMirror

# Longest a cached answer lives even when nothing is due to change.
CACHE_SECONDS = 3600
_PREFIX = "access:v2"

# Groups are users; keys are course ids; values are cache entries (see ``write``).
mirror = LocalMirror("access")


def decision_key(user_id: int, course_id: int) -> str:
    return f"{_PREFIX}:{user_id}:{course_id}"


def version_key(user_id: int) -> str:
    return f"{_PREFIX}:ver:{user_id}"


def _usable(entry, now_ts: float) -> bool:
    # Only before the moment the answer was due to change (an expiry or a future start).
    change_ts = entry[3]
    return change_ts is None or now_ts < change_ts


def read(
    user_id: int, course_ids: list[int], now: datetime
) -> tuple[str, dict[int, tuple[bool, float | None]], int | None]:
    """The user's current version, the answers for ``course_ids`` usable at ``now`` as
    ``{course_id: (allowed, until timestamp or None)}``, and the mirror's token to pass
    to ``write``. A single course is looked up in this process's mirror first; otherwise
    one cache round trip."""
    now_ts = now.timestamp()
    token = None
    if len(course_ids) == 1:
        entry, token = mirror.get(user_id, course_ids[0])
        if entry is not None and _usable(entry, now_ts):
            return entry[0], {course_ids[0]: (entry[1], entry[2])}, token
    keys = {decision_key(user_id, course_id): course_id for course_id in course_ids}
    ver_key = version_key(user_id)
    found = cache.get_many([ver_key, *keys])
    version = found.pop(ver_key, "0")
    usable: dict[int, tuple[bool, float | None]] = {}
    for key, entry in found.items():
        # An answer counts only for the version it was computed under.
        if entry[0] == version and _usable(entry, now_ts):
            course_id = keys[key]
            usable[course_id] = (entry[1], entry[2])
            if token is not None:
                mirror.put(user_id, course_id, entry, token)
    return version, usable, token


def write(
    user_id: int,
    course_id: int,
    *,
    version: str,
    allowed: bool,
    until: datetime | None,
    changes_at: datetime | None,
    now: datetime,
    token: int | None = None,
) -> None:
    """Store an answer computed at ``now`` after ``version`` (and the mirror's
    ``token``) was read. It lives until the moment it is due to change, and at most
    CACHE_SECONDS."""
    change_ts = changes_at.timestamp() if changes_at else None
    timeout = CACHE_SECONDS
    if change_ts is not None:
        timeout = max(1, min(CACHE_SECONDS, int(change_ts - now.timestamp()) + 1))
    entry = (version, allowed, until.timestamp() if until else None, change_ts)
    cache.set(decision_key(user_id, course_id), entry, timeout)
    mirror.put(user_id, course_id, entry, token)


def bump(user_id: int) -> None:
    """Make every cached answer of the user unusable (call after the change commits),
    here and in every process's mirror.

    The new version is a fresh random value rather than a counter: a reader's
    version can never come back, so concurrent bumps need no atomic increment, and
    the bump costs one SET (plus the announcement). The version key never expires."""
    cache.set(version_key(user_id), secrets.token_hex(8), None)
    mirror.announce(user_id)
