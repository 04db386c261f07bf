"""``__in`` on integer columns that ignores values no column can hold.

Django already turns ``pk=2**63`` into an empty result (its IntegerFieldOverflow
lookups); ``pk__in=[2**63]`` still reaches the driver, and SQLite's raises
OverflowError (the admin's autocomplete widgets filter that way on whatever was posted).
"""

from django.db.models import IntegerField
from django.db.models.lookups import In


@IntegerField.register_lookup
class BoundedIn(In):
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value() and isinstance(self.rhs, list | tuple | set):
            low, high = connection.ops.integer_field_range(
                self.lhs.output_field.get_internal_type()
            )
            self.rhs = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
        return super().process_rhs(compiler, connection)
