import pytest

from parta.news import services
from parta.news.models import Audience
from parta.notifications.models import Message
from parta.notifications.rendering import render_message

pytestmark = pytest.mark.django_db


def test_news_renders_for_every_channel_in_the_readers_language(moderator, no_delivery):
    from parta.accounts.tests.factories import UserFactory

    reader = UserFactory(language="ru")
    post = services.post_publish(
        post=services.post_create(
            author=moderator,
            title="Экзамены & зачёты",
            body="В **пятницу**. <script>alert(1)</script>",
            audience=Audience.ALL,
        )
    )
    services.broadcast_run(post_id=post.pk)
    row = Message.objects.get(user=reader, channel="email")
    rendered = render_message(user=reader, kind="news", context=row.context)
    assert rendered.subject == "Экзамены & зачёты"
    assert "В пятницу." in rendered.text
    assert f"/news/{post.pk}/" in rendered.text
    assert "<strong>пятницу</strong>" in rendered.html
    assert "<script" not in rendered.html
    assert "/news/unsubscribe/" in rendered.html
    assert "Отписаться" in rendered.html or "Unsubscribe" in rendered.html
