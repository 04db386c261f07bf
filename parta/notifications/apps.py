from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "parta.notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from parta.accounts import adapter, services
        from parta.notifications import signin_codes, signin_locks
        from parta.notifications.kinds import register_kind

        # Sign-in codes are sent by allauth while the person waits; accounts sits below the
        # outbox, so the outbox describes the kind and listens to accounts' mail hook.
        register_kind(signin_codes.LOGIN_CODE)
        if signin_codes.record_login_code not in adapter.mail_sent_hooks:
            adapter.mail_sent_hooks.append(signin_codes.record_login_code)
        register_kind(signin_locks.SIGNIN_LOCKED)
        if signin_locks.tell_staff_of_lock not in services.signin_lock_hooks:
            services.signin_lock_hooks.append(signin_locks.tell_staff_of_lock)
