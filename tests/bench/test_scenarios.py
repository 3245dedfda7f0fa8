"""The scenarios' own logic: which steps pass, what a run's figure is, and how time to flag
accounts for every bait message."""

from __future__ import annotations

import math

from bench.driver import merge_step
from bench.scenarios import Search, _figure, _passes, reconcile_bait


def _step(**kw) -> dict:
    m = {"sent": 10, "acked": 10, "expected": 100, "received": 100, "lost": 0, "p99_ms": 20.0,
         "gaps": 0, "out_of_order": 0}
    m.update(kw)
    return m


def test_a_step_with_a_gap_or_out_of_order_delivery_fails() -> None:
    assert _passes(_step())
    assert not _passes(_step(gaps=1))
    assert not _passes(_step(out_of_order=1))
    assert not _passes(_step(lost=1))
    assert not _passes(_step(p99_ms=101.0))
    assert not _passes(_step(acked=0))


def test_merge_step_keeps_each_step_s_own_gap_and_order_counts() -> None:
    res = [{"recv": 50, "lat": [1.0] * 50, "sent": 5, "acked": 5, "gaps": 1, "out_of_order": 0},
           {"recv": 50, "lat": [2.0] * 50, "sent": 5, "acked": 5, "gaps": 0, "out_of_order": 2}]
    m = merge_step(res, members=10, duration=1.0)
    assert (m["gaps"], m["out_of_order"], m["lost"]) == (1, 2, 0)
    assert not _passes({**m, "p99_ms": m["p99_ms"]})


def test_the_run_s_figure_is_the_measured_step_at_the_believed_rate_with_its_bound() -> None:
    s = Search(10, factor=2, resolution=1.05, hi=20)
    steps = []
    for rate, ok in ((10, True), (20, True)):
        steps.append({"rate_msgs_per_s": rate, "passed": ok, "deliveries_per_s": rate * 9.5})
        s.next(rate, ok)
    out = {"steps": steps}
    _figure(out, s, 10)
    assert out["best_deliveries_per_s"] == 190 and out["bound"] == "lower" and out["best_rate"] == 20
    s = Search(10, factor=2, lo=10)
    s.next(10, False)
    out = {"steps": [{"rate_msgs_per_s": 10, "passed": False, "deliveries_per_s": 3.0}]}
    _figure(out, s, 10)
    assert out["best_deliveries_per_s"] == 100 and out["bound"] == "upper" and out["best_rate"] is None


def test_time_to_flag_counts_every_bait_message() -> None:
    sent = {("flag", 1): 100.0, ("flag", 6): 101.0, ("flag", 11): 102.0, ("flag", 16): 103.0}
    flags = [["flag", 1, 100.4, "flag.new"], ["flag", 1, 100.9, "flag.changed"],   # within, first counts
             ["flag", 6, 101.5, "flag.new"],                                       # within
             ["flag", 11, 130.0, "flag.new"],                                      # after the window: late
             ["flag", 3, 100.2, "flag.new"]]                                       # not bait
    r = reconcile_bait(sent, flags, window_end=110.0)
    assert (r["bait"], r["within"], r["late"], r["missing"]) == (4, 2, 1, 1)
    assert r["missing_keys"] == [["flag", 16]]
    assert r["delays_s"] == [0.4, 0.5, 28.0]
    # p95 over all four, the missing one as +∞: not the survivors' 28 s, let alone 0.5 s.
    assert math.isinf(r["p95_s"])
    everything = reconcile_bait({("flag", 1): 0.0, ("flag", 2): 0.0}, [["flag", 1, 0.3, "flag.new"],
                                                                      ["flag", 2, 0.8, "flag.new"]], window_end=5)
    assert everything["p95_s"] == 0.8 and everything["missing"] == 0
    assert reconcile_bait({}, [], window_end=0)["p95_s"] is None


def test_a_failure_with_the_load_generator_saturated_bounds_nothing() -> None:
    from bench.scenarios import loadgen_saturated

    assert not loadgen_saturated({"loadgen_cpu_pct_max": 60.0, "send_lag_p99_ms": 3.0})
    assert loadgen_saturated({"loadgen_cpu_pct_max": 97.0, "send_lag_p99_ms": 3.0})
    assert loadgen_saturated({"loadgen_cpu_pct_max": 60.0, "send_lag_p99_ms": 80.0})
    s = Search(10, factor=2, resolution=1.05)
    steps = []
    for rate, ok in ((10, True), (20, False), (14.1, True), (16.8, True), (18.3, True), (19.1, False)):
        steps.append({"rate_msgs_per_s": rate, "passed": ok, "deliveries_per_s": rate * 10,
                      "loadgen_saturated": rate == 19.1})
        s.next(rate, ok)
    out = {"steps": steps}
    _figure(out, s, 10)
    assert out["best_rate"] == 18.3 and out["bound"] == "lower" and out["failure_loadgen_saturated"]
    s = Search(10, factor=2, lo=10)
    s.next(10, False)
    out = {"steps": [{"rate_msgs_per_s": 10, "passed": False, "deliveries_per_s": 1.0, "loadgen_saturated": True}]}
    _figure(out, s, 10)
    assert out["bound"] == "unknown" and out["best_rate"] is None


def test_merge_step_reports_the_tail_and_the_generator_s_lag() -> None:
    res = [{"recv": 1000, "lat": [float(i) for i in range(1000)], "sent": 10, "acked": 10,
            "send_lag_ms": {"p99": 2.0}, "loop_lag_ms": {"max": 9.0}},
           {"recv": 0, "lat": [], "sent": 0, "acked": 0, "send_lag_ms": {"p99": 31.0}, "loop_lag_ms": {"max": 4.0}}]
    m = merge_step(res, members=100, duration=1.0)
    assert m["p999_ms"] == 998.0 and m["max_ms"] == 999.0
    assert m["send_lag_p99_ms"] == 31.0 and m["loop_lag_max_ms"] == 9.0


