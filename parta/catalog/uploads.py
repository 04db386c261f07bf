"""Checks for uploaded files: lesson videos and course covers (moderators), images and PDFs
attached to chat messages (anyone).

A file must have an accepted extension, start with the bytes that format starts with
(a renamed program is not a video), and fit under the size limit from the settings.
The validators raise Django's ValidationError, so forms can use them as field
validators; services call them too, through `check_upload`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from parta.common.errors import ValidationFailed

MEGABYTE = 1024 * 1024

VIDEO_EXTENSIONS = ("mp4", "webm", "mov", "m4v")
IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")
ATTACHMENT_EXTENSIONS = (*IMAGE_EXTENSIONS, "pdf")

DEFAULT_MAX_VIDEO_MB = 500
DEFAULT_MAX_IMAGE_MB = 5
DEFAULT_MAX_ATTACHMENT_MB = 10

# MP4, MOV and M4V are ISO media files: a box size, then a box type at offset 4.
_ISO_MEDIA_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot")
_WEBM_MAGIC = b"\x1a\x45\xdf\xa3"


def _limit_bytes(setting_name: str, default_mb: int) -> int:
    raw = getattr(settings, setting_name, default_mb)
    try:
        megabytes = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        megabytes = Decimal(default_mb)
    return max(int(megabytes * MEGABYTE), 0)


def max_video_bytes() -> int:
    return _limit_bytes("PARTA_MAX_VIDEO_MB", DEFAULT_MAX_VIDEO_MB)


def max_image_bytes() -> int:
    return _limit_bytes("PARTA_MAX_IMAGE_MB", DEFAULT_MAX_IMAGE_MB)


def max_attachment_bytes() -> int:
    return _limit_bytes("PARTA_MAX_ATTACHMENT_MB", DEFAULT_MAX_ATTACHMENT_MB)


def _extension(file: File) -> str:
    return PurePath(file.name or "").suffix.lower().lstrip(".")


def _head(file: File, size: int = 16) -> bytes:
    """The first bytes of the file, leaving its position at the start."""
    file.seek(0)
    head = file.read(size)
    file.seek(0)
    return head or b""


def _looks_like_video(extension: str, head: bytes) -> bool:
    if extension == "webm":
        return head.startswith(_WEBM_MAGIC)
    return len(head) >= 8 and head[4:8] in _ISO_MEDIA_BOXES


def _looks_like_image(extension: str, head: bytes) -> bool:
    if extension in ("jpg", "jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if extension == "png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if extension == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    return False


def _looks_like_attachment(extension: str, head: bytes) -> bool:
    if extension == "pdf":
        return head.startswith(b"%PDF-")
    return _looks_like_image(extension, head)


def _check(
    file: File,
    *,
    extensions: tuple[str, ...],
    limit: int,
    looks_right: Callable[[str, bytes], bool],
    messages: dict[str, str],
) -> None:
    extension = _extension(file)
    if extension not in extensions:
        raise ValidationError(
            messages["type"] % {"types": ", ".join(extensions)}, code="file_type"
        )
    size = file.size or 0
    if size > limit:
        raise ValidationError(
            _("The file is too large (%(size)s); the limit is %(limit)s.")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)},
            code="file_size",
        )
    if not looks_right(extension, _head(file)):
        raise ValidationError(messages["content"] % {"type": extension}, code="file_content")


def validate_video_upload(file: File) -> None:
    _check(
        file,
        extensions=VIDEO_EXTENSIONS,
        limit=max_video_bytes(),
        looks_right=_looks_like_video,
        messages={
            "type": _("This file type is not accepted for a video. Upload one of: %(types)s."),
            "content": _("The file is not a %(type)s video."),
        },
    )


def validate_cover_image(file: File) -> None:
    _check(
        file,
        extensions=IMAGE_EXTENSIONS,
        limit=max_image_bytes(),
        looks_right=_looks_like_image,
        messages={
            "type": _("This file type is not accepted for a cover. Upload one of: %(types)s."),
            "content": _("The file is not a %(type)s image."),
        },
    )


def validate_attachment(file: File) -> None:
    """An image or a PDF attached to a message: checked by its first bytes, so a program
    renamed to .pdf is refused."""
    _check(
        file,
        extensions=ATTACHMENT_EXTENSIONS,
        limit=max_attachment_bytes(),
        looks_right=_looks_like_attachment,
        messages={
            "type": _("This file type cannot be attached. Attach one of: %(types)s."),
            "content": _("The file's content is not %(type)s: it cannot be attached."),
        },
    )


def check_upload(validator: Callable[[File], None], file: File, *, field: str) -> None:
    """Run an upload validator for a service: its error becomes ValidationFailed."""
    try:
        validator(file)
    except ValidationError as exc:
        raise ValidationFailed({field: list(exc.messages)}) from exc
