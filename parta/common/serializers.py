"""Serializer fields shared by the APIs."""

from rest_framework import serializers

from parta.common.converters import MAX_ID

# A 64-bit signed integer: what every integer column (and SQLite) can hold.
MAX_INT = MAX_ID
MIN_INT = -MAX_ID - 1


class IdField(serializers.IntegerField):
    """A row id in a request body: 1 to 2^63-1, so a larger number is a 400 with a
    message, never a driver error (OverflowError on SQLite)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class BoundedIntegerField(serializers.IntegerField):
    """An integer within the 64-bit range (narrower bounds may be passed)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", MIN_INT)
        kwargs.setdefault("max_value", MAX_INT)
        super().__init__(**kwargs)


class CurrencyField(serializers.ChoiceField):
    """An ISO currency code the school accepts (PARTA_CURRENCIES): the schema lists them.
    Lower case is read as upper case ("rub" is RUB)."""

    def __init__(self, **kwargs):
        from django.conf import settings

        super().__init__(choices=list(settings.PARTA_CURRENCIES), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = data.strip().upper()
        return super().to_internal_value(data)
