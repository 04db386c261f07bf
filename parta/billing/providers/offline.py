"""The offline provider: money taken by the school itself, in cash or by bank transfer,
and recorded by staff on the client's card (parta.billing.services.offline). There is
no checkout and no webhook; a refund of such a payment is money handed back by the
school, so the provider confirms it at once and the refund is on record."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from django.utils.translation import gettext as _

from parta.billing.providers.base import (
    CheckoutRequest,
    CheckoutSession,
    InvalidWebhook,
    PaymentProvider,
    ProviderError,
    RefundRequest,
    RefundResult,
    WebhookEvent,
)


class OfflineProvider(PaymentProvider):
    name = "offline"

    def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        raise ProviderError(_("Offline payments are recorded by staff, not paid online."))

    def refund(self, request: RefundRequest) -> RefundResult:
        digest = hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24]
        return RefundResult(refund_id=f"offline_re_{digest}", succeeded=True)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        raise InvalidWebhook("the offline provider sends no webhooks")
