"""The scenarios' own logic: which steps pass, what a run's figure is, and how time to flag
accounts for every bait message."""

from __future__ import annotations

import math

import pytest

from bench.driver import merge_step
from bench.scenarios import Search, _figure, _passes, reconcile_bait


def _step(**kw) -> dict:
    m = {
        "sent": 10,
        "acked": 10,
        "expected": 100,
        "received": 100,
        "lost": 0,
        "p99_ms": 20.0,
        "gaps": 0,
        "out_of_order": 0,
    }
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
    res = [
        {"recv": 50, "lat": [1.0] * 50, "sent": 5, "acked": 5, "gaps": 1, "out_of_order": 0},
        {"recv": 50, "lat": [2.0] * 50, "sent": 5, "acked": 5, "gaps": 0, "out_of_order": 2},
    ]
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
    assert (
        out["best_deliveries_per_s"] == 190 and out["bound"] == "lower" and out["best_rate"] == 20
    )
    s = Search(10, factor=2, lo=10)
    s.next(10, False)
    out = {"steps": [{"rate_msgs_per_s": 10, "passed": False, "deliveries_per_s": 3.0}]}
    _figure(out, s, 10)
    assert (
        out["best_deliveries_per_s"] == 100 and out["bound"] == "upper" and out["best_rate"] is None
    )


def test_time_to_flag_counts_every_bait_message() -> None:
    sent = {("flag", 1): 100.0, ("flag", 6): 101.0, ("flag", 11): 102.0, ("flag", 16): 103.0}
    flags = [
        ["flag", 1, 100.4, "flag.new"],
        ["flag", 1, 100.9, "flag.changed"],  # within, first counts
        ["flag", 6, 101.5, "flag.new"],  # within
        ["flag", 11, 130.0, "flag.new"],  # after the window: late
        ["flag", 3, 100.2, "flag.new"],
    ]  # not bait
    r = reconcile_bait(sent, flags, window_end=110.0)
    assert (r["bait"], r["within"], r["late"], r["missing"]) == (4, 2, 1, 1)
    assert r["missing_keys"] == [["flag", 16]]
    assert r["delays_s"] == [0.4, 0.5, 28.0]
    # p95 over all four, the missing one as +∞: not the survivors' 28 s, let alone 0.5 s.
    assert math.isinf(r["p95_s"])
    everything = reconcile_bait(
        {("flag", 1): 0.0, ("flag", 2): 0.0},
        [["flag", 1, 0.3, "flag.new"], ["flag", 2, 0.8, "flag.new"]],
        window_end=5,
    )
    assert everything["p95_s"] == 0.8 and everything["missing"] == 0
    assert reconcile_bait({}, [], window_end=0)["p95_s"] is None


def test_every_bait_message_never_flagged_is_named_in_the_note() -> None:
    from bench.scenarios import missing_bait_text

    sent = {("flag", s): 100.0 + s for s in range(1, 15)}
    flags = [["flag", 1, 101.4, "flag.new"], [{"slug": "flag"}, 2, 150.0, "flag.new"]]
    r = reconcile_bait(sent, flags, window_end=110.0)
    assert (r["within"], r["late"], r["missing"]) == (1, 1, 12)
    text = missing_bait_text(r)
    assert text.startswith(" (flag#3, flag#4,") and text.endswith("flag#12 and 2 more)")
    assert "flag#1," not in text and "flag#2," not in text
    assert missing_bait_text(reconcile_bait({("flag", 1): 0.0}, [], window_end=1)) == " (flag#1)"
    assert missing_bait_text(reconcile_bait({}, [], window_end=1)) == ""


