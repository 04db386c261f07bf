"""What the bot reads, through the owning apps' selectors."""

from __future__ import annotations

from parta.learning.selectors import CourseStats, course_stats, student_courses
from parta.news.models import Post
from parta.news.selectors import post_queryset_for

LATEST_NEWS = 5


def stats_for(*, user) -> list[CourseStats]:
    """The student's figures per course (the courses of the statistics page)."""
    return [course_stats(user=user, course=course) for course in student_courses(user=user)]


def latest_news(*, user, limit: int = LATEST_NEWS) -> list[Post]:
    """The newest posts ``user`` may read (as at /news/), newest first."""
    return list(post_queryset_for(user=user)[:limit])
