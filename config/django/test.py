"""Settings for the test suite: the base settings with fast hashing and a private media dir."""

import tempfile

from config.django.base import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="parta-test-media-")
PARTA_MAIL_DIR = tempfile.mkdtemp(prefix="parta-test-mail-")
WHITENOISE_AUTOREFRESH = True
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Delivery in the test's own thread (its rows are in the test's transaction); the threaded
# worker is tested on its own, on PostgreSQL.
PARTA_NOTIFY_THREADS = 1

# The suite runs in one process: without Redis its own cache is process memory, so that
# query counts are those of the pages themselves. Servers that tests start in other
# processes run the base settings, on the database cache (the parta_cache table that
# the migrations create in the test database too).
if not REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
