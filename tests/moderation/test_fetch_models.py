"""manage.py fetch_models: installs from local files offline; fails clearly when it must download."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from moderation.classifiers import DetoxifyClassifier, clear_model_cache


def test_installs_local_files_so_the_classifier_loads_offline(
    tiny_detoxify, tmp_path, no_network, capsys
) -> None:
    call_command(
        "fetch_models",
        "--model",
        "original",
        "--models-dir",
        str(tmp_path),
        "--checkpoint-file",
        str(tiny_detoxify.checkpoint),
        "--config-dir",
        str(tiny_detoxify.config_dir),
    )
    out = capsys.readouterr().out
    assert "Ready: detoxify:original" in out
    manifest = json.loads((tmp_path / "original" / "manifest.json").read_text())
    assert manifest["source_url"].endswith(".ckpt")
    clear_model_cache()
    assert len(DetoxifyClassifier("original", models_dir=tmp_path).score(["hi"])) == 1
    clear_model_cache()


def test_offline_download_fails_with_clear_error(tmp_path, no_network) -> None:
    with pytest.raises(CommandError, match="connected machine"):
        call_command("fetch_models", "--model", "original-small", "--models-dir", str(tmp_path))


def test_install_measures_int8_agreement_and_records_it(
    tiny_detoxify, tmp_path, no_network, capsys
) -> None:
    from moderation.classifiers import INT8_RECIPE, int8_check_status

    call_command(
        "fetch_models",
        "--model",
        "original",
        "--models-dir",
        str(tmp_path),
        "--checkpoint-file",
        str(tiny_detoxify.checkpoint),
        "--config-dir",
        str(tiny_detoxify.config_dir),
    )
    out = capsys.readouterr().out
    assert "int8 vs fp32: same decisions on" in out
    manifest = json.loads((tmp_path / "original" / "manifest.json").read_text())
    check = manifest["int8_check"]
    assert check["recipe"] == INT8_RECIPE and check["checkpoint_sha256"] == manifest["sha256"]
    assert check["messages"] >= 300  # exemplars + labelled sets
    assert 0.0 <= check["decision_agreement"] <= 1.0
    assert check["passed"] == (check["decision_agreement"] >= 0.985)
    clear_model_cache()
    classifier = DetoxifyClassifier("original", models_dir=tmp_path)
    assert (
        classifier.quantized == check["passed"] == int8_check_status(check, manifest["sha256"])[0]
    )
    clear_model_cache()


def test_check_int8_alone_remeasures_offline_with_extra_reference(
    tiny_detoxify, tmp_path, no_network, capsys
) -> None:
    call_command(
        "fetch_models",
        "--model",
        "original",
        "--models-dir",
        str(tmp_path),
        "--skip-int8-check",
        "--checkpoint-file",
        str(tiny_detoxify.checkpoint),
        "--config-dir",
        str(tiny_detoxify.config_dir),
    )
    assert "int8_check" not in json.loads((tmp_path / "original" / "manifest.json").read_text())
    extra = tmp_path / "sample.txt"
    extra.write_text("a message only this operator has\nanother one\n", encoding="utf-8")
    call_command(
        "fetch_models",
        "--model",
        "original",
        "--models-dir",
        str(tmp_path),
        "--check-int8",
        "--reference",
        str(extra),
    )
    check = json.loads((tmp_path / "original" / "manifest.json").read_text())["int8_check"]
    assert check["messages"] >= 300
    with pytest.raises(CommandError, match="does not exist"):
        call_command(
            "fetch_models",
            "--model",
            "original",
            "--models-dir",
            str(tmp_path),
            "--check-int8",
            "--reference",
            str(tmp_path / "missing.jsonl"),
        )
    clear_model_cache()
