"""The long-running processes' garbage-collector settings (config/gcpolicy.py). Each check runs
in a fresh interpreter: freezing the heap of the test process itself would keep every test's
reference cycles alive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import gc, json, django
django.setup()
from config.gcpolicy import settle_long_running_heap
before = gc.get_threshold()
settle_long_running_heap()
print(json.dumps({"before": before, "after": gc.get_threshold(), "frozen": gc.get_freeze_count()}))
"""


def _run(**env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_loaded_heap_is_frozen_and_collections_are_rarer() -> None:
    out = _run()
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["before"] == [700, 10, 10]  # Python's defaults until the server has loaded
    assert got["after"] == [50000, 20, 100]
    assert got["frozen"] > 10_000  # Django and the app's modules: never walked again


def test_thresholds_are_configurable_and_bad_values_are_refused_at_start() -> None:
    out = _run(GC_THRESHOLDS="700,10,10")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1])["after"] == [700, 10, 10]
    for bad in ("1000", "a,b,c", "0,10,10", "100,10,-1"):
        out = _run(GC_THRESHOLDS=bad)
        assert out.returncode != 0
        assert "GC_THRESHOLDS must be three positive integers" in out.stderr, bad
