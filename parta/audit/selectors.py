"""Reading the audit log: the CRM's filtered list and a client's history."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from parta.audit.models import AuditEntry


def _person(field: str, value: str) -> Q:
    """A person given by id or by email (any case)."""
    value = value.strip()
    if value.isdigit():
        return Q(**{f"{field}_id": int(value)})
    return Q(**{f"{field}__email__iexact": value})


def audit_list(
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    subject: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[AuditEntry]:
    """Entries newest first. ``actor``/``subject``: an id or an email; ``action``: a full
    name ("catalog.course_update") or a prefix ending in a dot ("catalog."); ``since`` is
    inclusive, ``until`` exclusive. The subject comes joined, so a page is one query."""
    entries = AuditEntry.objects.select_related("subject").order_by("-created_at", "-id")
    if actor:
        entries = entries.filter(_person("actor", actor))
    if action:
        if action.endswith("."):
            entries = entries.filter(action__startswith=action)
        else:
            entries = entries.filter(action=action)
    if object_type:
        entries = entries.filter(object_type=object_type)
    if object_id:
        entries = entries.filter(object_id=object_id)
    if subject:
        entries = entries.filter(_person("subject", subject))
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    return entries


def audit_for_subject(*, subject, limit: int = 50) -> list[AuditEntry]:
    """What staff and moderators did about this client, newest first (one query)."""
    return list(
        AuditEntry.objects.filter(subject_id=subject.pk).order_by("-created_at", "-id")[:limit]
    )
