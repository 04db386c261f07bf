"""Plain Django admin for the catalogue, for staff. Moderators build courses in the
workspace (parta.catalog.workspace), where the services check every rule; the admin
checks uploads and what the database itself enforces."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from parta.audit.admin import AuditedAdminMixin
from parta.catalog.models import Author, Course, Lesson, Task, TaskChoice, Test, Topic
from parta.catalog.uploads import validate_cover_image, validate_video_upload
from parta.common.live import live


class CourseAdminForm(forms.ModelForm):
    class Meta:
        model = Course
        fields = (
            "title",
            "slug",
            "track",
            "description",
            "cover",
            "authors",
            "price_amount",
            "price_currency",
            "is_published",
            "position",
            "max_group_size",
        )

    def clean_cover(self):
        cover = self.cleaned_data.get("cover")
        if cover and cover != self.initial.get("cover"):
            validate_cover_image(cover)
        return cover


class LessonAdminForm(forms.ModelForm):
    video_url = forms.URLField(
        label=_("external video URL"), required=False, assume_scheme="https"
    )

    class Meta:
        model = Lesson
        fields = ("topic", "title", "position", "body", "video", "video_url", "is_free_preview")

    def clean_video(self):
        video = self.cleaned_data.get("video")
        if video and video != self.initial.get("video"):
            validate_video_upload(video)
        return video


class TopicInline(admin.TabularInline):
    model = Topic
    fields = ("title", "position", "opens_at")
    extra = 0
    show_change_link = True


class LessonInline(admin.TabularInline):
    model = Lesson
    form = LessonAdminForm
    fields = ("title", "position", "video_url", "is_free_preview")
    extra = 0
    show_change_link = True


class TestInline(admin.TabularInline):
    model = Test
    fields = ("title", "position", "time_limit_minutes")
    extra = 0
    show_change_link = True


class TaskInline(admin.TabularInline):
    """Tasks are added on their own page, where the statement and choices are."""

    model = Task
    fields = ("title", "position", "kind", "points", "test")
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None and "test" in formset.form.base_fields:
            # A task's test must be one of its topic's tests.
            formset.form.base_fields["test"].queryset = Test.objects.filter(topic=obj)
        return formset


class TestTaskInline(TaskInline):
    fields = ("title", "position", "kind", "points")


class TaskAdminForm(forms.ModelForm):
    class Meta:
        model = Task
        fields = (
            "topic",
            "test",
            "title",
            "position",
            "statement",
            "kind",
            "points",
            "answer_text",
            "answer_number",
            "tolerance",
            "solution",
            "solution_visibility",
            "solution_after_attempts",
            "chat_ask_after",
        )

    def clean(self):
        cleaned = super().clean()
        topic, test = cleaned.get("topic"), cleaned.get("test")
        if topic is not None and test is not None and test.topic_id != topic.pk:
            self.add_error("test", _("This test belongs to another topic."))
        return cleaned


class TaskChoiceInline(admin.TabularInline):
    model = TaskChoice
    fields = ("text", "is_correct", "position")
    extra = 2


@admin.register(Author)
class AuthorAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "user")
    search_fields = ("name", "user__email")
    raw_id_fields = ("user",)


@admin.register(Course)
class CourseAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = CourseAdminForm
    list_display = ("title", "slug", "track", "price_amount", "price_currency", "is_published")
    list_filter = ("is_published", "track")
    search_fields = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("authors",)
    inlines = [TopicInline]

    def get_changeform_initial_data(self, request):
        # A new course starts with the school's live default group size.
        return {
            "max_group_size": live("DEFAULT_GROUP_SIZE"),
            **super().get_changeform_initial_data(request),
        }


@admin.register(Topic)
class TopicAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "course", "position", "opens_at")
    list_filter = ("course",)
    list_select_related = ("course",)
    search_fields = ("title", "course__title")
    inlines = [LessonInline, TestInline, TaskInline]


@admin.register(Lesson)
class LessonAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = LessonAdminForm
    list_display = ("title", "topic", "position", "is_free_preview")
    list_filter = ("is_free_preview", "topic__course")
    list_select_related = ("topic",)
    search_fields = ("title",)
    raw_id_fields = ("topic",)


@admin.register(Test)
class TestAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("title", "topic", "position", "time_limit_minutes")
    list_filter = ("topic__course",)
    list_select_related = ("topic",)
    search_fields = ("title",)
    raw_id_fields = ("topic",)
    inlines = [TestTaskInline]


@admin.register(Task)
class TaskAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = TaskAdminForm
    list_display = ("title", "topic", "test", "kind", "points", "position")
    list_filter = ("kind", "solution_visibility", "topic__course")
    list_select_related = ("topic", "test")
    search_fields = ("title", "statement")
    raw_id_fields = ("topic", "test")
    inlines = [TaskChoiceInline]
    fieldsets = (
        (None, {"fields": ("topic", "test", "title", "position", "statement", "points")}),
        (_("Answer"), {"fields": ("kind", "answer_text", "answer_number", "tolerance")}),
        (
            _("Solution"),
            {"fields": ("solution", "solution_visibility", "solution_after_attempts")},
        ),
        (_("Questions to moderators"), {"fields": ("chat_ask_after",)}),
    )
