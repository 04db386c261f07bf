"""Billing: what is sold (items, plans), orders with discounts and taxes, payments,
provider events, refunds and the balance ledger.

Money is always an integer of minor units (kopecks, cents) beside an ISO currency code.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from parta.access.models import AccessGrant
from parta.catalog.models import Course
from parta.common.models import TimeStampedModel
from parta.common.money import CURRENCY_CHOICES, Money


class Plan(TimeStampedModel):
    """A bundle of courses sold for a number of days at a price per day."""

    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    courses = models.ManyToManyField(Course, verbose_name=_("courses"), related_name="plans")
    duration_days = models.PositiveIntegerField(_("duration (days)"))
    freeze_limit_days = models.PositiveIntegerField(
        _("freeze limit (days)"), default=0, help_text=_("Days a buyer may pause in total.")
    )
    is_published = models.BooleanField(_("published"), default=False)

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        ordering = ["duration_days", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_days__gte=1), name="billing_plan_duration_positive"
            )
        ]

    def __str__(self) -> str:
        return self.title


class ItemKind(models.TextChoices):
    COURSE = "course", _("Course")
    PLAN = "plan", _("Plan")


class VatCode(models.TextChoices):
    """The VAT rate printed on the item's fiscal receipt line (54-FZ)."""

    NONE = "none", _("No VAT")
    VAT0 = "vat0", _("VAT 0%")
    VAT5 = "vat5", _("VAT 5%")
    VAT7 = "vat7", _("VAT 7%")
    VAT10 = "vat10", _("VAT 10%")
    VAT20 = "vat20", _("VAT 20%")
    VAT22 = "vat22", _("VAT 22%")
    VAT105 = "vat105", _("VAT 5/105")
    VAT107 = "vat107", _("VAT 7/107")
    VAT110 = "vat110", _("VAT 10/110")
    VAT120 = "vat120", _("VAT 20/120")
    VAT122 = "vat122", _("VAT 22/122")


def default_vat_code() -> str:
    """A new item's VAT code: settings.PARTA_DEFAULT_VAT_CODE."""
    return settings.PARTA_DEFAULT_VAT_CODE


class Item(TimeStampedModel):
    """Something that can be bought: a course (open-ended access) or a plan."""

    kind = models.CharField(_("kind"), max_length=16, choices=ItemKind.choices)
    course = models.OneToOneField(
        Course,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="item",
        verbose_name=_("course"),
    )
    plan = models.OneToOneField(
        Plan,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="item",
        verbose_name=_("plan"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("on sale"), default=True)
    vat_code = models.CharField(
        _("VAT code"),
        max_length=8,
        choices=VatCode.choices,
        default=default_vat_code,
        help_text=_("The VAT rate on the fiscal receipt (54-FZ) for this item."),
    )

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="course", course__isnull=False, plan__isnull=True)
                    | Q(kind="plan", plan__isnull=False, course__isnull=True)
                ),
                name="billing_item_is_course_or_plan",
            )
        ]

    def __str__(self) -> str:
        return self.title


