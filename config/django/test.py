"""Settings for the test suite: the base settings with fast hashing and a private media dir."""

import tempfile

from config.django.base import *

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="parta-test-media-")
PARTA_MAIL_DIR = tempfile.mkdtemp(prefix="parta-test-mail-")
WHITENOISE_AUTOREFRESH = True
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
