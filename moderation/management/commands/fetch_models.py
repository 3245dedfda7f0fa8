"""Download a Detoxify model so the moderation worker can load it with no network.

Run on a connected machine, then copy ``MODELS_DIR`` to the server::

    python manage.py fetch_models                       # settings.DETOXIFY_MODEL into settings.MODELS_DIR
    python manage.py fetch_models --model unbiased --models-dir /srv/kindred/models

Result, in ``MODELS_DIR/<model>/``::

    <release>.ckpt   Detoxify checkpoint, arch.args.model_type rewritten to the absolute hf/ path
    hf/              Hugging Face config.json + tokenizer files of the underlying transformer
    manifest.json    source URL, sha256 of the (rewritten) checkpoint, Hub id, label names

The rewrite embeds an absolute path; if the directory is moved the classifier still loads (it
patches the checkpoint in memory and logs so), but re-running this command is cheaper at start-up.
``--checkpoint-file`` / ``--config-dir`` install from files fetched some other way.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from moderation.classifiers import (
    DETOXIFY_MODEL_TYPES,
    HF_SUBDIR,
    ClassifierUnavailable,
    DetoxifyClassifier,
    read_detoxify_checkpoint,
    detoxify_model_dir,
    install_detoxify_checkpoint,
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
        parser.add_argument("--model", choices=DETOXIFY_MODEL_TYPES, default=None,
                            help="Detoxify model type (default: settings.DETOXIFY_MODEL)")
        parser.add_argument("--models-dir", default=None,
                            help="Destination root (default: settings.MODELS_DIR)")
        parser.add_argument("--checkpoint-file", default=None,
                            help="Use this local .ckpt instead of downloading it")
        parser.add_argument("--config-dir", default=None,
                            help="Use this local Hugging Face config/tokenizer directory instead of the Hub")

    def handle(self, *args: Any, **options: Any) -> None:
        from detoxify.detoxify import MODEL_URLS

        model_type = options["model"] or settings.DETOXIFY_MODEL
        if model_type not in MODEL_URLS:
            raise CommandError(f"Unknown Detoxify model {model_type!r}; choose one of {sorted(MODEL_URLS)}")
        models_dir = Path(options["models_dir"] or settings.MODELS_DIR)
        target = detoxify_model_dir(models_dir, model_type)
        target.mkdir(parents=True, exist_ok=True)
        url = MODEL_URLS[model_type]

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
            classifier = DetoxifyClassifier(model_type, models_dir=models_dir)
            scores = classifier.score(["Thank you, that really helped."])[0]
        except ClassifierUnavailable as exc:
            raise CommandError(f"Downloaded files do not load: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(
            f"Ready: {classifier.name}; test toxicity={scores.toxicity:.3f}. "
            f"Set MODELS_DIR={models_dir} DETOXIFY_MODEL={model_type}."
        ))

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
                url, str(partial), hash_prefix=match.group(1) if match else None,
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
        self.stdout.write(f"Downloading config and tokenizer of {repo_id} from the Hugging Face Hub")
        try:
            from huggingface_hub import snapshot_download

            snapshot_download(repo_id=repo_id, local_dir=str(config_dir), allow_patterns=HF_ALLOW_PATTERNS)
        except Exception as exc:  # offline mode, DNS failure, HTTP errors all land here
            raise CommandError(f"Could not download {repo_id} config/tokenizer: {exc}. {_OFFLINE_HINT}") from exc
        if not (config_dir / "config.json").is_file():
            raise CommandError(f"{repo_id} snapshot has no config.json in {config_dir}")
        self.stdout.write(f"Config/tokenizer files: {', '.join(sorted(p.name for p in config_dir.iterdir() if p.is_file()))}")
