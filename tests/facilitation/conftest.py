from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from moderation.facilitation.embeddings import MiniLMEmbedder, default_embedder
from moderation.facilitation.engine import EngineSettings, FacilitationEngine, Prompt, SessionInfo
from moderation.facilitation.library import PromptLibrary, default_library
from moderation.facilitation.replay import parse_replay, run_replay
from moderation.facilitation.sentiment import VaderSentiment, default_sentiment

TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"


class TopicEmbedder:
    """Stands in for MiniLM in engine-logic tests: texts sharing a topic word point the same way.

    Each topic word owns one axis; a text's vector is the normalised sum of its topic axes plus a
    small hash-seeded component, so unrelated texts are near-orthogonal. Deterministic.
    """

    TOPICS = ("sleep", "night", "work", "nursery", "anxiety", "support")

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")
            v = np.random.default_rng(seed).normal(size=32) * 0.05
            for i, word in enumerate(self.TOPICS):
                if word in text.lower():
                    v[i] += 1.0
            if not any(w in text.lower() for w in self.TOPICS):
                v[8 + seed % 24] += 1.0  # off-topic texts each get some unrelated direction
            rows.append(v / np.linalg.norm(v))
        return np.asarray(rows, dtype=np.float32)


class WordSentiment:
    """Stands in for VADER: -0.8 for a text with a gloomy word, +0.5 for a cheerful one, else 0."""

    GLOOMY = re.compile(r"\b(awful|rubbish|hate|useless|terrible|nightmare)\b", re.IGNORECASE)
    CHEERFUL = re.compile(r"\b(helped|lovely|great|better|good)\b", re.IGNORECASE)

    def compound(self, texts: Sequence[str]) -> list[float]:
        return [
            -0.8 if self.GLOOMY.search(t) else 0.5 if self.CHEERFUL.search(t) else 0.0
            for t in texts
        ]


@pytest.fixture(scope="session")
def library() -> PromptLibrary:
    return default_library()


@pytest.fixture(scope="session")
def vader() -> VaderSentiment:
    return default_sentiment()


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    """The real model, loaded once for the whole run (about 6 s including the torch import)."""
    return default_embedder()


@pytest.fixture
def session() -> SessionInfo:
    return SessionInfo(
        focus="Sleep and night wakings",
        duration_minutes=60,
        next_session="next Tuesday at 10am",
        helpline="PANDAS on 0808 1961 776",
    )


@pytest.fixture
def make_engine(session: SessionInfo, library: PromptLibrary) -> Callable[..., FacilitationEngine]:
    def make(**overrides: object) -> FacilitationEngine:
        settings = overrides.pop("settings", EngineSettings())
        return FacilitationEngine(
            overrides.pop("session", session),  # type: ignore[arg-type]
            settings=settings,  # type: ignore[arg-type]
            library=overrides.pop("library", library),  # type: ignore[arg-type]
            embedder=overrides.pop("embedder", TopicEmbedder()),  # type: ignore[arg-type]
            sentiment=overrides.pop("sentiment", WordSentiment()),  # type: ignore[arg-type]
        )

    return make


@pytest.fixture
def replay(library: PromptLibrary, vader: VaderSentiment) -> Callable[..., list[Prompt]]:
    """Run a transcript from transcripts/ with real VADER; pass ``embedder=`` for drift."""

    def run(name: str, *, embedder: object = None, until_end: bool = True) -> list[Prompt]:
        lines = (TRANSCRIPTS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        return run_replay(
            parse_replay(lines),
            library=library,
            embedder=embedder,  # type: ignore[arg-type]
            sentiment=vader,
            until_end=until_end,
        )

    return run


def signals(prompts: list[Prompt]) -> list[tuple[float, str]]:
    return [(p.t, p.signal) for p in prompts]