def test_a_failure_with_the_load_generator_saturated_bounds_nothing() -> None:
    from bench.scenarios import loadgen_saturated

    assert not loadgen_saturated({"loadgen_cpu_pct_max": 60.0, "send_lag_p99_ms": 3.0})
    assert loadgen_saturated({"loadgen_cpu_pct_max": 97.0, "send_lag_p99_ms": 3.0})
    assert loadgen_saturated({"loadgen_cpu_pct_max": 60.0, "send_lag_p99_ms": 80.0})
    s = Search(10, factor=2, resolution=1.05)
    steps = []
    for rate, ok in (
        (10, True),
        (20, False),
        (14.1, True),
        (16.8, True),
        (18.3, True),
        (19.1, False),
    ):
        steps.append(
            {
                "rate_msgs_per_s": rate,
                "passed": ok,
                "deliveries_per_s": rate * 10,
                "loadgen_saturated": rate == 19.1,
            }
        )
        s.next(rate, ok)
    out = {"steps": steps}
    _figure(out, s, 10)
    assert out["best_rate"] == 18.3 and out["bound"] == "lower" and out["failure_loadgen_saturated"]
    s = Search(10, factor=2, lo=10)
    s.next(10, False)
    out = {
        "steps": [
            {
                "rate_msgs_per_s": 10,
                "passed": False,
                "deliveries_per_s": 1.0,
                "loadgen_saturated": True,
            }
        ]
    }
    _figure(out, s, 10)
    assert out["bound"] == "unknown" and out["best_rate"] is None


def test_merge_step_reports_the_tail_and_the_generator_s_lag() -> None:
    res = [
        {
            "recv": 1000,
            "lat": [float(i) for i in range(1000)],
            "sent": 10,
            "acked": 10,
            "send_lag_ms": {"p99": 2.0},
            "loop_lag_ms": {"max": 9.0},
        },
        {
            "recv": 0,
            "lat": [],
            "sent": 0,
            "acked": 0,
            "send_lag_ms": {"p99": 31.0},
            "loop_lag_ms": {"max": 4.0},
        },
    ]
    m = merge_step(res, members=100, duration=1.0)
    assert m["p999_ms"] == 998.0 and m["max_ms"] == 999.0
    assert m["send_lag_p99_ms"] == 31.0 and m["loop_lag_max_ms"] == 9.0


def test_repetitions_show_every_figure_and_each_run_s_ratio() -> None:
    from bench.scenarios import _spread

    per = {
        "kindred": [
            {"best_deliveries_per_s": 300.0, "bound": None},
            {"best_deliveries_per_s": 360.0, "bound": None},
            {"best_deliveries_per_s": 330.0, "bound": None},
        ],
        "baseline": [
            {"best_deliveries_per_s": 1000.0, "bound": None},
            {"best_deliveries_per_s": 1000.0, "bound": "lower"},
            {"best_deliveries_per_s": 1100.0, "bound": None},
        ],
    }
    text = _spread(per)
    assert "kindred [300, 360, 330]" in text and "baseline [1000, ≥ 1000, 1100]" in text
    assert "ratio per run 0.30, 0.30 (range 0.30–0.30)" in text
    assert _spread({"kindred": [per["kindred"][0]], "baseline": [per["baseline"][0]]}) == ""


def _searching(capacity_of):  # noqa: ANN001, ANN202
    """A fake `ladder_run` whose server passes every rate up to `capacity_of(name)` msg/s, run
    through the caller's real search."""
    from bench import scenarios

    def fake_ladder_run(port, pids, sockets, *, members, search=None, name="", **kw):  # noqa: ANN001, ANN003, ANN202
        cap = capacity_of(name)
        out, rate = {"steps": []}, search.first()
        while rate is not None and len(out["steps"]) < 40:
            ok = rate <= cap
            out["steps"].append(
                {
                    "rate_msgs_per_s": rate,
                    "passed": ok,
                    "deliveries_per_s": rate * members,
                    "p50_ms": 5.0,
                    "p99_ms": 20.0 if ok else 500.0,
                    "lost": 0,
                    "server_cpu_pct": 50.0,
                }
            )
            rate = search.next(rate, ok)
        scenarios._figure(out, search, members)
        out["out_of_order"] = out["gaps"] = 0
        return out

    return fake_ladder_run


