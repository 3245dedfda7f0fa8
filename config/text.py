"""Checks on text that arrives as JSON: a JSON string may spell a lone UTF-16 surrogate
(``"\\ud800"``), which Python decodes into a ``str`` that cannot be encoded as UTF-8, so it would
fail later, in the database driver or a template, with a traceback instead of an answer."""

from __future__ import annotations

from typing import Any


def lone_surrogate_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (key or value) in ``value`` holding a lone surrogate,
    ``"."`` for a top-level string, or ``None`` when every string is valid Unicode."""
    if isinstance(value, str):
        return None if _valid(value) else (path or ".")
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not _valid(key):
                return where
            found = lone_surrogate_path(item, where)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = lone_surrogate_path(item, f"{path}[{i}]")
            if found:
                return found
    return None


def _valid(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


INVALID_TEXT = (
    "Text must be valid Unicode: it contains a lone surrogate (an unpaired \\ud800–\\udfff)."
)
