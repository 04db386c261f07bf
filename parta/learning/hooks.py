"""Places where apps above learning join in, registered at start-up (``AppConfig.ready``).

Learning imports none of them: chat, for instance, sits beside learning and adds the
"Ask a moderator" panel to the task page and a line in a question's thread when the task
is solved. A hook that raises lets the error through: a panel is part of the page, a
solved-task hook runs in the answer's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TaskPanel:
    """A block the task page shows under the answer form: ``template`` rendered with
    ``panel`` (this context) beside the page's own context."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


# hook(*, user, task, progress) -> TaskPanel | None; progress is the student's
# TaskProgress (or None before the first answer), as the page read it.
task_panel_hooks: list[Callable[..., TaskPanel | None]] = []

# hook(*, user, task, at): the student solved the task for the first time, at ``at``;
# called inside the answer's transaction.
task_solved_hooks: list[Callable[..., None]] = []


def task_panels(*, user, task, progress) -> list[TaskPanel]:
    panels = []
    for hook in task_panel_hooks:
        panel = hook(user=user, task=task, progress=progress)
        if panel is not None:
            panels.append(panel)
    return panels


def task_solved(*, user, task, at: datetime) -> None:
    for hook in task_solved_hooks:
        hook(user=user, task=task, at=at)
