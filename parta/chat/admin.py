"""Threads in the admin, to look at (moderators answer in the inbox, where state and
notifications follow the services): read-only, with their messages and private notes.
Staff may delete a thread (a person's data on request). Saved replies are kept here too."""

from __future__ import annotations

from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from parta.chat.models import ChatMessage, SavedReply, Thread, ThreadNote


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ChatMessageInline(_ReadOnlyInline):
    model = ChatMessage
    fields = ("created_at", "author", "from_staff", "source", "text", "attachment_name")
    readonly_fields = fields
    ordering = ("id",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


class ThreadNoteInline(_ReadOnlyInline):
    model = ThreadNote
    fields = ("created_at", "author", "text")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "short_subject",
        "kind",
        "student",
        "state",
        "assignee",
        "waiting_since",
        "last_message_at",
    )
    list_filter = ("kind", "state", "course")
    search_fields = ("subject", "student__email", "student__full_name")
    list_select_related = ("student", "assignee")
    ordering = ("-last_message_at", "-id")
    show_full_result_count = False
    inlines = [ChatMessageInline, ThreadNoteInline]
    fields = (
        "kind",
        "subject",
        "student",
        "task",
        "course",
        "state",
        "assignee",
        "created_at",
        "waiting_since",
        "last_message_at",
        "last_student_message_at",
        "last_staff_message_at",
        "closed_at",
        "solved_at",
    )
    readonly_fields = fields

    @admin.display(description=_("subject"), ordering="subject")
    def short_subject(self, thread: Thread) -> str:
        return Truncator(thread.subject).chars(60)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Viewing only: a change here would bypass the state rules and the notifications.
        return False


@admin.register(SavedReply)
class SavedReplyAdmin(admin.ModelAdmin):
    list_display = ("title", "position", "author", "created_at")
    search_fields = ("title", "text")
    ordering = ("position", "title", "id")
    fields = ("title", "text", "position")

    def save_model(self, request, obj, form, change) -> None:
        if not change and obj.author_id is None:
            obj.author = request.user
        super().save_model(request, obj, form, change)
