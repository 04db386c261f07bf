"""Mistakes billing code is known to make elsewhere, checked here once each. (Replayed
webhooks, refunds on GET and in parallel, balance purchases without grants, ledger
signs and checkout reuse are covered in test_purchase, test_balance_refunds and
test_concurrency.)"""

import datetime

import pytest
from django.apps import apps
from django.db import models

from parta.common.money import Money


def _parta_fields():
    for model in apps.get_models():
        if model.__module__.startswith("parta."):
            for field in model._meta.get_fields():
                if isinstance(field, models.Field):
                    yield model, field


def test_no_default_is_evaluated_once_at_import():
    """A default like ``timezone.now()`` (called) would stamp every row with the
    moment the server started."""
    frozen = [
        f"{model.__name__}.{field.name}"
        for model, field in _parta_fields()
        if field.has_default()
        and isinstance(field.default, datetime.date | datetime.datetime | list | dict | set)
    ]
    assert frozen == []


def test_money_is_never_a_float():
    billing = apps.get_app_config("billing")
    floats = [
        f"{model.__name__}.{field.name}"
        for model in billing.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FloatField | models.DecimalField)
    ]
    assert floats == []
    with pytest.raises(TypeError):
        Money(19.9, "RUB")  # type: ignore[arg-type]
