"""A message's text as HTML: everything escaped, web links made clickable, nothing else
rendered (no Markdown, no HTML of the author's). Line breaks are kept by the page's CSS
(``white-space: pre-wrap``)."""

from __future__ import annotations

import re

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

# http(s)://… or www.…, up to a space, a quote or an angle bracket.
_LINK = re.compile(r"(?i)(?<![\w@/.])((?:https?://|www\.)[^\s<>\"'`]+)")
# Punctuation that ends a sentence rather than the link.
_TRAILING = ".,;:!?»…\u201d\u2019"


def _trim(url: str) -> str:
    while url:
        closes_nothing = url[-1] == ")" and url.count("(") < url.count(")")
        if url[-1] in _TRAILING or closes_nothing:
            url = url[:-1]
        else:
            break
    return url


def linkify(text: str) -> SafeString:
    """``text`` escaped for HTML, with its http(s) and www. links as ``<a>`` elements that
    open in a new tab and pass no referrer."""
    parts: list[str] = []
    position = 0
    for match in _LINK.finditer(text or ""):
        url = _trim(match.group(1))
        if "://" not in url and len(url) <= len("www."):
            continue
        if url.lower() in ("http://", "https://"):
            continue
        start = match.start(1)
        parts.append(escape(text[position:start]))
        href = url if "://" in url else f"https://{url}"
        parts.append(
            format_html(
                '<a href="{}" rel="nofollow noopener noreferrer" target="_blank">{}</a>', href, url
            )
        )
        position = start + len(url)
    parts.append(escape((text or "")[position:]))
    # Every part above is escaped.
    return mark_safe("".join(parts))
