"""DetoxifyClassifier runs the real detoxify.Detoxify load + predict path on a tiny random model."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from moderation.classifiers import (
    ClassifierConfig,
    DetoxifyClassifier,
    ProfanityCheckClassifier,
    Scores,
    clear_model_cache,
    install_detoxify_checkpoint,
    load_classifier,
)

TEXTS = [
    "You're doing an amazing job, honestly",
    "x",
    "I feel so disconnected from my baby, like I'm babysitting someone else's and nobody warned me",
    "Get lost you silly cow",
    "",
    "Does anyone have a number for the local perinatal team?",
    "ok",
]
ORIGINAL_LABELS = {"toxicity", "severe_toxicity", "obscene", "threat", "insult", "identity_attack"}


@pytest.fixture
def models_dir(tiny_detoxify, tmp_path: Path) -> Path:
    """A MODELS_DIR laid out exactly as fetch_models leaves it, built from the tiny checkpoint."""
    model_dir = tmp_path / "models" / "original"
    model_dir.mkdir(parents=True)
    shutil.copy(tiny_detoxify.checkpoint, model_dir / "toxic_original-tiny.ckpt")
    shutil.copytree(tiny_detoxify.config_dir, model_dir / "hf")
    install_detoxify_checkpoint(
        model_dir / "toxic_original-tiny.ckpt", model_dir / "hf", model_type="original"
    )
    clear_model_cache()
    yield tmp_path / "models"
    clear_model_cache()


def test_scores_every_text_with_per_label_probabilities(models_dir, no_network) -> None:
    classifier = DetoxifyClassifier("original", models_dir=models_dir, batch_size=3)
    scores = classifier.score(TEXTS)
    assert len(scores) == len(TEXTS)
    for s in scores:
        assert set(s.as_dict()) == ORIGINAL_LABELS  # Jigsaw names were standardised
        assert all(0.0 <= v <= 1.0 for v in s.as_dict().values())
    assert classifier.name == "detoxify:original on cpu, 1 thread"


def test_length_bucketing_keeps_order_and_matches_one_by_one(models_dir, no_network) -> None:
    classifier = DetoxifyClassifier("original", models_dir=models_dir, batch_size=3)
    batched = classifier.score(TEXTS)
    singles = [classifier.score([t])[0] for t in TEXTS]
    # The random model must tell sentences apart, or this test could not catch a reordering.
    assert len({round(s.toxicity, 4) for s in singles}) > 3
    for b, s in zip(batched, singles):
        for label, value in s.as_dict().items():
            assert b.as_dict()[label] == pytest.approx(value, abs=1e-5)


def test_checkpoint_not_rewritten_for_this_directory_still_loads_offline(
    tiny_detoxify, tmp_path, no_network
) -> None:
    # A stock-style checkpoint whose model_type points elsewhere (here: a directory that is gone),
    # passed explicitly as DETOXIFY_CHECKPOINT: it is patched in memory to the local hf/ dir.
    model_dir = tmp_path / "original"
    model_dir.mkdir()
    shutil.copytree(tiny_detoxify.config_dir, model_dir / "hf")
    moved = tmp_path / "elsewhere.ckpt"
    shutil.copy(tiny_detoxify.checkpoint, moved)
    clear_model_cache()
    classifier = DetoxifyClassifier("original", models_dir=tmp_path, checkpoint=moved)
    assert len(classifier.score(["hello there"])) == 1
    clear_model_cache()


def test_model_is_loaded_once_per_process(models_dir, no_network) -> None:
    first = DetoxifyClassifier("original", models_dir=models_dir)
    second = DetoxifyClassifier("original", models_dir=models_dir)
    assert first._model is second._model


def test_corrupted_checkpoint_is_refused(models_dir, no_network) -> None:
    ckpt = models_dir / "original" / "toxic_original-tiny.ckpt"
    with ckpt.open("ab") as fh:
        fh.write(b"tampered")
    status = load_classifier(ClassifierConfig(models_dir=str(models_dir)))
    assert status.classifier is None
    assert status.status.startswith("unavailable:") and "sha256" in status.status


def test_load_classifier_reports_active_detoxify(models_dir, no_network) -> None:
    status = load_classifier(ClassifierConfig(models_dir=str(models_dir), threads=1))
    assert status.available and not status.fallback_used
    assert status.status == "detoxify:original on cpu, 1 thread"


def test_missing_model_is_unavailable_with_reason_and_logged(tmp_path, caplog, no_network) -> None:
    with caplog.at_level(logging.ERROR, logger="moderation.classifiers"):
        status = load_classifier(ClassifierConfig(models_dir=str(tmp_path / "nothing-here")))
    assert status.classifier is None
    assert status.status.startswith("unavailable: detoxify:")
    assert "does not exist" in status.status and "fetch_models" in status.status
    assert any("unavailable" in r.getMessage() for r in caplog.records)


def test_fallback_is_used_only_when_configured(tmp_path, no_network) -> None:
    missing = str(tmp_path / "nothing-here")
    without = load_classifier(ClassifierConfig(models_dir=missing, fallback=""))
    assert without.classifier is None

    with_fallback = load_classifier(
        ClassifierConfig(models_dir=missing, fallback="profanity-check")
    )
    assert isinstance(with_fallback.classifier, ProfanityCheckClassifier)
    assert with_fallback.fallback_used
    assert "fallback because detoxify" in with_fallback.status


def test_disabled_classifier_says_so() -> None:
    status = load_classifier(ClassifierConfig(backend="none"))
    assert status.classifier is None and "disabled" in status.status


def test_profanity_check_maps_into_scores_and_names_its_limits() -> None:
    clf = ProfanityCheckClassifier()
    rude, kind = clf.score(["you stupid fucking idiot", "thank you, that was kind"])
    assert rude.toxicity == rude.insult == rude.obscene > 0.9
    assert kind.toxicity < 0.5
    assert rude.threat == rude.severe_toxicity == rude.identity_attack == 0.0
    assert "fallback" in clf.name and "not modelled" in clf.name


def test_scores_from_unbiased_labels_keep_sexual_explicit() -> None:
    s = Scores.from_mapping({"toxicity": 0.2, "sexual_explicit": 0.1, "male": 0.9})
    assert s.as_dict()["sexual_explicit"] == 0.1 and "male" not in s.as_dict()
    assert "sexual_explicit" not in Scores.from_mapping({"toxicity": 0.2}).as_dict()


def test_manifest_records_offline_layout(models_dir) -> None:
    manifest = json.loads((models_dir / "original" / "manifest.json").read_text())
    assert manifest["checkpoint"] == "toxic_original-tiny.ckpt"
    assert manifest["checkpoint_model_type"] == str((models_dir / "original" / "hf").resolve())
    assert len(manifest["sha256"]) == 64
    assert manifest["classes"][0] == "toxic"


# --- batching and int8 (issue #9) -----------------------------------------------------------


def test_plan_batches_groups_equal_lengths_and_keeps_long_posts_apart() -> None:
    from moderation.classifiers import plan_batches

    lengths = [5, 5, 5, 6, 6, 40, 200]
    plan = plan_batches(lengths, max_batch=32)
    assert plan[0][0] == 0 and plan[-1][1] == len(lengths)
    assert all(a < b for a, b in plan) and all(p[1] == q[0] for p, q in zip(plan, plan[1:]))
    assert (6, 7) in plan  # a 200-token post is never padded into a batch of one-liners
    assert len(plan_batches([7] * 100, max_batch=32)) == 4  # capped at max_batch, no padding
    assert plan_batches([], max_batch=32) == []


def test_batched_scores_equal_detoxify_predict_per_message(models_dir, no_network) -> None:
    classifier = DetoxifyClassifier(
        "original", models_dir=models_dir, batch_size=32, quantize="off"
    )
    texts = TEXTS * 3 + ["a much longer message " * 30]
    batched = classifier.score(texts)
    for text, got in zip(texts, batched):
        want = classifier._model.predict(text or " ")
        for label, value in got.as_dict().items():
            assert value == pytest.approx(want[label], abs=1e-5)


def _write_int8_check(model_dir: Path, **overrides) -> None:
    from moderation.classifiers import INT8_CHECK_KEY, INT8_RECIPE

    manifest = json.loads((model_dir / "manifest.json").read_text())
    # A hand-written record exercises the gate; real records come from fetch_models (see
    # tests/moderation/test_fetch_models.py), which measures them.
    check = {
        "recipe": INT8_RECIPE,
        "checkpoint_sha256": manifest["sha256"],
        "messages": 400,
        "decision_agreement": 0.995,
        **overrides,
    }
    manifest[INT8_CHECK_KEY] = check
    (model_dir / "manifest.json").write_text(json.dumps(manifest))


def test_auto_quantize_stays_fp32_without_a_recorded_check_and_says_so(
    models_dir, caplog, no_network
) -> None:
    with caplog.at_level(logging.WARNING, logger="moderation.classifiers"):
        classifier = DetoxifyClassifier("original", models_dir=models_dir)
    assert not classifier.quantized and "int8" not in classifier.name
    assert "fetch_models --check-int8" in classifier.int8_status
    assert any("fp32" in r.getMessage() for r in caplog.records)


def test_auto_quantize_uses_int8_only_with_a_passing_check_for_this_checkpoint(
    models_dir, no_network
) -> None:
    model_dir = models_dir / "original"
    _write_int8_check(model_dir)
    on = DetoxifyClassifier("original", models_dir=models_dir)
    assert on.quantized and on.name == "detoxify:original on cpu, int8, 1 thread"
    assert "99.5%" in on.int8_status
    assert len(on.score(TEXTS)) == len(TEXTS)

    for bad, reason in (
        ({"decision_agreement": 0.98}, "changed decisions"),
        ({"checkpoint_sha256": "0" * 64}, "different checkpoint"),
        ({"recipe": "something else"}, "another quantization recipe"),
        ({"messages": 20}, "only 20 messages"),
    ):
        _write_int8_check(model_dir, **bad)
        off = DetoxifyClassifier("original", models_dir=models_dir)
        assert not off.quantized and reason in off.int8_status, bad


def test_quantize_on_and_off_override_the_check(models_dir, no_network) -> None:
    forced = DetoxifyClassifier("original", models_dir=models_dir, quantize="on")
    assert forced.quantized and "unverified" in forced.int8_status
    _write_int8_check(models_dir / "original")
    assert not DetoxifyClassifier("original", models_dir=models_dir, quantize=False).quantized


def test_moderation_quantize_setting_values() -> None:
    from types import SimpleNamespace

    from moderation.classifiers import normalize_quantize

    assert ClassifierConfig().quantize == "auto"
    assert ClassifierConfig.from_settings(SimpleNamespace()).quantize == "auto"
    for raw, want in (
        ("", "auto"),
        ("AUTO", "auto"),
        ("1", "on"),
        ("true", "on"),
        (True, "on"),
        ("0", "off"),
        ("off", "off"),
        (False, "off"),
    ):
        assert normalize_quantize(raw) == want
        assert (
            ClassifierConfig.from_settings(SimpleNamespace(MODERATION_QUANTIZE=raw)).quantize
            == want
        )
    with pytest.raises(ValueError):
        normalize_quantize("maybe")


def test_int8_agreement_counts_changed_decisions() -> None:
    from moderation.classifiers import int8_agreement

    def s(tox: float) -> Scores:
        return Scores(
            toxicity=tox,
            severe_toxicity=0.0,
            obscene=0.0,
            threat=0.0,
            insult=0.0,
            identity_attack=0.0,
        )

    fp = [s(0.1), s(0.79), s(0.95), s(0.5)]
    q = [s(0.11), s(0.81), s(0.94), s(0.5)]
    got = int8_agreement(fp, q, [("toxicity", 0.8), ("toxicity", 0.4)])
    assert got["messages"] == 4 and got["messages_with_changed_decision"] == 1
    assert got["decision_agreement"] == 0.75 and got["max_abs_score_diff"] == pytest.approx(0.02)
