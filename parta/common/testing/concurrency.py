"""Run the same work in many threads at once (each with its own database connection)
for concurrency tests on PostgreSQL."""

import threading
from collections.abc import Callable

from django.db import connection


def run_together(
    count: int, work: Callable[[int], object], *, timeout: float = 60
) -> tuple[list, list]:
    """Start ``count`` threads that call ``work(i)`` at the same moment; return the
    results and the exceptions raised."""
    barrier = threading.Barrier(count)
    results: list = []
    errors: list = []
    lock = threading.Lock()

    def runner(i: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            value = work(i)
            with lock:
                results.append(value)
        except Exception as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, errors