def patch_fleet(monkeypatch, fleet) -> None:  # noqa: ANN001
    """`ladder_run` with `fleet` for the load generators and no real processes to measure."""
    from bench import scenarios

    monkeypatch.setattr(scenarios, "Fleet", fleet)
    monkeypatch.setattr(scenarios, "settle", lambda *a, **k: 0.0)
    monkeypatch.setattr(scenarios, "cpu_seconds", lambda pid: 0.0)
    monkeypatch.setattr(scenarios, "_cpu_or_none", lambda pids: {})


def _fake_modcost(monkeypatch, capacity: dict[str, float], **cfg_over):  # noqa: ANN001, ANN202
    """moderation_cost with its servers replaced by ones that pass every rate up to `capacity`."""
    from bench import scenarios

    monkeypatch.setattr(
        scenarios, "ladder_run", _searching(lambda name: capacity[name.removeprefix("modcost-")])
    )
    monkeypatch.setattr(scenarios, "settle", lambda *a, **k: 0.0)
    monkeypatch.setattr(scenarios, "_warm_worker", lambda *a, **k: None)
    monkeypatch.setattr(scenarios, "_pending", lambda *a, **k: 0)
    monkeypatch.setattr(
        scenarios,
        "_modcost_target",
        lambda ctx, which: {
            "db": "",
            "port": 0,
            "pids": [],
            "web_pids": [],
            "members": [{"cookie": "c"}] * 60,
            "stop": lambda: None,
        },
    )
    cfg = {
        "reps": 1,
        "step_seconds": 1.0,
        "search": {"factor": 2.0, "resolution": 1.05},
        "modcost_size": 50,
        "modcost_ladder": [2.5, 640],
        "modcost_start": 113,
        "modcost_production": False,
        **cfg_over,
    }
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
    assert (
        thr["met"] is None and thr["kindred_bound"] == "lower" and thr["baseline_bound"] == "lower"
    )
    assert thr["ratio"] is None


def test_moderation_cost_a_a_row_reports_the_noise_floor(monkeypatch) -> None:  # noqa: ANN001
    r = _fake_modcost(monkeypatch, {"off": 300.0, "on": 200.0, "off-aa": 280.0}, modcost_aa=True)
    aa = r["rows"][-1]
    assert aa["figure"].startswith("A/A") and aa["met"] is None
    assert 280 / 300 / 1.1 < aa["ratio"] < 280 / 300 * 1.1


def test_bait_is_what_the_server_flagged_plus_judged_messages_it_never_assessed() -> None:
    from bench.scenarios import bait_keys

    judged = {("flag", 1), ("flag", 2), ("flag", 3)}
    server = {
        ("flag", 1): {"assessed": True, "model_flag": True},  # judged, flagged: bait
        ("flag", 2): {
            "assessed": True,
            "model_flag": False,
        },  # judged, assessed, not flagged: left out
        ("flag", 3): {
            "assessed": False,
            "model_flag": False,
        },  # judged, never assessed: bait (missing)
        ("flag", 4): {"assessed": True, "model_flag": True},  # not judged, flagged: bait
        ("flag", 5): {"assessed": True, "model_flag": False},  # ordinary message
        ("flag", 6): None,
    }  # unknown, not judged
    keys, excluded = bait_keys(judged, server)
    assert keys == {("flag", 1), ("flag", 3), ("flag", 4)}
    assert excluded == {"judged_but_server_did_not_flag": 1, "server_flagged_not_judged": 1}


