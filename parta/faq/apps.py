from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FaqConfig(AppConfig):
    name = "parta.faq"
    label = "faq"
    verbose_name = _("Frequently asked questions")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from parta.faq.search import register_sqlite_functions

        # SQLite folds case for ASCII only; the plain search there needs a fold that
        # knows Cyrillic (see parta.faq.search).
        connection_created.connect(register_sqlite_functions, dispatch_uid="faq-sqlite-fold")
