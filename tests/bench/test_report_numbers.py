"""No number in the rendered report is history passed off as this run's measurement.

The report (docs/performance.md as `bench.report.write_docs` writes it) is rendered twice from
two small fake runs whose every measured value differs. A number that the report prints
identically for both runs did not come from the run: outside the method section (a description of
the harness's settings) and the history section (each item with its commit), it must be one of
the product's or the harness's settings listed in SETTINGS, with what it is. A figure copied into
the prose from an earlier session (say "about 100 µs per delivery") prints the same whatever the
run measured, so it fails this check, as the last test shows."""

from __future__ import annotations

import math
import re
import zlib
from pathlib import Path
from typing import Any

import pytest

from bench import analysis as analysis_mod
from bench import modcap, overload, report, soak
from bench.scenarios import row, safety_agreement_row, samework_row

# Numbers the report may print whatever the run measured: each is a setting of the product or
# of the harness, a label, or a reference, never a measurement.
SETTINGS: dict[str, str] = {
    "0": "zero as a count (nothing lost, no gap)",
    "1": "1 web + 1 worker; Daphne's default sweep (1 s); 1/5/15-minute load averages",
    "2": "2 web + 2 workers; Daphne's default sweep (2 s)",
    "5": "every 5 s (load sampling; Daphne's tuned sweep); 1/5/15-minute load averages",
    "6": "Daphne's tuned sweep (6 s)",
    "15": "1/5/15-minute load averages",
    "17": "issue 17 (a reference)",
    "20": "the hub's presence heartbeat, CHAT_HUB_HEARTBEAT_SECONDS",
    "25": "the protocol's ping interval (25 s)",
    "30": "Daphne's keep-alive ping as configured (30 s)",
    "32": "the worker's largest batch",
    "50": "a join's history (the last 50 messages)",
    "0.25": "CHAT_ORDER_WAIT_SECONDS",
    "98.5": "fetch_models' int8 agreement bar (%)",
    "4": "the classifier target (≥ 4×)",
    "0.05": "the near-threshold band of the agreement check",
    "80": "the steady phase of time to flag runs at 80 % of the measured capacity",
    "0.90": "moderation cost's throughput target",
    "1.20": "moderation cost's latency target",
    "0.5": "fan-out's target against the same-work baseline (scenarios.SAMEWORK_TARGET)",
}

# A number as the report writes it (4,003; 0.25; 98.5), not part of a word, a path or a version.
# Settings that are only recognisable with their unit ("100" alone could be a measurement).
SETTINGS_WITH_UNIT: dict[tuple[str, str], str] = {
    ("100", " ms"): "the delivery p99 limit (scenarios.P99_LIMIT_MS)",
    ("1", " s"): "the send → assessed p95 limit (modcap.TTF_P95_LIMIT_S)",
}

NUM = re.compile(r"(?<![\w.`/\-:])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w`:])")


def _vary(x: Any, path: str, salt: int) -> Any:
    """Every measured value changed, each by its own amount (so ratios change too); zero counts
    stay zero so the same prose branches are taken; keys that are numbers (room sizes) change."""
    h = zlib.crc32(f"{salt}:{path}".encode())
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, int):
        return x if x == 0 else x + 1000 * salt + h % 7
    if isinstance(x, float):
        return (
            x if x == 0 or math.isinf(x) else round(x * (1 + 0.37 * salt) * (1 + (h % 41) / 100), 3)
        )
    if isinstance(x, dict):
        return {
            (str(int(k) + 1000 * salt) if isinstance(k, str) and k.isdigit() else k): _vary(
                v, f"{path}/{k}", salt
            )
            for k, v in x.items()
        }
    if isinstance(x, (list, tuple)):
        return type(x)(_vary(v, f"{path}/{i}", salt) for i, v in enumerate(x))
    return x


def _step(rate: float, passed: bool, members: int, cpu_us: float | None = None) -> dict:
    return {
        "rate_msgs_per_s": rate,
        "passed": passed,
        "deliveries_per_s": rate * members,
        "lost": 0 if passed else 11,
        "p50_ms": 12.5,
        "p99_ms": 41.5 if passed else 903.5,
        "server_cpu_pct": 61.5,
        "gaps": 0,
        "out_of_order": 0,
        "cpu_us_per_delivery": cpu_us,
        "loadgen_cpu_pct_max": 33.5,
        "send_lag_p99_ms": 3.5,
    }


