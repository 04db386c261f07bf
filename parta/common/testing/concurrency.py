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


def run_pooled(
    count: int, work: Callable[[int], object], *, workers: int = 16, timeout: float = 60
) -> tuple[list, list]:
    """Call ``work(i)`` for i in range(count) from ``workers`` threads that start at the
    same moment and take the next i as they go: many concurrent calls with only
    ``workers`` database connections (PostgreSQL's limit is shared by everyone)."""
    barrier = threading.Barrier(workers)
    numbers = iter(range(count))
    results: list = []
    errors: list = []
    lock = threading.Lock()

    def runner() -> None:
        try:
            barrier.wait(timeout=timeout)
            while True:
                with lock:
                    i = next(numbers, None)
                if i is None:
                    return
                try:
                    value = work(i)
                except Exception as exc:
                    with lock:
                        errors.append(exc)
                else:
                    with lock:
                        results.append(value)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, errors
