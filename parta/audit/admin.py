from django.contrib import admin

from parta.audit.models import AuditEntry


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
