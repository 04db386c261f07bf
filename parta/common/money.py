"""Money is an integer number of minor units (kopecks, cents) plus an ISO 4217 code.
Never a float. Arithmetic only between equal currencies."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import get_language

# Minor units per major unit; every currency Parta accepts must be listed.
CURRENCY_EXPONENT = {"RUB": 2, "USD": 2, "EUR": 2, "KZT": 2}
CURRENCY_SYMBOL = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸"}
NBSP = "\u00a0"
CURRENCY_CHOICES = [(code, code) for code in CURRENCY_EXPONENT]


class CurrencyMismatch(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Money:
    amount: int  # minor units
    currency: str

    def __post_init__(self):
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        if self.currency not in CURRENCY_EXPONENT:
            raise ValueError(f"Unknown currency {self.currency!r}")

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be mixed")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    def format(self, language: str | None = None) -> str:
        """The one way money is shown, in pages, messages and API errors alike.
        Russian (the default): "2 970 ₽", "10,50 ₽" (no-break spaces, a decimal comma);
        English: "₽2,970", "$10.50". Whole amounts drop the minor part."""
        return format_money(self.amount, self.currency, language=language)

    def __str__(self) -> str:
        return self.format()


def format_money(amount: int, currency: str, *, language: str | None = None) -> str:
    """``amount`` minor units of ``currency`` for a reader of ``language`` (default: the
    active language)."""
    if language is None:
        language = get_language() or settings.LANGUAGE_CODE
    exponent = CURRENCY_EXPONENT.get(currency, 2)
    symbol = CURRENCY_SYMBOL.get(currency, currency)
    sign = "−" if amount < 0 else ""
    major, minor = divmod(abs(int(amount)), 10**exponent)
    english = language.split("-")[0].lower() == "en"
    group, point = (",", ".") if english else (NBSP, ",")
    text = f"{major:,}".replace(",", group)
    if minor:
        text = f"{text}{point}{minor:0{exponent}d}"
    if english:
        return f"{sign}{symbol}{text}"
    return f"{sign}{text}{NBSP}{symbol}"
