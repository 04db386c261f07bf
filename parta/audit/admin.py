from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models, router, transaction

from parta.audit.models import AuditEntry
from parta.audit.services import changes, record_change, snapshot


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only for everyone, superusers included: entries are never changed or deleted."""

    list_display = ("created_at", "actor_label", "action", "object_repr", "reason", "ip")
    list_filter = ("action", "actor_role")
    search_fields = ("object_repr", "actor_label", "reason", "action")
    date_hierarchy = "created_at"
    list_select_related = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        user = request.user
        return user.is_active and user.is_school_staff


class AuditedAdminMixin:
    """Django admin saves and deletes by staff write an audit entry in the admin's own
    transaction: "admin.add" (the values given), "admin.change" (only the fields changed,
    before and after), "admin.delete" (what was deleted). Inline rows added, changed or
    deleted are listed with the parent's entry. Put it before ``admin.ModelAdmin`` in the
    bases. An admin whose save goes through an audited service (GroupAdmin calls
    ``group_update``) does not use it, so a change is recorded once."""

    # Never copied into the log (a password hash is nobody's business).
    audit_exclude: tuple[str, ...] = ("password",)

    def audit_subject(self, obj):
        """The client whose card shows the entry (None: content, not a person)."""
        return None

    def _audit_fields(self, form) -> list[str]:
        names = []
        for name in form.changed_data if form.instance.pk else form.fields:
            if name in self.audit_exclude:
                continue
            try:
                form.instance._meta.get_field(name)
            except FieldDoesNotExist:
                continue  # a form-only field (a confirmation box, say)
            names.append(name)
        return names

    def save_model(self, request, obj, form, change):
        if change:
            # The form's initial values are the stored ones, taken before the form applied
            # its data to the instance.
            obj._audit_before = {name: _initial(form, name) for name in self._audit_fields(form)}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        fields = self._audit_fields(form)
        after = snapshot(obj, fields)
        before = getattr(obj, "_audit_before", {}) if change else {}
        inlines = _inline_changes(formsets)
        if change:
            before, after = changes(before, after)
        if inlines:
            after["inlines"] = inlines
        if change and not before and not after:
            return
        record_change(
            actor=request.user,
            action="admin.change" if change else "admin.add",
            obj=obj,
            subject=self.audit_subject(obj),
            before=before,
            after=after,
        )

    def _record_delete(self, request, obj) -> None:
        fields = [
            field.name
            for field in obj._meta.concrete_fields
            if field.name not in self.audit_exclude and not field.primary_key
        ]
        record_change(
            actor=request.user,
            action="admin.delete",
            obj=obj,
            subject=self.audit_subject(obj),
            before=snapshot(obj, fields),
        )

    def delete_model(self, request, obj):
        with transaction.atomic(using=router.db_for_write(obj.__class__)):
            self._record_delete(request, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic(using=router.db_for_write(queryset.model)):
            for obj in queryset:
                self._record_delete(request, obj)
            super().delete_queryset(request, queryset)


def _initial(form, name: str):
    value = form.initial.get(name)
    if isinstance(value, list | tuple):  # a many-to-many field: objects or ids
        return sorted(getattr(item, "pk", item) for item in value)
    if hasattr(value, "name") and not isinstance(value, models.Model):  # a file
        return value.name or ""
    return value


def _inline_changes(formsets) -> dict[str, list[str]]:
    summary: dict[str, list[str]] = {}
    for formset in formsets:
        for key, rows in (
            ("added", getattr(formset, "new_objects", [])),
            ("changed", [row for row, _fields in getattr(formset, "changed_objects", [])]),
            ("deleted", getattr(formset, "deleted_objects", [])),
        ):
            if rows:
                label = rows[0]._meta.verbose_name
                summary.setdefault(key, []).extend(f"{label}: {row}"[:200] for row in rows)
    return summary
