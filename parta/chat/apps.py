from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    name = "parta.chat"
    label = "chat"
    verbose_name = _("Questions and support")

    def ready(self) -> None:
        from parta.chat import hooks, notices, services
        from parta.learning import hooks as learning_hooks
        from parta.notifications.kinds import register_kind

        register_kind(notices.CHAT_REPLY)
        register_kind(notices.CHAT_QUESTION)
        # Learning sits beside chat and imports none of it: chat joins the task page and
        # hears of solved tasks through learning's hooks.
        if hooks.task_ask_panel not in learning_hooks.task_panel_hooks:
            learning_hooks.task_panel_hooks.append(hooks.task_ask_panel)
        if services.task_solved_in_thread not in learning_hooks.task_solved_hooks:
            learning_hooks.task_solved_hooks.append(services.task_solved_in_thread)
