import pytest

from parta.accounts.tests.factories import ModeratorFactory, UserFactory
from parta.common.testing.concurrency import run_together
from parta.news import services
from parta.news.models import Audience, Post, PostStatus
from parta.notifications.models import Message

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_workers_walking_one_broadcast_at_once_store_everyone_once(monkeypatch):
    import parta.notifications.services as outbox

    monkeypatch.setattr(outbox, "_start_delivery", lambda: None)
    monkeypatch.setattr(services, "_kick", lambda post_id: None)
    students = [UserFactory(verified_email=False) for _ in range(40)]
    post = services.post_create(
        author=ModeratorFactory(), title="T", body="B", audience=Audience.ALL
    )
    services.post_publish(post=post)

    _results, errors = run_together(
        4, lambda i: services.broadcast_run(post_id=post.pk, batch_size=7)
    )

    assert errors == []
    rows = Message.objects.filter(dedup_key=post.dedup_key)
    assert rows.count() == len(students) * 2  # site and email each
    assert rows.values("user", "channel").distinct().count() == rows.count()
    post = Post.objects.get(pk=post.pk)
    assert post.enqueued_at is not None
    assert post.status == PostStatus.SENDING


def test_cancel_while_a_worker_walks_leaves_nothing_queued(monkeypatch):
    import parta.notifications.services as outbox

    monkeypatch.setattr(outbox, "_start_delivery", lambda: None)
    monkeypatch.setattr(services, "_kick", lambda post_id: None)
    for _ in range(30):
        UserFactory(verified_email=False)
    post = services.post_create(
        author=ModeratorFactory(), title="T", body="B", audience=Audience.ALL
    )
    services.post_publish(post=post)

    def work(i):
        if i == 0:
            services.broadcast_run(post_id=post.pk, batch_size=3)
        else:
            services.post_cancel(post=post)

    _results, errors = run_together(2, work)
    assert errors == []
    # Whatever order they ran in, no row is left waiting to go out.
    assert not Message.objects.filter(dedup_key=post.dedup_key, status="queued").exists()
