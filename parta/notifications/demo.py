"""Demo bell for `seed_demo`: the demo student finds a receipt, a new topic and an
access reminder in the bell (one of them read). Idempotent: fixed dedup keys."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from parta.notifications.channels.base import Channel
from parta.notifications.models import Message, Status


def seed_bell(*, student, course) -> int:
    """Store the demo student's in-site messages as delivered; returns how many are new.
    ``course`` is any object with ``title`` and ``slug`` (notifications imports no domain)."""
    now = timezone.now()
    price = getattr(course, "price_amount", 0) or 299000
    samples = [
        (
            "receipt",
            now - timedelta(days=2),
            now - timedelta(days=1),
            {
                "order_id": 1,
                "purpose": "purchase",
                "currency": "RUB",
                "lines": [
                    {
                        "title": course.title,
                        "unit_amount": price,
                        "discount_amount": price // 10,
                        "tax_amount": 0,
                        "total": price - price // 10,
                    }
                ],
                "coupon": "WELCOME10",
                "subtotal": price,
                "discount_total": price // 10,
                "taxes": [],
                "tax_total": 0,
                "tax_included": 0,
                "total": price - price // 10,
                "provider": "sandbox",
                "paid_at": (now - timedelta(days=2)).isoformat(),
                "path": "/purchases/",
            },
        ),
        (
            "topic_opened",
            now - timedelta(hours=5),
            None,
            {
                "topic_id": 0,
                "topic": "Производная и её применение",
                "course": course.title,
                "opens_at": (now - timedelta(hours=5)).isoformat(),
                "path": f"/courses/{course.slug}/",
            },
        ),
        (
            "access_ending",
            now - timedelta(minutes=30),
            None,
            {
                "grant_id": 0,
                "course": course.title,
                "ends_at": (now + timedelta(days=3)).isoformat(),
                "days_left": 3,
                "path": f"/courses/{course.slug}/",
            },
        ),
    ]
    rows = [
        Message(
            user=student,
            kind=kind,
            channel=Channel.SITE,
            dedup_key=f"demo:{kind}",
            context=context,
            status=Status.SENT,
            created_at=created_at,
            next_attempt_at=created_at,
            sent_at=created_at,
            read_at=read_at,
        )
        for kind, created_at, read_at, context in samples
    ]
    before = Message.objects.filter(user=student, dedup_key__startswith="demo:").count()
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    return Message.objects.filter(user=student, dedup_key__startswith="demo:").count() - before
