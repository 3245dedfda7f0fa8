"""Serving the safety model int8 with fixed activation scales: a message is judged the same
whatever else arrived with it.

Before this, dynamic int8 took each layer's scale from the batch, so whether a mother's message
reached the moderators could depend on unrelated traffic (docs/batch-determinism.md). The
sentences here were written for these tests."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.conf import settings

from moderation.safety_model import MODELS_ROOT, AdaptedMiniLM, load_model_dir, read_card
from moderation.static_int8 import (
    _scale_zero_point,
    load_ranges,
    quantize_fixed,
    save_ranges,
)

LIVE = settings.MODERATION_SAFETY_MODEL_DEFAULT

MESSAGE = "Honestly just tell her to stop moaning, we've all been there and got on with it"
NEIGHBOURS = [
    "ok",
    "night feeds again, third one since midnight and she still wants more",
    "Has anyone tried the baby group at the library on Thursdays? Wondering if it's worth the "
    "walk in this weather, the last one I went to was mostly toddlers running about and I "
    "couldn't hear myself think, but the lady who runs it seemed nice enough",
    "x",
    "thank you all so much",
]


def _embedder(quantize: str) -> AdaptedMiniLM:
    model_dir = MODELS_ROOT / LIVE
    spec = read_card(model_dir)["embedder"]
    return AdaptedMiniLM(
        model_dir / spec["adapters"],
        quantize=quantize,
        activations_path=model_dir / "activations.npz" if quantize == "int8-fixed" else None,
    )


@pytest.fixture(scope="module")
def served() -> AdaptedMiniLM:
    return _embedder("int8-fixed")


def test_the_live_model_is_served_with_fixed_scales_from_its_own_artefact():
    model_dir = MODELS_ROOT / LIVE
    card = read_card(model_dir)
    assert card["embedder"]["quantize"] == "int8-fixed"
    ranges = load_ranges(model_dir / card["embedder"]["activations"])
    # Every linear layer of the six blocks (q, k, v, attention out, intermediate, out) has one.
    assert len([n for n in ranges if ".layer." in n]) == 6 * 6
    assert all(lo < 0 < hi for lo, hi in ranges.values())
    assert "fixed scales" in load_model_dir(model_dir).name


def test_a_message_scores_the_same_alone_and_among_any_neighbours(served):
    alone = served.encode([MESSAGE])[0]
    for k in range(len(NEIGHBOURS) + 1):
        batch = NEIGHBOURS[:k] + [MESSAGE] + NEIGHBOURS[k:]
        vectors = served.encode(batch)
        assert np.array_equal(vectors[k], alone), f"changed with {k} neighbours before it"
    # In a batch bigger than one model batch, among messages of its own length too.
    crowd = [f"{MESSAGE} {i}" for i in range(20)] + [MESSAGE] + NEIGHBOURS * 4
    assert np.array_equal(served.encode(crowd)[20], alone)


def test_dynamic_int8_is_what_moved_with_its_neighbours(served):
    """The check above can fail: the mode it replaced does move."""
    crowd = [MESSAGE] + [f"{MESSAGE} {i}" for i in range(6)]  # neighbours of its own length
    assert np.array_equal(served.encode(crowd)[0], served.encode([MESSAGE])[0])
    dynamic = _embedder("int8")
    assert not np.array_equal(dynamic.encode(crowd)[0], dynamic.encode([MESSAGE])[0])


def test_fixed_scales_stay_closer_to_full_precision_than_dynamic_scales(served):
    texts = [MESSAGE, *NEIGHBOURS]
    full = _embedder("none").encode(texts)
    fixed = np.sum(served.encode(texts) * full, axis=1)
    dynamic = np.sum(_embedder("int8").encode(texts) * full, axis=1)
    assert fixed.min() > 0.95, fixed
    assert fixed.mean() > dynamic.mean(), (fixed, dynamic)


def test_fixed_scales_need_the_artefacts_ranges(tmp_path):
    with pytest.raises(ValueError, match="activation ranges"):
        AdaptedMiniLM(tmp_path / "adapters.npz", quantize="int8-fixed")
    with pytest.raises(ValueError, match="unknown quantisation"):
        AdaptedMiniLM(tmp_path / "adapters.npz", quantize="int4")


def test_ranges_round_trip_and_refuse_another_architecture(tmp_path):
    import torch

    ranges = {"0.linear": (-1.5, 2.25), "2": (-0.1, 7.0)}
    save_ranges(tmp_path / "a.npz", ranges)
    assert load_ranges(tmp_path / "a.npz") == ranges
    model = torch.nn.Sequential(torch.nn.Linear(4, 4))
    with pytest.raises(ValueError, match="not in the model"):
        quantize_fixed(model, {"1": (-1.0, 1.0)})


@pytest.mark.parametrize("lo,hi", [(-3.0, 5.0), (0.5, 4.0), (-2.0, -0.5)])
def test_the_quantisation_grid_covers_the_range_and_zero(lo, hi):
    scale, zero_point = _scale_zero_point(lo, hi)
    assert 0 <= zero_point <= 255
    low, high = (0 - zero_point) * scale, (255 - zero_point) * scale
    assert low <= min(lo, 0.0) + scale and high >= max(hi, 0.0) - scale


def test_the_card_records_how_the_ranges_were_measured():
    card = json.loads((MODELS_ROOT / LIVE / "card.json").read_text(encoding="utf-8"))
    notes = card["embedder"]["activation_calibration"]
    assert notes["messages"] == 1024 and notes["margin"] > 1
