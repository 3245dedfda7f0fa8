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
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
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
    # int8 dynamic quantization of the Linear layers (CPU): "auto" uses it only when
    # ``fetch_models`` recorded int8-vs-fp32 decision agreement >= INT8_MIN_AGREEMENT for this very
    # checkpoint; "on" forces it (operator's risk), "off" never. Booleans map to "on"/"off".
    quantize: str | bool = "auto"

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
            quantize=normalize_quantize(getattr(settings, "MODERATION_QUANTIZE", "auto")),
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
        raise ClassifierUnavailable(
            f"{path} is unreadable ({exc}); re-run manage.py fetch_models"
        ) from exc


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
    int8_check: dict[str, Any] | None = (
        None  # manifest's int8 record, when the manifest is this checkpoint's
    )


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
        if not rewritten:
            return _ResolvedModel(ckpt, config_dir, False, None)
        return _ResolvedModel(
            ckpt, config_dir, True, manifest.get("sha256"), manifest.get(INT8_CHECK_KEY)
        )

    if not model_dir.is_dir():
        raise ClassifierUnavailable(f"model directory {model_dir} does not exist; {hint}")
    config_dir = model_dir / HF_SUBDIR
    if not (config_dir / "config.json").is_file():
        raise ClassifierUnavailable(f"{config_dir}/config.json is missing; {hint}")
    if (
        manifest
        and (model_dir / manifest.get("checkpoint", "")).is_file()
        and manifest.get("checkpoint")
    ):
        ckpt = model_dir / manifest["checkpoint"]
    else:
        found = sorted(model_dir.glob("*.ckpt"))
        if not found:
            raise ClassifierUnavailable(f"no .ckpt checkpoint in {model_dir}; {hint}")
        ckpt = found[0]
        manifest = None
    rewritten = bool(
        manifest and manifest.get("checkpoint_model_type") == str(config_dir.resolve())
    )
    if not manifest:
        return _ResolvedModel(ckpt, config_dir, rewritten, None)
    return _ResolvedModel(
        ckpt, config_dir, rewritten, manifest.get("sha256"), manifest.get(INT8_CHECK_KEY)
    )


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
        raise ClassifierUnavailable(
            f"Detoxify failed to load {resolved.checkpoint}: {exc}"
        ) from exc


# --------------------------------------------------------------------------------------------
# int8 dynamic quantization, and the recorded check that makes it safe to use by default
# --------------------------------------------------------------------------------------------

#: What "int8" means. A recorded agreement check only vouches for the recipe it measured.
INT8_RECIPE = "torch.ao dynamic qint8, nn.Linear, per-tensor weights, fused tanh-GELU (v1)"
#: int8 is used by default ("auto") only when it changed no more than 1.5 % of decisions.
INT8_MIN_AGREEMENT = 0.985
#: ...measured on at least this many reference messages (fewer cannot show 98.5 %).
INT8_MIN_REFERENCE_MESSAGES = 100
INT8_CHECK_KEY = "int8_check"

_TRUE_WORDS = {"1", "true", "yes", "on", "force", "int8"}
_FALSE_WORDS = {"0", "false", "no", "off", "fp32"}


def normalize_quantize(value: Any) -> str:
    """``MODERATION_QUANTIZE`` as ``"auto"`` (default), ``"on"`` (force int8) or ``"off"``."""
    if isinstance(value, bool):
        return "on" if value else "off"
    word = str(value if value is not None else "").strip().lower()
    if word in ("", "auto"):
        return "auto"
    if word in _TRUE_WORDS:
        return "on"
    if word in _FALSE_WORDS:
        return "off"
    raise ValueError(f"MODERATION_QUANTIZE must be auto, on or off, got {value!r}")


def _quantized_copy(model: Any) -> Any:
    """A copy of a loaded Detoxify whose Linear layers are int8 (dynamic quantization, CPU only).

    Embeddings, LayerNorm and attention stay fp32. Whether this changes moderation decisions
    depends on the weights, so it is used by default only after ``fetch_models`` measured it
    (see :func:`int8_check_status`).
    """
    import copy
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qmodel = torch.ao.quantization.quantize_dynamic(
            model.model, {torch.nn.Linear}, dtype=torch.qint8
        )
    clone = copy.copy(model)
    clone.model = qmodel.eval()
    return clone


