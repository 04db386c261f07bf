"""File storage: local files under MEDIA_ROOT by default; S3-compatible storage when
PARTA_S3_BUCKET is set. Students only ever get short-lived signed links
(parta.common.files)."""

from config.env import env

# Lifetime of a signed link to a video or file, in seconds.
PARTA_SIGNED_URL_TTL = env.int("PARTA_SIGNED_URL_TTL", default=600)

PARTA_S3_BUCKET = env.str("PARTA_S3_BUCKET", default="")

# The same choice as in config/django/base.py: this module replaces STORAGES whole, so the
# staticfiles entry is rebuilt here from the same variable.
if env.bool("PARTA_STATIC_MANIFEST", default=False):
    _staticfiles_backend = "whitenoise.storage.CompressedManifestStaticFilesStorage"
else:
    _staticfiles_backend = "django.contrib.staticfiles.storage.StaticFilesStorage"

if PARTA_S3_BUCKET:
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": PARTA_S3_BUCKET,
            # Empty means AWS itself; MinIO, Ceph, R2 and the like give their URL.
            "endpoint_url": env.str("PARTA_S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("PARTA_S3_ACCESS_KEY", default="") or None,
            "secret_key": env.str("PARTA_S3_SECRET_KEY", default="") or None,
            "region_name": env.str("PARTA_S3_REGION", default="us-east-1"),
            # "path" for servers without per-bucket host names (MinIO on a plain host).
            "addressing_style": env.str("PARTA_S3_ADDRESSING_STYLE", default="auto"),
            # Objects stay private (the bucket's default ACL); every URL is presigned.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": PARTA_SIGNED_URL_TTL,
            "signature_version": "s3v4",
            "file_overwrite": False,
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}

STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": _staticfiles_backend},
}