class ItemPrice(models.Model):
    """The item's price in one currency. For a plan, ``per_day_amount`` x duration."""

    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="prices", verbose_name=_("item")
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    amount = models.PositiveBigIntegerField(_("price (minor units)"))
    # Plans are priced per day; refunds use this. Courses: empty.
    per_day_amount = models.PositiveBigIntegerField(
        _("price per day (minor units)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [
            models.UniqueConstraint(
                fields=["item", "currency"], name="billing_price_per_currency"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_price_positive"),
        ]

    def __str__(self) -> str:
        return Money(self.amount, self.currency).format()

    @property
    def money(self) -> Money:
        return Money(self.amount, self.currency)


class ProviderCatalogEntry(models.Model):
    """A price as the provider knows it (e.g. a Stripe product and price), created once
    per (provider account, price, amount) and reused for every checkout."""

    provider = models.CharField(max_length=32, verbose_name=_("provider"))
    account = models.CharField(
        max_length=64, help_text="Key pair in use, e.g. the currency.", verbose_name=_("account")
    )
    item_price = models.ForeignKey(
        ItemPrice, on_delete=models.CASCADE, related_name="+", verbose_name=_("item price")
    )
    amount = models.PositiveBigIntegerField(verbose_name=_("amount"))
    product_id = models.CharField(max_length=255, verbose_name=_("product id"))
    price_id = models.CharField(max_length=255, verbose_name=_("price id"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("provider catalogue entry")
        verbose_name_plural = _("provider catalogue entries")
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "account", "item_price", "amount"],
                name="billing_catalog_entry_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.price_id}"


class DiscountKind(models.TextChoices):
    PERCENT = "percent", _("Percent")
    AMOUNT = "amount", _("Fixed amount")


class Discount(TimeStampedModel):
    """A coupon code: a percent or a fixed amount off, within a window, for a limited
    number of orders in all and per buyer (counted under the coupon's row lock when an
    order is placed; an order that ends unpaid gives its use back)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=DiscountKind.choices)
    percent = models.PositiveSmallIntegerField(_("percent"), null=True, blank=True)
    amount = models.PositiveBigIntegerField(_("amount (minor units)"), null=True, blank=True)
    currency = models.CharField(
        _("currency"), max_length=3, choices=CURRENCY_CHOICES, blank=True, default=""
    )
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    max_redemptions = models.PositiveIntegerField(_("redemption limit"), null=True, blank=True)
    max_per_user = models.PositiveIntegerField(
        _("limit per buyer"),
        null=True,
        blank=True,
        default=1,
        help_text=_("Orders one buyer may place with this coupon; empty: no limit."),
    )
    times_redeemed = models.PositiveIntegerField(_("times redeemed"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("discount")
        verbose_name_plural = _("discounts")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="percent", percent__gte=1, percent__lte=100, amount__isnull=True)
                    | Q(kind="amount", amount__gte=1, percent__isnull=True) & ~Q(currency="")
                ),
                name="billing_discount_shape",
            ),
            models.CheckConstraint(
                condition=Q(max_redemptions__isnull=True)
                | Q(times_redeemed__lte=F("max_redemptions")),
                name="billing_discount_within_limit",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class TaxRate(TimeStampedModel):
    """A tax applied to every order: exclusive (added on top) or inclusive (already in
    the price, shown separately)."""

    name = models.CharField(_("name"), max_length=100)
    # Basis points: 2000 = 20%.
    rate_bp = models.PositiveIntegerField(_("rate (basis points)"))
    inclusive = models.BooleanField(_("included in prices"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tax rate")
        verbose_name_plural = _("tax rates")
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_bp__gte=1, rate_bp__lte=10000), name="billing_tax_rate_range"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.rate_bp / 100:g}%"


class OrderStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting payment")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Payment failed")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")


class OrderPurpose(models.TextChoices):
    PURCHASE = "purchase", _("Purchase")
    TOPUP = "topup", _("Balance top-up")


class Order(TimeStampedModel):
    purpose = models.CharField(
        _("purpose"), max_length=16, choices=OrderPurpose.choices, default=OrderPurpose.PURCHASE
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("user"),
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    status = models.CharField(
        _("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    subtotal = models.BigIntegerField(_("subtotal"))
    discount_total = models.BigIntegerField(_("discount"), default=0)
    tax_total = models.BigIntegerField(_("taxes added"), default=0)
    tax_included = models.BigIntegerField(_("taxes included"), default=0)
    total = models.BigIntegerField(_("total"))
    discount = models.ForeignKey(
        Discount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("discount"),
    )
    # How it is paid: a provider name ("sandbox", "stripe") or "balance".
    provider = models.CharField(_("paid with"), max_length=32)
    checkout_id = models.CharField(
        max_length=255, blank=True, default="", verbose_name=_("checkout id")
    )
    checkout_url = models.URLField(
        max_length=2000, blank=True, default="", verbose_name=_("checkout url")
    )
    checkout_expires_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("checkout expires at")
    )
    # For payments confirmed on Parta's page (PaymentIntent): the secret the browser uses.
    checkout_client_secret = models.CharField(
        max_length=255, blank=True, default="", verbose_name=_("checkout client secret")
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    failure_reason = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("failure reason")
    )

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    subtotal__gte=0, discount_total__gte=0, tax_total__gte=0, total__gte=0
                ),
                name="billing_order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(total=F("subtotal") - F("discount_total") + F("tax_total")),
                name="billing_order_total_adds_up",
            ),
            models.UniqueConstraint(
                fields=["provider", "checkout_id"],
                condition=~Q(checkout_id=""),
                name="billing_order_checkout_once",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {Money(self.total, self.currency)} ({self.status})"

    @property
    def total_money(self) -> Money:
        return Money(self.total, self.currency)


class OrderLine(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="+", verbose_name=_("item")
    )
    item_price = models.ForeignKey(
        ItemPrice, on_delete=models.PROTECT, related_name="+", verbose_name=_("item price")
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    unit_amount = models.BigIntegerField(verbose_name=_("unit amount"))
    discount_amount = models.BigIntegerField(default=0, verbose_name=_("discount amount"))
    tax_amount = models.BigIntegerField(default=0, verbose_name=_("tax amount"))
    tax_included = models.BigIntegerField(default=0, verbose_name=_("tax included"))
    total = models.BigIntegerField(verbose_name=_("total"))
    # A plan's per-day price and length at purchase, for refunds.
    per_day_amount = models.BigIntegerField(
        null=True, blank=True, verbose_name=_("per day amount")
    )
    duration_days = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("duration days")
    )

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total=F("unit_amount") - F("discount_amount") + F("tax_amount")),
                name="billing_line_total_adds_up",
            )
        ]

    def __str__(self) -> str:
        return self.title


class OrderTax(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="taxes", verbose_name=_("order")
    )
    tax_rate = models.ForeignKey(
        TaxRate, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("tax rate")
    )
    name = models.CharField(max_length=100, verbose_name=_("name"))
    rate_bp = models.PositiveIntegerField(verbose_name=_("rate bp"))
    inclusive = models.BooleanField(verbose_name=_("inclusive"))
    amount = models.BigIntegerField(verbose_name=_("amount"))

    class Meta:
        verbose_name = _("order tax")
        verbose_name_plural = _("order taxes")

    def __str__(self) -> str:
        return self.name


class EventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")


class ProviderEvent(models.Model):
    """Every webhook event, stored once per (provider, event id) before it is acted on."""

    provider = models.CharField(max_length=32, verbose_name=_("provider"))
    event_id = models.CharField(max_length=255, verbose_name=_("event id"))
    type = models.CharField(max_length=100, verbose_name=_("type"))
    payload = models.JSONField(verbose_name=_("payload"))
    status = models.CharField(
        max_length=16, choices=EventStatus.choices, default="received", verbose_name=_("status")
    )
    error = models.TextField(blank=True, default="", verbose_name=_("error"))
    received_at = models.DateTimeField(auto_now_add=True, verbose_name=_("received at"))
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))

    class Meta:
        verbose_name = _("provider event")
        verbose_name_plural = _("provider events")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="billing_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id} {self.type}"


class Payment(TimeStampedModel):
    """Money received for an order (or a top-up) through a provider."""

    order = models.OneToOneField(
        Order,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment",
        verbose_name=_("order"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("user"),
    )
    provider = models.CharField(max_length=32, verbose_name=_("provider"))
    provider_payment_id = models.CharField(max_length=255, verbose_name=_("provider payment id"))
    amount = models.BigIntegerField(verbose_name=_("amount"))
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, verbose_name=_("currency"))
    refunded_amount = models.BigIntegerField(default=0, verbose_name=_("refunded amount"))

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"], name="billing_payment_once"
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0, refunded_amount__gte=0)
                & Q(refunded_amount__lte=F("amount")),
                name="billing_payment_refunds_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.provider_payment_id}"


# --- Balance ledger ----------------------------------------------------------------------


class BalanceAccount(models.Model):
    """A user's balance in one currency. ``balance`` is the sum of the account's ledger
    entries (kept in step under a row lock, checked by `check_ledger`); ``held`` is the
    part reserved by refunds in flight. Neither may go below zero, nor held above
    balance."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="balance_accounts",
        verbose_name=_("user"),
    )
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, verbose_name=_("currency"))
    balance = models.BigIntegerField(default=0, verbose_name=_("balance"))
    held = models.BigIntegerField(default=0, verbose_name=_("held"))

    class Meta:
        verbose_name = _("balance")
        verbose_name_plural = _("balances")
        constraints = [
            models.UniqueConstraint(fields=["user", "currency"], name="billing_account_once"),
            models.CheckConstraint(
                condition=Q(balance__gte=0, held__gte=0) & Q(held__lte=F("balance")),
                name="billing_account_never_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {Money(self.balance, self.currency)}"

    @property
    def available(self) -> int:
        return self.balance - self.held


class EntryKind(models.TextChoices):
    TOPUP = "topup", _("Top-up")
    SPENDING = "spending", _("Spending")
    REFUND = "refund", _("Refund")
    ADJUSTMENT = "adjustment", _("Adjustment")


class LedgerEntry(models.Model):
    """Append-only. Sign convention: ``amount`` > 0 adds to the balance (top-ups,
    refunds to the balance, positive adjustments), < 0 takes from it (spending, a
    top-up refunded back to its payment, negative adjustments). Corrections are new
    entries, never edits. ``reference`` makes every posting idempotent."""

    account = models.ForeignKey(
        BalanceAccount, on_delete=models.PROTECT, related_name="entries", verbose_name=_("account")
    )
    kind = models.CharField(max_length=16, choices=EntryKind.choices, verbose_name=_("kind"))
    amount = models.BigIntegerField(verbose_name=_("amount"))
    balance_after = models.BigIntegerField(verbose_name=_("balance after"))
    reference = models.CharField(max_length=100, unique=True, verbose_name=_("reference"))
    description = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("description")
    )
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("order")
    )
    payment = models.ForeignKey(
        Payment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        verbose_name=_("payment"),
    )
    created_at = models.DateTimeField(
        auto_now_add=True, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The CRM dashboard's revenue per day (an index-only scan of the period).
            models.Index(
                fields=["created_at", "kind", "account", "amount"],
                condition=Q(kind__in=["spending", "refund"]),
                name="billing_entry_revenue",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="billing_entry_not_zero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="billing_entry_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount:+d}"


class HoldStatus(models.TextChoices):
    ACTIVE = "active", _("Held")
    CAPTURED = "captured", _("Taken")
    RELEASED = "released", _("Released")


class Hold(TimeStampedModel):
    """Balance reserved while a refund of a top-up travels to the provider: taken if it
    succeeds (a ledger entry), released if it fails."""

    account = models.ForeignKey(
        BalanceAccount, on_delete=models.PROTECT, related_name="holds", verbose_name=_("account")
    )
    amount = models.BigIntegerField(verbose_name=_("amount"))
    status = models.CharField(
        max_length=16, choices=HoldStatus.choices, default="active", verbose_name=_("status")
    )
    reference = models.CharField(max_length=100, unique=True, verbose_name=_("reference"))

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_hold_positive")
        ]

    def __str__(self) -> str:
        return f"hold {self.amount} ({self.status})"


# --- Refunds -----------------------------------------------------------------------------


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("In progress")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


class RefundDestination(models.TextChoices):
    PROVIDER = "provider", _("Back to the card")
    BALANCE = "balance", _("To the balance")


class Refund(TimeStampedModel):
    """A refund of a purchase's unused days (asked for by one of its grants), or of a
    top-up. At most one pending or successful refund per purchased line."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("user"),
    )
    grant = models.ForeignKey(
        AccessGrant,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
        verbose_name=_("grant"),
    )
    order_line = models.ForeignKey(
        OrderLine,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
        verbose_name=_("order line"),
    )
    payment = models.ForeignKey(
        Payment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
        verbose_name=_("payment"),
    )
    topup_entry = models.ForeignKey(
        LedgerEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("topup entry"),
    )
    amount = models.BigIntegerField(verbose_name=_("amount"))
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, verbose_name=_("currency"))
    destination = models.CharField(
        max_length=16, choices=RefundDestination.choices, verbose_name=_("destination")
    )
    status = models.CharField(
        max_length=16, choices=RefundStatus.choices, default="pending", verbose_name=_("status")
    )
    provider_refund_id = models.CharField(
        max_length=255, blank=True, default="", verbose_name=_("provider refund id")
    )
    failure_reason = models.CharField(
        max_length=300, blank=True, default="", verbose_name=_("failure reason")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    # How the amount was worked out (purchases): days used and paused of days_total.
    days_used = models.PositiveIntegerField(default=0, verbose_name=_("days used"))
    days_total = models.PositiveIntegerField(default=0, verbose_name=_("days total"))
    days_frozen = models.PositiveIntegerField(default=0, verbose_name=_("days frozen"))

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_refund_positive"),
            # One live refund per purchased line (a plan line covers several grants).
            models.UniqueConstraint(
                fields=["order_line"],
                condition=Q(order_line__isnull=False) & ~Q(status="failed"),
                name="billing_refund_once_per_line",
            ),
        ]

    def __str__(self) -> str:
        return f"refund {Money(self.amount, self.currency)} ({self.status})"


# --- Plans that renew themselves ---------------------------------------------------------


class RenewalStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting the first payment")
    ACTIVE = "active", _("Renewing")
    CANCELLED = "cancelled", _("Turned off by the buyer")
    ENDED = "ended", _("Stopped")


class AutoRenewal(TimeStampedModel):
    """A plan bought with auto-renewal: the payment method the provider keeps, and when
    the next period is charged (a day before the running one ends). Asked for at
    checkout (pending), on once the first payment names the saved method."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="auto_renewals",
        verbose_name=_("user"),
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="+", verbose_name=_("plan")
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    provider = models.CharField(_("provider"), max_length=32)
    # The provider's handle on the saved card (YooKassa's payment method id, T-Bank's
    # RebillId, a CloudPayments token, the sandbox's own).
    saved_method_id = models.CharField(
        _("saved payment method"), max_length=255, blank=True, default=""
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RenewalStatus.choices, default=RenewalStatus.PENDING
    )
    first_order = models.OneToOneField(
        Order,
        on_delete=models.PROTECT,
        related_name="auto_renewal",
        verbose_name=_("first order"),
    )
    # The order of the period that runs now (the first order, then each renewal's).
    current_order = models.ForeignKey(
        Order,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("current order"),
    )
    # The number of the period paid last: 1 is the first purchase.
    period = models.PositiveIntegerField(_("period"), default=1)
    next_charge_at = models.DateTimeField(_("next charge"), null=True, blank=True)
    failures = models.PositiveSmallIntegerField(_("failed charges in a row"), default=0)
    # What happened last, for staff (in English, like an order's failure reason).
    outcome = models.CharField(_("outcome"), max_length=300, blank=True, default="")
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("auto-renewal")
        verbose_name_plural = _("auto-renewals")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_charge_at"],
                condition=Q(status="active"),
                name="billing_renewal_due",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "item"],
                condition=Q(status="active"),
                name="billing_renewal_one_active_per_plan",
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | ~Q(saved_method_id=""),
                name="billing_renewal_active_has_method",
            ),
        ]

    def __str__(self) -> str:
        return f"renewal #{self.pk} {self.item_id} ({self.status})"


class RenewalChargeStatus(models.TextChoices):
    PENDING = "pending", _("In progress")
    SUCCEEDED = "succeeded", _("Charged")
    FAILED = "failed", _("Failed")


class RenewalCharge(TimeStampedModel):
    """The charge of one period of a renewal: at most one per (renewal, period), with
    one order, tried again on the same order after a decline."""

    renewal = models.ForeignKey(
        AutoRenewal, on_delete=models.PROTECT, related_name="charges", verbose_name=_("renewal")
    )
    period = models.PositiveIntegerField(_("period"))
    order = models.OneToOneField(
        Order,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewal_charge",
        verbose_name=_("order"),
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=RenewalChargeStatus.choices,
        default=RenewalChargeStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    provider_payment_id = models.CharField(
        _("provider payment id"), max_length=255, blank=True, default=""
    )
    failure_reason = models.CharField(_("failure reason"), max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("renewal charge")
        verbose_name_plural = _("renewal charges")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["renewal", "period"], name="billing_renewal_charge_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"renewal #{self.renewal_id} period {self.period} ({self.status})"
