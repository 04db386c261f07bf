from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "parta.groups"
    label = "groups"
    verbose_name = _("Study groups")

    def ready(self) -> None:
        from parta.groups import receivers  # noqa: F401 (keeps seat counts right on deletes)
        from parta.groups.sessions import invitation_buttons
        from parta.notifications.channels.base import Channel
        from parta.notifications.kinds import Kind, register_kind

        channels = (Channel.EMAIL, Channel.TELEGRAM, Channel.SITE)
        register_kind(
            Kind(
                name="session_invitation",
                label=_("Invitations to live sessions"),
                channels=channels,
                telegram_buttons=invitation_buttons,
            )
        )
        register_kind(
            Kind(name="session_moved", label=_("A live session moved"), channels=channels)
        )
        register_kind(
            Kind(name="session_cancelled", label=_("A live session cancelled"), channels=channels)
        )
        register_kind(
            Kind(
                name="session_reminder",
                label=_("Reminders before live sessions"),
                channels=channels,
            )
        )
