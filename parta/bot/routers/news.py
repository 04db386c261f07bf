"""/news: the five newest posts the person may read, with links to the site."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from asgiref.sync import sync_to_async

from parta.bot import selectors
from parta.bot.routers.stats import not_linked_text
from parta.bot.texts import news_text


def router() -> Router:
    router = Router(name="news")

    @router.message(Command("news"))
    async def news(message: Message, parta_user) -> None:
        if parta_user is None:
            await message.answer(not_linked_text())
            return
        posts = await sync_to_async(selectors.latest_news)(user=parta_user)
        await message.answer(news_text(posts=posts), disable_web_page_preview=True)

    return router
