import io

import pytest
from django.core.management import call_command

from parta.accounts.demo import DEMO_STUDENT_EMAIL
from parta.accounts.models import User
from parta.news.models import Audience, Post
from parta.news.selectors import post_queryset_for
from parta.notifications.models import Message

pytestmark = pytest.mark.django_db


def test_the_seed_has_two_news_posts_the_demo_student_reads():
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    posts = list(Post.objects.order_by("published_at"))
    assert len(posts) == 2
    assert {post.audience for post in posts} == {Audience.ALL, Audience.COURSE}
    student = User.objects.get(email=DEMO_STUDENT_EMAIL)
    assert len(post_queryset_for(user=student)) == 2
    # Seeding sends nothing.
    assert not Message.objects.filter(kind="news").exists()
