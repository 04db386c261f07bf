"""One router per feature. A module here exposes ``router() -> Router`` (a fresh one each
call: an aiogram router joins one dispatcher only) and is listed in FEATURES; ``fallback``
always goes last, so a new feature only adds a line."""

FEATURES = [
    "parta.bot.routers.start",
    "parta.bot.routers.stats",
    "parta.bot.routers.news",
    "parta.bot.routers.preferences",
    "parta.bot.routers.broadcast",
    "parta.bot.routers.account",
    "parta.bot.routers.help",
    "parta.bot.routers.sessions",
    "parta.bot.routers.newsession",
    # Replies to the bot's messages (answers to students' questions): after the commands,
    # so that a command sent as a reply is still that command.
    "parta.bot.routers.chat_reply",
]
FALLBACK = "parta.bot.routers.fallback"
