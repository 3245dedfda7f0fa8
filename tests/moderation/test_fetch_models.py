"""manage.py fetch_models: installs from local files offline; fails clearly when it must download."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from moderation.classifiers import DetoxifyClassifier, clear_model_cache


def test_installs_local_files_so_the_classifier_loads_offline(tiny_detoxify, tmp_path, no_network, capsys) -> None:
    call_command("fetch_models", "--model", "original", "--models-dir", str(tmp_path),
                 "--checkpoint-file", str(tiny_detoxify.checkpoint), "--config-dir", str(tiny_detoxify.config_dir))
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
