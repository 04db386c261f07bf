"""Payments: the sandbox by default (a local hosted checkout, no keys); Stripe when its
keys are set. Each currency has its own Stripe key pair."""

from config.env import env

# The provider new checkouts go to; webhooks are accepted from every enabled one.
PARTA_PAYMENT_PROVIDER = env.str("PARTA_PAYMENT_PROVIDER", default="sandbox")
PARTA_PAYMENT_PROVIDERS = env.list("PARTA_PAYMENT_PROVIDERS", default=["sandbox"])
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