def fake_run(salt: int = 0) -> tuple[dict, list[dict], dict]:
    """A small run touching every paragraph of the prose (meta, rows, results); `salt` changes
    what `_vary` cannot (how many verdicts changed)."""
    kin = {
        "steps": [_step(43.5, True, 120, 37.5), _step(45.5, False, 120)],
        "bound": None,
        "best_rate": 43.5,
        "join_seconds": 2.5,
        "settle_seconds": 1.5,
        "best_deliveries_per_s": 5220.5,
    }
    base = {"steps": [_step(4100.5, True, 120, 4.5)], "bound": "lower", "best_rate": 4100.5}
    # The same-work baseline well above Kindred: its row is missed and the prose explains it.
    same = {
        "steps": [_step(310.5, True, 120, 9.5), _step(330.5, False, 120)],
        "bound": None,
        "best_rate": 310.5,
        "best_deliveries_per_s": 37260.5,
    }
    prof = {
        "per-call connection": {"total": 3.3, "queries": 5, "close": 1.1, "commit": 0.4},
        "persistent connection": {"total": 1.9, "queries": 5, "close": 0.0, "commit": 0.4},
        "join": {"total": 8.3, "queries": 17},
        "n": 30,
    }
    modcost = {
        "off": [{"steps": [_step(230.5, True, 55)], "bound": "lower", "best_rate": 230.5}],
        "on": [
            {"steps": [_step(113.5, True, 55), _step(119.5, False, 55)], "best_rate": 113.5},
        ],
    }
    agreement = {
        "score_range": [0.011, 0.033],
        "product_agreement_can_fail": False,
        "min_margin_to_threshold": 0.411,
    }
    cls = {
        "original": {
            "baseline": [11.5, 12.5],
            "fp32_batched": [15.5, 16.5],
            "int8_batched": [21.5, 22.5],
            "cpu_capability": "AVX2",
            "quantized_engine": "x86",
            "agreement_random_weights": agreement,
            "agreement_safety_model": {
                "version": "kindred-safety-v9",
                "messages": 44,
                "verdict_agreement": 0.931,
                "verdicts_changed": [{"label": "crisis", "fp32": "risk", "int8": "none"}]
                * (3 + salt),
                "max_abs_score_diff": 0.61,
                "bar": 0.985,
                "labels_sampled": {"crisis": 22, "ok": 22},
                "by_label": {
                    "risk": {
                        "threshold": 0.93,
                        "min": 0.013,
                        "median": 0.17,
                        "max": 0.991,
                        "under": 23,
                        "over": 21,
                        "near": 3,
                    }
                },
                "near_band": 0.05,
                "product_agreement_can_fail": True,
            },
        }
    }
    flag = {
        "capacity_msgs_per_s": 14.9,
        "capacity_bound": None,
        "assessment_delays_p50": 0.43,
        "assessment_delays_p95": 0.93,
        "steady": {"p50_ms": 6.5},
        "burst": {
            "lost": 3,
            "expected": 97,
            "p50_ms": 150.5,
            "max_ms": 4100.5,
            "acked": 41,
            "sent": 41,
        },
        "burst_grace_s": 5.5,
        "bait_reconciled": {"bait": 26, "within": 21, "late": 3, "missing": 2, "p95_s": 0.83},
    }
    idle = {
        "connect": {"connected": 4900, "gave_up": 101},
        "connect_seconds_total": 30.1,
        "connect_cpu_pct": 90.5,
        "idle_cpu_pct": 2.1,
        "pongs": 4003,
        "idle_cpu_pct_without_pings": 1.3,
    }
    scale = {
        "1": {
            "steps": [_step(41.5, True, 23), _step(43.5, False, 23)],
            "bound": None,
            "best_rate": 41.5,
        },
        "2": {"steps": [_step(37.5, True, 23)], "bound": "lower", "best_rate": 37.5},
    }
    cap_ok = {**_step(22.5, True, 20), "ttf_p95_s": 0.41, "backlog_max": 9}
    cap_fail = {
        **_step(24.5, False, 20),
        "lost": 0,
        "p99_ms": 41.5,
        "delivery_passed": True,
        "moderation_passed": False,
        "moderation_failed_on": [f"backlog grew by {3.5 + salt} (allowed {2.5 + salt})"],
    }
    burst = {
        "factor": 1.5,
        "rate": 33.5,
        "after_rate": 11.5,
        "sent": 1205,
        "acked": 1203,
        "server_cpu_pct": 97.5,
        "send_lag_p99_ms": 2.5,
        "pending_after": 41,
        "drain_s": 3.5,
        "figures": {
            "deliveries": 16001,
            "expected": 16041,
            "missing": 40,
            "p50_ms": 310.5,
            "p99_ms": 2900.5,
            "p999_ms": 3300.5,
            "max_ms": 3500.5,
            "delivered_all_s": None,
            "assessed_all_s": 6.5,
            "delivery_recovered_s": 4.0,
            "moderation_recovered_s": 9.0,
            "windows": [],
        },
    }
    over = {
        "size": 22,
        "factors": [1.5],
        "after_share": 0.5,
        "burst_s": 31,
        "after_s": 61,
        "grace_s": 6,
        "capacity": {"rate": 22.5, "bound": None, "source": "this run", "searches": 3},
        "bursts": [burst],
        "acked": 2413,
        "acked_not_stored": 1 + salt,
    }
    # A soak whose RSS keeps rising through the second half: not flat, and the prose says why;
    # nothing lost or refused (three rows met: how many rows meet moves the counts printed).
    soak_raw = {
        "seconds": 1801,
        # Lengths print too (rooms, samples): they change with the salt, as _vary cannot.
        "sizes": [61, 33, 23, 17][: 2 + salt],
        "members": 97,
        "load": {
            "msgs_per_s": 1.5,
            "reactions_per_s": 1.25,
            "typing_per_s": 0.75,
            "edit_share": 0.15,
            "edit_after": [6, 61],
            "rejoin_every_s": 301,
            "offline_s": 7,
            "ping_s": 27,
            "sample_s": 150,
            "tail_s": 11,
        },
        "model": "a model",
        "capacity": {"rate": 11.3, "size": 21},
        "rule": dict(soak.RULE),
        "slope_minutes": 60.0,
        "steady_until": 1781.5,
        "samples": [
            [150.5 * k, (401.5 + 9 * k) * 2.0**20, 311 + k % 2, 23 + (k > 6)]
            for k in range(12 + salt)
        ],
        "planned": {"send": 2689, "edit": 271, "react": 1791, "typing": 3581, "leave": 1731},
        "plan_skipped": {"edit": 5},
        "counts": {"sent": 2687, "live": 59003, "rejoins": 1703, "pings": 21007, "gaps": 3},
        "errors": {},
        "closes": {},
        "acked": 2689,
        "stored": 2691,
        "acked_not_stored": 0,
        "stored_not_acked": 2,
        "pending_at_end": 4,
        "read_positions": {"members": 97, "stored_as_sent": 95},
        "deliveries": {
            "expected": 60011,
            "lost": 0,
            "members_missing_some": 0,
            "live": 59003,
            "p50_ms": 12.5,
            "p99_ms": 41.5,
            "max_ms": 310.5,
            "p99_first_half_ms": 39.5,
            "p99_second_half_ms": 43.5,
        },
        "loadgen_late_ms": {"p99": 2.5},
    }
    results = {
        "overload": {"raw": over},
        "soak": {"raw": soak_raw},
        "fanout": {
            "raw": {
                "120": {"kindred": [kin], "baseline": [base], "samework": [same]},
                "sendprof": prof,
            }
        },
        "moderation_cost": {"raw": modcost},
        "classifier": {"raw": cls},
        "time_to_flag": {"raw": {"fp32": flag, "int8": {**flag, "capacity_bound": "lower"}}},
        "moderated_capacity": {
            "raw": {"embedded": [{"steps": [cap_ok, cap_fail], "bound": None, "best_rate": 22.5}]}
        },
        "idle": {"raw": idle},
        "scale_out": {"raw": scale},
        "page_weight": {"raw": {}},
    }
    rows = [
        row("fan-out", "room: deliveries/s", 5220.5, 492060.5, 0.43, "(report)", None),
        row(
            "moderation cost",
            "deliveries/s, on vs off",
            6242.5,
            12677.5,
            0.49,
            "(report)",
            None,
            "both configurations failed",
        ),
        row("classifier", "original: msgs/s, int8", 22.5, 12.5, 1.8, "(report)", False),
        row("classifier", "Kindred's safety model: verdicts", 93.1, None, None, "(report)", False),
        row("time to flag", "p95 (s)", 0.83, None, None, "(report)", True),
        row("idle connections", "memory per connection (KiB)", 21.5, None, None, "(report)", None),
        row("phone page weight", "KiB", 143.5, None, None, "(report)", False),
    ]
    # As many more rows met and missed as the salt says, so the counts of each change too.
    rows += [row("idle connections", "more", 1.5, None, None, "(report)", True)] * salt
    rows += [row("idle connections", "more", 1.5, None, None, "(report)", False)] * salt
    meta = {
        "mode": "quick",
        "started": "2026-12-07 11:00:00 UTC",
        "seconds": 611.5,
        "git": "abc1234",
        "cfg": {
            "modcap_step_seconds": 5.5,
            "modcap_bounds": [0.75, 1300.5],
            "idle_seconds": 21,
            "idle_sockets": 5003,
            "search": {"factor": 2.0, "resolution": 1.05},
            "reps": 1,
        },
        "machine": {
            "cpus": 3,
            "cpu_model": "Test CPU",
            "mem_gib": 7.5,
            "python": "3.11.9",
            "kernel": "6.1.0",
            "load_avg_at_start": [1.33, 1.21, 1.11],
            "load_avg_1m_during": {"min": 0.91, "median": 1.17, "max": 1.73, "samples": 61},
        },
        "load_avg_1m_by_scenario": {"fanout": {"min": 0.93, "max": 1.63}},
    }
    return meta, rows, results


