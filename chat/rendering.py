"""Turns a member's plain text into safe HTML: everything escaped, http(s) links clickable."""

from __future__ import annotations

import html
from functools import lru_cache

import bleach
from bleach.linkifier import Linker, build_url_re

LINK_REL = "nofollow noopener ugc"


def _set_link_attrs(attrs: dict, new: bool = False) -> dict | None:
    href = attrs.get((None, "href"), "")
    if not href.lower().startswith(("http://", "https://")):
        return None  # Leave anything else as plain text.
    attrs[(None, "rel")] = LINK_REL
    attrs[(None, "target")] = "_blank"
    return attrs


@lru_cache(maxsize=1)
def _linker() -> Linker:
    # Only http/https: a bare "javascript:" or "data:" never becomes a link. parse_email off so
    # an address typed in passing is not turned into a mailto: link.
    return Linker(
        url_re=build_url_re(protocols=["http", "https"]),
        callbacks=[_set_link_attrs],
        parse_email=False,
    )


def normalise_body(text: str) -> str:
    """Trim, drop control characters other than newline/tab, and cap blank-line runs."""
    cleaned = "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127))
    lines = [line.rstrip() for line in cleaned.strip().splitlines()]
    out: list[str] = []
    blank = 0
    for line in lines:
        blank = blank + 1 if not line else 0
        if blank <= 2:
            out.append(line)
    return "\n".join(out)


def render_body(text: str) -> str:
    """Escape everything, then linkify. The linker works on the escaped text, so no user markup
    can survive; it only wraps URLs in anchors it builds itself."""
    return _linker().linkify(html.escape(text, quote=False))


def render_plain(text: str) -> str:
    """For places that never show links (notifications, previews)."""
    return bleach.clean(text, tags=set(), strip=True)
