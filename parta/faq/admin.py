from django.contrib import admin

from parta.audit.admin import AuditedAdminMixin
from parta.faq.models import Category, Entry


@admin.register(Category)
class CategoryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "position")
    ordering = ("position", "id")


@admin.register(Entry)
class EntryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("question", "category", "position", "is_published", "updated_at")
    list_filter = ("is_published", "category")
    list_select_related = ("category",)
    search_fields = ("question",)
    ordering = ("category__position", "category_id", "position", "id")
