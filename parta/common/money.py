"""Money is an integer number of minor units (kopecks, cents) plus an ISO 4217 code.
Never a float. Arithmetic only between equal currencies."""

from __future__ import annotations

from dataclasses import dataclass

# Minor units per major unit; every currency Parta accepts must be listed.
CURRENCY_EXPONENT = {"RUB": 2, "USD": 2, "EUR": 2, "KZT": 2}
CURRENCY_SYMBOL = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸"}
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

    def format(self) -> str:
        """ "1 990 ₽", "19.90 $": major units with a thin grouping space."""
        exponent = CURRENCY_EXPONENT[self.currency]
        sign = "-" if self.amount < 0 else ""
        major, minor = divmod(abs(self.amount), 10**exponent)
        grouped = f"{major:,}".replace(",", "\u202f")
        text = grouped if minor == 0 else f"{grouped}.{minor:0{exponent}d}"
        return f"{sign}{text}\u00a0{CURRENCY_SYMBOL.get(self.currency, self.currency)}"

    def __str__(self) -> str:
        return self.format()
