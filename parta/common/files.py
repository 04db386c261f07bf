"""Short-lived signed links to protected files (lesson videos, attachments).

On S3-compatible storage the link is the storage's own presigned URL. On local storage it
points at parta.common.files_views, with a token signed by Django's SECRET_KEY that names
the file and the moment the link stops working.
"""

from __future__ import annotations

import posixpath
import time
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, default_storage
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from parta.common.errors import ApplicationError, NotFound

TOKEN_SALT = "parta.files"


class FileLinkInvalid(NotFound):
    """The token was not made by us, or names a file that is not there."""

    code = "file_link_invalid"


class FileLinkExpired(ApplicationError):
    status_code = 410
    code = "file_link_expired"


class SignedFile(NamedTuple):
    name: str  # the storage name, e.g. "lessons/12/intro.mp4"
    expires_at: int  # Unix time after which the link no longer works


def signed_file_url(
    *, file: FieldFile | str, request: HttpRequest | None = None, ttl: int | None = None
) -> str:
    """A URL that gives access to `file` for `ttl` seconds (PARTA_SIGNED_URL_TTL by default).

    `file` is a model's file field value or a name in the default storage. With `request`
    a local link is made absolute; presigned S3 URLs always are.
    """
    ttl = settings.PARTA_SIGNED_URL_TTL if ttl is None else ttl
    if ttl <= 0:
        raise ValueError("ttl must be a positive number of seconds.")
    if isinstance(file, FieldFile):
        name, storage = file.name, file.storage
    else:
        name, storage = file, default_storage
    if not name:
        raise ValueError("There is no file to link to.")

    if isinstance(storage, FileSystemStorage):
        if _real(storage.location) != _media_root():
            raise ImproperlyConfigured("Signed local links serve files under MEDIA_ROOT only.")
        payload = {"n": name, "e": int(time.time()) + ttl}
        token = signing.dumps(payload, salt=TOKEN_SALT, compress=True)
        url = reverse("files:serve", kwargs={"token": token, "filename": _filename(name)})
        return request.build_absolute_uri(url) if request is not None else url
    if getattr(storage, "querystring_auth", False):
        return storage.url(name, expire=ttl)
    raise ImproperlyConfigured(f"{type(storage).__name__} cannot make signed links.")


def read_file_token(token: str) -> SignedFile:
    """The file a local link's token names, and when the link expires.

    Raises FileLinkInvalid for a token we did not sign and FileLinkExpired after its time.
    """
    try:
        payload = signing.loads(token, salt=TOKEN_SALT)
        signed = SignedFile(name=payload["n"], expires_at=payload["e"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise FileLinkInvalid(_("This link is not valid.")) from None
    if not isinstance(signed.name, str) or not isinstance(signed.expires_at, int):
        raise FileLinkInvalid(_("This link is not valid."))
    if time.time() >= signed.expires_at:
        raise FileLinkExpired(_("This link has expired. Reload the page to get a new one."))
    return signed


def verify_file_token(token: str) -> str:
    """The storage name a valid, unexpired token carries (see read_file_token for errors)."""
    return read_file_token(token).name


def filename_matches(name: str, filename: str) -> bool:
    """Whether the last part of a local link's path is the signed file's own name."""
    return filename == _filename(name)


def local_file_path(name: str) -> Path:
    """The file under MEDIA_ROOT that a storage name refers to.

    The name comes from a signed token, so it is ours; the check keeps even a bad name
    (an absolute path, "..", a symlink leading out) from reaching outside MEDIA_ROOT.
    """
    root = _media_root()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise FileLinkInvalid(_("This file is no longer available."))
    return path


def _filename(name: str) -> str:
    return posixpath.basename(name)


def _media_root() -> Path:
    return _real(settings.MEDIA_ROOT)


def _real(location: str | Path) -> Path:
    return Path(location).resolve()
