"""Moderated capacity's pass rule: a step passes only if delivery passes and moderation keeps up
(every acknowledged message stored and assessed, send → assessed p95 ≤ 1 s, backlog not
growing), and the search finds the rate moderation keeps up with, not the chat's."""

from __future__ import annotations

import pytest

from bench import modcap
from bench.modcap import Monitor, backlog_slope, verdict
from bench.scenarios import Search


def _flat(rate: float, duration: float, level: int = 3) -> list[tuple[float, int]]:
    """A worker keeping up: the pending count oscillates batch by batch around a level."""
    return [(t / 10, level + (t % 3) - 1) for t in range(int(duration * 10) + 1)]


def _growing(rate: float, capacity: float, duration: float) -> list[tuple[float, int]]:
    """A worker short of the offered rate: the backlog piles up at rate − capacity."""
    return [(t / 10, int((rate - capacity) * t / 10)) for t in range(int(duration * 10) + 1)]


def test_a_step_moderation_keeps_up_with_passes() -> None:
    v = verdict(
        rate=20, duration=5, samples=_flat(20, 5), delays=[0.3] * 95 + [0.8] * 5, not_stored=0
    )
    assert v["moderation_passed"], v["moderation_failed_on"]
    assert v["assessed"] == 100 and v["ttf_p95_s"] <= 1.0


def test_a_growing_backlog_fails_even_with_every_message_assessed_in_time() -> None:
    # A short step can end before the delay reaches 1 s: the backlog's growth still fails it.
    v = verdict(rate=20, duration=5, samples=_growing(20, 15, 5), delays=[0.5] * 100, not_stored=0)
    assert not v["moderation_passed"]
    assert any("backlog grew" in w for w in v["moderation_failed_on"])
    assert v["backlog_growth"] > v["backlog_allowed"]


def test_a_missing_assessment_fails_even_when_the_p95_is_within_the_limit() -> None:
    v = verdict(rate=20, duration=5, samples=_flat(20, 5), delays=[0.2] * 99 + [None], not_stored=0)
    assert v["ttf_p95_s"] <= 1.0  # one in a hundred does not move the p95 ...
    assert not v["moderation_passed"]  # ... but every message must be assessed
    assert v["unassessed"] == 1 and "1 never assessed" in v["moderation_failed_on"]


def test_unassessed_messages_count_as_infinitely_late_in_the_p95() -> None:
    v = verdict(
        rate=20, duration=5, samples=_flat(20, 5), delays=[0.2] * 90 + [None] * 10, not_stored=0
    )
    assert v["ttf_p95_s"] == float("inf") and not v["moderation_passed"]


def test_a_slow_p95_a_lost_message_or_an_unread_backlog_fails() -> None:
    slow = verdict(rate=20, duration=5, samples=_flat(20, 5), delays=[1.5] * 100, not_stored=0)
    assert not slow["moderation_passed"] and "> 1 s" in slow["moderation_failed_on"][0]
    lost = verdict(rate=20, duration=5, samples=_flat(20, 5), delays=[0.2] * 99, not_stored=1)
    assert not lost["moderation_passed"]
    unread = verdict(rate=20, duration=5, samples=[], delays=[0.2] * 100, not_stored=0)
    assert (
        not unread["moderation_passed"] and "backlog not sampled" in unread["moderation_failed_on"]
    )
    nothing = verdict(rate=20, duration=5, samples=_flat(20, 5), delays=[], not_stored=0)
    assert not nothing["moderation_passed"]


