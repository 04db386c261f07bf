"""Staff pages for billing in the Django admin. Money history is read-only here:
changes go through the services (refunds, grants), never by editing rows."""

from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from parta.billing.models import (
    AutoRenewal,
    BalanceAccount,
    Discount,
    Hold,
    Item,
    ItemPrice,
    LedgerEntry,
    Order,
    OrderLine,
    OrderTax,
    Payment,
    Plan,
    ProviderEvent,
    Refund,
    RenewalCharge,
    TaxRate,
)
from parta.billing.services.plans import plan_courses_extend
from parta.common.money import Money


class ReadOnlyAdmin(admin.ModelAdmin):
    # Links are https unless they say otherwise (Django 6's default, asked for now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("title", "duration_days", "freeze_limit_days", "is_published")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("courses",)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Courses added to the plan reach those whose plan is running now.
        made = plan_courses_extend(plan=form.instance)
        if made:
            self.message_user(
                request,
                ngettext(
                    "%(n)d access to a new course was given to running purchases of the plan.",
                    "%(n)d accesses to new courses were given to running purchases of the plan.",
                    made,
                )
                % {"n": made},
            )


class ItemPriceInline(admin.TabularInline):
    model = ItemPrice
    extra = 1


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "is_active", "vat_code")
    list_filter = ("kind", "is_active", "vat_code")
    inlines = [ItemPriceInline]


@admin.register(Discount)
class DiscountAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "kind",
        "percent",
        "amount",
        "currency",
        "times_redeemed",
        "max_redemptions",
        "max_per_user",
        "valid_until",
        "is_active",
    )
    readonly_fields = ("times_redeemed",)
    search_fields = ("code",)


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ("name", "rate_bp", "inclusive", "is_active")


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ("title", "unit_amount", "discount_amount", "tax_amount", "total")
    readonly_fields = fields


class OrderTaxInline(ReadOnlyInline):
    model = OrderTax
    fields = ("name", "rate_bp", "inclusive", "amount")
    readonly_fields = fields


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "user",
        "purpose",
        "status",
        "total_display",
        "provider",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "purpose", "provider", "currency")
    search_fields = ("id", "user__email", "checkout_id")
    list_select_related = ("user",)
    inlines = [OrderLineInline, OrderTaxInline]

    @admin.display(description=_("total"))
    def total_display(self, obj: Order) -> str:
        return Money(obj.total, obj.currency).format()


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "provider_payment_id",
        "provider",
        "user",
        "amount",
        "refunded_amount",
        "currency",
        "created_at",
    )
    search_fields = ("provider_payment_id", "user__email")
    list_select_related = ("user",)


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "provider", "type", "status", "received_at", "processed_at")
    list_filter = ("provider", "status", "type")
    search_fields = ("event_id",)


class LedgerEntryInline(ReadOnlyInline):
    model = LedgerEntry
    fields = ("created_at", "kind", "amount", "balance_after", "description", "reference")
    readonly_fields = fields
    ordering = ("-created_at",)


@admin.register(BalanceAccount)
class BalanceAccountAdmin(ReadOnlyAdmin):
    list_display = ("user", "currency", "balance", "held")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    inlines = [LedgerEntryInline]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "account", "kind", "amount", "balance_after", "reference")
    list_filter = ("kind",)
    search_fields = ("reference", "account__user__email")
    list_select_related = ("account__user",)


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ("account", "amount", "status", "created_at")


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "user",
        "amount",
        "currency",
        "destination",
        "status",
        "days_used",
        "days_frozen",
        "days_total",
        "created_at",
    )
    list_filter = ("status", "destination")
    search_fields = ("user__email", "provider_refund_id")
    list_select_related = ("user",)


class RenewalChargeInline(admin.TabularInline):
    model = RenewalCharge
    extra = 0
    can_delete = False
    fields = ("period", "order", "status", "attempts", "provider_payment_id", "failure_reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AutoRenewal)
class AutoRenewalAdmin(ReadOnlyAdmin):
    """Plans that renew themselves: what happened last (the outcome) and each period's
    charge. Read-only: the buyer switches it off on their purchases page."""

    list_display = ("id", "user", "item", "status", "next_charge_at", "failures", "outcome")
    list_filter = ("status", "provider")
    search_fields = ("user__email", "item__title")
    list_select_related = ("user", "item")
    inlines = [RenewalChargeInline]