def _use_fused_gelu(model: Any) -> int:
    """Swap transformers' ``NewGELUActivation`` (ALBERT's ``gelu_new``: tanh GELU written as five
    separate tensor ops) for ``torch.nn.GELU(approximate="tanh")``, the same formula in one fused
    kernel (outputs differ by < 1e-6). Returns how many modules were swapped."""
    import torch

    swapped = 0
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if type(child).__name__ == "NewGELUActivation":
                setattr(module, name, torch.nn.GELU(approximate="tanh"))
                swapped += 1
    return swapped


def decisions(
    scores: Sequence[Scores | Mapping[str, float]], thresholds: Sequence[tuple[str, float]]
) -> list[tuple[bool, ...]]:
    """Per message, which ``(label, threshold)`` pairs its scores reach (the policy's comparisons)."""
    out = []
    for s in scores:
        values = s.as_dict() if isinstance(s, Scores) else s
        out.append(tuple(values.get(label, 0.0) >= limit for label, limit in thresholds))
    return out


def int8_agreement(
    fp32: Sequence[Scores], int8: Sequence[Scores], thresholds: Sequence[tuple[str, float]]
) -> dict[str, Any]:
    """How often int8 and fp32 scores lead to the same threshold decisions, and how far they differ."""
    if len(fp32) != len(int8) or not fp32:
        raise ValueError("need the same, non-empty set of messages scored both ways")
    same = sum(a == b for a, b in zip(decisions(fp32, thresholds), decisions(int8, thresholds)))
    diffs = [abs(a.as_dict()[k] - v) for a, b in zip(fp32, int8) for k, v in b.as_dict().items()]
    return {
        "messages": len(fp32),
        "decision_agreement": round(same / len(fp32), 5),
        "messages_with_changed_decision": len(fp32) - same,
        "max_abs_score_diff": round(max(diffs), 5),
        "mean_abs_score_diff": round(sum(diffs) / len(diffs), 6),
        "thresholds": [[label, limit] for label, limit in thresholds],
    }


def int8_check_status(
    check: Mapping[str, Any] | None, checkpoint_sha256: str | None
) -> tuple[bool, str]:
    """Does a recorded ``int8_check`` (from ``manifest.json``) vouch for int8 on this checkpoint?

    Returns ``(ok, reason)``; the reason is written for operators.
    """
    hint = "run `python manage.py fetch_models --check-int8` to measure it"
    if not checkpoint_sha256:
        return False, f"no manifest.json vouches for this checkpoint; {hint}"
    if not check:
        return False, f"no int8-vs-fp32 agreement check recorded in manifest.json; {hint}"
    if check.get("recipe") != INT8_RECIPE:
        return False, f"the recorded int8 check measured another quantization recipe; {hint}"
    if check.get("checkpoint_sha256") != checkpoint_sha256:
        return False, f"the recorded int8 check measured a different checkpoint; {hint}"
    try:
        messages = int(check["messages"])
        agreement = float(check["decision_agreement"])
    except (KeyError, TypeError, ValueError):
        return False, f"the recorded int8 check is incomplete; {hint}"
    if messages < INT8_MIN_REFERENCE_MESSAGES:
        return False, (
            f"the recorded int8 check used only {messages} messages "
            f"(needs {INT8_MIN_REFERENCE_MESSAGES}); {hint}"
        )
    if agreement < INT8_MIN_AGREEMENT:
        return False, (
            f"int8 changed decisions on {1 - agreement:.1%} of {messages} reference messages "
            f"(limit {1 - INT8_MIN_AGREEMENT:.1%})"
        )
    return True, (
        f"int8 verified: same decisions as fp32 on {agreement:.1%} of {messages} reference "
        f"messages (measured {check.get('measured_at', '?')})"
    )


def record_int8_check(model_dir: Path, check: Mapping[str, Any]) -> dict[str, Any]:
    """Store ``check`` under ``int8_check`` in ``model_dir/manifest.json``; returns the manifest."""
    manifest = read_manifest(model_dir)
    if manifest is None:
        raise ClassifierUnavailable(
            f"{model_dir / MANIFEST_NAME} does not exist; run manage.py fetch_models"
        )
    manifest[INT8_CHECK_KEY] = dict(check)
    tmp = model_dir / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    tmp.replace(model_dir / MANIFEST_NAME)
    return manifest


