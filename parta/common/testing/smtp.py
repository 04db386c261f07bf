"""A real SMTP server on loopback for tests (aiosmtpd), collecting what it receives."""

import email
import logging
import threading
from dataclasses import dataclass, field
from email.message import Message

from aiosmtpd.controller import Controller

from parta.common.testing.processes import free_port


@dataclass
class SmtpSink:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.original_content or envelope.content)
        parsed["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        with self.arrived:
            self.messages.append(parsed)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Message]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
        assert len(self.messages) >= count, f"expected {count} messages, got {len(self.messages)}"
        return self.messages

    @staticmethod
    def text_of(message: Message) -> str:
        if message.is_multipart():
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    return part.get_payload(decode=True).decode(
                        part.get_content_charset() or "utf-8"
                    )
        return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")


def start_sink() -> tuple[SmtpSink, Controller]:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    sink = SmtpSink(host="127.0.0.1", port=free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    return sink, controller
