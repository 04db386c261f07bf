"""Serves local files behind signed links (see parta.common.files), with byte ranges so
that video players can seek."""

from __future__ import annotations

import mimetypes
import os
import re
import time
from typing import BinaryIO

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from parta.common.files import (
    FileLinkExpired,
    FileLinkInvalid,
    filename_matches,
    local_file_path,
    read_file_token,
)

_RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.IGNORECASE)
# Shown in the page; anything else (HTML, SVG, ...) is downloaded, so that an uploaded file
# can never run script on our origin.
_INLINE_PREFIXES = ("video/", "audio/", "image/", "application/pdf", "text/plain")
_SCRIPTABLE = ("image/svg+xml",)
# Upload formats that Python's own table lacks where the system has no /etc/mime.types.
_EXTRA_TYPES = {".m4v": "video/mp4", ".webp": "image/webp"}


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) byte positions, inclusive, of a single `Range: bytes=...` header.

    None means "send the whole file": no header, a malformed one or several ranges, which
    RFC 9110 lets a server ignore. Raises RangeNotSatisfiable when the range starts past
    the end of the file.
    """
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if not first:  # "bytes=-N": the last N bytes
        if int(last) == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(size - int(last), 0), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable
    return start, min(int(last), size - 1) if last else size - 1


def _content_type(filename: str) -> str:
    guessed = mimetypes.guess_type(filename)[0]
    extension = os.path.splitext(filename)[1].lower()
    return guessed or _EXTRA_TYPES.get(extension, "application/octet-stream")


def _inline(content_type: str) -> bool:
    return content_type.startswith(_INLINE_PREFIXES) and content_type not in _SCRIPTABLE


class _BoundedReader:
    """Reads at most `length` bytes of an open file, for ranges that stop before its end."""

    def __init__(self, file: BinaryIO, length: int):
        self._file = file
        self._remaining = length

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self._remaining:
            size = self._remaining
        data = self._file.read(size)
        self._remaining -= len(data)
        return data

    def close(self) -> None:
        self._file.close()


@require_safe
def serve_file(request: HttpRequest, token: str, filename: str) -> HttpResponse | FileResponse:
    try:
        signed = read_file_token(token)
        if not filename_matches(signed.name, filename):
            raise Http404
        path = local_file_path(signed.name)
    except FileLinkExpired as error:
        return HttpResponse(
            error.message,
            status=error.status_code,
            content_type="text/plain; charset=utf-8",
            headers={"Cache-Control": "no-store"},
        )
    except FileLinkInvalid:
        raise Http404 from None

    try:
        file = path.open("rb")
        size = os.fstat(file.fileno()).st_size
    except OSError:  # removed since the check
        raise Http404 from None
    try:
        byte_range = parse_range(request.headers.get("Range", ""), size)
    except RangeNotSatisfiable:
        file.close()
        return HttpResponse(
            status=416, headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"}
        )

    content_type = _content_type(path.name)
    body: BinaryIO | _BoundedReader = file
    start, end = byte_range or (0, size - 1)
    if byte_range is not None:
        file.seek(start)
        # A range that runs to the end is the plain file: the server may then use sendfile.
        if end < size - 1:
            body = _BoundedReader(file, end - start + 1)
    response = FileResponse(
        body,
        filename=path.name,
        as_attachment=not _inline(content_type),
        content_type=content_type,
        status=200 if byte_range is None else 206,
    )
    if byte_range is not None:
        response.headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        response.headers["Content-Length"] = str(end - start + 1)
    remaining = max(signed.expires_at - int(time.time()), 0)
    response.headers["Cache-Control"] = f"private, max-age={remaining}"
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