def measure_int8_agreement(
    model_type: str,
    models_dir: Path | str,
    texts: Sequence[str],
    thresholds: Sequence[tuple[str, float]],
    *,
    threads: int = 1,
    batch_size: int = 32,
) -> dict[str, Any]:
    """Score ``texts`` with the installed model in fp32 and in int8 and compare decisions.

    The result is what :func:`record_int8_check` stores and :func:`int8_check_status` reads.
    """
    import datetime

    import torch

    model_dir = detoxify_model_dir(models_dir, model_type)
    manifest = read_manifest(model_dir)
    if not manifest or not manifest.get("sha256"):
        raise ClassifierUnavailable(
            f"{model_dir} has no manifest with a checkpoint sha256; run manage.py fetch_models"
        )
    texts = list(texts)
    fp = DetoxifyClassifier(
        model_type, models_dir=models_dir, threads=threads, batch_size=batch_size, quantize="off"
    )
    q = DetoxifyClassifier(
        model_type, models_dir=models_dir, threads=threads, batch_size=batch_size, quantize="on"
    )
    result = int8_agreement(fp.score(texts), q.score(texts), thresholds)
    result.update(
        {
            "recipe": INT8_RECIPE,
            "checkpoint_sha256": manifest["sha256"],
            "min_agreement": INT8_MIN_AGREEMENT,
            "passed": result["decision_agreement"] >= INT8_MIN_AGREEMENT
            and result["messages"] >= INT8_MIN_REFERENCE_MESSAGES,
            "torch": torch.__version__,
            "quantized_engine": torch.backends.quantized.engine,
            "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
    )
    return result


# --------------------------------------------------------------------------------------------
# Batching
# --------------------------------------------------------------------------------------------

#: What one extra forward pass costs, in padded tokens (per-layer Python and dispatch overhead).
#: Measured on BERT-base, 1 thread: anything from 4 to 16 gives the same throughput.
CALL_COST_TOKENS = 8


def plan_batches(
    lengths: Sequence[int], max_batch: int, call_cost: float = CALL_COST_TOKENS
) -> list[tuple[int, int]]:
    """Cut ascending token ``lengths`` into contiguous ``[start, end)`` micro-batches.

    Minimises (padded tokens + ``call_cost`` per batch) exactly, by dynamic programming: a batch
    costs ``size × its longest length``. Messages of equal length always batch together for
    free; a long post is not padded into a batch of one-liners, nor vice versa.
    """
    n = len(lengths)
    max_batch = max(1, int(max_batch))
    best = [0.0] + [float("inf")] * n
    cut = [0] * (n + 1)
    for end in range(1, n + 1):
        longest = lengths[end - 1]
        for start in range(max(0, end - max_batch), end):
            cost = best[start] + call_cost + (end - start) * longest
            if cost < best[end]:
                best[end], cut[end] = cost, start
    plan = []
    end = n
    while end > 0:
        plan.append((cut[end], end))
        end = cut[end]
    return plan[::-1]


class DetoxifyClassifier:
    """Detoxify, loaded offline, scored in length-planned micro-batches.

    Construction loads the model (or reuses the process-wide copy) and raises
    :class:`ClassifierUnavailable` with an operator-readable reason when it cannot.
    ``torch.set_num_threads`` is process-wide; the last classifier constructed wins.

    ``quantize``: ``"auto"`` (default) scores with the int8 copy only when the manifest records a
    passing int8-vs-fp32 decision check for this checkpoint (``fetch_models`` measures it), fp32
    otherwise with a warning; ``"on"``/``True`` forces int8, ``"off"``/``False`` forces fp32.
    ``int8_status`` says which and why.
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
        quantize: str | bool = "auto",
    ) -> None:
        if model_type not in DETOXIFY_MODEL_TYPES:
            raise ClassifierUnavailable(
                f"unknown Detoxify model {model_type!r}; choose one of {', '.join(DETOXIFY_MODEL_TYPES)}"
            )
        try:
            import torch
        except ImportError as exc:  # pragma: no cover
            raise ClassifierUnavailable(f"torch is not installed ({exc})") from exc
        try:
            mode = normalize_quantize(quantize)
        except ValueError as exc:
            raise ClassifierUnavailable(str(exc)) from exc

        self.model_type = model_type
        self.device = device
        self.threads = max(1, int(threads))
        self.batch_size = max(1, int(batch_size))
        torch.set_num_threads(self.threads)

        resolved = _resolve_detoxify_files(model_type, models_dir, checkpoint)
        use_int8, self.int8_status = self._choose_int8(mode, device, resolved)
        key = (
            model_type,
            device,
            str(resolved.checkpoint.resolve()),
            str(resolved.config_dir.resolve()),
        )
        with _MODEL_CACHE_LOCK:
            model = _MODEL_CACHE.get(key)
            if model is None:
                model = _load_detoxify(resolved, device)
                model.model.eval()
                _use_fused_gelu(model.model)
                _MODEL_CACHE[key] = model
            if use_int8:
                qkey = (*key[:3], key[3] + "#int8")
                qmodel = _MODEL_CACHE.get(qkey)
                if qmodel is None:
                    qmodel = _quantized_copy(model)
                    _MODEL_CACHE[qkey] = qmodel
                model = qmodel
        self._model = model
        self.quantized = use_int8
        self._lock = threading.Lock()
        thread_word = "thread" if self.threads == 1 else "threads"
        int8 = ", int8" if use_int8 else ""
        self.name = f"detoxify:{model_type} on {device}{int8}, {self.threads} {thread_word}"

    @staticmethod
    def _choose_int8(mode: str, device: str, resolved: _ResolvedModel) -> tuple[bool, str]:
        if mode == "off":
            return False, "fp32 (MODERATION_QUANTIZE=off)"
        if device != "cpu":
            return False, f"fp32: int8 dynamic quantization is CPU-only (device {device})"
        ok, reason = int8_check_status(resolved.int8_check, resolved.expected_sha256)
        if mode == "on":
            if not ok:
                logger.warning(
                    "MODERATION_QUANTIZE=on forces int8 for %s although %s",
                    resolved.checkpoint,
                    reason,
                )
                return True, f"int8 forced by MODERATION_QUANTIZE=on, unverified: {reason}"
            return True, reason
        if ok:
            logger.info("Detoxify %s: %s", resolved.checkpoint.name, reason)
            return True, reason
        logger.warning(
            "Detoxify %s scores in fp32 (several times slower than int8) because %s",
            resolved.checkpoint,
            reason,
        )
        return False, f"fp32: {reason}"

    def score(self, texts: list[str]) -> list[Scores]:
        """Score ``texts``; output order matches input order.

        Tokenizes everything once (truncated at the model maximum, as Detoxify does), sorts by
        token count and runs :func:`plan_batches` micro-batches of at most ``batch_size``, so a
        one-line "thanks x" is not padded to a 2,000 character post. Padding is masked, so each
        message scores as if it were scored alone (``Detoxify.predict``).
        """
        import torch

        if not texts:
            return []
        detoxify = self._model
        tokenizer = detoxify.tokenizer
        labels = list(detoxify.class_names)
        with self._lock, torch.inference_mode():
            encoded = tokenizer([t or " " for t in texts], truncation=True)
            keys = list(encoded.keys())
            columns = {k: encoded[k] for k in keys}
            ids = columns["input_ids"]
            order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
            lengths = [len(ids[i]) for i in order]
            pad_values = {
                "input_ids": tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0,
                "token_type_ids": getattr(tokenizer, "pad_token_type_id", 0),
            }
            left = getattr(tokenizer, "padding_side", "right") == "left"
            device = detoxify.model.device
            results: list[Scores | None] = [None] * len(texts)
            for start, end in plan_batches(lengths, self.batch_size):
                idx = order[start:end]
                width = lengths[end - 1]
                inputs = {}
                for k in keys:
                    pad = pad_values.get(k, 0)
                    rows = []
                    for i in idx:
                        row = list(columns[k][i])
                        fill = [pad] * (width - len(row))
                        rows.append(fill + row if left else row + fill)
                    inputs[k] = torch.tensor(rows, dtype=torch.long, device=device)
                probs = torch.sigmoid(detoxify.model(**inputs)[0]).cpu().tolist()
                for i, row in zip(idx, probs):
                    results[i] = Scores.from_mapping(dict(zip(labels, row)))
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
            raise ClassifierUnavailable(
                f"alt-profanity-check could not be imported ({exc})"
            ) from exc
        self._predict_prob = profanity_check.predict_prob

    def score(self, texts: list[str]) -> list[Scores]:
        if not texts:
            return []
        probs = self._predict_prob(list(texts))
        out = []
        for p in probs:
            p = float(p)
            out.append(
                Scores(
                    toxicity=p,
                    severe_toxicity=0.0,
                    obscene=p,
                    threat=0.0,
                    insult=p,
                    identity_attack=0.0,
                )
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
            quantize=config.quantize,
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
        return ClassifierStatus(
            None, "unavailable: classifier disabled by configuration (rules only)"
        )
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
    "int8_agreement",
    "int8_check_status",
    "measure_int8_agreement",
    "normalize_quantize",
    "plan_batches",
    "record_int8_check",
    "read_detoxify_checkpoint",
    "load_classifier",
)
