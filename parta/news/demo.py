"""Two demo news posts: one for every student, one for the base course's students."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from parta.news.models import Audience, Post, PostStatus


@transaction.atomic
def seed_news(*, author, course) -> list[Post]:
    """Safe to run again: posts are found by title. They are stored as sent, without
    delivery rows, so seeding sends nothing."""
    now = timezone.now()
    posts = []
    for title, body, audience, post_course, age in (
        (
            "Новый учебный модуль начинается",
            "Занятия начинаются в **понедельник**. Курсы, уроки и задачи: на странице "
            "[Мои курсы](/my-courses/).\n\nВопросы? Ответьте на любое наше письмо.",
            Audience.ALL,
            None,
            timedelta(days=3),
        ),
        (
            f"{course.title}: разбор в четверг",
            "Разберём вместе самые трудные задачи первой темы.\n\n"
            "- Четверг, 19:00 по времени школы\n- Приходите с вопросами",
            Audience.COURSE,
            course,
            timedelta(hours=5),
        ),
    ):
        post, _created = Post.objects.get_or_create(
            title=title,
            defaults={
                "body": body,
                "author": author,
                "audience": audience,
                "course": post_course,
                "status": PostStatus.SENT,
                "published_at": now - age,
                "enqueued_at": now - age,
            },
        )
        posts.append(post)
    return posts
