import base64
import contextlib
import importlib
import os
import time
import zlib
from collections.abc import Callable, Iterator
from types import ModuleType
from urllib.parse import parse_qs, quote, urlsplit

import boto3
import pytest
import requests
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import FileField
from django.db.models.fields.files import FieldFile
from django.test import RequestFactory
from moto.server import ThreadedMotoServer
from storages.backends.s3 import S3Storage

from config.settings import storage as storage_settings_module
from parta.common.files import (
    TOKEN_SALT,
    FileLinkExpired,
    FileLinkInvalid,
    signed_file_url,
    verify_file_token,
)
from parta.common.testing.smtp import free_port

pytestmark = pytest.mark.django_db

VIDEO = bytes(range(256)) * 40  # 10 240 bytes that differ from position to position
BUCKET = "parta-media"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    (tmp_path / "media").mkdir()
    settings.PARTA_SIGNED_URL_TTL = 600
    return tmp_path / "media"


@pytest.fixture
def video_name(media) -> str:
    return default_storage.save("lessons/videos/intro.mp4", ContentFile(VIDEO))


def parts(url: str) -> tuple[str, str]:
    """The token and the filename of a local link."""
    prefix, token, filename = url.rsplit("/", 2)
    assert prefix == "/files"
    return token, filename


def flip(text: str, index: int) -> str:
    """`text` with the character at `index` changed."""
    changed = "B" if text[index] == "A" else "A"
    return text[:index] + changed + text[index + 1 :]


def read(response) -> bytes:
    try:
        return response.getvalue()
    finally:
        response.close()


# --- Local storage ------------------------------------------------------------------


def test_local_link_serves_the_file(client, video_name):
    url = signed_file_url(file=video_name)
    assert parts(url)[1] == "intro.mp4"

    response = client.get(url)

    assert response.status_code == 200
    assert read(response) == VIDEO
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(VIDEO))
    assert response["Content-Disposition"].startswith("inline")
    assert response["Accept-Ranges"] == "bytes"
    assert response["X-Content-Type-Options"] == "nosniff"
    cache_control, max_age = response["Cache-Control"].split("=")
    assert cache_control == "private, max-age"
    assert 595 <= int(max_age) <= 600
    assert verify_file_token(parts(url)[0]) == video_name


def test_link_from_a_file_field_is_absolute_with_a_request(client, video_name):
    file = FieldFile(None, FileField(), video_name)
    request = RequestFactory().get("/lessons/1/")

    url = signed_file_url(file=file, request=request, ttl=30)

    assert url.startswith("http://testserver/files/")
    response = client.get(url)
    assert read(response) == VIDEO
    assert 25 <= int(response["Cache-Control"].split("=")[1]) <= 30


def test_link_to_a_file_with_spaces_and_cyrillic_in_its_name(client, media):
    name = default_storage.save("lessons/videos/Урок 1 (вводный).webm", ContentFile(b"webm"))

    response = client.get(signed_file_url(file=name))

    assert response.status_code == 200
    assert read(response) == b"webm"
    assert response["Content-Type"] == "video/webm"


def test_expired_link_is_refused(client, settings, video_name, monkeypatch):
    url = signed_file_url(file=video_name, ttl=60)
    signed_at = time.time()
    assert read(client.get(url)) == VIDEO
    monkeypatch.setattr(time, "time", lambda: signed_at + 61)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get(url)

    assert response.status_code == 410
    assert response.content.decode() == "This link has expired. Reload the page to get a new one."
    assert response["Cache-Control"] == "no-store"
    with pytest.raises(FileLinkExpired):
        verify_file_token(parts(url)[0])


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda token: flip(token, len(token) - 1), id="signature"),
        pytest.param(lambda token: flip(token, 0), id="payload"),
        pytest.param(lambda token: "not-a-token", id="garbage"),
        pytest.param(
            lambda token: signing.dumps({"n": "lessons/videos/intro.mp4", "e": 2**40}),
            id="other-salt",
        ),
        pytest.param(
            lambda token: signing.dumps(["lessons/videos/intro.mp4"], salt=TOKEN_SALT),
            id="wrong-shape",
        ),
    ],
)
def test_tampered_token_is_not_found(client, video_name, tamper: Callable[[str], str]):
    token, filename = parts(signed_file_url(file=video_name))
    forged = tamper(token)

    assert client.get(f"/files/{forged}/{filename}").status_code == 404
    with pytest.raises(FileLinkInvalid):
        verify_file_token(forged)


@pytest.mark.parametrize("filename", ["other.mp4", "intro.MP4", "intro.mp4.html", "passwd"])
def test_tampered_filename_is_not_found(client, video_name, filename):
    token, _ = parts(signed_file_url(file=video_name))
    assert client.get(f"/files/{token}/{filename}").status_code == 404


def test_no_way_out_of_media_root(client, media, video_name):
    secret = media.parent / "secret.txt"
    secret.write_text("not for students")
    (media / "lessons" / "link.txt").symlink_to(secret)
    token, _ = parts(signed_file_url(file=video_name))

    # Even names we signed ourselves cannot lead out of MEDIA_ROOT.
    for name in ["../secret.txt", str(secret), "lessons/../../secret.txt", "lessons/link.txt"]:
        assert client.get(signed_file_url(file=name)).status_code == 404, name
    # Nor can the path part of a valid link.
    for path in ["..%2F..%2Fsecret.txt", quote("../../secret.txt", safe="")]:
        assert client.get(f"/files/{token}/{path}").status_code == 404, path
    assert client.get(f"/files/{token}/../../secret.txt").status_code == 404


