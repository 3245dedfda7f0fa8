"""Build a tiny, randomly initialised checkpoint in Detoxify's release format.

The real checkpoints (see ``detoxify.detoxify.MODEL_URLS``) are produced by Detoxify's
``convert_weights.py``: a ``torch.save``d dict with

* ``state_dict`` – the Hugging Face ``*ForSequenceClassification`` weights, keys without the
  Lightning ``model.`` prefix;
* ``config`` – the training config: ``arch.args`` holds exactly the keyword arguments of
  ``detoxify.detoxify.get_model_and_tokenizer`` (``model_type``, ``model_name``,
  ``tokenizer_name``, ``num_classes``) and ``dataset.args.classes`` the label names in output
  order (Jigsaw names such as ``toxic`` are renamed by Detoxify at load time).

Here ``arch.args.model_type`` is the local config directory, exactly what
``manage.py fetch_models`` writes into a downloaded checkpoint, so nothing asks the Hub.
The weights are random: scores from this model mean nothing, only the loading and
prediction path is real.
"""

from __future__ import annotations

import string
from pathlib import Path

import torch
import transformers

# Jigsaw "original" label names, in the order the released BERT checkpoint emits them.
TINY_CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]

_COMMON_WORDS = """
the a an and or but if so to of in on at for with from by about as is are was were be been am
i me my mine you your yours he him his she her it its we us our they them their this that these
those not no never don't can't won't do does did have has had will would could should may might
baby mum mother mom partner dad sleep night day tired feel feeling love hate hurt kill idiot
stupid cow sorry thank thanks please help anyone everyone nobody someone just really so very
want need know think going get got make made good bad better worse happy sad cry crying
""".split()


def _vocab() -> list[str]:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    # Single characters plus their "##" continuations let WordPiece spell any ASCII word,
    # so no realistic test sentence collapses to [UNK].
    pieces = chars + ["##" + c for c in string.ascii_lowercase + string.digits]
    words = [w for w in dict.fromkeys(_COMMON_WORDS) if "'" not in w]
    return specials + pieces + words


def build_tiny_checkpoint(directory: Path | str, *, seed: int = 0) -> tuple[Path, Path]:
    """Write ``<directory>/hf`` (config + tokenizer) and ``<directory>/tiny.ckpt``.

    Returns ``(checkpoint_path, config_dir)``. Deterministic for a given ``seed``.
    """
    directory = Path(directory)
    config_dir = directory / "hf"
    config_dir.mkdir(parents=True, exist_ok=True)

    vocab_file = config_dir / "vocab.txt"
    vocab_file.write_text("\n".join(_vocab()) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizer(vocab_file=str(vocab_file), do_lower_case=True)
    tokenizer.model_max_length = 128
    tokenizer.save_pretrained(str(config_dir))

    config = transformers.BertConfig(
        vocab_size=len(_vocab()),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=len(TINY_CLASSES),
        # Wider than BERT's 0.02 so that different sentences get visibly different scores and
        # the order/batching tests could actually fail.
        initializer_range=0.5,
    )
    config.save_pretrained(str(config_dir))

    torch.manual_seed(seed)
    model = transformers.BertForSequenceClassification(config)
    state_dict = {k: v.detach().clone() for k, v in model.state_dict().items()}

    checkpoint = {
        "state_dict": state_dict,
        "config": {
            "name": "Jigsaw_BERT_tiny",
            "arch": {
                "type": "BERT",
                "args": {
                    "num_classes": len(TINY_CLASSES),
                    "model_type": str(config_dir.resolve()),
                    "model_name": "BertForSequenceClassification",
                    "tokenizer_name": "BertTokenizer",
                },
            },
            "dataset": {"type": "JigsawDataOriginal", "args": {"classes": list(TINY_CLASSES)}},
        },
    }
    checkpoint_path = directory / "tiny.ckpt"
    torch.save(checkpoint, checkpoint_path)
    return checkpoint_path, config_dir
