"""The printed table and docs/performance.md: a figure at a bound of its search prints as a bound
and its row as undecided, never as met or MISSED."""

from __future__ import annotations

from bench import report
from bench.scenarios import row


def test_a_bounded_row_prints_its_bound_and_no_verdict() -> None:
    r = row(
        "fan-out",
        "room of 10: deliveries/s",
        2000.0,
        64000.0,
        2000 / 64000,
        "≥ 0.33× baseline",
        False,
        baseline_bound="lower",
    )
    line = report.one_line(r)
    assert "baseline ≥ 64,000" in line and "ratio ≤ 0.03×" in line
    assert "MISSED" not in line and "met" not in line.split("→")[1]
    md = report.markdown_table([r])
    assert "≥ 64,000" in md and "**undecided (bound)**" in md and "MISSED" not in md


def test_a_ceiling_on_both_sides_prints_no_ratio() -> None:
    r = row(
        "scale-out",
        "x",
        800.0,
        800.0,
        1.0,
        "(report)",
        None,
        kindred_bound="lower",
        baseline_bound="lower",
    )
    k, b, rr, _ = report._cells(r)
    assert (k, b) == ("≥ 800", "≥ 800") and "1.00" not in rr


def test_an_exact_row_is_decided() -> None:
    r = row("fan-out", "room of 100: deliveries/s", 9000.0, 20000.0, 0.45, "≥ 0.33× baseline", True)
    assert report.one_line(r).endswith("→ met")
    r = row(
        "fan-out", "room of 100: deliveries/s", 5000.0, 20000.0, 0.25, "≥ 0.33× baseline", False
    )
    assert report.one_line(r).endswith("→ MISSED")


def test_a_rewrite_keeps_the_hand_written_sections() -> None:
    old = f"# Performance\n\nold figures\n\n{report.KEPT_MARKER}\n\n## Idle member\n\n1.2 ms\n"
    new = report.with_kept_sections("# Performance\n\nnew figures\n", old)
    assert "new figures" in new and "old figures" not in new
    assert new.endswith(f"{report.KEPT_MARKER}\n\n## Idle member\n\n1.2 ms\n")
    # Marked as history, above the marker, once however often the file is rewritten.
    assert new.index(report.KEPT_HEADING) < new.index(report.KEPT_MARKER)
    again = report.with_kept_sections("# Performance\n\nnewer figures\n", new)
    assert again.count(report.KEPT_HEADING) == 1 and "1.2 ms" in again
    assert report.with_kept_sections("# Performance\n", "no marker") == "# Performance\n"


def test_scale_out_correctness_judges_loss_in_every_step_and_reports_reordering():
    from bench.scenarios import scale_out_correctness

    assessed = {"pending": 0, "assessed_twice": 0, "assessments": 30, "messages": 30}
    passing = {"passed": True, "lost": 0, "gaps": 0, "out_of_order": 0}
    overloaded = {"passed": False, "lost": 0, "gaps": 3, "out_of_order": 3}
    v = scale_out_correctness([passing, overloaded], assessed, 0)
    assert v["ok"] and v["failing"] == 1 and v["reordered_failing"] == 3
    # A message never received in an overloaded step is a loss, and fails the row.
    assert not scale_out_correctness([passing, dict(overloaded, lost=1)], assessed, 0)["ok"]
    # So do an acknowledged message missing from the database and a double assessment.
    assert not scale_out_correctness([passing], assessed, 1)["ok"]
    assert not scale_out_correctness([passing], dict(assessed, assessed_twice=1), 0)["ok"]
    assert not scale_out_correctness([passing], assessed, None)["ok"]


def test_scale_out_counts_what_never_arrived_not_what_arrived_after_the_grace():
    from bench.scenarios import eventually, scale_out_correctness

    assessed = {"pending": 0, "assessed_twice": 0, "assessments": 30, "messages": 30}
    # 10 messages acknowledged to a room of 20; 150 deliveries within the step's grace.
    step = {"passed": False, "lost": 50, "received": 150, "gaps": 0, "out_of_order": 0}
    late_only = dict(step)
    eventually([late_only], {"recv": {1: 200}, "acked": {1: 10}, "sent": {1: 12}}, members=20)
    assert (late_only["late"], late_only["never_received"], late_only["never_acked"]) == (50, 0, 2)
    v = scale_out_correctness([late_only], assessed, 0)
    assert v["ok"] and (v["never_received"], v["late"], v["never_acked"]) == (0, 50, 2)
    # One delivery that never came, even after the drain: a loss, and the row fails.
    one_lost = dict(step)
    eventually([one_lost], {"recv": {1: 199}, "acked": {1: 10}, "sent": {1: 10}}, members=20)
    assert not scale_out_correctness([one_lost], assessed, 0)["ok"]
