"""Detoxify-format checkpoints of exactly the real architectures, with random weights.

Real Detoxify weights cannot be downloaded here, and speed does not depend on the weights'
values, only on the architecture and the sequence length. So for each Detoxify model we build its
real Hugging Face architecture from the known hyper-parameters (no download), initialise it
randomly, and save it in Detoxify's release format (see tests/moderation/tiny_checkpoint.py):

| Detoxify model  | transformers class                   | base config         | labels |
|-----------------|--------------------------------------|---------------------|--------|
| original        | BertForSequenceClassification        | bert-base-uncased   | 6      |
| unbiased        | RobertaForSequenceClassification     | roberta-base        | 16     |
| multilingual    | XLMRobertaForSequenceClassification  | xlm-roberta-base    | 16     |
| original-small  | AlbertForSequenceClassification      | albert-base-v2      | 6      |
| unbiased-small  | AlbertForSequenceClassification      | albert-base-v2      | 16     |

The tokenizer is a small local WordPiece vocabulary (BertTokenizer) covering the benchmark's
words, so every word is one token; message lengths are drawn so that token counts match
realistic chat messages. Sequence length is what costs time, and the harness controls it.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

from bench.util import VAR

HEAD_BIAS = -4.0
ORIGINAL = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
UNBIASED = [
    "toxicity",
    "severe_toxicity",
    "obscene",
    "identity_attack",
    "insult",
    "threat",
    "sexual_explicit",
    "male",
    "female",
    "homosexual_gay_or_lesbian",
    "christian",
    "jewish",
    "muslim",
    "black",
    "white",
    "psychiatric_or_mental_illness",
]

ARCH = {
    "original": (
        "BertForSequenceClassification",
        "BertConfig",
        "bert-base-uncased",
        ORIGINAL,
        dict(
            vocab_size=30522,
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            max_position_embeddings=512,
            type_vocab_size=2,
        ),
    ),
    "unbiased": (
        "RobertaForSequenceClassification",
        "RobertaConfig",
        "roberta-base",
        UNBIASED,
        dict(
            vocab_size=50265,
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            max_position_embeddings=514,
            type_vocab_size=1,
            layer_norm_eps=1e-5,
            pad_token_id=1,
            bos_token_id=0,
            eos_token_id=2,
        ),
    ),
    "multilingual": (
        "XLMRobertaForSequenceClassification",
        "XLMRobertaConfig",
        "xlm-roberta-base",
        UNBIASED,
        dict(
            vocab_size=250002,
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            max_position_embeddings=514,
            type_vocab_size=1,
            layer_norm_eps=1e-5,
            pad_token_id=1,
            bos_token_id=0,
            eos_token_id=2,
        ),
    ),
    "original-small": (
        "AlbertForSequenceClassification",
        "AlbertConfig",
        "albert-base-v2",
        ORIGINAL,
        dict(
            vocab_size=30000,
            embedding_size=128,
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            max_position_embeddings=512,
            type_vocab_size=2,
            hidden_act="gelu_new",
        ),
    ),
    "unbiased-small": (
        "AlbertForSequenceClassification",
        "AlbertConfig",
        "albert-base-v2",
        UNBIASED,
        dict(
            vocab_size=30000,
            embedding_size=128,
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
            max_position_embeddings=512,
            type_vocab_size=2,
            hidden_act="gelu_new",
        ),
    ),
}

WORDS = """
the a and to i my it of is in that for you was me so but have just be not with on this he she we
they are do at all can like feel really know if up what get out no about when one am been time
baby night sleep day tired mum mums feeding hard anyone else think going had would more how now
because today still help week weeks months month little lot thank thanks love much back
over need some does want home again after she's through nobody other good bad cry crying
husband partner midwife health visitor gp doctor appointment nursery bottle breast formula
nappy cot pram feed feeds woke waking hour hours morning evening bed bath tea coffee walk
anxious anxiety worried worry scared lonely alone sad happy better worse okay fine struggling
struggle support group hug hugs everyone same too here there where which who why very
""".split()


def vocab() -> list[str]:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    pieces = chars + ["##" + c for c in string.ascii_lowercase + string.digits + string.punctuation]
    return specials + pieces + list(dict.fromkeys(WORDS))


def corpus(n: int, *, seed: int = 7) -> list[str]:
    """Chat-like messages whose token counts follow a realistic spread: most are one or two lines
    (median ≈ 20 tokens), a few are long posts (up to ≈ 200 tokens)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        words = int(min(200, max(2, rng.lognormvariate(2.9, 0.75))))
        text = " ".join(rng.choice(WORDS) for _ in range(words))
        out.append(text[0].upper() + text[1:] + rng.choice([".", "?", "!", " x", ""]))
    return out


def build(model_type: str, *, root: Path | None = None, seed: int = 0) -> tuple[Path, Path]:
    """Build (or reuse) MODELS-style directory root/<model_type>/ with model.ckpt and hf/."""
    import torch
    import transformers

    root = root or (VAR / "models")
    d = root / model_type
    ckpt, hf = d / "model.ckpt", d / "hf"
    marker = d / "bench-random-weights.json"
    if (
        ckpt.is_file()
        and marker.is_file()
        and json.loads(marker.read_text()).get("head_bias") == HEAD_BIAS
    ):
        return ckpt, hf
    model_name, config_name, hub_id, classes, hp = ARCH[model_type]
    hf.mkdir(parents=True, exist_ok=True)
    vocab_file = hf / "vocab.txt"
    vocab_file.write_text("\n".join(vocab()) + "\n", encoding="utf-8")
    tok = transformers.BertTokenizer(vocab_file=str(vocab_file), do_lower_case=True)
    tok.model_max_length = 512
    tok.save_pretrained(str(hf))
    config = getattr(transformers, config_name)(num_labels=len(classes), **hp)
    config.save_pretrained(str(hf))
    torch.manual_seed(seed)
    model = getattr(transformers, model_name)(config).eval()
    # Random weights put every label's score near 0.5, above the product's severe_toxicity
    # threshold (0.5): every message would be held and flagged, which no real chat looks like and
    # which adds a hold broadcast and a flag to every message. A negative bias on the output layer
    # makes the random model score like a real one does on ordinary messages (≈ 0.01–0.05); the
    # cost of a forward pass does not depend on the values.
    head = getattr(model.classifier, "out_proj", model.classifier)
    with torch.no_grad():
        head.bias.fill_(HEAD_BIAS)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    torch.save(
        {
            "state_dict": state,
            "config": {
                "name": f"bench-random-{model_type}",
                "arch": {
                    "type": model_name,
                    "args": {
                        "num_classes": len(classes),
                        "model_type": str(hf.resolve()),
                        "model_name": model_name,
                        "tokenizer_name": "BertTokenizer",
                    },
                },
                "dataset": {"type": "bench", "args": {"classes": list(classes)}},
            },
        },
        ckpt,
    )
    marker.write_text(
        json.dumps(
            {
                "model_type": model_type,
                "architecture": hub_id,
                "weights": "random",
                "seed": seed,
                "head_bias": HEAD_BIAS,
            }
        )
        + "\n"
    )
    return ckpt, hf
