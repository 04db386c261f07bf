"""Billing services (writes). Import from the submodules: orders, fulfilment, webhooks,
refunds, ledger, expiry."""
