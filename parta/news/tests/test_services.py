from datetime import timedelta

import pytest
from django.utils import timezone

from parta.access.models import AccessFreeze
from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import UserFactory
from parta.common.errors import Conflict, ValidationFailed
from parta.news import services
from parta.news.models import BODY_MAX_LENGTH, Audience, Post, PostStatus
from parta.news.selectors import audience_students, broadcast_progress
from parta.notifications.models import Message, Status

pytestmark = pytest.mark.django_db


def _post(moderator, **kwargs):
    fields = {"title": "Exams", "body": "On **Friday**.", "audience": Audience.ALL}
    fields.update(kwargs)
    return services.post_create(author=moderator, **fields)


def test_empty_title_and_body_are_refused_with_reasons(moderator):
    with pytest.raises(ValidationFailed) as caught:
        services.post_create(author=moderator, title="  ", body="", audience=Audience.ALL)
    assert caught.value.errors == {
        "title": ["Give the post a title."],
        "body": ["Write the text of the post."],
    }
    assert not Post.objects.exists()


def test_a_body_over_the_limit_names_the_limit(moderator):
    with pytest.raises(ValidationFailed) as caught:
        _post(moderator, body="x" * 10_000)
    [message] = caught.value.errors["body"]
    assert "at most 5 000 characters" in message
    assert "10000" in message
    assert _post(moderator, body="x" * BODY_MAX_LENGTH).body == "x" * BODY_MAX_LENGTH


def test_a_course_audience_needs_its_course(moderator, course):
    with pytest.raises(ValidationFailed) as caught:
        _post(moderator, audience=Audience.COURSE)
    assert "course" in caught.value.errors
    # Another audience drops a course given by mistake.
    assert _post(moderator, audience=Audience.ALL, course=course).course is None


def test_scheduling_in_the_past_is_refused(moderator):
    post = _post(moderator)
    with pytest.raises(ValidationFailed) as caught:
        services.post_publish(post=post, at=timezone.now() - timedelta(minutes=1))
    assert "publish_at" in caught.value.errors
    post.refresh_from_db()
    assert post.status == PostStatus.DRAFT


def test_audiences(moderator, course, other_course, student, other_student):
    lapsed = UserFactory(email="lapsed@example.com")
    AccessGrantFactory(
        user=lapsed,
        course=course,
        starts_at=timezone.now() - timedelta(days=30),
        available_until=timezone.now() - timedelta(days=1),
    )
    paused = UserFactory(email="paused@example.com")
    grant = AccessGrantFactory(
        user=paused, course=course, available_until=timezone.now() + timedelta(days=30)
    )
    AccessFreeze.objects.create(
        grant=grant,
        starts_at=timezone.now() - timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=5),
        days=6,
    )
    UserFactory(email="nogrant@example.com")

    def emails(post):
        return set(audience_students(post=post).values_list("email", flat=True))

    everyone = {"ann@example.com", "bob@example.com", "lapsed@example.com",
                "paused@example.com", "nogrant@example.com"}  # fmt: skip
    assert emails(_post(moderator)) == everyone  # the moderator is not a recipient
    assert emails(_post(moderator, audience=Audience.ACTIVE)) == {
        "ann@example.com",
        "bob@example.com",
    }
    assert emails(_post(moderator, audience=Audience.COURSE, course=course)) == {"ann@example.com"}


def _students(n):
    return [UserFactory(email=f"s{i}@example.com", verified_email=False) for i in range(n)]


def test_a_broadcast_creates_every_row_in_batches_and_resumes_without_doubles(
    moderator, no_delivery
):
    students = _students(7)
    students[2].telegram_chat_id = 1002
    students[2].save()
    post = _post(moderator)
    services.post_publish(post=post)
    post.refresh_from_db()
    assert post.status == PostStatus.SENDING

    # Two batches of three, then the worker "dies".
    assert services.broadcast_step(post_id=post.pk, batch_size=3) is True
    assert services.broadcast_step(post_id=post.pk, batch_size=3) is True
    post.refresh_from_db()
    assert post.enqueued_through == students[5].pk
    assert post.enqueued_at is None
    # A batch that stored rows but whose cursor did not move (killed before commit of
    # the cursor cannot happen: both are one transaction); rerunning from an older
    # cursor stores nobody twice either.
    Post.objects.filter(pk=post.pk).update(enqueued_through=students[1].pk)
    services.broadcast_run(post_id=post.pk, batch_size=3)
    services.broadcast_run(post_id=post.pk, batch_size=3)  # a second worker: no-op

    post.refresh_from_db()
    assert post.enqueued_at is not None
    rows = Message.objects.filter(dedup_key=f"news:{post.pk}")
    # Site and email for each; Telegram only for the linked one.
    assert rows.count() == 7 * 2 + 1
    assert rows.filter(channel="telegram").get().user_id == students[2].pk
    assert set(rows.values_list("kind", flat=True)) == {"news"}
    email_row = rows.filter(channel="email", user=students[0]).get()
    assert email_row.context["title"] == "Exams"
    assert email_row.context["excerpt"] == "On Friday."


