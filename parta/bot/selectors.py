"""What the bot reads, through the owning apps' selectors."""

from __future__ import annotations

from parta.learning.selectors import CourseStats, course_stats, student_courses


def stats_for(*, user) -> list[CourseStats]:
    """The student's figures per course (the courses of the statistics page)."""
    return [course_stats(user=user, course=course) for course in student_courses(user=user)]
