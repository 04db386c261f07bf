"""Small database helpers for hot paths."""

from django.db import connection
from django.db.models import Model


def insert_unless_exists(obj: Model) -> bool:
    """Insert ``obj`` with one ``INSERT ... ON CONFLICT DO NOTHING RETURNING pk``
    (PostgreSQL; SQLite 3.35+). True, with ``obj.pk`` set, if it was inserted; False if
    a row with the same unique key exists (nothing written, no error, no savepoint).
    A concurrent insert of the same key waits for the first one to commit or roll back.
    """
    meta = type(obj)._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    values = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT DO NOTHING RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return True
