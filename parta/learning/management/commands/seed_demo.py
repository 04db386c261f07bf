from django.core.management.base import BaseCommand

from parta.accounts.demo import DEMO_PASSWORD, seed_people
from parta.billing.demo import seed_shop
from parta.chat.demo import seed_chat
from parta.common.time import school_tz
from parta.faq.demo import seed_faq
from parta.groups.demo import seed_groups, seed_session
from parta.learning.demo import seed_courses
from parta.news.demo import seed_news
from parta.notifications.demo import seed_bell


class Command(BaseCommand):
    help = "Load Parta's demo data. Safe to run any number of times."

    def handle(self, *args, **options):
        people = seed_people()
        courses = seed_courses(people)
        shop = seed_shop(courses=[courses.base, courses.advanced])
        groups = seed_groups(course=courses.base, teacher=people.moderator, by=people.staff)
        session = seed_session(
            course=courses.base,
            teacher=people.moderator,
            by=people.moderator,
            student=people.student,
        )
        seed_news(author=people.moderator, course=courses.base)
        seed_faq()
        seed_bell(student=people.student, course=courses.base)
        seed_chat(student=people.student, moderator=people.moderator, course=courses.base)
        self.stdout.write(self.style.SUCCESS("Demo data is in place. Demo logins:"))
        self.stdout.write(
            f"  student    {people.student.email}  (sign in by code: the code is printed "
            "in this console and saved in var/mail/)"
        )
        self.stdout.write(f"  moderator  {people.moderator.email}  password: {DEMO_PASSWORD}")
        self.stdout.write(
            f"  staff      {people.staff.email}  password: {DEMO_PASSWORD}  (/admin/)"
        )
        self.stdout.write(
            f"Courses: {courses.base.title} (the demo student has access), "
            f"{courses.advanced.title}"
        )
        self.stdout.write(
            f"Study groups of {courses.base.title}: {len(groups)} groups of "
            f"{courses.base.max_group_size} seats each "
            f"(/workspace/courses/{courses.base.pk}/groups/)"
        )
        self.stdout.write(
            f"Live session: {session.starts_at.astimezone(school_tz()):%Y-%m-%d %H:%M} "
            f"(/workspace/sessions/{session.pk}/; the student's list and calendar: /sessions/)"
        )
        self.stdout.write(
            f"Shop: /item/{shop.course_items[1].pk}/ (a course), /item/{shop.plan_item.pk}/ "
            f"(a 30-day plan); coupon {shop.coupon.code}. Payments go to the sandbox."
        )
