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
    install_detoxify_checkpoint(model_dir / "toxic_original-tiny.ckpt", model_dir / "hf", model_type="original")
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


def test_checkpoint_not_rewritten_for_this_directory_still_loads_offline(tiny_detoxify, tmp_path, no_network) -> None:
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

    with_fallback = load_classifier(ClassifierConfig(models_dir=missing, fallback="profanity-check"))
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
