"""Access-check API under load, against a bare Django view on the same server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/3 \
        .venv/bin/python bench/access_check.py [--connections 32] [--duration 15]

Creates a fresh database next to DATABASE_URL's (or a temporary SQLite file), a student
with a token and a grant, starts gunicorn on loopback (3 sync workers by default), then
runs wrk against `/bench/bare/` and `/api/v1/access/check/<course>/<user>/` (token
auth + lookup + cache) and prints requests/s and latency percentiles for both, as
medians of alternating rounds. Needs wrk (apt-get install wrk).

`--students 1000` asks about many students in turn, each with their own token (a wrk
Lua script), so the figure is not that of one hot cache key; `--as-service` asks about
them with one staff token, as a service does.

`--server granian --workers 2` runs the same comparison under granian's WSGI server
instead (pip install granian; not a dependency of Parta): a faster server shrinks the
bare view's cost, which makes the ratio harder to reach.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, prepare_database  # noqa: E402


def parse_wrk(output: str) -> dict:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    lat = {}
    for pct, value, unit in re.findall(r"\s(50|75|90|99)%\s+([\d.]+)(us|ms|s)\b", output):
        factor = {"us": 0.001, "ms": 1, "s": 1000}[unit]
        lat[pct] = float(value) * factor
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": rps, "latency_ms": lat, "non_2xx": int(errors.group(1)) if errors else 0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--worker-class", default="sync", help="gunicorn only")
    parser.add_argument(
        "--students", type=int, default=1,
        help="ask about this many students in turn, each with their own token (wrk script)",
    )  # fmt: skip
    parser.add_argument(
        "--as-service", action="store_true",
        help="ask with one staff token about the students (as a service would)",
    )  # fmt: skip
    parser.add_argument("--server", choices=["gunicorn", "granian"], default="gunicorn")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")

    env = dict(os.environ)
    env["DATABASE_URL"] = prepare_database("parta_bench_access")
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    env["PYTHONPATH"] = str(ROOT)
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from parta.access.models import AccessGrant, GrantSource
    from parta.accounts.models import Role, User
    from parta.catalog.models import Course

    call_command("migrate", verbosity=0)
    course = Course.objects.create(title="Bench", slug="bench", is_published=True)
    from django.utils import timezone

    students = User.objects.bulk_create(
        User(email=f"bench{i}@example.com", full_name=f"Bench Student {i}", password="!")
        for i in range(max(1, args.students))
    )
    AccessGrant.objects.bulk_create(
        AccessGrant(user=s, course=course, source=GrantSource.MANUAL, starts_at=timezone.now())
        for s in students
    )
    tokens = Token.objects.bulk_create(
        Token(user=s, key=Token.generate_key()) for s in students
    )  # fmt: skip
    student, token = students[0], tokens[0].key
    if args.as_service:
        service = User.objects.create_user(
            email="service@example.com", full_name="Service", role=Role.STAFF
        )
        token = Token.objects.create(user=service).key
        tokens = [Token(key=token)] * len(students)
    # With several students, wrk asks about each in turn (a Lua script of ready requests).
    script = Path(tempfile.mkdtemp(prefix="parta-bench-")) / "students.lua"
    script.write_text(
        "local requests = {\n"
        + "".join(
            f'  wrk.format("GET", "/api/v1/access/check/{course.id}/{s.id}/", '
            f'{{["Authorization"] = "Token {t.key}"}}),\n'
            for s, t in zip(students, tokens, strict=True)
        )
        + "}\nlocal i = 0\n"
        "request = function()\n  i = i % #requests + 1\n  return requests[i]\nend\n"
    )
    from django.db import connections

    connections.close_all()

    port = free_port()
    bin_dir = Path(sys.executable).parent
    if args.server == "granian" and not (bin_dir / "granian").exists():
        sys.exit("granian is missing: pip install granian")
    if args.server == "granian":
        command = [str(bin_dir / "granian"), "--interface", "wsgi", "config.wsgi:application",
                   "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
                   "--blocking-threads", str(args.threads), "--log-level", "warning",
                   "--no-ws"]  # fmt: skip
    else:
        command = [str(bin_dir / "gunicorn"), "config.wsgi:application",
                   "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
                   "--threads", str(args.threads), "--worker-class", args.worker_class,
                   "--log-level", "warning"]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    check = f"/api/v1/access/check/{course.id}/{student.id}/"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/bench/bare/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        request = urllib.request.Request(base + check, headers={"Authorization": f"Token {token}"})
        body = urllib.request.urlopen(request, timeout=5).read().decode()
        print(
            f"server: {' '.join(command[1:])}\ndatabase: {env['DATABASE_URL'].split('@')[-1]}, "
            f"cache: {env.get('REDIS_URL') or 'locmem'}"
        )
        print(f"check answers: {body}")
        targets = {
            "bare view": ("/bench/bare/", []),
            "access check": (check, ["-H", f"Authorization: Token {token}"]),
        }
        if args.students > 1:
            targets["access check"] = (check, ["-s", str(script)])
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        # Alternate the two for several rounds and take medians: on a small shared machine
        # one run of each is at the mercy of whatever else the CPU did at that moment.
        for _round in range(args.rounds):
            for name, (path, headers) in targets.items():
                cmd = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s",
                       "--latency", *headers, base + path]  # fmt: skip
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                runs[name].append(parse_wrk(out))
        summary = {}
        for name, items in runs.items():
            rps = statistics.median(r["rps"] for r in items)
            p50 = statistics.median(r["latency_ms"].get("50", 0) for r in items)
            p99 = statistics.median(r["latency_ms"].get("99", 0) for r in items)
            bad = sum(r["non_2xx"] for r in items)
            summary[name] = (rps, p99)
            each = ", ".join(f"{r['rps']:.0f}" for r in items)
            print(
                f"{name:13s} median {rps:6.0f} req/s (runs: {each})   p50 {p50:6.2f} ms   "
                f"p99 {p99:6.2f} ms   non-2xx {bad}"
            )
        ratio = summary["access check"][0] / summary["bare view"][0]
        print(
            f"ratio {ratio:.2f} (target >= 0.5), access-check p99 "
            f"{summary['access check'][1]:.2f} ms (target < 20), "
            f"bare-view p99 {summary['bare view'][1]:.2f} ms"
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