def rendered(tmp_path: Path, salt: int) -> str:
    """The report of one fake run (with itself as a supplement), as write_docs writes it."""
    meta, rows, results = (_vary(x, "", salt) if salt else x for x in fake_run(salt))
    # The run's own strings too: when it started, on what.
    meta["started"] = f"{2026 + salt}-12-0{1 + salt} 1{salt}:3{salt}:0{salt} UTC"
    meta["machine"].update(python=f"3.1{1 + salt}.{9 - salt}", kernel=f"6.{1 + salt}.0")
    # Rows whose notes the scenarios' own code writes from the (varied) raw results.
    cap = results["moderated_capacity"]["raw"]["embedded"]
    cfg = meta["cfg"]
    (size, per), *_ = ((int(k), v) for k, v in results["fanout"]["raw"].items() if k != "sendprof")
    rows = [
        *rows,
        samework_row(size, per, cfg),
        *overload.rows_of(results["overload"]["raw"]),
        *soak.rows_of(results["soak"]["raw"]),
        modcap._row("moderated capacity", cap, "a model", cfg, cfg["modcap_step_seconds"]),
        safety_agreement_row(results["classifier"]["raw"]["original"]["agreement_safety_model"]),
    ]
    path = tmp_path / f"performance-{salt}.md"
    sup = {"meta": meta, "rows": rows, "results": results}
    report.write_docs(path, meta, rows, results, [sup])
    return path.read_text()


