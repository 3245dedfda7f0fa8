"""The report's prose: every number in it comes from this run's raw results, except the earlier
measurements, which sit in their own section, each with the commit it comes from."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.analysis import HISTORY, analysis

ROOT = Path(__file__).resolve().parents[2]


def _step(rate: float, passed: bool, *, members: int, cpu_us: float | None = None) -> dict:
    return {
        "rate_msgs_per_s": rate,
        "passed": passed,
        "deliveries_per_s": rate * members,
        "lost": 0 if passed else 7,
        "p50_ms": 12.0,
        "p99_ms": 40.0 if passed else 900.0,
        "server_cpu_pct": 61.0,
        "gaps": 0,
        "out_of_order": 0,
        "cpu_us_per_delivery": cpu_us,
    }


def _results() -> tuple[list[dict], dict, dict]:
    kin = {
        "steps": [_step(40, True, members=100, cpu_us=37.5), _step(42, False, members=100)],
        "bound": None,
        "best_rate": 40,
        "join_seconds": 2.0,
        "settle_seconds": 1.0,
    }
    base = {
        "steps": [_step(4000, True, members=100, cpu_us=4.2)],
        "bound": "lower",
        "best_rate": 4000,
    }
    prof = {
        "per-call connection": {"total": 3.3, "queries": 5, "close": 1.1, "commit": 0.4},
        "persistent connection": {"total": 1.9, "queries": 5, "close": 0.0, "commit": 0.4},
        "join": {"total": 8.3, "queries": 17},
        "n": 30,
    }
    on = {
        "steps": [_step(113, True, members=50), _step(119, False, members=50)],
        "bound": None,
        "best_rate": 113,
    }
    off = {
        "steps": [_step(113, True, members=50), _step(230, True, members=50)],
        "bound": "lower",
        "best_rate": 230,
    }
    flag = {
        "capacity_msgs_per_s": 14.9,
        "assessment_delays_p50": 0.4,
        "assessment_delays_p95": 0.9,
        "steady": {"p50_ms": 6.0},
        "burst": {"lost": 0},
        "bait_reconciled": {
            "bait": 25,
            "within": 20,
            "late": 3,
            "missing": 2,
            "p95_s": float("inf"),
        },
    }
    idle = {
        "connect": {"connected": 5000},
        "connect_seconds_total": 30.1,
        "connect_cpu_pct": 90.0,
        "idle_cpu_pct": 2.1,
        "pongs": 4000,
        "idle_cpu_pct_without_pings": 1.0,
    }
    results = {
        "fanout": {"raw": {"100": {"kindred": [kin], "baseline": [base]}, "sendprof": prof}},
        "moderation_cost": {"raw": {"off": [off], "on": [on]}},
        "time_to_flag": {"raw": {"fp32": flag}},
        "idle": {"raw": idle},
    }
    meta = {
        "cfg": {
            "idle_seconds": 20,
            "idle_sockets": 5000,
            "search": {"factor": 2.0, "resolution": 1.05},
        }
    }
    return [], results, meta


def test_historical_figures_appear_only_as_history_with_their_commit() -> None:
    text = analysis(*_results())
    now, _, past = text.partition("## Earlier measurements (history, not this run)")
    assert past, "the history section is missing"
    for figure in (
        "100 µs",
        "1.72",
        "1.11",
        "7.9 ms",
        "2.25 ms",
        "45 %",
        "35 %",
        "226 msg/s",
        "5.6–6.8",
        "0.2–0.6",
        "2.2 s",
        "5.4–5.6",
        "159",
        "GIL in",
    ):
        assert figure not in now, figure
    for _scenario, _text, commit in HISTORY:
        if _scenario in ("fanout", "moderation_cost", "time_to_flag", "idle"):
            assert f"(commit `{commit}`)" in past


@pytest.mark.parametrize("commit", sorted({c for _s, _t, c in HISTORY}))
def test_every_history_commit_exists(commit: str) -> None:
    proc = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True
    )
    if proc.returncode != 0 and not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    assert proc.returncode == 0, (
        f"commit {commit} named in bench/analysis.py HISTORY does not exist"
    )


def test_this_run_s_figures_are_read_from_its_results() -> None:
    text = analysis(*_results())
    # Per-delivery CPU from the same interval's CPU and deliveries.
    assert "Kindred 38 µs at 4000 deliveries/s, baseline 4 µs" in text
    # The reused connection is the product's figure.
    assert "costs 1.9 ms (median, persistent connection" in text
    # Bounds are said as bounds.
    assert "the baseline passed up to 400000 deliveries/s — the top of what it probed" in text
    assert "Assessment off (SQLite): passed up to 230 msg/s — the top of what it probed" in text
    # Every bait message is accounted for.
    assert "Of the 25 bait messages" in text and "2 not at all" in text


def test_the_machine_s_cores_are_read_from_the_run() -> None:
    rows, results, meta = _results()
    results["scale_out"] = {"raw": {"1": {"steps": [], "bound": None, "best_rate": 40}}}
    text = analysis(rows, results, {**meta, "machine": {"cpus": 8}}, with_history=False)
    assert "on this 8-core machine" in text and "On this 8-core machine" in text
    assert "2-core" not in text and "2 cores" not in text
    assert "2-core" not in analysis(rows, results, meta, with_history=False)


def test_a_missed_safety_model_int8_check_is_explained_from_its_own_measurement() -> None:
    from bench.scenarios import safety_agreement_row

    sa = {
        "version": "kindred-safety-v4",
        "messages": 40,
        "labels_sampled": {"crisis": 20, "ok": 20},
        "by_label": {
            "risk": {
                "threshold": 0.93,
                "min": 0.0,
                "median": 0.1,
                "max": 1.0,
                "under": 20,
                "over": 20,
                "near": 2,
            }
        },
        "near_band": 0.05,
        "max_abs_score_diff": 0.68,
        "product_agreement_can_fail": True,
        "verdict_agreement": 0.925,
        "verdicts_changed": [
            {"label": "crisis", "fp32": "risk", "int8": "none"},
            {"label": "crisis", "fp32": "risk", "int8": "none"},
            {"label": "ok", "fp32": "none", "int8": "distress"},
        ],
        "bar": 0.985,
    }
    rows, results, meta = _results()
    results["classifier"] = {"raw": {"original": {"agreement_safety_model": sa}}}
    r = safety_agreement_row(sa)
    assert r["met"] is False
    text = analysis([r], results, meta)
    assert "on 3 of 40 held-out messages (92.5 % agreement against the 98.5 %" in text
    assert "risk → none (2), none → distress (1)" in text and "up to 0.68" in text
    # The classifier's speed paragraph is not written when only the agreement row missed.
    assert "The int8 target was missed" not in text


def test_a_bounded_flag_capacity_is_written_as_a_bound() -> None:
    rows, results, meta = _results()
    assert "capacity was 14.9 msg/s" in analysis(rows, results, meta)
    results["time_to_flag"]["raw"]["fp32"]["capacity_bound"] = "lower"
    assert "capacity was ≥ 14.9 msg/s" in analysis(rows, results, meta)