class _FakeFleet:
    """Stands in for the load generator against a server that delivers every message of a step
    up to `capacity` msg/s (p99 20 ms) and drops deliveries above it, and whose sequence numbers
    skip one (a gap, with nothing lost and p99 fine) at rates in `gap_at`. Each step's round trip
    costs the server `US_PER_DELIVERY` of CPU per delivery plus `IDLE_CPU_S` (the step's grace
    and the generator's replies), on a CPU clock only this fake advances."""

    US_PER_DELIVERY = 40.0
    IDLE_CPU_S = 0.02
    capacity = 100.0
    gap_at: tuple[float, ...] = ()
    cpu = [0.0]

    def __init__(self, *, sockets, n_procs, **kw) -> None:  # noqa: ANN001, ANN003
        self.members = len(sockets)
        self.pids = [999_001]

    def ready(self, timeout: float = 300) -> dict:
        return {"connected": self.members, "failed": 0}

    def go(self, k, step=None, **kw):  # noqa: ANN001, ANN003, ANN201
        if step is None:  # the warm-up step
            return [{"recv": 0, "lat": [], "sent": 0, "acked": 0}]
        n = max(1, round(step["rate"] * step["duration"]))
        ok = step["rate"] <= self.capacity
        recv = n * self.members if ok else n * self.members // 2
        _FakeFleet.cpu[0] += recv * self.US_PER_DELIVERY / 1e6 + self.IDLE_CPU_S
        return [
            {
                "recv": recv,
                "lat": [20.0] * recv if ok else [900.0] * recv,
                "sent": n,
                "acked": n,
                "gaps": 1 if any(abs(step["rate"] - g) < 1e-9 for g in self.gap_at) else 0,
                "out_of_order": 0,
            }
        ]

    def stop(self) -> None:
        pass


def _ladder_run(monkeypatch, *, capacity: float, gap_at=(), start: float = 10.0) -> dict:  # noqa: ANN001
    from bench import scenarios

    fleet = type("Fleet", (_FakeFleet,), {"capacity": capacity, "gap_at": tuple(gap_at)})
    monkeypatch.setattr(scenarios, "Fleet", fleet)
    monkeypatch.setattr(scenarios, "settle", lambda *a, **k: 0.0)
    monkeypatch.setattr(scenarios, "cpu_seconds", lambda pid: _FakeFleet.cpu[0])
    monkeypatch.setattr(scenarios, "_cpu_or_none", lambda pids: {})
    sockets = [{"room": "r", "cookie": "c", "send": i < 10} for i in range(20)]
    return scenarios.ladder_run(
        0,
        [1],
        sockets,
        members=20,
        search=Search(start, factor=2, resolution=1.05, lo=1, hi=1000),
        duration=3.0,
        n_procs=1,
        name="t",
        grace=1.0,
    )


def test_per_delivery_cpu_is_the_round_trip_s_cpu_over_its_own_deliveries(monkeypatch) -> None:  # noqa: ANN001
    out = _ladder_run(monkeypatch, capacity=100.0)
    for st in out["steps"]:
        # The CPU and the deliveries of one and the same interval: the step's round trip.
        assert st["cpu_us_per_delivery"] == pytest.approx(
            1e6 * st["server_cpu_s"] / st["received"], abs=0.1
        )
        assert st["cpu_us_per_delivery"] == pytest.approx(
            _FakeFleet.US_PER_DELIVERY + 1e6 * _FakeFleet.IDLE_CPU_S / st["received"], abs=0.1
        )
        # Not the round trip's CPU over the deliveries per second of the nominal window, which
        # reads a third low for a 3 s step with 1 s of grace (and is not a per-delivery figure).
        nominal = 1e6 * st["server_cpu_s"] / st["deliveries_per_s"] / (3.0 + 1.0)
        assert st["cpu_us_per_delivery"] != pytest.approx(nominal, rel=0.05)


def test_the_real_step_loop_bisects_to_five_percent_and_fails_a_step_with_a_gap(
    monkeypatch,  # noqa: ANN001
) -> None:
    out = _ladder_run(monkeypatch, capacity=100.0)
    assert out["bound"] is None and 100 / 1.05 <= out["best_rate"] <= 100
    fails = [s["rate_msgs_per_s"] for s in out["steps"] if not s["passed"]]
    assert min(fails) / out["best_rate"] <= 1.05 * 1.0001
    # A gap at 80 msg/s fails that step though nothing was lost and p99 was 20 ms: the figure
    # is then below 80, not 100.
    gapped = _ladder_run(monkeypatch, capacity=100.0, gap_at=(80.0,))
    at80 = next(s for s in gapped["steps"] if s["rate_msgs_per_s"] == 80.0)
    assert at80["lost"] == 0 and at80["p99_ms"] == 20.0 and at80["gaps"] == 1
    assert not at80["passed"]
    assert gapped["best_rate"] < 80 and gapped["gaps"] == 1