def test_news_emails_carry_one_click_unsubscribe(moderator, no_delivery, mailoutbox):
    from parta.notifications.tasks import deliver_due

    reader = UserFactory(email="reader@example.com")
    post = services.post_publish(post=_post(moderator))
    services.broadcast_run(post_id=post.pk)
    deliver_due()
    [email] = [m for m in mailoutbox if m.to == ["reader@example.com"]]
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = email.extra_headers["List-Unsubscribe"]
    assert link.startswith("<http")
    assert "/news/unsubscribe/" in link
    html = email.alternatives[0][0]
    assert link.strip("<>") in html
    assert email.subject == "Exams"
    assert set(
        Message.objects.filter(dedup_key=post.dedup_key, user=reader).values_list(
            "channel", "status"
        )
    ) == {("email", Status.SENT), ("site", Status.SENT)}


def test_progress_counts_rows_and_settles_to_sent(moderator, no_delivery):
    _students(3)
    post = services.post_publish(post=_post(moderator))
    services.broadcast_run(post_id=post.pk)
    post.refresh_from_db()
    progress = broadcast_progress(post=post)
    assert (progress.waiting, progress.total, progress.finished) == (6, 6, False)
    rows = Message.objects.filter(dedup_key=post.dedup_key).order_by("id")
    Message.objects.filter(pk__in=[r.pk for r in rows[:3]]).update(status=Status.SENT)
    Message.objects.filter(pk=rows[3].pk).update(status=Status.FAILED)
    Message.objects.filter(pk=rows[4].pk).update(status=Status.SKIPPED)
    Message.objects.filter(pk=rows[5].pk).update(status=Status.SENDING)
    progress = broadcast_progress(post=post)
    assert (progress.sent, progress.failed, progress.skipped, progress.waiting) == (3, 1, 1, 1)
    assert progress.percent == 83
    assert services.broadcast_settle(post=post).status == PostStatus.SENDING
    Message.objects.filter(pk=rows[5].pk).update(status=Status.SENT)
    assert services.broadcast_settle(post=post).status == PostStatus.SENT
    assert broadcast_progress(post=post).finished


def test_cancel_skips_queued_rows_and_leaves_sending_ones(moderator, no_delivery):
    _students(3)
    post = services.post_publish(post=_post(moderator))
    services.broadcast_step(post_id=post.pk, batch_size=2)
    rows = list(Message.objects.filter(dedup_key=post.dedup_key).order_by("id"))
    Message.objects.filter(pk=rows[0].pk).update(status=Status.SENDING)
    Message.objects.filter(pk=rows[1].pk).update(status=Status.SENT)

    services.post_cancel(post=post)

    statuses = dict(Message.objects.filter(dedup_key=post.dedup_key).values_list("pk", "status"))
    assert statuses[rows[0].pk] == Status.SENDING
    assert statuses[rows[1].pk] == Status.SENT
    assert {statuses[r.pk] for r in rows[2:]} == {Status.SKIPPED}
    assert set(
        Message.objects.filter(dedup_key=post.dedup_key, status=Status.SKIPPED).values_list(
            "last_error", flat=True
        )
    ) == {"cancelled"}
    # The rest of the audience is never enqueued.
    services.broadcast_run(post_id=post.pk)
    assert Message.objects.filter(dedup_key=post.dedup_key).count() == len(rows)
    with pytest.raises(Conflict):
        services.post_cancel(post=post)


def test_a_scheduled_post_goes_out_when_due_and_stalled_broadcasts_resume(moderator, no_delivery):
    _students(2)
    post = services.post_publish(post=_post(moderator), at=timezone.now() + timedelta(hours=1))
    assert post.status == PostStatus.SCHEDULED
    assert services.posts_publish_due() == 0
    assert services.posts_publish_due(now=timezone.now() + timedelta(hours=2)) == 1
    post.refresh_from_db()
    assert post.status == PostStatus.SENDING
    assert post.published_at is not None
    # No worker ran (on-commit callbacks held): the next beat resumes it.
    assert not Message.objects.filter(dedup_key=post.dedup_key).exists()
    assert services.posts_publish_due() == 1  # the broadcast task runs again (eagerly here)
    assert Message.objects.filter(dedup_key=post.dedup_key).count() == 4
    post.refresh_from_db()
    assert post.enqueued_at is not None


def test_a_sent_post_cannot_be_edited(moderator, no_delivery):
    post = services.post_publish(post=_post(moderator))
    with pytest.raises(Conflict):
        services.post_update(post=post, title="New", body="Text", audience=Audience.ALL)


def test_cancel_after_a_worker_reserved_rows_keeps_it_from_sending_them(moderator, no_delivery):
    from parta.notifications.delivery import message_start, messages_reserve

    _students(2)
    post = services.post_publish(post=_post(moderator))
    services.broadcast_run(post_id=post.pk)
    reserved = messages_reserve(limit=10)
    assert len(reserved) == 4
    assert message_start(reserved[0]) is True  # this one is on its way

    services.post_cancel(post=post)

    assert [message_start(row) for row in reserved[1:]] == [False, False, False]
    statuses = sorted(
        Message.objects.filter(dedup_key=post.dedup_key).values_list("status", flat=True)
    )
    assert statuses == [Status.SENDING, Status.SKIPPED, Status.SKIPPED, Status.SKIPPED]
