from pathlib import Path

import pytest

from parta.notifications.channels.base import Channel
from parta.notifications.kinds import Kind, register_kind
from parta.notifications.tests.senders import ScriptedSender

TEMPLATES_DIR = Path(__file__).parent / "templates"

# Kinds of the tests' own (templates under tests/templates/notifications/).
EVERYWHERE = register_kind(Kind(name="outbox_test", label="Outbox test"))
MANDATORY = register_kind(
    Kind(name="outbox_code", label="Outbox code", mandatory=True, channels=(Channel.EMAIL,))
)
TELEGRAM_ONLY = register_kind(
    Kind(name="outbox_test_tg", label="Outbox test (Telegram)", channels=(Channel.TELEGRAM,))
)


@pytest.fixture(autouse=True)
def outbox_settings(settings):
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], TEMPLATES_DIR]}
    ]
    # Telegram's place is taken by a scripted sender.
    settings.PARTA_NOTIFY_SENDERS = {
        Channel.TELEGRAM: "parta.notifications.tests.senders.ScriptedSender"
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ScriptedSender.reset()
    yield settings
    ScriptedSender.reset()
