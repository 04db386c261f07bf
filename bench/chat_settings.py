"""Settings for bench/chat.py's server: the benchmarks' settings plus its reply view."""

from bench.settings import *  # noqa: F403

ROOT_URLCONF = "bench.chat_urls"
