"""Short-lived signed links to protected files (lesson videos, attachments).

On S3-compatible storage the link is the storage's own presigned URL. On local storage it
points at parta.common.files_views, with a token that names the file and the moment the
link stops working, encrypted and authenticated (Fernet) with a key derived from Django's
SECRET_KEY (or one of SECRET_KEY_FALLBACKS): opaque to whoever holds the link, so it does
not show where the file is stored.
"""

from __future__ import annotations

import base64
import json
import posixpath
import time
from pathlib import Path
from typing import NamedTuple

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, default_storage
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest
from django.urls import reverse
from django.utils.crypto import salted_hmac
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
        payload = json.dumps({"n": name, "e": int(time.time()) + ttl}, separators=(",", ":"))
        token = _fernet().encrypt(payload.encode()).decode()
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
        payload = json.loads(_fernet().decrypt(token.encode()))
        signed = SignedFile(name=payload["n"], expires_at=payload["e"])
    except (InvalidToken, KeyError, TypeError, ValueError):
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


def _fernet() -> MultiFernet:
    """Encrypts with a key from SECRET_KEY; also reads links made under a fallback key."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(
                    salted_hmac(TOKEN_SALT, "fernet", secret=secret, algorithm="sha256").digest()
                )
            )
            for secret in secrets
        ]
    )


def _filename(name: str) -> str:
    return posixpath.basename(name)


def _media_root() -> Path:
    return _real(settings.MEDIA_ROOT)


def _real(location: str | Path) -> Path:
    return Path(location).resolve()