def _outside_method_and_history(text: str) -> str:
    text = re.sub(
        r"## Earlier measurements \(history, not this run\).*?(?=\n## |\Z)", "", text, flags=re.S
    )
    return re.sub(r"## Method\n.*?(?=\n## |\Z)", "", text, flags=re.S)


def constants(tmp_path: Path) -> dict[str, str]:
    """Every number printed identically for two different runs, outside the method and history
    sections, with a line of context; SETTINGS taken out."""
    a, *others = (_outside_method_and_history(rendered(tmp_path, s)) for s in (0, 1, 2))
    same = set(NUM.findall(a)).intersection(*(NUM.findall(o) for o in others))
    return {
        m.group(0): a[max(0, m.start() - 60) : m.end() + 40].replace("\n", " ")
        for m in NUM.finditer(a)
        if m.group(0) in same - set(SETTINGS)
        and not any(n == m.group(0) and a.startswith(u, m.end()) for n, u in SETTINGS_WITH_UNIT)
    }


def test_the_fake_runs_differ_in_every_measured_number(tmp_path: Path) -> None:
    a, b = rendered(tmp_path, 0), rendered(tmp_path, 1)
    # The check means something only if the run's numbers reach the prose and change with it.
    for figure in ("14.9 msg/s", "4003 pings", "30.1 s", "612 s", "Test CPU", "room of 120"):
        assert figure in a, figure
    assert "14.9 msg/s" not in b and "4003 pings" not in b and "room of 120" not in b
    for heading in (
        "**Fan-out.**",
        "**Moderation cost.**",
        "**Classifier.**",
        "**Safety model int8.**",
        "**Time to flag.**",
        "**Moderated capacity.**",
        "**Overload.**",
        "**Soak.**",
        "**Idle connections.**",
        "**Scale-out.**",
        "**Page weight.**",
    ):
        assert heading in a, heading


def test_every_number_the_report_prints_comes_from_the_run_or_is_a_named_setting(
    tmp_path: Path,
) -> None:
    assert constants(tmp_path) == {}


def test_every_history_item_names_its_commit(tmp_path: Path) -> None:
    text = rendered(tmp_path, 0)
    past = re.search(
        r"## Earlier measurements \(history, not this run\)\n(.*?)(?=\n## |\Z)", text, re.S
    )
    assert past
    items = [ln for ln in past.group(1).splitlines() if ln.startswith("- ")]
    assert items and all(re.search(r"\(commit `[0-9a-f]{7,40}`\)$", ln) for ln in items)


def test_a_historical_figure_in_the_prose_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = analysis_mod.analysis

    def with_history_inline(*a: Any, **k: Any) -> str:
        return (
            real(*a, **k) + "\nA py-spy profile put a delivery at about 117 µs of the event loop.\n"
        )

    monkeypatch.setattr(analysis_mod, "analysis", with_history_inline)
    found = constants(tmp_path)
    assert list(found) == ["117"] and "µs of the event loop" in found["117"]
