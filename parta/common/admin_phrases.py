"""Django admin sentences that Parta's Russian catalogue words anew.

Django's admin puts a model's name, in the nominative, into sentences where Russian needs it
declined or agreed in gender: «Добавить пользователь», «Удалить выбранные пользователи»,
«задача … был успешно удален». Our catalogue (which takes precedence over Django's) gives these
sentences a shape that needs neither: «Добавление: пользователь». Listing them here keeps
`make messages` from dropping them as unused.
"""

from django.utils.translation import gettext_noop

ADMIN_PHRASES = (
    gettext_noop("Add %s"),
    gettext_noop("Add %(name)s"),
    gettext_noop("Add another %(verbose_name)s"),
    gettext_noop("Change %s"),
    gettext_noop("View %s"),
    gettext_noop("Select %s"),
    gettext_noop("Select %s to change"),
    gettext_noop("Select %s to view"),
    gettext_noop("Delete selected %(verbose_name_plural)s"),
    gettext_noop("Successfully deleted %(count)d %(items)s."),
    gettext_noop("Cannot delete %(name)s"),
    gettext_noop("The %(name)s “%(obj)s” was added successfully."),
    gettext_noop("The %(name)s “%(obj)s” was changed successfully."),
    gettext_noop("The %(name)s “%(obj)s” was deleted successfully."),
    gettext_noop("%(name)s with ID “%(key)s” doesn’t exist. Perhaps it was deleted?"),
)
