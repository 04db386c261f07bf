"""Chat's part of the task page (learning calls it through ``parta.learning.hooks``)."""

from __future__ import annotations

from django.urls import reverse

from parta.chat.selectors import task_ask_status
from parta.learning.hooks import TaskPanel


def task_ask_panel(*, user, task, progress) -> TaskPanel | None:
    """ "Ask a moderator" under the answer form once the student may, the number of wrong
    answers left before that, or a link to the thread they opened. Nothing for moderators
    and for a test's tasks. One query (the thread)."""
    status = task_ask_status(user=user, task=task, progress=progress)
    if status.refused:
        return None
    if (
        status.thread is None
        and not status.allowed
        and progress is not None
        and progress.is_solved
    ):
        return None  # solved without needing help
    context = {"status": status, "ask_url": reverse("chat:task-ask", args=[task.pk])}
    if status.thread is not None:
        context["thread_url"] = reverse("chat:thread", args=[status.thread.pk])
    return TaskPanel(template="chat/_task_panel.html", context=context)
