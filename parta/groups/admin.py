"""Study groups in the admin: fill per group, the students now and who left. Names and
teachers are saved through parta.groups.services (seat counts are never written here);
students are moved on the groups pages, where the size rules are checked."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from parta.common.errors import ApplicationError
from parta.groups.calendar_feeds import feed_rotate
from parta.groups.models import CalendarFeed, Group, Invitation, LiveSession, Membership
from parta.groups.selectors import teacher_choices
from parta.groups.services import group_update


class GroupAdminForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = ("name", "teacher")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teacher"].queryset = teacher_choices()


class CurrentMembershipInline(admin.TabularInline):
    model = Membership
    verbose_name = _("student now")
    verbose_name_plural = _("students now")
    fields = ("student", "started_at", "placed_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(ended_at=None)
            .select_related("student", "placed_by")
        )

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    form = GroupAdminForm
    list_display = ("__str__", "course", "teacher", "fill", "is_full")
    list_filter = ("course",)
    list_select_related = ("course", "teacher")
    search_fields = ("name", "course__title", "teacher__full_name")
    readonly_fields = ("course", "number", "fill")
    fields = ("course", "number", "name", "teacher", "fill")
    inlines = [CurrentMembershipInline]
    ordering = ("course", "number")

    @admin.display(description=_("students / seats"))
    def fill(self, obj: Group) -> str:
        return f"{obj.members_count} / {obj.course.max_group_size}"

    @admin.display(description=_("full"), boolean=True)
    def is_full(self, obj: Group) -> bool:
        return obj.members_count >= obj.course.max_group_size

    def has_add_permission(self, request):
        return False  # groups are made by placement, in batches

    def has_delete_permission(self, request, obj=None):
        return False  # their memberships are history

    def save_model(self, request, obj, form, change):
        try:
            group_update(
                group=obj,
                by=request.user,
                name=form.cleaned_data.get("name", ""),
                teacher=form.cleaned_data.get("teacher"),
            )
        except ApplicationError as exc:  # a race with another rename lands here
            raise forms.ValidationError(exc.message) from exc
        obj.refresh_from_db()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Read-only: who was in which group, from when to when, and why it ended."""

    list_display = ("student", "group", "course", "started_at", "ended_at", "end_reason")
    list_filter = ("end_reason", "course")
    list_select_related = ("student", "group", "course")
    search_fields = ("student__email", "student__full_name", "group__name")
    date_hierarchy = "started_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InvitationInline(admin.TabularInline):
    model = Invitation
    fields = ("user", "response", "responded_at", "attended")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LiveSession)
class LiveSessionAdmin(admin.ModelAdmin):
    """Read-only here: sessions are made, moved and cancelled through parta.groups.sessions,
    which invites and tells the members."""

    list_display = ("course", "starts_at", "duration_minutes", "teacher", "cancelled_at")
    list_filter = ("course",)
    list_select_related = ("course", "teacher")
    date_hierarchy = "starts_at"
    readonly_fields = (
        "course",
        "groups",
        "teacher",
        "starts_at",
        "duration_minutes",
        "meeting_url",
        "description",
        "cancelled_at",
        "created_by",
    )
    fields = readonly_fields
    inlines = [InvitationInline]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    """Who has a calendar link and since when; the token is never shown. A new link (the
    action) or deleting the row makes the old address answer 404."""

    list_display = ("user", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__email", "user__full_name")
    date_hierarchy = "created_at"
    fields = ("user", "created_at")
    readonly_fields = fields
    actions = ["make_new_links"]

    def has_add_permission(self, request) -> bool:
        return False  # made when the person first asks for it

    @admin.action(description=_("Make new links (the old ones stop working)"))
    def make_new_links(self, request, queryset):
        count = 0
        for feed in queryset.select_related("user").order_by("pk"):
            feed_rotate(user=feed.user, actor=request.user)
            count += 1
        self.message_user(
            request,
            _("New links made: %(count)d.") % {"count": count},
            messages.SUCCESS,
        )
