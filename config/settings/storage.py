"""File storage: local files under MEDIA_ROOT by default; S3-compatible storage when
PARTA_S3_BUCKET is set. Students only ever get short-lived signed links
(parta.common.files)."""

from config.env import env

# Lifetime of a signed link to a video or file, in seconds.
PARTA_SIGNED_URL_TTL = env.int("PARTA_SIGNED_URL_TTL", default=600)
