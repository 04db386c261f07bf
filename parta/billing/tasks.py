"""Celery tasks: thin wrappers over the expiry services (safe to run twice)."""

from celery import shared_task

from parta.billing.services.expiry import checkouts_expire, grants_expire


@shared_task(name="billing.expire_grants")
def expire_grants() -> int:
    return grants_expire()


@shared_task(name="billing.expire_checkouts")
def expire_checkouts() -> int:
    return checkouts_expire()
