from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from parta.access.tests.factories import AccessGrantFactory
from parta.accounts.tests.factories import UserFactory
from parta.news import services
from parta.news.models import Audience, Post, PostStatus
from parta.notifications.models import Message, Status

pytestmark = pytest.mark.django_db


def _sent(moderator, **kwargs):
    fields = {"title": "Exams", "body": "On **Friday**.", "audience": Audience.ALL}
    fields.update(kwargs)
    post = services.post_create(author=moderator, **fields)
    Post.objects.filter(pk=post.pk).update(
        status=PostStatus.SENT, published_at=timezone.now(), enqueued_at=timezone.now()
    )
    post.refresh_from_db()
    return post


@pytest.mark.parametrize(
    "path",
    [
        "/workspace/news/",
        "/workspace/news/new/",
    ],
)
def test_students_get_403_in_the_news_workspace(client, student, path):
    client.force_login(student)
    assert client.get(path).status_code == 403
    assert client.post(path, {"title": "x"}).status_code == 403


def test_students_cannot_cancel_or_watch_a_broadcast(client, student, moderator, no_delivery):
    post = _sent(moderator)
    client.force_login(student)
    assert client.get(f"/workspace/news/{post.pk}/progress/").status_code == 403
    assert client.post(f"/workspace/news/{post.pk}/cancel/").status_code == 403


