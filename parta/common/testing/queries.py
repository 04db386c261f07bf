"""Count the SQL statements a block runs (robust to requests resetting Django's query
log, unlike CaptureQueriesContext around the test client)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def count_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield statements
