"""Content notes: topics a mother may not want to read without warning. A note collapses the
message until tapped; each member chooses topics to collapse by default; a room can require a
note for some topics, which is checked with the plain keyword lists below (reviewable data)."""

from __future__ import annotations

import re

from django.conf import settings

# The topics and their labels (settings.CONTENT_NOTE_TOPICS, which accounts reads too).
TOPICS: dict[str, str] = dict(settings.CONTENT_NOTE_TOPICS)

# Words that suggest a topic, for rooms that require a note. Deliberately narrow: a false demand
# for a note is a small friction, a missed one is only a missed collapse (moderators still see it).
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "birth_trauma": (
        "emergency c-section",
        "emergency section",
        "forceps",
        "haemorrhage",
        "hemorrhage",
        "tore",
        "3rd degree",
        "third degree",
        "4th degree",
        "fourth degree",
        "episiotomy",
        "crash section",
    ),
    "baby_loss": (
        "stillbirth",
        "stillborn",
        "miscarriage",
        "miscarried",
        "lost the baby",
        "lost our baby",
        "ectopic",
        "neonatal death",
        "born sleeping",
        "angel baby",
    ),
    "self_harm": ("self-harm", "self harm", "cutting myself", "cut myself", "burn myself"),
    "suicidal_thoughts": ("suicide", "suicidal", "kill myself", "end my life"),
    "medical": ("blood transfusion", "catheter", "stitches", "nicu"),
    "abuse": ("hits me", "hit me", "abusive", "abused", "rape", "raped", "coercive"),
}
_PATTERNS = {
    topic: re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
    for topic, words in _KEYWORDS.items()
}


def topics_mentioned(text: str) -> list[str]:
    return [topic for topic, pattern in _PATTERNS.items() if pattern.search(text)]


def missing_required_note(text: str, *, required: list[str], given: str) -> str | None:
    """The first required topic the text touches without the matching note, if any."""
    if not required:
        return None
    for topic in topics_mentioned(text):
        if topic in required and given != topic:
            return topic
    return None