def test_form_errors_are_shown_not_500(client, moderator):
    client.force_login(moderator)
    response = client.post(
        "/workspace/news/new/", {"title": "", "body": "x" * 10_000, "audience": "all",
                                 "action": "publish"}
    )  # fmt: skip
    assert response.status_code == 200
    page = response.content.decode()
    assert "Дайте новости заголовок." in page
    assert "В тексте может быть не больше 5 000 символов, а в этом 10000." in page
    response = client.post(
        "/workspace/news/new/",
        {
            "title": "Later",
            "body": "Text",
            "audience": "course",
            "publish_at": "2020-01-01T10:00",
            "action": "publish",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert not Post.objects.exists()
    assert "Выберите курс, ученики которого получат новость." in page
    response = client.post(
        "/workspace/news/new/",
        {"title": "Later", "body": "Text", "audience": "all",
         "publish_at": "2020-01-01T10:00", "action": "publish"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "Это время уже прошло. Выберите время в будущем." in response.content.decode()
    assert not Post.objects.exists()  # the draft is not kept half-done either


def test_a_moderator_writes_a_draft_then_publishes_it(client, moderator, course, no_delivery):
    client.force_login(moderator)
    response = client.post(
        "/workspace/news/new/",
        {"title": "Exams", "body": "On Friday", "audience": "course", "course": course.pk,
         "action": "draft"},
    )  # fmt: skip
    post = Post.objects.get()
    assert response.status_code == 302
    assert post.status == PostStatus.DRAFT
    assert post.author == moderator
    assert client.get(f"/workspace/news/{post.pk}/edit/").status_code == 200
    when = (timezone.now() + timedelta(days=1)).astimezone(timezone.get_current_timezone())
    client.post(
        f"/workspace/news/{post.pk}/edit/",
        {"title": "Exams!", "body": "On Friday", "audience": "course", "course": course.pk,
         "publish_at": when.strftime("%Y-%m-%dT%H:%M"), "action": "publish"},
    )  # fmt: skip
    post.refresh_from_db()
    assert post.title == "Exams!"
    assert post.status == PostStatus.SCHEDULED
    response = client.post(f"/workspace/news/{post.pk}/cancel/")
    post.refresh_from_db()
    assert post.status == PostStatus.CANCELLED
    assert client.get("/workspace/news/").status_code == 200


def test_progress_polls_while_sending_and_stops_when_done(client, moderator, no_delivery):
    UserFactory()
    post = services.post_publish(
        post=services.post_create(author=moderator, title="T", body="B", audience="all")
    )
    services.broadcast_run(post_id=post.pk)
    client.force_login(moderator)
    fragment = client.get(f"/workspace/news/{post.pk}/progress/").content.decode()
    assert 'hx-trigger="every 2s"' in fragment
    assert "<progress" in fragment
    assert "<script" not in fragment
    Message.objects.filter(dedup_key=post.dedup_key).update(status=Status.SENT)
    fragment = client.get(f"/workspace/news/{post.pk}/progress/").content.decode()
    assert "hx-trigger" not in fragment
    assert 'data-finished="true"' in fragment
    post.refresh_from_db()
    assert post.status == PostStatus.SENT
    detail = client.get(f"/workspace/news/{post.pk}/").content.decode()
    assert "<script" not in detail.split("</head>")[1]


def test_news_shows_each_student_their_posts(
    client, moderator, course, other_course, student, other_student
):
    _sent(moderator, title="For all")
    _sent(moderator, title="For algebra", audience=Audience.COURSE, course=course)
    _sent(moderator, title="For geometry", audience=Audience.COURSE, course=other_course)
    services.post_create(author=moderator, title="A draft", body="x", audience="all")

    client.force_login(student)
    page = client.get("/news/").content.decode()
    assert "For all" in page
    assert "For algebra" in page
    assert "For geometry" not in page
    assert "A draft" not in page
    geometry = Post.objects.get(title="For geometry")
    assert client.get(f"/news/{geometry.pk}/").status_code == 404
    algebra = Post.objects.get(title="For algebra")
    detail = client.get(f"/news/{algebra.pk}/").content.decode()
    assert "<strong>Friday</strong>" in detail

    client.force_login(moderator)
    page = client.get("/news/").content.decode()
    assert "For geometry" in page
    assert "For algebra" in page


def test_a_post_someone_was_sent_stays_readable_after_their_access_ends(client, moderator, course):
    lapsed = UserFactory()
    AccessGrantFactory(
        user=lapsed,
        course=course,
        starts_at=timezone.now() - timedelta(days=9),
        available_until=timezone.now() - timedelta(days=1),
    )
    post = _sent(moderator, audience=Audience.COURSE, course=course)
    client.force_login(lapsed)
    assert client.get(f"/news/{post.pk}/").status_code == 404
    Message.objects.create(user=lapsed, kind="news", channel="site", dedup_key=post.dedup_key)
    assert client.get(f"/news/{post.pk}/").status_code == 200


def test_scripts_in_markdown_never_reach_the_page(client, moderator, student):
    post = _sent(moderator, body="Hi <script>alert(1)</script> [x](javascript:alert(2))")
    client.force_login(student)
    page = client.get(f"/news/{post.pk}/").content.decode()
    body = page.split('class="news-body"')[1]
    assert "<script>alert" not in body
    assert "javascript:" not in body


def test_news_list_query_count_does_not_grow(client, moderator, course, student):
    for i in range(3):
        _sent(moderator, title=f"Post {i}", audience=Audience.COURSE, course=course)
    client.force_login(student)
    client.get("/news/")  # warm the session

    def count():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/news/").status_code == 200
        return len(ctx.captured_queries)

    # Session and user, the bell's unread count, the reader's courses, the page's count
    # and its posts.
    assert count() == 6
    for i in range(25):
        _sent(moderator, title=f"More {i}")
    assert count() == 6


def test_news_needs_signing_in(client):
    response = client.get("/news/")
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"] or "login" in response["Location"]


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_an_image_is_checked_and_shown_by_a_signed_link(
    client, moderator, student, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = str(tmp_path)
    client.force_login(moderator)
    response = client.post(
        "/workspace/news/new/",
        {"title": "Pic", "body": "B", "audience": "all", "action": "draft",
         "image": SimpleUploadedFile("virus.png", b"MZ not an image")},
    )  # fmt: skip
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Post.objects.exists()
    client.post(
        "/workspace/news/new/",
        {"title": "Pic", "body": "B", "audience": "all", "action": "draft",
         "image": SimpleUploadedFile("board.png", PNG)},
    )  # fmt: skip
    post = Post.objects.get()
    assert post.image.name.startswith("news/")
    Post.objects.filter(pk=post.pk).update(status=PostStatus.SENT, published_at=timezone.now())
    client.force_login(student)
    page = client.get(f"/news/{post.pk}/").content.decode()
    assert 'class="news-image" src="' in page
    assert "/files/" in page
