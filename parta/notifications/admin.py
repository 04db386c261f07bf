"""The outbox for staff: what was sent to whom, what failed and why, and a resend for the
messages that failed or whose fate is unknown."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from parta.notifications.models import Message, Status
from parta.notifications.services import messages_resend

RESENDABLE = (Status.FAILED, Status.UNKNOWN)


@admin.action(description=_("Resend selected failed or unknown messages"), permissions=["change"])
def resend(modeladmin, request, queryset):
    resendable = queryset.filter(status__in=RESENDABLE)
    if request.POST.get("confirmed") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": _("Resend messages?"),
            "opts": modeladmin.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "selected": queryset.values_list("pk", flat=True),
            "resendable": resendable.select_related("user").order_by("pk"),
            "left_alone": queryset.exclude(status__in=RESENDABLE).count(),
        }
        return TemplateResponse(request, "admin/notifications/message/resend.html", context)
    count = messages_resend(ids=resendable.values_list("pk", flat=True))
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d message is queued again.",
            "%(count)d messages are queued again.",
            count,
        )
        % {"count": count},
        messages.SUCCESS if count else messages.WARNING,
    )
    return None


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    # The error beside the status, so that a narrow screen still shows what went wrong.
    list_display = ("created_at", "status", "error", "recipient", "kind", "channel", "attempts")
    list_filter = ("status", "kind", "channel")
    search_fields = ("user__email", "dedup_key")
    list_select_related = ("user",)
    ordering = ("-created_at", "-id")
    actions = [resend]
    show_full_result_count = False
    fields = (
        "user",
        "kind",
        "channel",
        "dedup_key",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_until",
        "last_error",
        "peer_id",
        "context",
        "created_at",
        "sent_at",
        "read_at",
    )
    readonly_fields = fields

    @admin.display(description=_("recipient"), ordering="user__email")
    def recipient(self, obj: Message) -> str:
        return obj.user.email

    @admin.display(description=_("last error"))
    def error(self, obj: Message) -> str:
        return Truncator(obj.last_error).chars(60)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
