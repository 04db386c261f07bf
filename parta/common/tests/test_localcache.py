"""The per-process mirror against a real Redis. Two mirrors of the same name stand for
two processes: each has its own subscription connection, as a server worker would."""

import time

import pytest
from django.conf import settings
from django_redis import get_redis_connection

from parta.common import localcache
from parta.common.localcache import LocalMirror

needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs Redis for pub/sub; set REDIS_URL"
)


def delivered(mirror: LocalMirror) -> None:
    """Wait until something has reached the mirror's subscription socket (Redis may
    answer the publisher a few microseconds before it writes to the subscribers)."""
    assert mirror._pubsub.connection.can_read(timeout=2.0)


def store(mirror: LocalMirror, group, key, value) -> None:
    _value, token = mirror.get(group, key)
    mirror.put(group, key, value, token)


@pytest.fixture
def pair():
    mirrors = LocalMirror("test"), LocalMirror("test")
    for mirror in mirrors:
        mirror.get("warm-up", 0)  # subscribes
    yield mirrors
    for mirror in mirrors:
        mirror._drop_subscription()


@needs_redis
def test_an_announcement_reaches_every_process(pair):
    here, there = pair
    store(there, 7, 1, "yes")
    store(there, 8, 1, "other user")
    assert there.get(7, 1)[0] == "yes"
    here.announce(7)
    delivered(there)
    assert there.get(7, 1)[0] is None
    assert there.get(8, 1)[0] == "other user"


@needs_redis
def test_a_value_read_before_an_announcement_is_not_stored(pair):
    here, there = pair
    _missing, token = there.get(7, 1)
    here.announce(7)  # the change lands while the value is being read elsewhere
    delivered(there)
    there.put(7, 1, "stale", token)
    assert there.get(7, 1)[0] is None


@needs_redis
def test_a_lost_subscription_empties_the_mirror_until_it_is_back(pair, monkeypatch):
    monkeypatch.setattr(localcache, "RESYNC_SECONDS", 0.2)
    monkeypatch.setattr(localcache, "RETRY_SECONDS", 0.2)
    _here, there = pair
    store(there, 7, 1, "yes")
    get_redis_connection("default").client_kill_filter(_type="pubsub")
    time.sleep(0.1)  # the close reaches the socket
    assert there.get(7, 1) == (None, None)
    deadline = time.monotonic() + 5
    while there.get(7, 1)[1] is None:
        assert time.monotonic() < deadline, "the mirror never subscribed again"
        time.sleep(0.05)
    assert there.get(7, 1)[0] is None  # what was held before is gone
    store(there, 7, 1, "again")
    assert there.get(7, 1)[0] == "again"


@needs_redis
def test_a_reconnection_by_the_client_empties_the_mirror(pair, monkeypatch):
    """redis-py may reconnect a subscription by itself; what was announced while it was
    down is lost, so the mirror forgets everything and waits for the new SUBSCRIBE."""
    monkeypatch.setattr(localcache, "RESYNC_SECONDS", 0.2)
    here, there = pair
    store(there, 7, 1, "yes")
    connection = there._pubsub.connection
    connection.disconnect()
    connection.connect()  # runs the connect callbacks, as a reconnection does
    assert there.get(7, 1) == (None, None)
    time.sleep(0.3)
    assert there.get(7, 1)[0] is None
    store(there, 7, 1, "again")
    here.announce(7)  # and the new subscription hears announcements
    delivered(there)
    assert there.get(7, 1)[0] is None


@needs_redis
def test_a_forked_process_starts_empty(pair, monkeypatch):
    _here, there = pair
    store(there, 7, 1, "yes")
    monkeypatch.setattr(localcache.os, "getpid", lambda: -1)
    assert there.get(7, 1)[0] is None


@needs_redis
def test_entries_expire_even_without_announcements(pair):
    _here, there = pair
    there.max_age = 0.05
    store(there, 7, 1, "yes")
    time.sleep(0.1)
    assert there.get(7, 1)[0] is None


def test_off_without_redis(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    mirror = LocalMirror("test")
    store(mirror, 7, 1, "yes")
    assert mirror.get(7, 1) == (None, None)
    mirror.announce(7)  # nothing to tell, and no error


def test_deploy_check_warns_about_a_process_local_cache(settings):
    from parta.common.checks import shared_cache_in_production

    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [w.id for w in shared_cache_in_production(None)] == ["parta.W002"]
    settings.CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": ""}}
    assert shared_cache_in_production(None) == []
