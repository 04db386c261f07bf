from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from parta.access.models import AccessGrant
from parta.access.services import (
    access_grant_create,
    access_grant_deactivate,
    access_grant_update,
)
from parta.common.errors import ValidationFailed


class AccessGrantForm(forms.ModelForm):
    class Meta:
        model = AccessGrant
        fields = ("user", "course", "source", "starts_at", "available_until", "is_active", "note")

    def clean(self):
        data = super().clean()
        start, end = data.get("starts_at"), data.get("available_until")
        if start and end and end <= start:
            self.add_error("available_until", _("The end of access must be after its start."))
        return data


@admin.register(AccessGrant)
class AccessGrantAdmin(admin.ModelAdmin):
    """Staff grant and edit access here; saving goes through the access services, so the
    cached decision is dropped at once."""

    form = AccessGrantForm
    list_display = ("user", "course", "source", "starts_at", "available_until", "is_active")
    list_filter = ("source", "is_active", "course")
    search_fields = ("user__email", "user__full_name", "course__title")
    list_select_related = ("user", "course")
    autocomplete_fields = ("user",)
    readonly_fields = ("granted_by", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        # A grant's user and course never change; a different pair is a new grant.
        return (*fields, "user", "course") if obj else fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                saved = access_grant_update(
                    grant=obj,
                    starts_at=data["starts_at"],
                    available_until=data.get("available_until"),
                    is_active=data["is_active"],
                    note=data.get("note", ""),
                    by=request.user,
                )
            else:
                saved = access_grant_create(
                    user=data["user"],
                    course=data["course"],
                    source=data["source"],
                    starts_at=data["starts_at"],
                    available_until=data.get("available_until"),
                    granted_by=request.user,
                    note=data.get("note", ""),
                )
        except ValidationFailed as exc:  # the form checked the same; a race lands here
            raise forms.ValidationError(exc.message) from exc
        obj.pk = saved.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        access_grant_deactivate(grant=obj, by=request.user)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        # "Delete selected" too: each grant is switched off first (the cache, the group).
        with transaction.atomic():
            for grant in queryset.order_by("course_id", "pk"):
                access_grant_deactivate(grant=grant, by=request.user)
            super().delete_queryset(request, queryset)