def test_backlog_growth_is_the_slope_after_the_ramp_up() -> None:
    # The ramp-up at the start of a step (its first fifth) does not count as growth.
    ramp = [(0.1, 0), (0.5, 6)] + [(1.0 + i / 5, 6 + (i % 2)) for i in range(21)]
    slope, se, window = backlog_slope(ramp, 5)
    assert abs(slope) < 0.2 and window == pytest.approx(4.0)
    # A worker 2 msg/s short piles up 2 messages a second, whatever the batch sawtooth does.
    short = [(i / 5, 2 * i / 5 + [0, 6, 3][i % 3]) for i in range(26)]
    slope, se, _ = backlog_slope(short, 5)
    assert slope == pytest.approx(2, abs=2 * 1.96 * se) and se < 0.5
    assert backlog_slope([(4.0, 1), (4.5, 2)], 5) is None


def test_one_batch_sawtooth_does_not_fail_a_step_that_keeps_up() -> None:
    """The sawtooth of a worker clearing a batch every 0.35 s, sampled every 0.2 s: a rate the
    worker keeps up with passes however the batches fall against the samples."""
    for phase in (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3):
        saw = [(i / 5, int(27 * ((i / 5 + phase) % 0.35))) for i in range(26)]
        v = verdict(rate=27, duration=5, samples=saw, delays=[0.4] * 135, not_stored=0)
        assert v["moderation_passed"], (phase, v["moderation_failed_on"])


class _Monitor:
    """A server whose chat keeps up with any rate the fake fleet delivers but whose worker assesses
    only `capacity` msg/s: above it the backlog grows and messages wait longer and longer."""

    capacity = 30.0

    def before(self, k: int) -> None:
        pass

    def begin(self, k: int, step: dict, t0: float) -> None:
        pass

    def end(self, k: int, step: dict, m: dict, res: list) -> dict:
        rate, d = step["rate"], step["duration"]
        n = max(1, round(rate * d))
        if rate <= self.capacity:
            samples, delays = _flat(rate, d), [0.3] * n
        else:
            samples = _growing(rate, self.capacity, d)
            delays = [i / rate * (rate / self.capacity - 1) + 0.3 for i in range(n)]
        return verdict(rate=rate, duration=d, samples=samples, delays=delays, not_stored=0)


def test_the_step_loop_finds_the_rate_moderation_keeps_up_with(monkeypatch) -> None:  # noqa: ANN001
    from bench import scenarios
    from tests.bench.test_scenarios import _FakeFleet, patch_fleet

    patch_fleet(monkeypatch, type("Fleet", (_FakeFleet,), {"capacity": 100.0, "gap_at": ()}))
    out = scenarios.ladder_run(
        0,
        [1],
        [{"room": "r", "cookie": "c", "send": i < 10} for i in range(20)],
        members=20,
        search=Search(8, factor=2, resolution=1.05, lo=0.5, hi=1280),
        duration=5.0,
        n_procs=1,
        name="t",
        monitor=_Monitor(),
    )
    # The chat alone would pass up to 100 msg/s; moderation keeps up to 30, which the search finds
    # to within its resolution (the backlog test tolerates a shortfall of about that much).
    assert out["bound"] is None and 30 / 1.05 <= out["best_rate"] <= 30 * 1.05
    over = [s for s in out["steps"] if s["rate_msgs_per_s"] > 30 * 1.05]
    assert over and all(s["delivery_passed"] and not s["passed"] for s in over)


