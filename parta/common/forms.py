"""Form fields shared by the apps."""

from django import forms
from django.core.exceptions import ValidationError

# The largest id a bigint primary key can hold.
ID_MAX = 2**63 - 1


def _is_id(value) -> bool:
    try:
        number = int(str(value))
    except ValueError:
        return False
    return 0 < number <= ID_MAX


class ModelChoiceField(forms.ModelChoiceField):
    """Refuses a value that cannot be an id before asking the database: SQLite raises
    OverflowError (a server error) for a number larger than 64 bits."""

    def to_python(self, value):
        if value not in self.empty_values and not _is_id(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """ModelChoiceField's check, for each of several values."""

    def _check_values(self, value):
        for pk in value:
            if not _is_id(pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)