def test_removed_file_is_not_found(client, video_name):
    url = signed_file_url(file=video_name)
    default_storage.delete(video_name)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=100-1123", 100, 1123), ("bytes=10000-", 10000, 10239), ("bytes=-40", 10200, 10239)],
)
def test_range_requests_get_partial_content(client, video_name, header, first, last):
    response = client.get(signed_file_url(file=video_name), HTTP_RANGE=header)

    assert response.status_code == 206
    assert read(response) == VIDEO[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(VIDEO)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["Content-Type"] == "video/mp4"


def test_range_past_the_end_is_not_satisfiable(client, video_name):
    response = client.get(signed_file_url(file=video_name), HTTP_RANGE="bytes=10240-")

    assert response.status_code == 416
    assert response["Content-Range"] == "bytes */10240"


@pytest.mark.parametrize("header", ["bytes=5-2", "items=0-1", "bytes=0-1,5-9", "bytes=-"])
def test_ranges_we_ignore_get_the_whole_file(client, video_name, header):
    response = client.get(signed_file_url(file=video_name), HTTP_RANGE=header)

    assert response.status_code == 200
    assert read(response) == VIDEO


def test_head_works_and_writes_are_refused(client, video_name):
    url = signed_file_url(file=video_name)

    head = client.head(url)
    assert head.status_code == 200
    assert head["Content-Length"] == str(len(VIDEO))
    head.close()
    assert client.post(url).status_code == 405


@pytest.mark.parametrize("name", ["attachments/page.html", "attachments/logo.svg"])
def test_files_that_could_run_script_are_downloaded(client, media, name):
    default_storage.save(name, ContentFile(b"<svg onload=alert(1)></svg>"))

    response = client.get(signed_file_url(file=name))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    read(response)


def test_bad_arguments_are_refused(media):
    with pytest.raises(ValueError, match="ttl"):
        signed_file_url(file="lessons/videos/intro.mp4", ttl=0)
    with pytest.raises(ValueError, match="no file"):
        signed_file_url(file=FieldFile(None, FileField(), ""))
    unsigned = S3Storage(bucket_name=BUCKET, querystring_auth=False)
    with pytest.raises(ImproperlyConfigured):
        signed_file_url(file=FieldFile(None, FileField(storage=unsigned), "a.mp4"))


# --- Settings and S3-compatible storage -----------------------------------------------


@pytest.fixture
def storage_settings() -> Iterator[Callable[..., ModuleType]]:
    """config/settings/storage.py evaluated again under the given environment."""

    def evaluate(**environment: str) -> ModuleType:
        with pytest.MonkeyPatch.context() as patch:
            for name in list(os.environ):
                if name.startswith(("PARTA_S3_", "PARTA_SIGNED_", "PARTA_STATIC_MANIFEST")):
                    patch.delenv(name)
            for name, value in environment.items():
                patch.setenv(name, value)
            return importlib.reload(storage_settings_module)

    yield evaluate
    importlib.reload(storage_settings_module)


def test_local_storage_is_the_default(storage_settings):
    module = storage_settings()
    assert module.STORAGES == {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    manifest = storage_settings(PARTA_STATIC_MANIFEST="1").STORAGES["staticfiles"]
    assert manifest == {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API (moto's server) on loopback, with an empty private bucket."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def s3_storage(settings, storage_settings, s3_endpoint):
    module = storage_settings(
        PARTA_S3_BUCKET=BUCKET,
        PARTA_S3_ENDPOINT_URL=s3_endpoint,
        PARTA_S3_ACCESS_KEY="testing",
        PARTA_S3_SECRET_KEY="testing",
        PARTA_SIGNED_URL_TTL="120",
    )
    settings.STORAGES = module.STORAGES
    settings.PARTA_SIGNED_URL_TTL = module.PARTA_SIGNED_URL_TTL
    return default_storage


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.trust_env = False  # straight to loopback, whatever proxy the machine has
        yield session


def test_s3_link_is_presigned_for_the_ttl(s3_storage, http):
    name = s3_storage.save("lessons/videos/intro.mp4", ContentFile(VIDEO))
    assert isinstance(s3_storage._wrapped, S3Storage)

    url = signed_file_url(file=name)

    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["120"]
    assert query["X-Amz-Credential"][0].startswith("testing/")
    assert "X-Amz-Signature" in query
    response = http.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == VIDEO
    # The object itself is private: without the signature the server refuses it.
    assert http.get(url.split("?")[0], timeout=10).status_code == 403


def test_s3_link_for_a_file_field_honours_its_ttl(s3_storage, http):
    field_file = FieldFile(None, FileField(), s3_storage.save("a/notes.pdf", ContentFile(b"%PDF")))
    # Names are never reused: a second upload under the same name gets a new one.
    assert s3_storage.save("a/notes.pdf", ContentFile(b"%PDF-2")) != field_file.name

    url = signed_file_url(file=field_file, ttl=45)

    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["45"]
    assert http.get(url, headers={"Range": "bytes=1-2"}, timeout=10).content == b"PD"


def test_a_local_token_does_not_show_the_storage_path(video_name, settings):
    token, _filename = parts(signed_file_url(file=video_name))
    readable = [token.encode()]
    for segment in token.split(":"):  # whatever base64 (maybe zlib-compressed) it holds
        with contextlib.suppress(ValueError, zlib.error):
            data = base64.urlsafe_b64decode(segment.lstrip(".") + "=" * (-len(segment) % 4))
            readable.append(data)
            readable.append(zlib.decompress(data))
    for shown in (b"lessons", b"videos", b"intro"):
        assert not any(shown in data for data in readable)
    # Made under the previous key, still read after a rotation; unreadable with another.
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "another-key-" * 5
    assert verify_file_token(token) == video_name
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(FileLinkInvalid):
        verify_file_token(token)
