"""Channels (websockets, the chat's live messages): the channel layer carries an event
from the process that stored a message to every process holding a socket on its thread.

Without REDIS_URL the layer lives in process memory: right for `make run` (one server
process, which also runs the views that post). With REDIS_URL it is channels-redis, so
that the several worker processes of the production ASGI server reach each other.
"""

from config.env import env
from config.settings.cache import REDIS_URL

# Keys of the channel layer in Redis start with this (the cache has its own prefix).
PARTA_CHANNELS_PREFIX = env.str("PARTA_CHANNELS_PREFIX", default="parta-ws")
# How long posting a message may wait for the channel layer before giving up (logged;
# the message is stored anyway and the page's polling shows it), in seconds.
PARTA_CHANNELS_SEND_TIMEOUT = env.float("PARTA_CHANNELS_SEND_TIMEOUT", default=2.0)

# The ASGI server runs each request's synchronous code in a thread of its own, so Django's
# persistent connections are never reused there: every request would open a PostgreSQL
# connection. config/asgi.py gives each server process a pool of at most this many
# connections instead (0: no pool, a connection per request).
PARTA_ASGI_DATABASE_POOL = env.int("PARTA_ASGI_DATABASE_POOL", default=10)

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        # A Redis that does not take a connection is noticed within a second.
                        "socket_connect_timeout": 1,
                        # Reads must outlast the layer's blocking pop (5 s): redis-py 8's
                        # default of 5 s would end every idle socket's wait with an error.
                        "socket_timeout": 15,
                    }
                ],
                "prefix": PARTA_CHANNELS_PREFIX,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
