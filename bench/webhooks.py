"""Webhook ingest on PostgreSQL: signed sandbox events through the real HTTP endpoint.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/webhooks.py [--orders 2000] [--replays 0.25]

Creates a fresh database, N pending orders with open sandbox checkouts, then one signed
"paid" event per order plus a share of replays (the same bytes again), shuffled, and
POSTs them to /payments/webhook/sandbox/ on gunicorn (2 workers, one per core) from 8 client
threads with keep-alive. Prints events/s and checks the result: every order paid once,
one grant per order, replays answered "duplicate", the ledger consistent.
"""

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, prepare_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--replays", type=float, default=0.25)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    env = dict(os.environ)
    env["DATABASE_URL"] = prepare_database("parta_bench_webhooks", postgres_only=True)
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    env["PYTHONPATH"] = str(ROOT)
    env["PARTA_SANDBOX_WEBHOOK_SECRET"] = "bench-secret"
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from parta.accounts.models import User
    from parta.billing.models import Item, ItemKind, ItemPrice, Order, OrderLine
    from parta.billing.providers import sandbox
    from parta.billing.providers.base import EventKind
    from parta.catalog.models import Course

    call_command("migrate", verbosity=0)
    course = Course.objects.create(title="Bench", slug="bench", is_published=True)
    item = Item.objects.create(kind=ItemKind.COURSE, course=course, title="Bench")
    price = ItemPrice.objects.create(item=item, currency="RUB", amount=100000)
    users = User.objects.bulk_create(
        User(email=f"buyer{i}@example.com", full_name=f"Buyer {i}", password="!")
        for i in range(args.orders)
    )
    from django.utils import timezone

    expires = timezone.now() + timezone.timedelta(hours=2)
    orders = Order.objects.bulk_create(
        Order(user=u, currency="RUB", subtotal=100000, total=100000, provider="sandbox",
              checkout_id=f"sbx_cs_bench_{u.pk}", checkout_expires_at=expires)
        for u in users
    )  # fmt: skip
    OrderLine.objects.bulk_create(
        OrderLine(order=o, item=item, item_price=price, title="Bench", unit_amount=100000,
                  total=100000)
        for o in orders
    )  # fmt: skip
    bodies = [
        sandbox.event_body(
            EventKind.CHECKOUT_PAID, order_id=o.pk, session_id=o.checkout_id, amount=100000,
            currency="RUB", payment_id=f"sbx_pay_bench_{o.pk}",
        )
        for o in orders
    ]  # fmt: skip
    replays = random.Random(1).sample(bodies, int(len(bodies) * args.replays))
    deliveries = bodies + replays
    random.Random(2).shuffle(deliveries)
    connections.close_all()

    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
         "--threads", str(args.threads),
         "--log-level", "warning", "--keep-alive", "30"],
        env=env, cwd=ROOT,
    )  # fmt: skip
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(0.5)
        # Signed up front (the signature is valid for five minutes), so the clients spend
        # the run sending, not hashing.
        queue = [(body, sandbox.sign(body)) for body in deliveries]
        queue_lock = threading.Lock()

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            while True:
                with queue_lock:
                    if not queue:
                        break
                    body, signature = queue.pop()
                headers = {"Content-Type": "application/json", **signature}
                conn.request("POST", "/payments/webhook/sandbox/", body=body, headers=headers)
                response = conn.getresponse()
                answer = json.loads(response.read() or b"{}")
                key = f"{response.status}:{answer.get('status', '?')}"
                with lock:
                    statuses[key] = statuses.get(key, 0) + 1
            conn.close()

        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)

    from parta.access.models import AccessGrant
    from parta.billing.models import ProviderEvent
    from parta.billing.services.ledger import ledger_check

    paid = Order.objects.filter(status="paid").count()
    print(f"database: {env['DATABASE_URL'].split('@')[-1]}; {len(bodies)} events + "
          f"{len(replays)} replays = {len(deliveries)} deliveries")  # fmt: skip
    print(f"responses: {statuses}")
    print(f"{len(deliveries) / elapsed:,.0f} deliveries/s in {elapsed:.1f}s (target >= 300/s)")
    print(
        f"orders paid {paid}/{len(orders)}, grants {AccessGrant.objects.count()}, "
        f"events stored {ProviderEvent.objects.count()}, ledger problems {len(ledger_check())}"
    )


if __name__ == "__main__":
    main()
