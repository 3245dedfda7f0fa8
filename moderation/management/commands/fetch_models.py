"""Download a Detoxify model so the moderation worker can load it with no network.

Run on a connected machine, then copy ``MODELS_DIR`` to the server::

    python manage.py fetch_models                       # settings.DETOXIFY_MODEL into settings.MODELS_DIR
    python manage.py fetch_models --model unbiased --models-dir /srv/kindred/models

Result, in ``MODELS_DIR/<model>/``::

    <release>.ckpt   Detoxify checkpoint, arch.args.model_type rewritten to the absolute hf/ path
    hf/              Hugging Face config.json + tokenizer files of the underlying transformer
    manifest.json    source URL, sha256 of the (rewritten) checkpoint, Hub id, label names

Then it measures int8 against fp32 (see ``--check-int8``) and records the result in the manifest:
``MODERATION_QUANTIZE=auto`` (the default) scores with the ≈3× faster int8 model only when int8
changed no more than 1.5 % of the moderation decisions on the reference messages.

    python manage.py fetch_models --check-int8          # re-measure an installed model, offline
    python manage.py fetch_models --check-int8 --reference our-chat-sample.jsonl

The reference set is the safety model's training messages (``moderation/training/data/``) plus
the labelled message sets under ``tests/moderation/data/`` when present, plus any ``--reference`` files (JSON lines with a
``"text"`` field, or plain text, one message per line). Decisions are the policy's comparisons at
the default thresholds (``moderation.policy.Thresholds``).

The rewrite embeds an absolute path; if the directory is moved the classifier still loads (it
patches the checkpoint in memory and logs so), but re-running this command is cheaper at start-up.
``--checkpoint-file`` / ``--config-dir`` install from files fetched some other way.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from moderation.classifiers import (
    DETOXIFY_MODEL_TYPES,
    HF_SUBDIR,
    INT8_MIN_AGREEMENT,
    INT8_MIN_REFERENCE_MESSAGES,
    ClassifierUnavailable,
    DetoxifyClassifier,
    detoxify_model_dir,
    install_detoxify_checkpoint,
    measure_int8_agreement,
    read_detoxify_checkpoint,
    record_int8_check,
)

# Files a tokenizer/config can need, across BERT (vocab.txt), RoBERTa (vocab.json + merges.txt),
# XLM-R and ALBERT (sentencepiece models). Weights are deliberately excluded: they come from the
# Detoxify checkpoint, and the Hub's pytorch_model.bin would add ~500 MB for nothing.
HF_ALLOW_PATTERNS = [
    "config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "spiece.model",
    "sentencepiece.bpe.model",
]

# The checkpoints name models by their legacy Hub ids; the Hub redirects them, but asking for the
# canonical repository avoids depending on that redirect.
CANONICAL_HUB_IDS = {
    "bert-base-uncased": "google-bert/bert-base-uncased",
    "roberta-base": "FacebookAI/roberta-base",
    "xlm-roberta-base": "FacebookAI/xlm-roberta-base",
    "albert-base-v2": "albert/albert-base-v2",
}

_OFFLINE_HINT = (
    "This command needs network access to github.com (checkpoint) and huggingface.co "
    "(config/tokenizer). Run it on a connected machine and copy the models directory across."
)


class Command(BaseCommand):
    help = "Download a Detoxify checkpoint and its tokenizer/config for fully offline loading."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--model",
            choices=DETOXIFY_MODEL_TYPES,
            default=None,
            help="Detoxify model type (default: settings.DETOXIFY_MODEL)",
        )
        parser.add_argument(
            "--models-dir", default=None, help="Destination root (default: settings.MODELS_DIR)"
        )
        parser.add_argument(
            "--checkpoint-file", default=None, help="Use this local .ckpt instead of downloading it"
        )
        parser.add_argument(
            "--config-dir",
            default=None,
            help="Use this local Hugging Face config/tokenizer directory instead of the Hub",
        )
        parser.add_argument(
            "--check-int8",
            action="store_true",
            help="Only (re)measure int8 vs fp32 decision agreement of the installed model "
            "and record it in its manifest (offline, no download)",
        )
        parser.add_argument(
            "--reference",
            action="append",
            default=[],
            metavar="FILE",
            help="Extra reference messages for the int8 check (JSON lines with a 'text' "
            "field, or one message per line); repeatable",
        )
        parser.add_argument(
            "--skip-int8-check",
            action="store_true",
            help="Do not measure int8 after installing (MODERATION_QUANTIZE=auto then stays fp32)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from detoxify.detoxify import MODEL_URLS

        model_type = options["model"] or settings.DETOXIFY_MODEL
        if model_type not in MODEL_URLS:
            raise CommandError(
                f"Unknown Detoxify model {model_type!r}; choose one of {sorted(MODEL_URLS)}"
            )
        models_dir = Path(options["models_dir"] or settings.MODELS_DIR)
        target = detoxify_model_dir(models_dir, model_type)
        target.mkdir(parents=True, exist_ok=True)
        url = MODEL_URLS[model_type]
        if options["check_int8"]:
            self._check_int8(model_type, models_dir, options["reference"])
            return

        checkpoint_path = self._fetch_checkpoint(url, target, options["checkpoint_file"])
        try:
            loaded = read_detoxify_checkpoint(checkpoint_path)
        except ClassifierUnavailable as exc:
            raise CommandError(f"{checkpoint_path}: {exc}") from exc
        offline = loaded["config"].get("kindred_offline") or {}
        hub_id = offline.get("hub_model_id") or loaded["config"]["arch"]["args"]["model_type"]
        del loaded
        self.stdout.write(f"Checkpoint OK: state_dict and config present; transformer is {hub_id}")

        config_dir = target / HF_SUBDIR
        self._fetch_config(hub_id, config_dir, options["config_dir"])

        self.stdout.write("Rewriting the checkpoint to load from the local config directory…")
        try:
            manifest = install_detoxify_checkpoint(
                checkpoint_path, config_dir, model_type=model_type, source_url=url
            )
        except ClassifierUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"sha256 {manifest['sha256']} recorded in {target / 'manifest.json'}")

        self.stdout.write("Loading it back offline and scoring a test sentence…")
        try:
            classifier = DetoxifyClassifier(model_type, models_dir=models_dir, quantize="off")
            scores = classifier.score(["Thank you, that really helped."])[0]
        except ClassifierUnavailable as exc:
            raise CommandError(f"Downloaded files do not load: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Ready: {classifier.name}; test toxicity={scores.toxicity:.3f}. "
                f"Set MODELS_DIR={models_dir} DETOXIFY_MODEL={model_type}."
            )
        )
        if not options["skip_int8_check"]:
            self._check_int8(model_type, models_dir, options["reference"])

    def _check_int8(self, model_type: str, models_dir: Path, extra_files: list[str]) -> None:
        """Measure int8 vs fp32 decisions on the reference messages; record the result either way."""
        texts = reference_messages(extra_files)
        if len(texts) < INT8_MIN_REFERENCE_MESSAGES:
            raise CommandError(
                f"only {len(texts)} reference messages; the int8 check needs {INT8_MIN_REFERENCE_MESSAGES} "
                "(add --reference FILE)"
            )
        self.stdout.write(f"Checking int8 against fp32 on {len(texts)} reference messages…")
        try:
            check = measure_int8_agreement(
                model_type,
                models_dir,
                texts,
                policy_thresholds(),
                threads=int(getattr(settings, "TORCH_THREADS", 1)),
                batch_size=int(getattr(settings, "MODERATION_BATCH_SIZE", 32)),
            )
            record_int8_check(detoxify_model_dir(models_dir, model_type), check)
        except ClassifierUnavailable as exc:
            raise CommandError(f"int8 check failed: {exc}") from exc
        summary = (
            f"int8 vs fp32: same decisions on {check['decision_agreement']:.2%} of {check['messages']} messages "
            f"({check['messages_with_changed_decision']} changed; max |Δscore| {check['max_abs_score_diff']})"
        )
        if check["passed"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"{summary}: ≥ {INT8_MIN_AGREEMENT:.1%}, so MODERATION_QUANTIZE=auto will use int8."
                )
            )
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"{summary}: below {INT8_MIN_AGREEMENT:.1%}, so MODERATION_QUANTIZE=auto keeps fp32."
                )
            )

    def _fetch_checkpoint(self, url: str, target: Path, local_file: str | None) -> Path:
        dest = target / url.rsplit("/", 1)[-1]
        if local_file:
            src = Path(local_file)
            if not src.is_file():
                raise CommandError(f"--checkpoint-file {src} does not exist")
            if src.resolve() != dest.resolve():
                self.stdout.write(f"Copying {src} → {dest}")
                shutil.copyfile(src, dest)
            return dest
        if dest.is_file():
            self.stdout.write(f"Checkpoint already present: {dest}")
            return dest
        import torch.hub

        # Release file names end in the first 8 hex digits of their sha256; torch.hub checks it.
        match = re.search(r"-([a-f0-9]{8,})\.ckpt$", dest.name)
        self.stdout.write(f"Downloading {url}")
        partial = dest.with_suffix(".ckpt.part")
        try:
            torch.hub.download_url_to_file(
                url,
                str(partial),
                hash_prefix=match.group(1) if match else None,
                progress=True,
            )
        except Exception as exc:  # URLError, socket errors, hash mismatch (RuntimeError)
            partial.unlink(missing_ok=True)
            raise CommandError(f"Could not download {url}: {exc}. {_OFFLINE_HINT}") from exc
        partial.replace(dest)
        return dest

    def _fetch_config(self, hub_id: str, config_dir: Path, local_dir: str | None) -> None:
        if local_dir:
            src = Path(local_dir)
            if not (src / "config.json").is_file():
                raise CommandError(f"--config-dir {src} has no config.json")
            if src.resolve() != config_dir.resolve():
                self.stdout.write(f"Copying {src} → {config_dir}")
                shutil.copytree(src, config_dir, dirs_exist_ok=True)
            return
        repo_id = CANONICAL_HUB_IDS.get(hub_id, hub_id)
        if Path(repo_id).is_absolute():
            raise CommandError(
                f"The checkpoint points at local directory {repo_id}, not a Hub model; "
                "pass --config-dir with its config/tokenizer files."
            )
        self.stdout.write(
            f"Downloading config and tokenizer of {repo_id} from the Hugging Face Hub"
        )
        try:
            from huggingface_hub import snapshot_download

            snapshot_download(
                repo_id=repo_id, local_dir=str(config_dir), allow_patterns=HF_ALLOW_PATTERNS
            )
        except Exception as exc:  # offline mode, DNS failure, HTTP errors all land here
            raise CommandError(
                f"Could not download {repo_id} config/tokenizer: {exc}. {_OFFLINE_HINT}"
            ) from exc
        if not (config_dir / "config.json").is_file():
            raise CommandError(f"{repo_id} snapshot has no config.json in {config_dir}")
        self.stdout.write(
            f"Config/tokenizer files: {', '.join(sorted(p.name for p in config_dir.iterdir() if p.is_file()))}"
        )


def reference_messages(extra_files: list[str] | None = None) -> list[str]:
    """The int8 check's reference messages: the safety model's training messages, the labelled
    evaluation sets, extras."""
    base = Path(settings.BASE_DIR)
    files = sorted((base / "moderation" / "training" / "data").glob("*.jsonl"))
    files += sorted((base / "tests" / "moderation" / "data").glob("*.jsonl"))
    for extra in extra_files or []:
        if not Path(extra).is_file():
            raise CommandError(f"--reference {extra} does not exist")
        files.append(Path(extra))
    texts: dict[str, None] = {}
    for path in files:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            text = line
            if line.startswith("{"):
                try:
                    text = str(json.loads(line).get("text") or "")
                except ValueError:
                    pass
            if text:
                texts[text] = None
    return list(texts)


def policy_thresholds() -> list[tuple[str, float]]:
    """Every (label, threshold) comparison the policy makes on classifier scores, at its defaults."""
    from moderation.policy import Thresholds

    t = Thresholds()
    pairs = [
        ("toxicity", t.toxicity_flag),
        ("insult", t.insult_flag),
        ("severe_toxicity", t.toxicity_flag),
        ("identity_attack", t.identity_attack_flag),
        ("severe_toxicity", t.severe_toxicity_hold),
        ("threat", t.threat_hold),
        ("toxicity", t.insensitive_priority_toxicity),
    ]
    return list(dict.fromkeys(pairs))
