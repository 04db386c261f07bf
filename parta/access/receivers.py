"""A change to a user drops their cached access answers (on commit): the API's cached
answer for a staff member or moderator rests on their role, and a deleted user must
stop being "allowed". Saves that change only the login time are left alone."""

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from parta.access import cache as access_cache
from parta.common.models import user_save_invalidates


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="parta-access-user-saved")
def _user_saved(sender, instance, created, update_fields=None, **kwargs):
    if not user_save_invalidates(created=created, update_fields=update_fields):
        return
    user_id = instance.pk
    transaction.on_commit(lambda: access_cache.bump(user_id))


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="parta-access-user-deleted")
def _user_deleted(sender, instance, **kwargs):
    user_id = instance.pk
    transaction.on_commit(lambda: access_cache.bump(user_id))
