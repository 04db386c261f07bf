import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from parta.news import services
from parta.news.models import Audience, Post, PostStatus

pytestmark = pytest.mark.django_db


def _sent(moderator, **kwargs):
    fields = {"title": "Exams", "body": "On **Friday**.", "audience": Audience.ALL}
    fields.update(kwargs)
    post = services.post_create(author=moderator, **fields)
    Post.objects.filter(pk=post.pk).update(status=PostStatus.SENT, published_at=timezone.now())
    return post


@pytest.fixture
def api():
    return APIClient()


def test_the_list_is_the_callers_posts_paged(api, moderator, course, other_course, student):
    _sent(moderator, title="Everyone")
    mine = _sent(moderator, title="Algebra", audience=Audience.COURSE, course=course)
    _sent(moderator, title="Geometry", audience=Audience.COURSE, course=other_course)
    api.force_authenticate(student)
    body = api.get("/api/v1/news/?limit=1").json()
    assert body["count"] == 2
    assert body["next"]
    assert [p["title"] for p in body["results"]] == ["Algebra"]
    assert body["results"][0]["course"] == {"id": course.pk, "title": "Algebra"}
    assert body["results"][0]["id"] == mine.pk


def test_detail_and_its_errors(api, moderator, other_course, student):
    post = _sent(moderator)
    hidden = _sent(moderator, audience=Audience.COURSE, course=other_course)
    assert api.get(f"/api/v1/news/{post.pk}/").status_code == 401
    api.force_authenticate(student)
    body = api.get(f"/api/v1/news/{post.pk}/").json()
    assert body["body"] == "On **Friday**."
    assert "<strong>Friday</strong>" in body["body_html"]
    assert body["image_url"] == ""
    missing = api.get(f"/api/v1/news/{hidden.pk}/")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_news_is_in_the_schema_with_its_errors(api):
    schema = api.get("/api/schema/?format=json").json()
    listing = schema["paths"]["/api/v1/news/"]["get"]
    assert listing["operationId"] == "news_list"
    assert {"200", "401", "403"} <= set(listing["responses"])
    assert "PaginatedPostOutList" in str(listing["responses"]["200"])
    detail = schema["paths"]["/api/v1/news/{id}/"]["get"]
    assert {"200", "401", "403", "404"} <= set(detail["responses"])
