"""Payments: the sandbox by default (a local hosted checkout, no keys); Stripe when its
keys are set. Each currency has its own Stripe key pair."""

from config.env import env

# The provider new checkouts go to; webhooks are accepted from every enabled one.
PARTA_PAYMENT_PROVIDER = env.str("PARTA_PAYMENT_PROVIDER", default="sandbox")
PARTA_PAYMENT_PROVIDERS = env.list("PARTA_PAYMENT_PROVIDERS", default=["sandbox"])


def _by_currency(pairs: list[str]) -> dict[str, str]:
    """ "RUB:yookassa,USD:stripe" -> {"RUB": "yookassa", "USD": "stripe"}."""
    chosen = {}
    for pair in pairs:
        currency, sep, provider = pair.partition(":")
        if not sep or not currency.strip() or not provider.strip():
            raise ValueError(f"PARTA_PAYMENT_PROVIDER_BY_CURRENCY: {pair!r} is not CUR:provider")
        chosen[currency.strip().upper()] = provider.strip()
    return chosen


# The provider per currency ("RUB:yookassa,USD:stripe"); a currency not named here
# goes to PARTA_PAYMENT_PROVIDER. Each one named must be in PARTA_PAYMENT_PROVIDERS.
PARTA_PAYMENT_PROVIDER_BY_CURRENCY = _by_currency(
    env.list("PARTA_PAYMENT_PROVIDER_BY_CURRENCY", default=[])
)
PARTA_CURRENCIES = env.list("PARTA_CURRENCIES", default=["RUB", "USD"])
PARTA_DEFAULT_CURRENCY = env.str("PARTA_DEFAULT_CURRENCY", default="RUB")

# The sandbox signs its webhooks with this secret (empty: derived from SECRET_KEY).
PARTA_SANDBOX_WEBHOOK_SECRET = env.str("PARTA_SANDBOX_WEBHOOK_SECRET", default="")
# How long a sandbox checkout stays open, in minutes.
PARTA_SANDBOX_CHECKOUT_MINUTES = env.int("PARTA_SANDBOX_CHECKOUT_MINUTES", default=30)
# An order still unpaid this many minutes after it was placed (and with no checkout
# open) expires, and its coupon use goes back.
PARTA_UNPAID_ORDER_MINUTES = env.int("PARTA_UNPAID_ORDER_MINUTES", default=60)
# Make sandbox refunds fail, to try the failure path (holds released, refund failed).
PARTA_SANDBOX_FAIL_REFUNDS = env.bool("PARTA_SANDBOX_FAIL_REFUNDS", default=False)

# Stripe: one key pair per currency, "publishable_key,secret_key,webhook_secret".
STRIPE_KEYS_RUB = env.list("STRIPE_KEYS_RUB", default=[])
STRIPE_KEYS_USD = env.list("STRIPE_KEYS_USD", default=[])
# Point the SDK at another server (a local test double); empty: api.stripe.com.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# "checkout" (hosted Checkout Session) or "payment_intent" (Payment Element on our page).
STRIPE_FLOW = env.str("STRIPE_FLOW", default="checkout")

# Course purchases give open-ended access; a refund prorates over this many days.
PARTA_COURSE_REFUND_DAYS = env.int("PARTA_COURSE_REFUND_DAYS", default=14)

# Fiscal receipts (54-FZ), passed with each payment and refund to the providers whose
# online cash desk issues them (YooKassa, T-Bank, CloudPayments).
PARTA_RECEIPTS = env.bool("PARTA_RECEIPTS", default=True)
# The VAT code of a new item (none, vat0, vat5, vat7, vat10, vat20, vat22, vat105,
# vat107, vat110, vat120, vat122); each item has its own.
PARTA_DEFAULT_VAT_CODE = env.str("PARTA_DEFAULT_VAT_CODE", default="none")
# The school's taxation system as registered with the cash desk (osn, usn_income,
# usn_income_outcome, esn, patent); empty: the provider's default for the shop.
PARTA_RECEIPT_TAXATION = env.str("PARTA_RECEIPT_TAXATION", default="")

# YooKassa (RUB): the shop id and secret key from the YooKassa dashboard.
YOOKASSA_SHOP_ID = env.str("YOOKASSA_SHOP_ID", default="")
YOOKASSA_SECRET_KEY = env.str("YOOKASSA_SECRET_KEY", default="")
# Point the SDK at another server (a local test double); empty: api.yookassa.ru.
YOOKASSA_API_URL = env.str("YOOKASSA_API_URL", default="")
# Notifications are not signed: they are taken only from these networks (YooKassa's
# published list) and then confirmed through the API.
YOOKASSA_NOTIFICATION_IPS = env.list(
    "YOOKASSA_NOTIFICATION_IPS",
    default=[
        "185.71.76.0/27",
        "185.71.77.0/27",
        "77.75.153.0/25",
        "77.75.156.11",
        "77.75.156.35",
        "77.75.154.128/25",
        "2a02:5180::/32",
    ],
)
# How long a YooKassa payment link is kept before a new one is made, in minutes.
YOOKASSA_CHECKOUT_MINUTES = env.int("YOOKASSA_CHECKOUT_MINUTES", default=60)

# T-Bank internet acquiring (RUB): the terminal key and its password.
TBANK_TERMINAL_KEY = env.str("TBANK_TERMINAL_KEY", default="")
TBANK_PASSWORD = env.str("TBANK_PASSWORD", default="")
# Empty: https://securepay.tinkoff.ru/v2 (a local test double in tests).
TBANK_API_URL = env.str("TBANK_API_URL", default="")
# How long a T-Bank payment link stays open, in minutes (its RedirectDueDate).
TBANK_CHECKOUT_MINUTES = env.int("TBANK_CHECKOUT_MINUTES", default=60)

# CloudPayments: the Public ID and the API secret from the dashboard.
CLOUDPAYMENTS_PUBLIC_ID = env.str("CLOUDPAYMENTS_PUBLIC_ID", default="")
CLOUDPAYMENTS_API_SECRET = env.str("CLOUDPAYMENTS_API_SECRET", default="")
# Empty: https://api.cloudpayments.ru (a local test double in tests).
CLOUDPAYMENTS_API_URL = env.str("CLOUDPAYMENTS_API_URL", default="")
# The currencies the CloudPayments terminal takes.
CLOUDPAYMENTS_CURRENCIES = env.list("CLOUDPAYMENTS_CURRENCIES", default=["RUB", "USD"])
CLOUDPAYMENTS_CHECKOUT_MINUTES = env.int("CLOUDPAYMENTS_CHECKOUT_MINUTES", default=60)
