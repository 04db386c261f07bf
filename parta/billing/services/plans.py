"""A plan whose courses change: the buyers whose plan is still running get the courses
added to it, on the same terms as the courses they already have. A course taken out of
a plan stays with those who bought the plan while it was in (they paid for it)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from parta.access.models import AccessFreeze, AccessGrant, GrantSource
from parta.access.services import GrantSpec, access_grants_create_many
from parta.billing.models import OrderLine, OrderStatus, Plan
from parta.billing.services.fulfilment import line_reference
from parta.billing.services.refunds import line_id_of


@transaction.atomic
def plan_courses_extend(*, plan: Plan) -> int:
    """Give every running purchase of ``plan`` the plan's courses it lacks: the same
    start, end, freeze limit and days frozen as its other courses, and a running freeze
    too when the purchase is paused now. Idempotent. Returns the number of grants made.

    Running means a paid line of the plan with an active grant that has not ended; a
    refunded or expired purchase gets nothing. A few queries, however many buyers."""
    now = timezone.now()
    course_ids = set(plan.courses.values_list("id", flat=True))
    lines = dict(
        OrderLine.objects.filter(item__plan=plan, order__status=OrderStatus.PAID).values_list(
            "id", "order__user_id"
        )
    )
    if not lines or not course_ids:
        return 0
    running = AccessGrant.objects.filter(
        source=GrantSource.PLAN,
        user_id__in=set(lines.values()),
        is_active=True,
        available_until__gt=now,
        reference__startswith="order-line:",
    )
    # Per running line: the courses it has, and one of its grants as the model.
    has: dict[int, set[int]] = {}
    model: dict[int, AccessGrant] = {}
    for grant in running:
        line_id = line_id_of(grant)
        if line_id in lines:
            has.setdefault(line_id, set()).add(grant.course_id)
            model.setdefault(line_id, grant)
    specs = [
        GrantSpec(
            user_id=lines[line_id],
            course_id=course_id,
            source=GrantSource.PLAN,
            starts_at=model[line_id].starts_at,
            available_until=model[line_id].available_until,
            freeze_limit_days=model[line_id].freeze_limit_days,
            frozen_days=model[line_id].frozen_days,
            reference=line_reference(line_id, course_id),
            note=f"{model[line_id].note} (added to the plan later)".strip(),
        )
        for line_id, courses in has.items()
        for course_id in sorted(course_ids - courses)
    ]
    if not specs:
        return 0
    before = AccessGrant.objects.filter(reference__in=[spec.reference for spec in specs])
    existing = set(before.values_list("reference", flat=True))
    access_grants_create_many(specs)
    made = AccessGrant.objects.filter(
        reference__in=[spec.reference for spec in specs if spec.reference not in existing]
    )
    _copy_running_freezes(list(made), model, now)
    return len(specs) - len(existing)


def _copy_running_freezes(grants: list[AccessGrant], model: dict[int, AccessGrant], now) -> None:
    """A new grant of a paused purchase is paused the same way, so unfreezing the
    purchase (which ends every running freeze of its grants) resumes it too."""
    model_ids = {grant.pk: model[line_id_of(grant)].pk for grant in grants}
    running = {
        freeze.grant_id: freeze
        for freeze in AccessFreeze.objects.filter(
            grant_id__in=set(model_ids.values()), ended_at__isnull=True, ends_at__gt=now
        )
    }
    AccessFreeze.objects.bulk_create(
        AccessFreeze(
            grant=grant,
            starts_at=freeze.starts_at,
            ends_at=freeze.ends_at,
            days=freeze.days,
            created_by_id=freeze.created_by_id,
        )
        for grant in grants
        if (freeze := running.get(model_ids[grant.pk])) is not None
    )
