"""Video links that play inside the lesson page: YouTube, RuTube and VK Video.

`video_embed` reads the usual shapes of each host's links and returns the host's own
embed player (YouTube's privacy-enhanced youtube-nocookie.com); anything it does not
recognise gives None and the page keeps a plain link. The player URL is rebuilt from
the parsed id alone, never copied from the input, so no hostile string reaches it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

# The hosts the players are loaded from: the Content-Security-Policy's frame-src.
EMBED_HOSTS = ("https://www.youtube-nocookie.com", "https://rutube.ru", "https://vkvideo.ru")

MAX_URL_LENGTH = 2048

_YOUTUBE_HOSTS = {
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "music.youtube.com",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
}
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
# /shorts/ID, /embed/ID, /live/ID, /v/ID
_YOUTUBE_PATH = re.compile(r"/(?:shorts|embed|live|v)/([A-Za-z0-9_-]{11})/?")
_YOUTUBE_TIME = re.compile(r"(?:(\d{1,2})h)?(?:(\d{1,4})m)?(?:(\d{1,6})s?)?")

_RUTUBE_HOSTS = {"rutube.ru", "www.rutube.ru", "m.rutube.ru"}
_RUTUBE_PATH = re.compile(r"/(?:video|play/embed|shorts|video/private)/([0-9a-f]{32})/?", re.I)
_RUTUBE_PRIVATE_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")

_VK_HOSTS = {
    "vk.com",
    "www.vk.com",
    "m.vk.com",
    "vk.ru",
    "m.vk.ru",
    "vkvideo.ru",
    "www.vkvideo.ru",
    "m.vkvideo.ru",
}
# video-22822305_456242289 or clip-…; the owner is a user (positive) or a group (negative).
_VK_VIDEO = re.compile(r"(?:video|clip)(-?\d{1,19})_(\d{1,19})")
_VK_HASH = re.compile(r"[0-9a-f]{1,32}", re.I)


@dataclass(frozen=True)
class VideoEmbed:
    provider: str  # "youtube", "rutube" or "vk"
    src: str  # the player to put in an <iframe>

    @property
    def provider_name(self) -> str:
        return {"youtube": "YouTube", "rutube": "RuTube", "vk": "VK Video"}[self.provider]


def _youtube_start(query: dict) -> int:
    raw = (query.get("t") or query.get("start") or [""])[0]
    match = _YOUTUBE_TIME.fullmatch(raw)
    if not raw or match is None:
        return 0
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return min(hours * 3600 + minutes * 60 + seconds, 86_400)


def _youtube(host: str, path: str, query: dict) -> VideoEmbed | None:
    video_id = None
    if host == "youtu.be":
        candidate = path.strip("/")
        if _YOUTUBE_ID.fullmatch(candidate):
            video_id = candidate
    elif host in _YOUTUBE_HOSTS:
        if path.rstrip("/") == "/watch":
            candidate = (query.get("v") or [""])[0]
            if _YOUTUBE_ID.fullmatch(candidate):
                video_id = candidate
        else:
            match = _YOUTUBE_PATH.fullmatch(path)
            if match:
                video_id = match.group(1)
    if video_id is None:
        return None
    src = f"https://www.youtube-nocookie.com/embed/{video_id}"
    start = _youtube_start(query)
    if start:
        src += f"?start={start}"
    return VideoEmbed(provider="youtube", src=src)


def _rutube(path: str, query: dict) -> VideoEmbed | None:
    match = _RUTUBE_PATH.fullmatch(path)
    if match is None:
        return None
    src = f"https://rutube.ru/play/embed/{match.group(1).lower()}/"
    private_key = (query.get("p") or [""])[0]
    if _RUTUBE_PRIVATE_KEY.fullmatch(private_key):
        src += "?" + urlencode({"p": private_key})
    return VideoEmbed(provider="rutube", src=src)


def _vk(path: str, query: dict) -> VideoEmbed | None:
    owner = video = None
    if path.rstrip("/") == "/video_ext.php":
        owner = (query.get("oid") or [""])[0]
        video = (query.get("id") or [""])[0]
        if not (re.fullmatch(r"-?\d{1,19}", owner) and re.fullmatch(r"\d{1,19}", video)):
            return None
    else:
        # vk.com/video-1_2, vkvideo.ru/video-1_2, vk.com/clip-1_2, and a video opened
        # over a list: vk.com/videos-1?z=video-1_2%2Fpl_-1_-2
        match = _VK_VIDEO.fullmatch(path.strip("/").split("/")[-1] if path != "/" else "")
        if match is None:
            overlay = (query.get("z") or [""])[0].split("/")[0]
            match = _VK_VIDEO.fullmatch(overlay)
        if match is None:
            return None
        owner, video = match.groups()
    params = {"oid": owner, "id": video, "hd": "2"}
    video_hash = (query.get("hash") or [""])[0]
    if _VK_HASH.fullmatch(video_hash):
        params["hash"] = video_hash.lower()
    return VideoEmbed(provider="vk", src="https://vkvideo.ru/video_ext.php?" + urlencode(params))


def video_embed(url: object) -> VideoEmbed | None:
    """The embeddable player for a YouTube, RuTube or VK Video link, else None."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH or any(ord(ch) < 0x21 for ch in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
        query = parse_qs(parts.query, max_num_fields=50)
    except ValueError:  # a bad port, a bad IPv6 literal, too many parameters
        return None
    if parts.scheme.lower() not in ("http", "https") or parts.username or parts.password:
        return None
    if port not in (None, 80, 443):
        return None
    host = (parts.hostname or "").rstrip(".")
    if not host.isascii():
        return None
    path = parts.path or "/"
    if host == "youtu.be" or host in _YOUTUBE_HOSTS:
        return _youtube(host, path, query)
    if host in _RUTUBE_HOSTS:
        return _rutube(path, query)
    if host in _VK_HOSTS:
        return _vk(path, query)
    return None