def test_a_search_whose_ceiling_passes_in_the_real_step_loop_prints_as_a_lower_bound(
    monkeypatch,  # noqa: ANN001
) -> None:
    out = _ladder_run(monkeypatch, capacity=1e9, start=500.0)
    assert out["best_rate"] == 1000 and out["bound"] == "lower"
    low = _ladder_run(monkeypatch, capacity=0.5, start=4.0)
    assert low["best_rate"] is None and low["bound"] == "upper"
    assert low["best_deliveries_per_s"] == 1 * 20  # the floor's offered deliveries/s, as ≤


def _fake_worker(monkeypatch, capacity: float, *, stuck: bool = False) -> list[int]:  # noqa: ANN001
    """flag_capacity against a worker that assesses `capacity` msg/s (stuck: never drains)."""
    from bench import scenarios

    state: dict = {}
    bursts: list[int] = []

    class Fleet:
        def __init__(self, **kw) -> None:  # noqa: ANN003
            pass

        def ready(self) -> dict:
            return {}

        def go(self, k, t0=None, step=None, **kw):  # noqa: ANN001, ANN003, ANN201
            n = round(step["rate"] * step["duration"])
            bursts.append(n)
            state.update(t0=t0, n=n)
            return [{"sent": n, "acked": n, "recv": n, "lat": []}]

        def stop(self) -> None:
            pass

    calls = {"k": 0}

    def pending(db):  # noqa: ANN001, ANN202
        # First call: at the window's end (1 s + 0.5 s grace); second: after the drain wait.
        calls["k"] += 1
        if stuck:
            return state["n"]
        if calls["k"] % 2 == 1:
            return max(0, round(state["n"] - capacity * 1.5))
        return 0

    monkeypatch.setattr(scenarios, "Fleet", Fleet)
    monkeypatch.setattr(scenarios, "_pending", pending)
    monkeypatch.setattr(
        scenarios,
        "_wait_drained",
        lambda db, timeout: state["t0"] + (timeout if stuck else max(1.0, state["n"] / capacity)),
    )
    return bursts


def test_flag_capacity_is_measured_from_a_burst_that_left_a_backlog(monkeypatch) -> None:  # noqa: ANN001
    from bench.scenarios import flag_capacity

    members = [{"cookie": "c"}] * 4
    bursts = _fake_worker(monkeypatch, 15.0)
    cap, bound, raw = flag_capacity(0, "db", members, {"flag_capacity_burst": 64})
    assert bursts == [64] and bound is None and cap == pytest.approx(15.0, rel=0.01)
    # A fast worker empties a burst of 64 within its window: that is only the offered rate, so
    # the burst doubles until one leaves a backlog, and the figure is then the worker's.
    bursts = _fake_worker(monkeypatch, 150.0)
    cap, bound, raw = flag_capacity(0, "db", members, {"flag_capacity_burst": 64})
    assert bursts == [64, 128, 256] and bound is None and cap == pytest.approx(150.0, rel=0.01)
    assert [b["pending_at_window_end"] for b in raw] == [0, 0, 31]


def test_a_worker_faster_than_the_largest_burst_gives_only_a_lower_bound(monkeypatch) -> None:  # noqa: ANN001
    from bench.scenarios import flag_capacity

    bursts = _fake_worker(monkeypatch, 10_000.0)
    cap, bound, _ = flag_capacity(0, "db", [{"cookie": "c"}] * 4, {"flag_capacity_burst": 64})
    assert bursts == [64, 128, 256, 512] and bound == "lower" and cap == pytest.approx(512)
    _fake_worker(monkeypatch, 1.0, stuck=True)
    _cap, bound, _ = flag_capacity(0, "db", [{"cookie": "c"}] * 4, {"flag_capacity_burst": 64})
    assert bound == "upper"


