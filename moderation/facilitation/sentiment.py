"""Message sentiment for the facilitation engine (VADER, rule-based, ships its lexicon offline).

VADER was built on American social media text. ``data/vader_uk.json`` adds a handful of British
words the room actually uses ("rubbish", "knackered", "gutted") and tones down "bloody", which here
is mostly an intensifier; see docs/facilitation.md for the measurements behind each change.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

UK_LEXICON_FILE = Path(__file__).resolve().parent / "data" / "vader_uk.json"


class SentimentScorer(Protocol):
    """Anything that gives each text a compound score in [-1, 1] (negative is low mood)."""

    def compound(self, texts: Sequence[str]) -> list[float]: ...


class VaderSentiment:
    """VADER's compound score with the UK lexicon additions applied."""

    def __init__(self, *, uk_lexicon: Path | None = UK_LEXICON_FILE) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()
        if uk_lexicon is not None:
            words = json.loads(uk_lexicon.read_text(encoding="utf-8"))["words"]
            self._analyzer.lexicon.update({w.lower(): float(v) for w, v in words.items()})

    def compound(self, texts: Sequence[str]) -> list[float]:
        return [float(self._analyzer.polarity_scores(t)["compound"]) for t in texts]


_lock = threading.Lock()
_default: VaderSentiment | None = None


def default_sentiment() -> VaderSentiment:
    """One analyser per process; building it reads a 7,500-word lexicon (about 15 ms)."""
    global _default
    with _lock:
        if _default is None:
            _default = VaderSentiment()
        return _default
