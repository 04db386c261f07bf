"""Live delivery of new messages to open thread pages (owned by the realtime part of the
chat issue; see /work/chat-contract.md).

A placeholder until the realtime engineer's version lands: ``message_posted`` is called by
``parta.chat.services`` on commit for every new message and does nothing yet, so pages
fall back to polling ``chat:thread-messages``.
"""

from __future__ import annotations


def message_posted(message) -> None:
    """Tell the thread's open pages about ``message`` (a no-op until realtime lands)."""
    return None
