"""Helpers for the browser tests (pytest-playwright on Debian's Chromium)."""

from __future__ import annotations

import os
from pathlib import Path

WIDTHS = (1280, 390)
NEXT_FRAMES = (
    "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
)
# The innermost elements that reach past the window's right edge (none: an empty list).
WIDER_THAN_THE_WINDOW = """() => {
  if (document.documentElement.scrollWidth <= window.innerWidth) return [];
  const wide = [...document.querySelectorAll("body *")].filter(
    (el) => el.getBoundingClientRect().right > window.innerWidth + 1);
  return wide.filter((el) => !wide.some((other) => other !== el && el.contains(other)))
    .slice(0, 5).map((el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""));
}"""


def screenshots(page, name: str, *, widths=WIDTHS) -> None:
    """Look at the page at each width: it must never scroll sideways; with
    ``PARTA_SHOTS_DIR`` set, a full-page screenshot of each is saved there to be looked at
    (``<name>-<width>.png``)."""
    folder = os.environ.get("PARTA_SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
    for width in widths:
        page.set_viewport_size({"width": width, "height": 900})
        # Charts and other resize observers redraw in the next frames.
        page.evaluate(NEXT_FRAMES)
        overflow = page.evaluate(WIDER_THAN_THE_WINDOW)
        assert not overflow, f"{name} scrolls sideways at {width}px: {overflow}"
        if folder:
            page.screenshot(path=f"{folder}/{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": widths[0], "height": 900})
