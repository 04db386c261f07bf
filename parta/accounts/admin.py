from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from parta.accounts.login_forms import LimitedAdminLoginForm
from parta.accounts.models import User
from parta.accounts.phone import normalize_phone
from parta.accounts.views import registrations_xlsx_response
from parta.audit.admin import AuditedAdminMixin


class UserAdminForm(forms.ModelForm):
    class Meta:
        model = User
        fields = (
            "email",
            "password",
            "full_name",
            "phone",
            "role",
            "telegram_chat_id",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
        )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data.get("phone", ""))


class UserAddForm(UserAdminForm):
    """Staff add students here; moderators come from `createmoderator`."""

    class Meta:
        model = User
        fields = ("email", "full_name", "phone", "role")

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


@admin.action(description=_("Export selected to Excel"))
def export_selected(modeladmin, request, queryset):
    return registrations_xlsx_response(queryset)


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    form = UserAdminForm
    add_form = UserAddForm
    ordering = ("-created_at",)
    list_display = ("email", "full_name", "phone", "role", "telegram_linked", "created_at")
    list_filter = ("role", "is_active", "is_staff")
    search_fields = ("email", "full_name", "phone")
    readonly_fields = ("created_at", "updated_at", "last_login")
    actions = [export_selected]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("full_name", "phone", "role", "telegram_chat_id")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "full_name", "phone", "role")}),
    )

    def audit_subject(self, obj: User) -> User:
        return obj

    @admin.display(boolean=True, description=_("Telegram"))
    def telegram_linked(self, obj: User) -> bool:
        return obj.telegram_linked


# /admin/login/ counts wrong passwords with the moderators' form (one lock for both).
admin.site.login_form = LimitedAdminLoginForm