def test_repetitions_show_every_figure_and_each_run_s_ratio() -> None:
    from bench.scenarios import _spread

    per = {"kindred": [{"best_deliveries_per_s": 300.0, "bound": None}, {"best_deliveries_per_s": 360.0, "bound": None},
                       {"best_deliveries_per_s": 330.0, "bound": None}],
           "baseline": [{"best_deliveries_per_s": 1000.0, "bound": None},
                        {"best_deliveries_per_s": 1000.0, "bound": "lower"},
                        {"best_deliveries_per_s": 1100.0, "bound": None}]}
    text = _spread(per)
    assert "kindred [300, 360, 330]" in text and "baseline [1000, ≥ 1000, 1100]" in text
    assert "ratio per run 0.30, 0.30 (range 0.30–0.30)" in text
    assert _spread({"kindred": [per["kindred"][0]], "baseline": [per["baseline"][0]]}) == ""


def _fake_modcost(monkeypatch, capacity: dict[str, float], **cfg_over):  # noqa: ANN001, ANN202
    """moderation_cost with its servers replaced by ones that pass every rate up to `capacity`."""
    from bench import scenarios

    def fake_ladder_run(port, pids, sockets, *, members, search=None, name="", **kw):  # noqa: ANN001, ANN003, ANN202
        cap = capacity[name.removeprefix("modcost-")]
        out, rate = {"steps": []}, search.first()
        while rate is not None and len(out["steps"]) < 40:
            ok = rate <= cap
            out["steps"].append({"rate_msgs_per_s": rate, "passed": ok, "deliveries_per_s": rate * members,
                                 "p50_ms": 5.0, "p99_ms": 20.0 if ok else 500.0, "lost": 0, "server_cpu_pct": 50.0})
            rate = search.next(rate, ok)
        scenarios._figure(out, search, members)
        out["out_of_order"] = out["gaps"] = 0
        return out

    monkeypatch.setattr(scenarios, "ladder_run", fake_ladder_run)
    monkeypatch.setattr(scenarios, "settle", lambda *a, **k: 0.0)
    monkeypatch.setattr(scenarios, "_warm_worker", lambda *a, **k: None)
    monkeypatch.setattr(scenarios, "_pending", lambda *a, **k: 0)
    monkeypatch.setattr(scenarios, "_modcost_target", lambda ctx, which: {
        "db": "", "port": 0, "pids": [], "web_pids": [], "members": [{"cookie": "c"}] * 60, "stop": lambda: None})
    cfg = {"reps": 1, "step_seconds": 1.0, "search": {"factor": 2.0, "resolution": 1.05}, "modcost_size": 50,
           "modcost_ladder": [2.5, 640], "modcost_start": 113, "modcost_production": False, **cfg_over}
    return scenarios.moderation_cost({"cfg": cfg, "model_name": "m"})


def test_moderation_cost_is_decided_from_bisected_figures(monkeypatch) -> None:  # noqa: ANN001
    r = _fake_modcost(monkeypatch, {"off": 300.0, "on": 150.0})
    thr = r["rows"][0]
    assert thr["met"] is False and thr["kindred_bound"] is None and thr["baseline_bound"] is None
    assert 0.5 / 1.05 < thr["ratio"] <= 0.5 * 1.05
    r = _fake_modcost(monkeypatch, {"off": 300.0, "on": 295.0})
    assert r["rows"][0]["met"] is True  # 0.98: well clear of 0.90 at 5 % resolution


def test_moderation_cost_at_the_ceiling_is_undecided(monkeypatch) -> None:  # noqa: ANN001
    r = _fake_modcost(monkeypatch, {"off": 1e9, "on": 1e9})
    thr = r["rows"][0]
    assert thr["met"] is None and thr["kindred_bound"] == "lower" and thr["baseline_bound"] == "lower"
    assert thr["ratio"] is None


def test_moderation_cost_a_a_row_reports_the_noise_floor(monkeypatch) -> None:  # noqa: ANN001
    r = _fake_modcost(monkeypatch, {"off": 300.0, "on": 200.0, "off-aa": 280.0}, modcost_aa=True)
    aa = r["rows"][-1]
    assert aa["figure"].startswith("A/A") and aa["met"] is None
    assert 280 / 300 / 1.1 < aa["ratio"] < 280 / 300 * 1.1


def test_bait_is_what_the_server_flagged_plus_judged_messages_it_never_assessed() -> None:
    from bench.scenarios import bait_keys

    judged = {("flag", 1), ("flag", 2), ("flag", 3)}
    server = {("flag", 1): {"assessed": True, "model_flag": True},    # judged, flagged: bait
              ("flag", 2): {"assessed": True, "model_flag": False},   # judged, assessed, not flagged: left out
              ("flag", 3): {"assessed": False, "model_flag": False},  # judged, never assessed: bait (missing)
              ("flag", 4): {"assessed": True, "model_flag": True},    # not judged, flagged: bait
              ("flag", 5): {"assessed": True, "model_flag": False},   # ordinary message
              ("flag", 6): None}                                      # unknown, not judged
    keys, excluded = bait_keys(judged, server)
    assert keys == {("flag", 1), ("flag", 3), ("flag", 4)}
    assert excluded == {"judged_but_server_did_not_flag": 1, "server_flagged_not_judged": 1}
