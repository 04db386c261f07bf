"""URL converters."""

# The largest value of a 64-bit signed integer: every id column (BigAutoField) and what
# SQLite can bind. A larger number in a URL matches nothing (404) instead of failing deep
# in the database driver (OverflowError on SQLite, an out-of-range error on PostgreSQL).
MAX_ID = 2**63 - 1


class IdConverter:
    """``<id:pk>``: a positive decimal id up to MAX_ID."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError("id out of range")
        return number

    def to_url(self, value) -> str:
        return str(int(value))
