"""Celery tasks: thin wrappers over the expiry services (safe to run twice)."""

from celery import shared_task

from parta.billing.services.expiry import grants_expire, orders_expire


@shared_task(name="billing.expire_grants")
def expire_grants() -> int:
    return grants_expire()


@shared_task(name="billing.expire_checkouts")
def expire_checkouts() -> int:
    """Every unpaid order past its time: expired checkouts and orders with none."""
    return orders_expire()


@shared_task(name="billing.notify_access_ending")
def notify_access_ending() -> int:
    """Access ending in three days, and freezes that ran out by themselves (once each)."""
    from parta.billing.notices import access_ending_notify, freezes_ran_out_notify

    return access_ending_notify() + freezes_ran_out_notify()


@shared_task(name="billing.charge_renewals")
def charge_renewals() -> int:
    """Plans that renew themselves: charge those due (a day before their period ends) and
    retry declined charges; each period is charged once, however often this runs."""
    from parta.billing.services.renewals import renewals_charge

    return renewals_charge()


@shared_task(name="billing.remind_renewals")
def remind_renewals() -> int:
    """Tell buyers of a charge within three days (once per period)."""
    from parta.billing.services.renewals import renewal_reminders_notify

    return renewal_reminders_notify()
