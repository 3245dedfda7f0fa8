"""Toxicity classifiers behind one small interface: ``score(texts) -> list[Scores]``.

Pure module: no ORM and no ``django.conf`` import. Configuration arrives as a
:class:`ClassifierConfig` (build one from Django settings with
``ClassifierConfig.from_settings(settings)``).

Backends

* :class:`DetoxifyClassifier` – the real ``detoxify.Detoxify`` model, loaded strictly offline
  from ``MODELS_DIR/<model_type>/`` as laid out by ``manage.py fetch_models``.
* :class:`ProfanityCheckClassifier` – alt-profanity-check (a linear model shipped inside its
  wheel). A much weaker signal: only ever used when configured, and its ``name`` says so.

Offline loading, and why it needs care: ``detoxify.detoxify.get_model_and_tokenizer`` always calls
``<ConfigClass>.from_pretrained(arch.args.model_type)``, where ``model_type`` is whatever the
checkpoint was trained with (``"bert-base-uncased"``). Passing ``huggingface_config_path`` does not
stop that call, so a stock checkpoint asks the Hugging Face Hub for a config even when the files are
on disk. We make ``model_type`` point at the local config directory: ``fetch_models`` rewrites the
checkpoint on disk (and records it in ``manifest.json``); if the checkpoint was not rewritten for
this directory (copied elsewhere, or supplied via ``DETOXIFY_CHECKPOINT``) we patch it in memory and
hand Detoxify the patched copy. Either way, nothing is fetched over the network.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

logger = logging.getLogger(__name__)

DETOXIFY_MODEL_TYPES = ("original", "unbiased", "multilingual", "original-small", "unbiased-small")
MANIFEST_NAME = "manifest.json"
HF_SUBDIR = "hf"


# --------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scores:
    """Per-label probabilities in [0, 1], in Detoxify's standardised label names.

    ``sexual_explicit`` is only produced by the ``unbiased`` models; ``None`` means "not modelled",
    which is different from 0.0.
    """

    toxicity: float
    severe_toxicity: float
    obscene: float
    threat: float
    insult: float
    identity_attack: float
    sexual_explicit: float | None = None

    def as_dict(self) -> dict[str, float]:
        """Labels that the backend actually modelled, as a plain ``dict`` (JSON-ready)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not None
        }

    @classmethod
    def from_mapping(cls, values: Mapping[str, float]) -> Scores:
        """Build from a label → score mapping; labels the model does not emit count as 0.0.

        Extra labels (identity subgroups of the unbiased model) are ignored.
        """
        def get(name: str) -> float:
            return float(values.get(name, 0.0))

        sexual = values.get("sexual_explicit")
        return cls(
            toxicity=get("toxicity"),
            severe_toxicity=get("severe_toxicity"),
            obscene=get("obscene"),
            threat=get("threat"),
            insult=get("insult"),
            identity_attack=get("identity_attack"),
            sexual_explicit=None if sexual is None else float(sexual),
        )


@runtime_checkable
class Classifier(Protocol):
    """Anything that scores a batch of texts. ``score`` returns one ``Scores`` per input, in order."""

    name: str

    def score(self, texts: list[str]) -> list[Scores]: ...


class ClassifierUnavailable(RuntimeError):
    """The configured classifier cannot be loaded; the message is shown to operators as-is."""


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassifierConfig:
    """Everything needed to choose and load a classifier.

    ``backend`` / ``fallback`` are ``"detoxify"``, ``"profanity-check"`` or ``"none"`` / ``""``.
    The fallback is tried only when it is set: a missing model is an operational fault that must be
    visible, not something to paper over silently.
    """

    backend: str = "detoxify"
    fallback: str = ""
    detoxify_model: str = "original"
    device: str = "cpu"
    threads: int = 1
    models_dir: str = "var/models"
    checkpoint: str | None = None
    batch_size: int = 32
    # --- perf (bench/, docs/performance.md): int8 dynamic quantization of the Linear layers ---
    quantize: bool = False

    @classmethod
    def from_settings(cls, settings: Any) -> ClassifierConfig:
        """Read the ``MODERATION_*`` / ``DETOXIFY_*`` settings from a settings-like object."""
        return cls(
            backend=(getattr(settings, "MODERATION_CLASSIFIER", "detoxify") or "none").lower(),
            fallback=(getattr(settings, "MODERATION_FALLBACK_CLASSIFIER", "") or "").lower(),
            detoxify_model=getattr(settings, "DETOXIFY_MODEL", "original"),
            device=getattr(settings, "DETOXIFY_DEVICE", "cpu"),
            threads=int(getattr(settings, "TORCH_THREADS", 1)),
            models_dir=str(getattr(settings, "MODELS_DIR", "var/models")),
            checkpoint=getattr(settings, "DETOXIFY_CHECKPOINT", None) or None,
            batch_size=int(getattr(settings, "MODERATION_BATCH_SIZE", 32)),
            quantize=bool(getattr(settings, "MODERATION_QUANTIZE", False)),  # perf: see docs/performance.md
        )


