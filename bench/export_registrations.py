"""Registrations export benchmark: N users through the real selector and workbook writer.

    .venv/bin/python bench/export_registrations.py [--users 100000]

Creates the users in a throwaway database (SQLite file in a temp dir, or a fresh
PostgreSQL database next to DATABASE_URL's), then times the export through the same
view the staff download hits, and reports rows/s and peak memory (max RSS of the
process, which includes Django itself).
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import prepare_database  # noqa: E402


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="parta-bench-")
    os.environ["DATABASE_URL"] = prepare_database("parta_bench_export")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.base")
    os.environ["PARTA_MAIL_DIR"] = tmp

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from parta.accounts.models import Role, User

    call_command("migrate", verbosity=0)
    print(f"database: {os.environ['DATABASE_URL'].split('@')[-1]}")
    started = time.perf_counter()
    now = timezone.now()
    batch = []
    for i in range(args.users):
        batch.append(
            User(
                email=f"bench{i}@example.com",
                full_name=f"Ученик Номер {i}",
                phone=f"+7999{i:07d}",
                role=Role.STUDENT,
                telegram_chat_id=i if i % 3 == 0 else None,
                password="!",
                created_at=now,
                updated_at=now,
            )
        )
        if len(batch) == 5000:
            User.objects.bulk_create(batch)
            batch.clear()
    User.objects.bulk_create(batch)
    staff = User.objects.create_superuser(email="bench-staff@example.com", password="x" * 12)
    print(f"created {args.users:,} users in {time.perf_counter() - started:.1f}s")

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(staff)
    rss_before = rss_mb()
    started = time.perf_counter()
    response = client.get("/staff/exports/registrations.xlsx")
    size = sum(len(chunk) for chunk in response.streaming_content)
    elapsed = time.perf_counter() - started
    rows = args.users + 1
    assert response.status_code == 200, response.status_code
    print(f"exported {rows:,} rows, {size / 1e6:.1f} MB xlsx, in {elapsed:.2f}s")
    print(f"rows/s: {rows / elapsed:,.0f}  (target >= 20,000)")
    print(f"peak RSS: {rss_mb():.0f} MB (before export {rss_before:.0f} MB; target < 200 MB)")


if __name__ == "__main__":
    main()