def test_a_verdict_at_a_bounded_capacity_is_decided_only_in_the_direction_the_bound_allows() -> (
    None
):
    from bench.scenarios import decided_at_capacity

    assert decided_at_capacity(True, None) == (True, "")
    assert decided_at_capacity(False, None) == (False, "")
    # Capacity ≥ x: the load was at most 80 % of the real capacity: a pass proves nothing.
    met, why = decided_at_capacity(True, "lower")
    assert met is None and why.startswith("undecided")
    assert decided_at_capacity(False, "lower") == (False, "")
    # Capacity ≤ x: the load was at least 80 %: a miss proves nothing, a pass does.
    assert decided_at_capacity(False, "upper")[0] is None
    assert decided_at_capacity(True, "upper") == (True, "")
    assert decided_at_capacity(None, "lower") == (None, "")


def test_idle_cpu_over_fewer_sockets_than_the_target_cannot_meet_it() -> None:
    from bench.scenarios import idle_cpu_verdict

    assert idle_cpu_verdict(2.0, 5000, 5000) == (True, "")
    assert idle_cpu_verdict(7.0, 5000, 5000) == (False, "")
    met, why = idle_cpu_verdict(2.0, 3100, 5000)
    assert met is None and "3100 sockets that connected, not 5000" in why
    assert idle_cpu_verdict(7.0, 3100, 5000) == (False, "")  # more sockets would only cost more


def _fanout_run(figure: float | None, bound: str | None = None) -> dict:
    return {"best_deliveries_per_s": figure, "bound": bound, "steps": []}


SEARCHED = {"reps": 1, "search": {"factor": 2.0, "resolution": 1.05}}


def test_kindred_against_the_same_work_baseline_is_met_at_half_and_missed_below() -> None:
    from bench.scenarios import samework_row

    def verdict(kindred: float, same: float) -> bool | None:
        per = {"kindred": [_fanout_run(kindred)], "samework": [_fanout_run(same)]}
        r = samework_row(10, per, SEARCHED)
        assert r["target"] == "≥ 0.5× same-work baseline"
        assert r["figure"] == "room of 10: deliveries/s, Kindred vs the same-work baseline"
        return r["met"]

    assert verdict(6000, 10000) is True
    assert verdict(4000, 10000) is False
    # Within the searches' 5 % of the target either way: neither met nor missed.
    assert verdict(5100, 10000) is None
    assert verdict(4900, 10000) is None


def test_a_same_work_row_with_a_figure_at_a_bound_of_its_search_decides_nothing() -> None:
    from bench.report import one_line
    from bench.scenarios import samework_row

    # The same-work baseline passed the search's ceiling: its true figure may be far higher,
    # so even a low ratio misses nothing.
    per = {"kindred": [_fanout_run(1000.0)], "samework": [_fanout_run(200000.0, "lower")]}
    r = samework_row(10, per, SEARCHED)
    assert r["met"] is None and r["baseline_bound"] == "lower"
    assert "baseline ≥ 200,000" in one_line(r) and "undecided (bound)" in one_line(r)
    # Kindred failed even the search's lowest rate: only an upper bound.
    per = {"kindred": [_fanout_run(25.0, "upper")], "samework": [_fanout_run(900.0)]}
    r = samework_row(10, per, SEARCHED)
    assert r["met"] is None and "kindred ≤ 25" in one_line(r)


