"""The soak's pure parts: Zipf room sizes, the plan the load generator follows, the least-squares
slope, the flatness rule (including the cases where it must fail) and the rows, which judge only
from the run's raw results."""

from __future__ import annotations

import math

import pytest

from bench.soak import (
    RULE,
    delivery_figures,
    flatness,
    least_squares,
    plan,
    ranges_to_set,
    rows_of,
    summary,
    zipf_sizes,
)
from bench.soakgen import ranges

MIB = 2**20


def test_room_sizes_follow_the_rank_size_law_between_the_smallest_and_the_largest() -> None:
    sizes = zipf_sizes(40, 2, 60)
    assert len(sizes) == 40 and sizes[0] == 60 and sizes[-1] == 2
    assert sizes == sorted(sizes, reverse=True)
    s = math.log(30) / math.log(40)
    assert sizes[:4] == [round(60 / k**s) for k in (1, 2, 3, 4)] == [60, 32, 22, 17]
    assert sum(sizes) == 292
    # Rounding never takes a room below the smallest size.
    assert min(zipf_sizes(12, 3, 9)) == 3
    assert zipf_sizes(1, 2, 8) == [8]
    with pytest.raises(ValueError):
        zipf_sizes(5, 9, 3)


def _plan(**kw):  # noqa: ANN202
    args = {
        "seconds": 600.0,
        "msgs_per_s": 2.0,
        "reactions_per_s": 1.0,
        "typing_per_s": 0.5,
        "edit_share": 0.2,
        "edit_after": (5.0, 30.0),
        "rejoin_every_s": 60.0,
        "offline_s": 3.0,
        "tail_s": 10.0,
    }
    args.update(kw)
    return plan(zipf_sizes(6, 2, 20), **args)


def test_the_plan_is_drawn_once_and_for_all_from_its_seed() -> None:
    assert _plan() == _plan()
    assert _plan(seed=1) != _plan(seed=2)


def test_nobody_acts_while_away_or_rejoining_and_nothing_happens_in_the_tail() -> None:
    p = _plan()
    away: dict[int, list[tuple[float, float]]] = {}
    for t, kind, i, arg in p["events"]:
        if kind == "leave":
            away.setdefault(i, []).append((t - 1.0, t + arg + 2.0))
    assert away, "every socket leaves and comes back"
    for t, kind, i, _arg in p["events"]:
        assert t < 600.0 - 10.0
        if kind != "leave":
            assert all(not (lo <= t <= hi) for lo, hi in away.get(i, [])), (t, kind, i)


def test_leaves_are_staggered_so_about_as_many_are_away_at_every_moment() -> None:
    p = _plan()
    leaves = [(t, arg) for t, kind, _i, arg in p["events"] if kind == "leave"]
    # Until the last leave; then everyone is back before the tail.
    assert p["steady_until"] == max(t for t, _a in leaves) < 600.0 - 10.0 - 3.0
    n = len(p["rooms"])
    assert len({i for _t, k, i, _a in p["events"] if k == "leave"}) == n
    counts = [sum(1 for t, a in leaves if t <= x < t + a) for x in range(60, 540)]
    assert max(counts) - min(counts) <= 1


def test_messages_come_at_the_fixed_rate_from_members_chosen_uniformly() -> None:
    p = _plan(seconds=3600.0, rejoin_every_s=0.0)
    sends = [(t, i) for t, kind, i, _arg in p["events"] if kind == "send"]
    assert len(sends) == int(2.0 * 3590.0) and p["skipped"]["send"] == 0
    gaps = {round(b[0] - a[0], 3) for a, b in zip(sends, sends[1:])}
    assert gaps == {0.5}
    # A room's share of the traffic follows its size.
    per_room = [0] * 6
    for _t, i in sends:
        per_room[p["rooms"][i]] += 1
    sizes = zipf_sizes(6, 2, 20)
    for r, size in enumerate(sizes):
        assert per_room[r] / len(sends) == pytest.approx(size / sum(sizes), abs=0.02)
    # Each message is announced by its sender's typing frame.
    typing = {(round(t, 3), i) for t, kind, i, _a in p["events"] if kind == "typing"}
    assert all((round(t - 1.5, 3), i) in typing for t, i in sends[5:])


def test_a_member_edits_only_her_own_message_after_sending_it() -> None:
    p = _plan()
    sent = {arg: (t, i) for t, kind, i, arg in p["events"] if kind == "send"}
    edits = [(t, i, arg) for t, kind, i, arg in p["events"] if kind == "edit"]
    assert edits
    for t, i, k in edits:
        ts, author = sent[k]
        assert author == i and 5.0 <= t - ts <= 30.0


