"""Overload's figures: latency of a burst's messages, deliveries that never arrived, and when
delivery and moderation were back within their limits, from what the load generator and the
database recorded; and the rows, which judge only whether anything acknowledged was lost."""

from __future__ import annotations

import math

from bench.loadgen import schedule
from bench.overload import burst_figures, recovered, rows_of

T0 = 1_000_000.0


def _burst(**kw):  # noqa: ANN202
    """A room of 2: four messages in a 2 s burst, then one a second for 3 s."""
    sent = [T0, T0 + 0.5, T0 + 1.0, T0 + 1.5, T0 + 2.0, T0 + 3.0, T0 + 4.0]
    lat_ms = {T0: 5.0, T0 + 0.5: 900.0, T0 + 1.0: 1500.0, T0 + 1.5: 2100.0}
    lat_ms |= {T0 + 2.0: 1800.0, T0 + 3.0: 40.0, T0 + 4.0: 20.0}
    args = {
        "t0": T0,
        "burst_s": 2.0,
        "after_s": 3.0,
        "members": 2,
        "sent_at": sent,
        "lat_at": [[ts, lat_ms[ts]] for ts in sent for _member in range(2)],
        "assessed": [(ts, ts + 0.3) for ts in sent],
    }
    args.update(kw)
    return burst_figures(**args)


def test_a_burst_s_latency_is_over_its_own_messages_and_recovery_is_read_per_window() -> None:
    f = _burst()
    assert (f["expected"], f["deliveries"], f["missing"]) == (8, 8, 0)
    assert (f["p50_ms"], f["p99_ms"], f["max_ms"]) == (1500.0, 2100.0, 2100.0)
    # The last burst message (due at 1.5 s) arrived 2.1 s later: 1.6 s after the burst.
    assert f["delivered_all_s"] == 1.6
    assert f["assessed_all_s"] == 0.0  # all assessed before the burst ended
    # The first message after the burst still queued behind it (1.8 s); from the next window on,
    # delivery was back under 100 ms.
    assert [w["p99_ms"] for w in f["windows"]] == [1800.0, 40.0, 20.0]
    assert f["delivery_recovered_s"] == 1.0
    assert f["moderation_recovered_s"] == 0.0


def test_a_delivery_that_never_arrived_is_missing_and_keeps_its_window_failing() -> None:
    f = _burst(
        lat_at=[[ts, 10.0] for ts in (T0, T0 + 0.5, T0 + 1.0, T0 + 1.5) for _ in range(2)]
        + [[T0 + 2.0, 10.0], [T0 + 2.0, 10.0], [T0 + 3.0, 10.0], [T0 + 4.0, 10.0]],
    )
    assert f["missing"] == 0
    assert [w["missing"] for w in f["windows"]] == [0, 1, 1]
    assert math.isinf(f["windows"][-1]["p99_ms"])
    assert f["delivery_recovered_s"] is None  # still failing in the last window watched
    f = _burst(lat_at=[[T0, 5.0]])
    assert f["missing"] == 7 and f["delivered_all_s"] is None


def test_an_unassessed_message_is_infinitely_late_for_moderation() -> None:
    sent = [T0, T0 + 0.5, T0 + 1.0, T0 + 1.5, T0 + 2.0, T0 + 3.0, T0 + 4.0]
    f = _burst(assessed=[(ts, None if ts == T0 + 1.0 else ts + 0.3) for ts in sent])
    assert f["assessed_all_s"] is None
    f = _burst(assessed=[(ts, ts + (5.0 if ts < T0 + 3.0 else 0.2)) for ts in sent])
    assert f["moderation_recovered_s"] == 1.0


def test_recovered_is_the_start_of_the_first_window_from_which_all_are_ok() -> None:
    ok = lambda w: w["good"]  # noqa: E731
    ws = [{"from_s": float(i), "good": g} for i, g in enumerate([False, True, False, True, True])]
    assert recovered(ws, ok) == 3.0
    assert recovered(ws[:3], ok) is None
    assert recovered([{"from_s": 0.0, "good": True}], ok) == 0.0


def test_a_step_s_profile_runs_its_segments_back_to_back() -> None:
    assert schedule({"rate": 4.0, "duration": 1.0}) == [0.0, 0.25, 0.5, 0.75]
    # A slow plain step still sends one message.
    assert schedule({"rate": 0.1, "duration": 2.0}) == [0.0]
    s = schedule({"rate": 4.0, "duration": 3.0, "profile": [[4.0, 1.0], [2.0, 2.0]]})
    assert s == [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5]


def _raw(acked_not_stored: int | None) -> dict:
    b = {
        "factor": 1.5,
        "rate": 30.0,
        "after_rate": 10.0,
        "sent": 20,
        "acked": 20,
        "server_cpu_pct": 99.5,
        "send_lag_p99_ms": 1.5,
        "pending_after": 3,
        "drain_s": 0.5,
        "figures": _burst(),
    }
    return {
        "size": 20,
        "factors": [1.5],
        "after_share": 0.5,
        "burst_s": 2.0,
        "after_s": 3.0,
        "grace_s": 1.0,
        "capacity": {"rate": 20.0, "bound": None, "source": "test", "searches": 1},
        "bursts": [b],
        "acked": 25,
        "acked_not_stored": acked_not_stored,
    }


def test_only_an_acknowledged_message_missing_from_the_database_misses_the_target() -> None:
    *reported, judged = rows_of(_raw(0))
    assert all(r["met"] is None and r["target"] == "(report)" for r in reported)
    assert reported[0]["kindred"] == "1500 / 2100 / 2100 / 2100"
    assert reported[1]["kindred"] == 1.0
    assert judged["met"] is True and judged["kindred"] == 0
    assert rows_of(_raw(2))[-1]["met"] is False
    assert rows_of(_raw(None))[-1]["met"] is None


def test_delivery_not_back_within_the_window_is_written_as_at_least_the_window() -> None:
    raw = _raw(0)
    raw["bursts"][0]["figures"]["delivery_recovered_s"] = None
    assert rows_of(raw)[1]["kindred"] == "≥ 3"


def test_without_a_capacity_nothing_is_driven_and_the_row_says_why() -> None:
    raw = _raw(None)
    raw["capacity"] = {"rate": None, "bound": None, "source": "test", "searches": 1}
    del raw["bursts"]
    (r,) = rows_of(raw)
    assert r["met"] is None and r["note"].startswith("not measured: no capacity figure")
