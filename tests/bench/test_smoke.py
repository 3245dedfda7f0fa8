"""Keeps the performance harness working: a tiny `python -m bench --smoke` run (no model, a room
of five against both baselines, the moderated capacity and overload of a room of four, a few idle
sockets, the page weight, a 24-second soak in five rooms). Benchmarks never gate CI; this only
checks that the harness runs end to end and prints its table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_smoke_prints_a_table() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--no-docs"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = proc.stdout
    assert "scenario" in out and "Kindred" in out and "baseline" in out
    for scenario in (
        "fan-out",
        "moderated capacity",
        "overload",
        "idle connections",
        "phone page weight",
        "soak",
    ):
        assert scenario in out, out
    latest = json.loads((ROOT / "var" / "bench" / "latest-smoke.json").read_text())
    rows = latest["rows"]
    assert rows and all("figure" in r for r in rows)
    # The harness measured something real on both sides of the fan-out comparison.
    fan = next(r for r in rows if r["scenario"] == "fan-out")
    assert fan["baseline"] and fan["baseline"] > 0
    assert fan["kindred"] is not None
    assert "scenario failed" not in out
    # Kindred against the same-work baseline too, which measured something real.
    same = next(r for r in rows if "same-work" in r["figure"])
    assert same["target"] == "≥ 0.5× same-work baseline"
    assert same["baseline"] and same["baseline"] > 0
    runs = latest["results"]["fanout"]["raw"]["5"]["samework"]
    assert runs and all(st["acked"] > 0 for r in runs for st in r["steps"])
    # And in production's layout (PostgreSQL + Redis), which CI always has.
    prod = next(r for r in rows if "production layout" in r["figure"])
    if os.environ.get("KINDRED_REQUIRE_SERVICES") == "1":
        assert not prod["note"].startswith("skipped"), prod["note"]
    if not prod["note"].startswith("skipped"):
        per = latest["results"]["fanout"]["raw"]["production"]["5"]
        assert all(st["acked"] > 0 for w in ("kindred", "samework") for st in per[w][-1]["steps"])
    # Moderated capacity ran its steps with moderation's checks (rules only in a smoke run).
    cap = latest["results"]["moderated_capacity"]["raw"]["embedded"][-1]["steps"]
    assert cap and all("moderation_passed" in st and "ttf_p95_s" in st for st in cap)
    # Overload drove both bursts on moderated capacity's figure and checked every acknowledged
    # message against the database.
    over = latest["results"]["overload"]["raw"]
    assert over["capacity"]["source"].startswith("this run's moderated capacity")
    assert [b["factor"] for b in over["bursts"]] == [1.5, 2.0]
    assert all(b["acked"] > 0 and b["figures"]["deliveries"] > 0 for b in over["bursts"])
    lost = next(
        r for r in rows if r["scenario"] == "overload" and "acknowledged lost" in r["figure"]
    )
    assert lost["kindred"] == over["acked_not_stored"] and over["acked"] > 0
    # The soak did every kind of thing a member does, sampled the web process throughout, and
    # checked what was acknowledged and delivered against the database; 24 s is too short for
    # the flatness rule to decide.
    soak = latest["results"]["soak"]["raw"]
    done = soak["counts"]
    for action in ("sent", "edits", "reactions", "typing", "rejoins", "pings", "pongs"):
        assert done.get(action, 0) > 0, (action, done)
    assert len(soak["samples"]) >= 10 and all(len(s) == 4 for s in soak["samples"])
    assert soak["acked"] > 0 and soak["deliveries"]["expected"] > 0
    soak_rows = {r["figure"].split(": ", 1)[1]: r for r in rows if r["scenario"] == "soak"}
    assert soak_rows["flat (RSS, fds, threads)"]["met"] is None
    lost_row = next(v for k, v in soak_rows.items() if k.startswith("deliveries lost"))
    assert lost_row["kindred"] == soak["deliveries"]["lost"]
