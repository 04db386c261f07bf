from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


# A save that changes only these (a sign-in) leaves what other parts cache about the user
# (their token's user, their access answers) as good as it was.
_SIGN_IN_FIELDS = frozenset({"last_login", "updated_at"})


def user_save_invalidates(*, created: bool, update_fields) -> bool:
    """Whether a post_save of the user model should drop what is cached about them: not for a
    new user (nothing is cached yet) nor for a sign-in."""
    return not created and not (update_fields and set(update_fields) <= _SIGN_IN_FIELDS)
