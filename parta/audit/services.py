"""Writing the audit log. Call `record` inside the transaction of the change it describes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction

from parta.audit.context import current_ip
from parta.audit.models import AuditEntry


def _plain(values: dict[str, Any] | None) -> dict[str, Any]:
    """JSON-safe copy: dates, decimals, UUIDs and model instances become text or ids."""
    if not values:
        return {}
    cleaned = {
        key: (value.pk if isinstance(value, models.Model) else value)
        for key, value in values.items()
    }
    return json.loads(json.dumps(cleaned, cls=DjangoJSONEncoder))


def record(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    subject=None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    ip: str | None = None,
) -> AuditEntry:
    """Append one entry. `actor` is the user acting (None: the system); `obj` the changed
    object; `subject` the client concerned (shown on their card). Must run inside the
    change's transaction so that both commit or neither does."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction of the change")
    if not action or len(action) > 64:
        raise ValueError("an audit action is a short dotted name")
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=actor_obj,
        actor_label=str(actor_obj)[:300] if actor_obj else "",
        actor_role=("staff" if actor_obj.is_school_staff else actor_obj.role) if actor_obj else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:300] if obj is not None else "",
        subject=subject,
        before=_plain(before),
        after=_plain(after),
        reason=reason.strip(),
        ip=ip if ip is not None else current_ip(),
    )


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The named fields of `obj` as an entry stores them: a relation as its id, a file as
    its name, a many-to-many field as the sorted ids."""
    values: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            ids = getattr(obj, name).values_list("pk", flat=True) if obj.pk else []
            values[name] = sorted(ids)
        elif field.is_relation:
            values[name] = getattr(obj, field.attname)
        elif isinstance(field, models.FileField):
            values[name] = getattr(obj, name).name or ""
        else:
            values[name] = getattr(obj, name)
    return _plain(values)


def changes(
    before: dict[str, Any], after: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, from both sides."""
    before, after = _plain(before), _plain(after)
    keys = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    return {k: before[k] for k in keys if k in before}, {k: after[k] for k in keys if k in after}


def is_person(actor) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


def record_change(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    subject=None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    changed_only: bool = False,
) -> AuditEntry | None:
    """`record` for a change a person made; nothing for the school itself (actor None: a
    webhook, a task, a command) since the ledger and its references trace those.
    `changed_only`: keep only the fields that changed, and write nothing when none did
    (a form saved as it was)."""
    if not is_person(actor):
        return None
    if changed_only:
        before, after = changes(before or {}, after or {})
        if not before and not after:
            return None
    return record(
        actor=actor,
        action=action,
        obj=obj,
        subject=subject,
        before=before,
        after=after,
        reason=reason,
    )