def test_least_squares_recovers_a_line_and_refuses_a_single_time() -> None:
    slope, icpt = least_squares([0.0, 10.0, 20.0, 30.0], [5.0, 7.0, 9.0, 11.0])
    assert (slope, icpt) == pytest.approx((0.2, 5.0))
    assert least_squares([1.0], [1.0]) is None
    assert least_squares([2.0, 2.0], [1.0, 3.0]) is None
    s = summary([[0.0, 0, 10, 5], [300.0, 0, 13, 5], [600.0, 0, 16, 5]], 2)
    assert (s["start"], s["end"], s["slope"]) == (10, 16, pytest.approx(6.0))


def _series(
    rss: object = None,
    fds: object = None,
    threads: object = None,
    *,
    seconds: float = 1800.0,
    every: float = 10.0,
) -> list[list[float]]:
    """Samples every `every` s; each series a function of t (default: a warm-up in the first
    tenth, then flat)."""

    def warm(t: float) -> float:
        return min(1.0, t / 180.0)

    def rss_default(t: float) -> float:
        return (300 + 60 * warm(t)) * MIB + (t % 30) * 1024

    def fds_default(t: float) -> float:
        return 300 + 20 * warm(t) + (t // 10) % 3  # a socket or two away at any moment

    def threads_default(t: float) -> float:
        return 8 + 2 * warm(t)

    out = []
    for k in range(int(seconds // every) + 1):
        t = every * k
        out.append(
            [
                t,
                (rss or rss_default)(t),
                (fds or fds_default)(t),
                (threads or threads_default)(t),
            ]
        )
    return out


def test_a_process_that_only_warms_up_in_the_first_half_is_flat() -> None:
    v = flatness(_series(), seconds=1800.0)
    assert v["met"] is True
    assert v["rss"]["ok"] and v["fds"]["ok"] and v["threads"]["ok"]
    assert v["half_seconds"] == 900.0 and v["fds"]["edge_samples"] == 9


def test_rss_growing_over_the_second_half_is_not_flat() -> None:
    # A leak of 4 MiB a minute: 60 MiB over the 15-minute second half, 14 % of 420 MiB.
    v = flatness(_series(rss=lambda t: (360 + 4 * t / 60) * MIB), seconds=1800.0)
    assert v["met"] is False and not v["rss"]["ok"]
    assert v["rss"]["growth_pct"] == pytest.approx(100 * 60 / 420, rel=0.01)
    assert v["fds"]["ok"] and v["threads"]["ok"]
    # Just under the limit passes; the same rise on a larger process is a smaller share.
    v = flatness(_series(rss=lambda t: (360 + 1.2 * t / 60) * MIB), seconds=1800.0)
    assert v["met"] is True and 4.0 < v["rss"]["growth_pct"] < RULE["rss_growth_limit_pct"]


def test_file_descriptors_not_back_to_their_level_are_not_flat() -> None:
    # One descriptor kept per minute (e.g. per rejoin): 15 more by the end of the second half.
    v = flatness(_series(fds=lambda t: 320 + t // 60), seconds=1800.0)
    assert v["met"] is False and not v["fds"]["ok"] and v["rss"]["ok"]
    assert v["fds"]["end"] - v["fds"]["reference"] > v["fds"]["allowed"]


def test_threads_not_back_to_their_level_are_not_flat() -> None:
    v = flatness(_series(threads=lambda t: 10 + (t > 1500) * 2), seconds=1800.0)
    assert v["met"] is False and not v["threads"]["ok"] and v["fds"]["ok"]


def test_growth_in_the_first_half_only_does_not_count() -> None:
    # Threads and descriptors climb through the first half (a pool filling up), then stay.
    v = flatness(
        _series(fds=lambda t: 300 + min(t, 900) / 10, threads=lambda t: 4 + min(t, 900) // 150),
        seconds=1800.0,
    )
    assert v["met"] is True


def test_every_socket_open_again_after_the_last_leave_is_no_leak() -> None:
    # Ten sockets are away at any moment until the last leave at 1700 s; then all are back.
    samples = _series(fds=lambda t: 330 - 10 * (t <= 1700))
    v = flatness(samples, seconds=1800.0, until=1700.0)
    assert v["met"] is True and v["fds"]["end"] == v["fds"]["reference"] == 320
    # Judged to the very end, the all-open samples would read as descriptors not given back.
    assert flatness(samples, seconds=1800.0)["fds"]["ok"] is False


def test_a_second_half_too_short_decides_nothing() -> None:
    v = flatness(_series(seconds=24.0, every=1.0), seconds=24.0)
    assert v["met"] is None and "under the 120 s" in v["why"]
    assert flatness([], seconds=1800.0)["met"] is None


def test_a_delivery_is_lost_when_a_member_never_holds_a_stored_seq() -> None:
    stored = {"a": {1, 2, 3}, "b": {1}}
    held = [("a", {1, 2, 3}), ("a", {1, 3}), ("b", {1}), ("b", set())]
    assert delivery_figures(stored, held) == {
        "expected": 8,
        "lost": 2,
        "members_missing_some": 2,
    }
    assert ranges({1, 2, 3, 7, 9, 10}) == [[1, 3], [7, 7], [9, 10]]
    assert ranges_to_set(ranges({1, 2, 3, 7, 9, 10})) == {1, 2, 3, 7, 9, 10}


def _raw(**kw):  # noqa: ANN202
    raw = {
        "seconds": 1800,
        "sizes": zipf_sizes(40, 2, 60),
        "members": 292,
        "load": {
            "msgs_per_s": 1.5,
            "reactions_per_s": 1.0,
            "typing_per_s": 0.5,
            "edit_share": 0.1,
            "edit_after": [5, 60],
            "rejoin_every_s": 300,
            "offline_s": 5,
            "ping_s": 25,
            "sample_s": 10,
            "tail_s": 10,
        },
        "model": "a model",
        "capacity": {"rate": 11.3, "size": 20},
        "rule": dict(RULE),
        "slope_minutes": 10.0,
        "steady_until": 1783.0,
        "samples": _series(),
        "counts": {"sent": 2685, "live": 59000, "rejoins": 1700, "pings": 21000},
        "errors": {},
        "closes": {},
        "acked": 2685,
        "stored": 2685,
        "acked_not_stored": 0,
        "stored_not_acked": 0,
        "pending_at_end": 0,
        "read_positions": {"members": 292, "stored_as_sent": 292},
        "deliveries": {"expected": 60000, "lost": 0, "members_missing_some": 0, "p99_ms": 31.5},
        "loadgen_late_ms": {"p99": 2.5},
    }
    raw.update(kw)
    return raw


def _by(rows: list[dict], words: str) -> dict:
    return next(r for r in rows if words in r["figure"])


def test_the_rows_judge_flatness_and_correctness_from_the_raw_results() -> None:
    rows = rows_of(_raw())
    assert [r["met"] for r in rows if r["target"] == "(report)"] == [None] * 4
    rss = _by(rows, "web process RSS")["kindred"]
    assert rss.startswith("300.0 → 360.0 MiB, +") and rss.endswith(" MiB/10 min")
    assert _by(rows, "flat (")["met"] is True and _by(rows, "flat (")["kindred"] == "flat"
    assert _by(rows, "acknowledged / stored")["kindred"] == "2685 / 2685"
    assert all(_by(rows, w)["met"] is True for w in ("acknowledged", "lost", "error frames"))
    assert "13 % of the rate this run's moderated capacity" in _by(rows, "acknowledged")["note"]


def test_a_leak_a_loss_and_an_error_frame_each_miss_their_row() -> None:
    rows = rows_of(_raw(samples=_series(fds=lambda t: 320 + t // 60)))
    flat = _by(rows, "flat (")
    assert flat["met"] is False and flat["kindred"] == "not flat" and "not back" in flat["note"]
    assert rows_of(_raw(acked_not_stored=1))[4]["met"] is False
    d = {"expected": 60000, "lost": 3, "members_missing_some": 1, "p99_ms": 31.5}
    assert _by(rows_of(_raw(deliveries=d)), "deliveries lost")["met"] is False
    errs = _by(
        rows_of(
            _raw(
                errors={"not_found": 1},
                error_samples=[{"code": "not_found", "after": "reaction.toggle", "message": "x"}],
            )
        ),
        "error frames",
    )
    assert errs["met"] is False and errs["kindred"] == 1 and "reaction.toggle" in errs["note"]
    closes = _by(rows_of(_raw(closes={"1006": 2})), "error frames")
    assert closes["met"] is False and "1006 2" in closes["note"]


def test_a_smoke_length_soak_is_undecided_on_flatness_but_judges_the_rest() -> None:
    rows = rows_of(_raw(seconds=24, samples=_series(seconds=24.0, every=1.0)))
    flat = _by(rows, "flat (")
    assert flat["met"] is None and flat["note"].startswith("undecided: the second half spans")
    assert _by(rows, "deliveries lost")["met"] is True
