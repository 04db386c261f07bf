"""Telegram: the bot and the Telegram channel. Off (nothing sent, the bot not started)
without TELEGRAM_BOT_TOKEN."""

from config.env import env

TELEGRAM_BOT_TOKEN = env.str("TELEGRAM_BOT_TOKEN", default="")
# The Bot API's address: a local Bot API server or the tests' fake one may stand in.
TELEGRAM_API_BASE = env.str("TELEGRAM_API_BASE", default="https://api.telegram.org").rstrip("/")
# The bot's @username for deep links; asked from Telegram (getMe) once when empty.
TELEGRAM_BOT_USERNAME = env.str("TELEGRAM_BOT_USERNAME", default="").lstrip("@")
# Webhook mode: Telegram posts updates to TELEGRAM_WEBHOOK_URL (ending in /telegram/webhook/),
# each with this secret in X-Telegram-Bot-Api-Secret-Token. Empty: long polling (runbot).
TELEGRAM_WEBHOOK_URL = env.str("TELEGRAM_WEBHOOK_URL", default="")
TELEGRAM_WEBHOOK_SECRET = env.str("TELEGRAM_WEBHOOK_SECRET", default="")
# Telegram's limits, for every send of every worker together: messages per second overall,
# and seconds between two messages to one chat.
PARTA_TELEGRAM_RATE = env.float("PARTA_TELEGRAM_RATE", default=25.0)
PARTA_TELEGRAM_CHAT_INTERVAL = env.float("PARTA_TELEGRAM_CHAT_INTERVAL", default=1.0)
# Seconds to wait for the Bot API before a send is tried again later.
PARTA_TELEGRAM_TIMEOUT = env.float("PARTA_TELEGRAM_TIMEOUT", default=15.0)