def test_the_monitor_judges_its_own_step_s_acknowledged_messages(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(modcap, "_pending", lambda db: 0)
    # seq 1 assessed 0.4 s after its scheduled send, seq 2 never, seq 3 not stored.
    monkeypatch.setattr(modcap, "assessed_at", lambda db, room, seqs: {1: 100.4, 2: None})
    mon = Monitor("sqlite:///x", "modcap", drain_s=0.1)
    mon.begin(3, {"rate": 2.0, "duration": 2.0}, t0=0.0)
    res = [
        {
            "acks": {
                "bench-0-3-0-t": ["modcap", 1, 100.0, "a"],
                "bench-1-3-0-t": ["modcap", 2, 100.5, "b"],
                "bench-0-3-1-t": ["modcap", 3, 101.0, "c"],
                "bench-0-2-4-t": ["modcap", 9, 99.0, "an earlier step's late ack"],
            }
        }
    ]
    v = mon.end(3, {"rate": 2.0, "duration": 2.0}, {}, res)
    mon.samples = []
    assert (v["assessed"], v["unassessed"], v["not_stored"]) == (1, 1, 1)
    assert not v["moderation_passed"]


def _run(best: float | None, bound: str | None, fail_at: float | None = None) -> dict:
    steps = []
    if best is not None:
        steps.append({"rate_msgs_per_s": best, "passed": True, "p99_ms": 20.0, "ttf_p95_s": 0.4})
    if fail_at is not None:
        steps.append(
            {
                "rate_msgs_per_s": fail_at,
                "passed": False,
                "delivery_passed": True,
                "moderation_passed": False,
                "moderation_failed_on": ["1 never assessed"],
                "lost": 0,
                "gaps": 0,
                "out_of_order": 0,
                "p99_ms": 20.0,
                "server_cpu_pct": 50.0,
            }
        )
    return {"steps": steps, "bound": bound, "best_rate": best}


def test_the_row_is_the_median_of_the_searches_with_every_one_in_the_note() -> None:
    cfg = {"modcap_bounds": (0.5, 1280), "search": {"resolution": 1.05}}
    runs = [_run(20.0, None, 21.0), _run(24.0, None, 25.0), _run(22.0, None, 23.0)]
    r = modcap._row("f", runs, "m", cfg, 5.0)
    assert r["kindred"] == 22.0 and r["kindred_bound"] is None
    assert "(each: 20, 24, 22 msg/s)" in r["note"] and "failed on: 1 never assessed" in r["note"]
    # A search that passed nothing is an upper bound at its lowest failing rate ...
    assert modcap.figure_of(_run(None, "upper", 0.5)) == (0.5, "upper")
    only = modcap._row("f", [_run(None, "upper", 0.5)], "m", cfg, 5.0)
    assert only["kindred"] == 0.5 and only["kindred_bound"] == "upper" and only["met"] is None
    # ... and one whose lowest failure had the load generator saturated says nothing.
    unknown = modcap._row("f", [_run(None, "unknown", 0.5)], "m", cfg, 5.0)
    assert unknown["kindred"] is None and unknown["note"].startswith("not measured")


def test_the_note_says_whether_delivery_or_moderation_bounded_the_figure() -> None:
    both = [
        {"rate_msgs_per_s": 10.0, "delivery_passed": True},
        {"rate_msgs_per_s": 40.0, "delivery_passed": True},
    ]
    assert "up to 40 msg/s (its own capacity only ≥ that" in modcap.delivery_alone(both)
    chat = [*both, {"rate_msgs_per_s": 80.0, "delivery_passed": False}]
    assert modcap.delivery_alone(chat) == "; delivery alone first failed at 80 msg/s"
    assert modcap.delivery_alone([{"rate_msgs_per_s": 1.0, "passed": True}]) == ""


def test_moderated_capacity_measures_detoxify_and_the_safety_model_alone():
    env = {
        "MODERATION_CLASSIFIER": "detoxify",
        "DETOXIFY_MODEL": "original",
        "DETOXIFY_CHECKPOINT": "/tmp/x.ckpt",
        "MODERATION_SEMANTIC": "1",
    }
    stages = modcap.model_stages({"mode": "quick", "model_env": env, "model_name": "Detoxify"})
    assert [k for k, _, _ in stages] == ["detoxify", "alone"]
    assert stages[0][2] == env
    alone = stages[1][2]
    assert alone["MODERATION_CLASSIFIER"] == "none"
    assert "DETOXIFY_CHECKPOINT" not in alone and "safety model alone" in stages[1][1]
    smoke = modcap.model_stages({"mode": "smoke", "model_env": env})
    assert [k for k, _, _ in smoke] == ["rules"]
