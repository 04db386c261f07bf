"""Seat counts stay right when Django deletes memberships by cascade (a user or a course
deleted in the admin): Parta's own code never deletes a membership, it ends it."""

from django.db.models import F
from django.db.models.signals import post_delete
from django.dispatch import receiver

from parta.groups.models import Group, Membership


@receiver(post_delete, sender=Membership, dispatch_uid="parta-groups-membership-deleted")
def _membership_deleted(sender, instance: Membership, **kwargs) -> None:
    if instance.ended_at is None:
        Group.objects.filter(pk=instance.group_id, members_count__gt=0).update(
            members_count=F("members_count") - 1
        )
