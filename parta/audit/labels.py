"""What an entry's action is called on the CRM's pages; an action not named here is shown
as its code. An app that records a new action adds its name here."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "access.freeze": _("Access frozen"),
    "access.grant": _("Access granted"),
    "access.revoke": _("Access switched off"),
    "access.unfreeze": _("Access unfrozen"),
    "access.update": _("Access changed"),
    "accounts.role_set": _("Role changed"),
    "accounts.block": _("Person blocked"),
    "accounts.unblock": _("Person unblocked"),
    "accounts.rename": _("Name changed"),
    "admin.add": _("Added in the admin"),
    "admin.change": _("Changed in the admin"),
    "admin.delete": _("Deleted in the admin"),
    "billing.balance_adjust": _("Balance adjusted"),
    "billing.offline_payment": _("Offline payment recorded"),
    "billing.refund": _("Refund made"),
    "billing.renewal_cancel": _("Auto-renewal turned off"),
    "catalog.course_create": _("Course created"),
    "catalog.course_update": _("Course changed"),
    "catalog.topic_create": _("Topic created"),
    "catalog.topic_update": _("Topic changed"),
    "catalog.topic_delete": _("Topic deleted"),
    "catalog.lesson_create": _("Lesson created"),
    "catalog.lesson_update": _("Lesson changed"),
    "catalog.lesson_delete": _("Lesson deleted"),
    "catalog.task_create": _("Task created"),
    "catalog.task_update": _("Task changed"),
    "catalog.task_delete": _("Task deleted"),
    "catalog.test_create": _("Test created"),
    "catalog.test_update": _("Test changed"),
    "catalog.test_delete": _("Test deleted"),
    "crm.message": _("Message sent to the client"),
    "crm.settings_update": _("Settings changed"),
    "faq.category_create": _("FAQ category created"),
    "faq.category_update": _("FAQ category changed"),
    "faq.category_delete": _("FAQ category deleted"),
    "faq.category_move": _("FAQ category moved"),
    "faq.entry_create": _("FAQ question created"),
    "faq.entry_update": _("FAQ question changed"),
    "faq.entry_delete": _("FAQ question deleted"),
    "faq.entry_move": _("FAQ question moved"),
    "groups.attendance_mark": _("Attendance marked"),
    "groups.group_size_set": _("Group size changed"),
    "groups.group_update": _("Group changed"),
    "groups.calendar_feed_rotate": _("Calendar link replaced"),
    "groups.move": _("Moved to another group"),
    "groups.session_cancel": _("Live session cancelled"),
    "groups.session_create": _("Live session planned"),
    "groups.session_move": _("Live session moved"),
    "groups.session_update": _("Live session changed"),
    "news.post_cancel": _("Broadcast cancelled"),
    "news.post_create": _("News post created"),
    "news.post_publish": _("News post published"),
    "news.post_update": _("News post changed"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))
