"""Shared set-up for the benchmarks: a throwaway database and a free loopback port."""

import os
import socket
import tempfile


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(name: str, *, postgres_only: bool = False) -> str:
    """A fresh database called ``name`` next to DATABASE_URL's on PostgreSQL, or a
    temporary SQLite file when DATABASE_URL is not PostgreSQL. Returns its URL."""
    base_url = os.environ.get("DATABASE_URL", "")
    if base_url.startswith("postgres"):
        import psycopg

        server = base_url.rsplit("/", 1)[0]
        with psycopg.connect(server + "/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        return f"{server}/{name}"
    if postgres_only:
        raise SystemExit("Set DATABASE_URL to a PostgreSQL server for this benchmark.")
    return f"sqlite:///{tempfile.mkdtemp(prefix='parta-bench-')}/bench.sqlite3"