@dataclass(frozen=True)
class ClassifierStatus:
    """Result of :func:`load_classifier`: the classifier to use (or ``None``) and why."""

    classifier: Classifier | None
    status: str
    fallback_used: bool = False

    @property
    def available(self) -> bool:
        return self.classifier is not None


# --------------------------------------------------------------------------------------------
# Local model directory layout (shared with ``manage.py fetch_models``)
# --------------------------------------------------------------------------------------------


def detoxify_model_dir(models_dir: Path | str, model_type: str) -> Path:
    """``MODELS_DIR/<model_type>``: the checkpoint, ``hf/`` config+tokenizer and the manifest."""
    return Path(models_dir) / model_type


def read_manifest(model_dir: Path) -> dict[str, Any] | None:
    path = model_dir / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ClassifierUnavailable(f"{path} is unreadable ({exc}); re-run manage.py fetch_models") from exc


def sha256_of(path: Path, *, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def read_detoxify_checkpoint(source: Path | io.BytesIO) -> dict[str, Any]:
    import torch

    # weights_only=False is required: Detoxify checkpoints carry a plain-dict config next to the
    # tensors and were saved before weights-only loading existed. We only ever load files that
    # fetch_models verified (sha256 in the manifest) or that an operator pointed us at.
    loaded = torch.load(source, map_location="cpu", weights_only=False)
    if not isinstance(loaded, dict) or "state_dict" not in loaded or "config" not in loaded:
        raise ClassifierUnavailable(
            "checkpoint is not in Detoxify format (needs 'state_dict' and 'config' keys)"
        )
    try:
        loaded["config"]["arch"]["args"]["model_type"]
        loaded["config"]["dataset"]["args"]["classes"]
    except (KeyError, TypeError) as exc:
        raise ClassifierUnavailable(
            f"checkpoint config lacks {exc}; expected arch.args.model_type and dataset.args.classes"
        ) from exc
    return loaded


def install_detoxify_checkpoint(
    checkpoint_path: Path, config_dir: Path, *, model_type: str, source_url: str = ""
) -> dict[str, Any]:
    """Make ``checkpoint_path`` load offline against ``config_dir`` and write the manifest.

    Precondition: both live in ``MODELS_DIR/<model_type>/`` (``config_dir`` is its ``hf/``).
    Rewrites ``config.arch.args.model_type`` in the checkpoint to the absolute ``config_dir`` (the
    original Hub id is kept under ``config.kindred_offline``), re-saves atomically, verifies that
    it loads, and records its sha256. Idempotent. Returns the manifest.
    """
    import torch

    checkpoint_path = Path(checkpoint_path)
    config_dir = Path(config_dir).resolve()
    if not (config_dir / "config.json").is_file():
        raise ClassifierUnavailable(f"{config_dir} has no config.json")
    loaded = read_detoxify_checkpoint(checkpoint_path)
    args = loaded["config"]["arch"]["args"]
    offline_info = loaded["config"].get("kindred_offline") or {}
    hub_model_id = offline_info.get("hub_model_id") or args["model_type"]
    if args["model_type"] != str(config_dir):
        args["model_type"] = str(config_dir)
        loaded["config"]["kindred_offline"] = {"hub_model_id": hub_model_id}
        tmp = checkpoint_path.with_suffix(checkpoint_path.suffix + ".tmp")
        torch.save(loaded, tmp)
        tmp.replace(checkpoint_path)
    classes = list(loaded["config"]["dataset"]["args"]["classes"])
    del loaded
    read_detoxify_checkpoint(checkpoint_path)  # re-read what is on disk, not what we meant to write

    manifest = {
        "model_type": model_type,
        "source_url": source_url,
        "checkpoint": checkpoint_path.name,
        "sha256": sha256_of(checkpoint_path),
        "hub_model_id": hub_model_id,
        "config_dir": config_dir.name,
        "checkpoint_model_type": str(config_dir),
        "classes": classes,
    }
    (checkpoint_path.parent / MANIFEST_NAME).write_text(
        json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


# --------------------------------------------------------------------------------------------
# Detoxify
# --------------------------------------------------------------------------------------------

# One loaded model per process and configuration: a Detoxify BERT is ~440 MB, so every consumer,
# worker thread and management command in the process must share it.
_MODEL_CACHE: dict[tuple[str, str, str, str], Any] = {}
_MODEL_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class _ResolvedModel:
    checkpoint: Path
    config_dir: Path
    rewritten_for_dir: bool  # the checkpoint on disk already points at config_dir
    expected_sha256: str | None


def _resolve_detoxify_files(
    model_type: str, models_dir: Path | str, checkpoint: Path | str | None
) -> _ResolvedModel:
    model_dir = detoxify_model_dir(models_dir, model_type)
    manifest = read_manifest(model_dir) if model_dir.is_dir() else None
    hint = f"run `python manage.py fetch_models --model {model_type}` on a connected machine"

    if checkpoint:
        ckpt = Path(checkpoint)
        if not ckpt.is_file():
            raise ClassifierUnavailable(f"DETOXIFY_CHECKPOINT {ckpt} does not exist")
        candidates = [model_dir / HF_SUBDIR, ckpt.parent / HF_SUBDIR]
        config_dir = next((c for c in candidates if (c / "config.json").is_file()), None)
        if config_dir is None:
            raise ClassifierUnavailable(
                f"no Hugging Face config/tokenizer directory for {ckpt} "
                f"(looked in {', '.join(map(str, candidates))}); {hint}"
            )
        rewritten = bool(
            manifest
            and manifest.get("checkpoint") == ckpt.name
            and ckpt.resolve().parent == model_dir.resolve()
            and manifest.get("checkpoint_model_type") == str(config_dir.resolve())
        )
        return _ResolvedModel(ckpt, config_dir, rewritten, manifest.get("sha256") if rewritten else None)

    if not model_dir.is_dir():
        raise ClassifierUnavailable(f"model directory {model_dir} does not exist; {hint}")
    config_dir = model_dir / HF_SUBDIR
    if not (config_dir / "config.json").is_file():
        raise ClassifierUnavailable(f"{config_dir}/config.json is missing; {hint}")
    if manifest and (model_dir / manifest.get("checkpoint", "")).is_file() and manifest.get("checkpoint"):
        ckpt = model_dir / manifest["checkpoint"]
    else:
        found = sorted(model_dir.glob("*.ckpt"))
        if not found:
            raise ClassifierUnavailable(f"no .ckpt checkpoint in {model_dir}; {hint}")
        ckpt = found[0]
        manifest = None
    rewritten = bool(manifest and manifest.get("checkpoint_model_type") == str(config_dir.resolve()))
    return _ResolvedModel(ckpt, config_dir, rewritten, manifest.get("sha256") if manifest else None)


def _load_detoxify(resolved: _ResolvedModel, device: str) -> Any:
    try:
        from detoxify import Detoxify
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ClassifierUnavailable(f"the detoxify package is not installed ({exc})") from exc

    if resolved.expected_sha256:
        actual = sha256_of(resolved.checkpoint)
        if actual != resolved.expected_sha256:
            raise ClassifierUnavailable(
                f"{resolved.checkpoint} does not match the sha256 in its manifest "
                f"(corrupt or replaced file); re-run manage.py fetch_models"
            )

    config_dir = str(resolved.config_dir.resolve())
    if resolved.rewritten_for_dir:
        source: Any = str(resolved.checkpoint)
    else:
        # The checkpoint still names a Hub model (or another directory): patch a copy in memory.
        # This costs one extra copy of the weights at start-up, once per process.
        logger.info("Pointing %s at local config %s in memory", resolved.checkpoint, config_dir)
        loaded = read_detoxify_checkpoint(resolved.checkpoint)
        loaded["config"]["arch"]["args"]["model_type"] = config_dir
        import torch

        source = io.BytesIO()
        torch.save(loaded, source)
        del loaded
        source.seek(0)
    try:
        return Detoxify(checkpoint=source, device=device, huggingface_config_path=config_dir)
    except ClassifierUnavailable:
        raise
    except Exception as exc:  # transformers raises OSError/ValueError/EnvironmentError variants
        raise ClassifierUnavailable(f"Detoxify failed to load {resolved.checkpoint}: {exc}") from exc


# --- perf (bench/, docs/performance.md) -------------------------------------------------------
def _quantized_copy(model: Any) -> Any:
    """A copy of a loaded Detoxify whose Linear layers are int8 (dynamic quantization, CPU only).

    ~2.5-3x faster on CPU for BERT-size models; embeddings and LayerNorm stay fp32. Agreement with
    fp32 must be checked on real weights before turning it on (`make bench` reports it).
    """
    import copy
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qmodel = torch.ao.quantization.quantize_dynamic(model.model, {torch.nn.Linear}, dtype=torch.qint8)
    clone = copy.copy(model)
    clone.model = qmodel.eval()
    return clone
# --- end perf -----------------------------------------------------------------------------------


class DetoxifyClassifier:
    """Detoxify, loaded offline, scored in length-bucketed micro-batches.

    Construction loads the model (or reuses the process-wide copy) and raises
    :class:`ClassifierUnavailable` with an operator-readable reason when it cannot.
    ``torch.set_num_threads`` is process-wide; the last classifier constructed wins.
    """

    def __init__(
        self,
        model_type: str = "original",
        *,
        device: str = "cpu",
        threads: int = 1,
        models_dir: Path | str = "var/models",
        checkpoint: Path | str | None = None,
        batch_size: int = 32,
        quantize: bool = False,
    ) -> None:
        if model_type not in DETOXIFY_MODEL_TYPES:
            raise ClassifierUnavailable(
                f"unknown Detoxify model {model_type!r}; choose one of {', '.join(DETOXIFY_MODEL_TYPES)}"
            )
        try:
            import torch
        except ImportError as exc:  # pragma: no cover
            raise ClassifierUnavailable(f"torch is not installed ({exc})") from exc

        self.model_type = model_type
        self.device = device
        self.threads = max(1, int(threads))
        self.batch_size = max(1, int(batch_size))
        torch.set_num_threads(self.threads)

        resolved = _resolve_detoxify_files(model_type, models_dir, checkpoint)
        key = (model_type, device, str(resolved.checkpoint.resolve()), str(resolved.config_dir.resolve()))
        with _MODEL_CACHE_LOCK:
            model = _MODEL_CACHE.get(key)
            if model is None:
                model = _load_detoxify(resolved, device)
                model.model.eval()
                _MODEL_CACHE[key] = model
            # --- perf (bench/, docs/performance.md): MODERATION_QUANTIZE ------------------------
            if quantize and device == "cpu":
                qkey = (*key[:3], key[3] + "#int8")
                qmodel = _MODEL_CACHE.get(qkey)
                if qmodel is None:
                    qmodel = _quantized_copy(model)
                    _MODEL_CACHE[qkey] = qmodel
                model = qmodel
            # --- end perf ---------------------------------------------------------------------
        self._model = model
        self._lock = threading.Lock()
        thread_word = "thread" if self.threads == 1 else "threads"
        int8 = ", int8" if quantize and device == "cpu" else ""
        self.name = f"detoxify:{model_type} on {device}{int8}, {self.threads} {thread_word}"

    def score(self, texts: list[str]) -> list[Scores]:
        """Score ``texts``; output order matches input order.

        Texts are sorted by length and cut into ``batch_size`` micro-batches so that padding in
        each batch stays small (a one-line "thanks x" is not padded to a 2,000 character post).
        """
        import torch

        if not texts:
            return []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        results: list[Scores | None] = [None] * len(texts)
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                raw = self._model.predict([texts[i] or " " for i in idx])
                for label, values in raw.items():
                    # Detoxify squeezes a batch of one down to a bare float.
                    if not isinstance(values, list):
                        raw[label] = [values]
                for j, i in enumerate(idx):
                    results[i] = Scores.from_mapping({k: v[j] for k, v in raw.items()})
        return [r for r in results if r is not None]


# --------------------------------------------------------------------------------------------
# alt-profanity-check
# --------------------------------------------------------------------------------------------


class ProfanityCheckClassifier:
    """alt-profanity-check as a configured fallback.

    It estimates one thing, P(text is profane/offensive), from a bag of words. We copy it into
    ``toxicity``, ``insult`` and ``obscene`` and report 0.0 for labels it cannot see
    (severe_toxicity, threat, identity_attack): thresholds on those never fire from this backend.
    """

    name = "profanity-check (fallback: toxicity/insult/obscene = P(profane); threat/severe not modelled)"

    def __init__(self) -> None:
        try:
            import profanity_check
        except Exception as exc:  # its import unpickles a scikit-learn model; any failure counts
            raise ClassifierUnavailable(f"alt-profanity-check could not be imported ({exc})") from exc
        self._predict_prob = profanity_check.predict_prob

    def score(self, texts: list[str]) -> list[Scores]:
        if not texts:
            return []
        probs = self._predict_prob(list(texts))
        out = []
        for p in probs:
            p = float(p)
            out.append(
                Scores(toxicity=p, severe_toxicity=0.0, obscene=p, threat=0.0, insult=p, identity_attack=0.0)
            )
        return out


# --------------------------------------------------------------------------------------------
# Loading with status
# --------------------------------------------------------------------------------------------


def _build(backend: str, config: ClassifierConfig) -> Classifier:
    if backend == "detoxify":
        return DetoxifyClassifier(
            config.detoxify_model,
            device=config.device,
            threads=config.threads,
            models_dir=config.models_dir,
            checkpoint=config.checkpoint,
            batch_size=config.batch_size,
            quantize=config.quantize,  # perf: MODERATION_QUANTIZE
        )
    if backend in ("profanity-check", "profanity_check"):
        return ProfanityCheckClassifier()
    raise ClassifierUnavailable(f"unknown classifier backend {backend!r}")


def load_classifier(config: ClassifierConfig) -> ClassifierStatus:
    """Load the configured classifier, or the configured fallback, or nothing – and say which.

    Never raises for a missing or broken model: the caller keeps moderating with rules only and
    shows ``status`` to moderators. Failures are logged at ERROR level.
    """
    backend = (config.backend or "none").lower()
    if backend == "none":
        return ClassifierStatus(None, "unavailable: classifier disabled by configuration (rules only)")
    try:
        classifier = _build(backend, config)
        return ClassifierStatus(classifier, classifier.name)
    except ClassifierUnavailable as exc:
        primary_reason = f"{backend}: {exc}"
    except Exception as exc:  # noqa: BLE001 - any load failure must degrade to rules, loudly
        logger.exception("Unexpected error loading classifier %s", backend)
        primary_reason = f"{backend}: {type(exc).__name__}: {exc}"
    logger.error("Moderation classifier unavailable – %s", primary_reason)

    fallback = (config.fallback or "").lower()
    if not fallback or fallback in ("none", backend):
        return ClassifierStatus(None, f"unavailable: {primary_reason}")
    try:
        classifier = _build(fallback, config)
    except Exception as exc:  # noqa: BLE001
        logger.error("Fallback classifier %s unavailable too – %s", fallback, exc)
        return ClassifierStatus(
            None, f"unavailable: {primary_reason}; fallback {fallback} also failed: {exc}"
        )
    logger.warning("Using fallback classifier %s because %s", classifier.name, primary_reason)
    return ClassifierStatus(
        classifier, f"{classifier.name} – fallback because {primary_reason}", fallback_used=True
    )


def clear_model_cache() -> None:
    """Forget loaded models (tests; never needed in production)."""
    with _MODEL_CACHE_LOCK:
        _MODEL_CACHE.clear()


__all__: Sequence[str] = (
    "Classifier",
    "ClassifierConfig",
    "ClassifierStatus",
    "ClassifierUnavailable",
    "DetoxifyClassifier",
    "ProfanityCheckClassifier",
    "Scores",
    "clear_model_cache",
    "detoxify_model_dir",
    "install_detoxify_checkpoint",
    "read_detoxify_checkpoint",
    "load_classifier",
)
