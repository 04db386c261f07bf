"""``manage.py runbot``: the Telegram bot by long polling (or registers the webhook)."""

from __future__ import annotations

import asyncio
import signal

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from parta.bot.dispatcher import build_dispatcher
from parta.notifications.telegram_api import make_bot, run_with_bot


class Command(BaseCommand):
    help = (
        "Run the Telegram bot by long polling until SIGINT or SIGTERM. With "
        "TELEGRAM_WEBHOOK_URL set, register the webhook instead (the site serves it)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--polling-timeout", type=int, default=30, help="getUpdates long-poll seconds"
        )

    def handle(self, *args, **options):
        if not settings.TELEGRAM_BOT_TOKEN:
            self.stdout.write("The Telegram bot is off: TELEGRAM_BOT_TOKEN is not set.")
            return
        if settings.TELEGRAM_WEBHOOK_URL:
            if not settings.TELEGRAM_WEBHOOK_SECRET:
                raise CommandError("TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET.")
            run_with_bot(
                lambda bot: bot.set_webhook(
                    url=settings.TELEGRAM_WEBHOOK_URL,
                    secret_token=settings.TELEGRAM_WEBHOOK_SECRET,
                    allowed_updates=["message", "callback_query"],
                )
            )
            self.stdout.write(
                f"Webhook mode: Telegram posts updates to {settings.TELEGRAM_WEBHOOK_URL}."
            )
            return
        self._stop = None
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            # async_to_sync: the handlers' database work runs back in this thread.
            async_to_sync(self._poll)(options["polling_timeout"])
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write("The Telegram bot stopped.")

    def _on_signal(self, signum, frame) -> None:
        if self._stop is not None:
            self._stop()

    async def _poll(self, polling_timeout: int) -> None:
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        self._stop = lambda: loop.call_soon_threadsafe(stopping.set)
        bot = make_bot()
        dispatcher = build_dispatcher()
        await bot.delete_webhook(drop_pending_updates=False)
        me = await bot.get_me()
        self.stdout.write(f"The Telegram bot @{me.username} is polling.")
        self.stdout.flush()
        polling = asyncio.create_task(
            dispatcher.start_polling(
                bot,
                polling_timeout=polling_timeout,
                handle_signals=False,
                close_bot_session=True,
                allowed_updates=["message", "callback_query"],
            )
        )
        waiting = asyncio.create_task(stopping.wait())
        await asyncio.wait({polling, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if not polling.done():
            await dispatcher.stop_polling()
        await polling
        waiting.cancel()
