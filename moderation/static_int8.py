"""int8 serving of the safety model's encoder with *fixed* activation scales.

Why: PyTorch's dynamic int8 quantisation picks each linear layer's activation scale from the
batch in hand, so a message's scores moved with the other messages it happened to be encoded
with (``docs/batch-determinism.md``: 24 of 800 verdicts moved between two batchings; a care-loop
acceptance test passed once and failed once on it). Here every linear layer's input range is
measured once, in fp32, on a fixed set of Kindred's own training messages, and stored with the
artefact (``activations.npz``); at serving time each layer quantises its input with that range
and multiplies with per-channel int8 weights (``quantized::linear_with_input_q_dq_qweight_dq_output_fp32``,
one fused call, fp32 out). A message's embedding then depends only on the message and its own
padding-free tokens, never on its neighbours, and batching keeps its speed.

Inputs outside the calibrated range are clipped to it; ``calibrate`` widens the measured range by
``MARGIN`` so text unlike the calibration set has headroom. How close this stays to fp32 is
measured, not assumed: ``python -m bench.batch_determinism`` reports verdicts that differ from
fp32 for each serving mode.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: the measured range is widened by this factor about its centre before it is fixed.
MARGIN = 1.25
#: how many training messages the ranges are measured on, and in what batches.
CALIBRATION_MESSAGES = 1024
_CALIBRATION_BATCH = 32


def _linears(module: Any) -> Iterable[tuple[str, Any]]:
    import torch

    for name, child in module.named_modules():
        if isinstance(child, torch.nn.Linear):
            yield name, child


def measure_ranges(model: Any, texts: Sequence[str]) -> dict[str, tuple[float, float]]:
    """The fp32 input range (min, max) of every linear layer of a SentenceTransformer over
    ``texts``, widened by ``MARGIN``. Layers that never ran (an unused pooler) are absent."""
    import torch

    seen: dict[str, list[float]] = {}
    hooks = []

    def hook_for(name: str):  # noqa: ANN202
        def hook(_module: Any, args: tuple[Any, ...]) -> None:
            x = args[0].detach()
            lo, hi = float(x.min()), float(x.max())
            if name in seen:
                seen[name][0] = min(seen[name][0], lo)
                seen[name][1] = max(seen[name][1], hi)
            else:
                seen[name] = [lo, hi]

        return hook

    for name, linear in _linears(model):
        hooks.append(linear.register_forward_pre_hook(hook_for(name)))
    try:
        with torch.inference_mode():
            model.encode(
                list(texts),
                batch_size=_CALIBRATION_BATCH,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
    finally:
        for h in hooks:
            h.remove()
    ranges: dict[str, tuple[float, float]] = {}
    for name, (lo, hi) in seen.items():
        centre, half = (lo + hi) / 2, (hi - lo) / 2 * MARGIN
        ranges[name] = (centre - half, centre + half)
    return ranges


def save_ranges(path: Path, ranges: dict[str, tuple[float, float]]) -> None:
    names = sorted(ranges)
    np.savez_compressed(
        path,
        names=np.array(names),
        lo=np.array([ranges[n][0] for n in names], dtype=np.float64),
        hi=np.array([ranges[n][1] for n in names], dtype=np.float64),
    )


def load_ranges(path: Path) -> dict[str, tuple[float, float]]:
    with np.load(path, allow_pickle=False) as data:
        return {
            str(n): (float(lo), float(hi))
            for n, lo, hi in zip(data["names"], data["lo"], data["hi"], strict=True)
        }


def _scale_zero_point(lo: float, hi: float) -> tuple[float, int]:
    """Asymmetric uint8 parameters covering [lo, hi] (which always includes 0)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = max((hi - lo) / 255.0, 1e-8)
    zero_point = int(round(-lo / scale))
    return scale, min(255, max(0, zero_point))


def _make_module_class() -> Any:
    import torch

    class FixedScaleInt8Linear(torch.nn.Module):
        """A linear layer with per-channel int8 weights whose input is quantised with a fixed,
        calibrated scale (so its output never depends on other rows of the batch)."""

        def __init__(self, linear: torch.nn.Linear, lo: float, hi: float) -> None:
            super().__init__()
            weight = linear.weight.detach().float()
            bias = None if linear.bias is None else linear.bias.detach().float()
            w_scale = (weight.abs().amax(dim=1) / 127.0).clamp(min=1e-8).double()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                q_weight = torch.quantize_per_channel(
                    weight,
                    w_scale,
                    torch.zeros(weight.shape[0], dtype=torch.long),
                    0,
                    torch.qint8,
                )
            self._packed = torch.ops.quantized.linear_prepack(q_weight, bias)
            self.scale, self.zero_point = _scale_zero_point(lo, hi)
            self.in_features = linear.in_features
            self.out_features = linear.out_features

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            shape = x.shape
            y = torch.ops.quantized.linear_with_input_q_dq_qweight_dq_output_fp32(
                x.reshape(-1, shape[-1]).contiguous(), self.scale, self.zero_point, self._packed
            )
            return y.reshape(*shape[:-1], self.out_features)

    return FixedScaleInt8Linear


def quantize_fixed(model: Any, ranges: dict[str, tuple[float, float]]) -> Any:
    """Replace, in place, every linear layer that has a calibrated range with its fixed-scale
    int8 version; returns the model. Raises ``ValueError`` when a layer that ran at calibration
    is missing from the model (ranges from another architecture)."""
    cls = _make_module_class()
    linears = dict(_linears(model))
    missing = sorted(set(ranges) - set(linears))
    if missing:
        raise ValueError(f"calibrated layers not in the model: {missing[:3]}…")
    for name, (lo, hi) in ranges.items():
        parent_name, _, attr = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        setattr(parent, attr, cls(linears[name], lo, hi))
    return model
