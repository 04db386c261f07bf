from django.contrib import admin

from parta.audit.admin import AuditedAdminMixin
from parta.news.models import Post


@admin.register(Post)
class PostAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "audience", "course", "status", "published_at", "author")
    list_filter = ("status", "audience")
    search_fields = ("title",)
    raw_id_fields = ("author",)
    readonly_fields = ("enqueued_through", "enqueued_at", "cancelled_at", "published_at")
