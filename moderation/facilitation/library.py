"""Facilitator prompt texts, kept as data so supervisors can edit them without a deploy.

The engine never hard-codes wording: it asks a :class:`PromptLibrary` for the n-th variant of a
signal's templates and fills in placeholders. Templates are checked when the library is built, so a
typo such as ``{nmae}`` made by a supervisor fails on save, not in the middle of a live session.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

DEFAULT_PROMPTS_FILE = Path(__file__).resolve().parent / "data" / "prompts.json"

SIGNALS: tuple[str, ...] = (
    "opening",
    "time_check",
    "closing",
    "newcomer",
    "silence",
    "unanswered",
    "negativity",
    "drift",
    "dominance",
    "check_in",
)

_COMMON = frozenset({"focus", "title", "next_session", "helpline"})

# Which placeholders each signal can fill. A template may use any subset, never anything else.
PLACEHOLDERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "opening": _COMMON | {"ground_rules", "minutes"},
        "time_check": _COMMON | {"minutes"},
        "closing": _COMMON,
        "newcomer": _COMMON | {"name"},
        "silence": _COMMON | {"minutes"},
        "unanswered": _COMMON | {"name"},
        "negativity": _COMMON,
        "drift": _COMMON,
        "dominance": _COMMON,
        "check_in": _COMMON | {"name"},
    }
)


# Words that keep their capital inside a sentence even when a facilitator starts the focus with
# them ("Christmas with a newborn"). Acronyms (NICU, NHS) and "I" keep theirs anyway.
_KEEP_CAPITAL = frozenset(
    {
        "christmas",
        "easter",
        "ramadan",
        "eid",
        "diwali",
        "hanukkah",
        "mother's",
        "father's",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "english",
        "british",
        "kindred",
    }
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“‘'])")


def focus_phrase(focus: str) -> str:
    """The session's focus as it reads inside a prompt's sentence ("Today we're talking about
    {focus}."). Facilitators write it as a heading or a sentence ("How nights are going.", "Sleep,
    naps and night feeds!"): only its first sentence is used, without its closing punctuation or
    quotes, and an ordinary capitalised first word is lower-cased ("we're talking about how nights
    are going."). Acronyms, "I" and names of days, months and festivals keep their capital."""
    text = " ".join(str(focus or "").split())
    text = _SENTENCE_END.split(text, maxsplit=1)[0]
    text = text.strip("\"'“”‘’ ").rstrip(".!?;:,… ").strip("\"'“”‘’ ")
    if not text:
        return text
    first, sep, rest = text.partition(" ")
    word = first.strip("\"'“”‘’(")
    ordinary_capital = (
        len(word) > 1
        and word[0].isupper()
        and word[1:] == word[1:].lower()
        and word.lower() not in _KEEP_CAPITAL
        and not word.startswith("I'")
    )
    if ordinary_capital:
        first = first.replace(word, word[0].lower() + word[1:], 1)
    elif word == "A":
        first = "a"
    return first + sep + rest


class PromptLibraryError(ValueError):
    """The prompt data is unusable; the message says which signal and template."""


def _fields(template: str) -> set[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise PromptLibraryError(f"malformed template {template!r}: {exc}") from exc
    names: set[str] = set()
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name == "" or not name.isidentifier() or spec or conversion:
            # Positional fields, attribute access and format specs would let edited data reach
            # into Python objects; only plain named placeholders are allowed.
            raise PromptLibraryError(f"template {template!r} uses an unsupported field {{{name}}}")
        names.add(name)
    return names


def _check_templates(signal: str, templates: Any, where: str) -> tuple[str, ...]:
    if signal not in PLACEHOLDERS:
        raise PromptLibraryError(f"{where}: unknown signal {signal!r}")
    if isinstance(templates, str) or not isinstance(templates, Sequence) or not templates:
        raise PromptLibraryError(f"{where}: {signal} needs a non-empty list of templates")
    checked = []
    for template in templates:
        if not isinstance(template, str) or not template.strip():
            raise PromptLibraryError(f"{where}: {signal} has an empty or non-text template")
        unknown = _fields(template) - PLACEHOLDERS[signal]
        if unknown:
            raise PromptLibraryError(
                f"{where}: {signal} template {template!r} uses unknown placeholder(s) "
                f"{', '.join(sorted(unknown))}; allowed: {', '.join(sorted(PLACEHOLDERS[signal]))}"
            )
        checked.append(template)
    return tuple(checked)


@dataclass(frozen=True)
class PromptLibrary:
    """Templates per signal, with optional per-topic overrides.

    ``topics`` maps a session topic slug to a partial ``signal -> templates`` mapping; a topic
    override replaces the default list for that signal only. Every signal must have defaults, so
    the engine can always say something.
    """

    templates: Mapping[str, tuple[str, ...]]
    topics: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [s for s in SIGNALS if s not in self.templates]
        if missing:
            raise PromptLibraryError(f"no templates for signal(s): {', '.join(missing)}")
        checked = {s: _check_templates(s, t, "signals") for s, t in self.templates.items()}
        checked_topics = {
            topic: MappingProxyType(
                {s: _check_templates(s, t, f"topics.{topic}") for s, t in overrides.items()}
            )
            for topic, overrides in self.topics.items()
        }
        object.__setattr__(self, "templates", MappingProxyType(checked))
        object.__setattr__(self, "topics", MappingProxyType(checked_topics))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PromptLibrary:
        """Build from the JSON shape of ``data/prompts.json`` (``signals`` and optional ``topics``)."""
        if not isinstance(data, Mapping) or not isinstance(data.get("signals"), Mapping):
            raise PromptLibraryError('prompt data must be an object with a "signals" object')
        topics = data.get("topics") or {}
        if not isinstance(topics, Mapping) or not all(
            isinstance(v, Mapping) for v in topics.values()
        ):
            raise PromptLibraryError(
                '"topics" must map a topic to an object of signal -> templates'
            )
        return cls(templates=dict(data["signals"]), topics={k: dict(v) for k, v in topics.items()})

    @classmethod
    def from_json_file(cls, path: str | Path) -> PromptLibrary:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise PromptLibraryError(f"cannot read prompt library {path}: {exc}") from exc
        return cls.from_mapping(data)

    def variants(self, signal: str, topic: str | None = None) -> tuple[str, ...]:
        if topic is not None and signal in self.topics.get(topic, {}):
            return self.topics[topic][signal]
        return self.templates[signal]

    def render(
        self, signal: str, *, variant: int, values: Mapping[str, object], topic: str | None = None
    ) -> str:
        """Fill the ``variant``-th template (rotating) for ``signal``.

        ``values`` must hold every placeholder the signal allows; missing ones raise ``KeyError``
        because a prompt with a hole in it should never reach a facilitator.
        """
        options = self.variants(signal, topic)
        return options[variant % len(options)].format_map(values)


_default_library: PromptLibrary | None = None


def default_library() -> PromptLibrary:
    """The shipped library, parsed once per process."""
    global _default_library
    if _default_library is None:
        _default_library = PromptLibrary.from_json_file(DEFAULT_PROMPTS_FILE)
    return _default_library