def test_after_the_steps_the_fleet_is_asked_what_eventually_arrived(monkeypatch) -> None:  # noqa: ANN001
    """An overloaded step's deliveries that arrive after its grace are late, not lost; only what
    never arrives once the server has drained is."""
    from bench import scenarios

    class Eventually(_FakeFleet):
        capacity = 100.0
        gap_at = ()

        def __init__(self, **kw) -> None:  # noqa: ANN003
            super().__init__(**kw)
            self.k, self.sent = 0, {}

        def go(self, k, step=None, **kw):  # noqa: ANN001, ANN003, ANN201
            if step is not None:
                self.sent[k] = max(1, round(step["rate"] * step["duration"]))
            return super().go(k, step=step, **kw)

        def tally(self):  # noqa: ANN201
            # Everything reached every member in the end, except one delivery of the last step.
            recv = {k: n * self.members for k, n in self.sent.items()}
            recv[max(recv)] -= 1
            return {"recv": recv, "acked": dict(self.sent), "sent": dict(self.sent)}

    patch_fleet(monkeypatch, Eventually)
    monkeypatch.setattr(scenarios.time, "sleep", lambda s: None)
    out = scenarios.ladder_run(
        0,
        [1],
        [{"room": "r", "cookie": "c", "send": i < 10} for i in range(20)],
        members=20,
        search=Search(10, factor=2, resolution=1.05, lo=1, hi=1000),
        duration=3.0,
        n_procs=1,
        name="t",
        tally_after=5,
    )
    failing = [s for s in out["steps"] if not s["passed"]]
    assert failing and all(s["lost"] > 0 and s["late"] == s["lost"] for s in failing[:-1])
    assert [s["never_received"] for s in out["steps"]][-1] == 1
    assert sum(s["never_received"] for s in out["steps"]) == 1
    assert all(s["never_acked"] == 0 for s in out["steps"])


def test_the_same_work_comparison_also_runs_in_production_s_layout(monkeypatch) -> None:  # noqa: ANN001
    """Kindred on PostgreSQL and Redis against the same-work baseline on PostgreSQL, each on a
    database of its own that is dropped afterwards, searched and judged as the other rows."""
    from bench import scenarios

    capacity = {"kindred": 40.0, "samework": 400.0}
    started, dropped = [], []

    class Proc:
        pid = 1

        def stop(self) -> None:
            pass

    def start(name, *, db_url, extra=None):  # noqa: ANN001, ANN202
        started.append((name, db_url, extra))
        return Proc(), 0

    pg = {
        "create": lambda tag: f"postgres://x/{tag}",
        "setup": lambda db, n, rooms: {"members": [{"cookie": "c"}] * n},
        "drop": dropped.append,
    }
    monkeypatch.setattr(
        scenarios, "ladder_run", _searching(lambda name: capacity[name.rsplit("-", 1)[1]])
    )
    monkeypatch.setattr(scenarios, "settle", lambda *a, **k: 0.0)
    monkeypatch.setattr(scenarios, "start_kindred", start)
    monkeypatch.setattr(scenarios, "start_samework", start)
    cfg = {**SEARCHED, "reps": 1, "step_seconds": 1.0, "fanout_bounds": (100, 400000)}
    cfg["fanout_baseline_start"] = 32000
    per = scenarios._production_samework({"cfg": cfg, "pg": pg}, 100)
    assert set(per) == {"kindred", "samework"}
    kindred = next(s for s in started if s[0].startswith("fanprod-kindred"))
    assert kindred[1] != next(s for s in started if "samework" in s[0])[1]
    assert kindred[2]["REDIS_URL"].startswith("redis://")
    assert sorted(dropped) == ["postgres://x/fanprod100", "postgres://x/fanprodsw100"]
    r = scenarios.samework_row(100, per, cfg, production=True)
    assert r["figure"] == (
        "room of 100, production layout: deliveries/s, Kindred vs the same-work baseline"
    )
    assert "PostgreSQL" in r["note"] and r["met"] is False
    assert 0.1 / 1.05 < r["ratio"] <= 0.1 * 1.05


def test_the_load_generators_tag_round_trips_and_carries_no_digit() -> None:
    """A bench body's tag carries the step, sender, index and scheduled send to every receiver,
    without a digit for the safety model to read as a time or a date."""
    from bench.loadgen import read_tag, tag

    t = tag(3, 17, 250, 1796684400.123456)
    assert t.startswith("#b") and not any(c.isdigit() for c in t)
    body = f"thanks, it does get easier {t}"
    assert read_tag(body) == (3, 17, 250, 1796684400.123456)
    assert read_tag("no tag here") is None
    assert read_tag("a hashtag #brunch that is not one") is None
