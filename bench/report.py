"""The printed table and docs/performance.md."""

from __future__ import annotations

import json
from typing import Any

from bench.modes import MODES

# How a figure at a bound of its search prints (scenarios.Bound): "≥ x" when the search's ceiling
# (or a ladder's top) passed, "≤ x" when even its lowest rate failed; "unknown" is a median of
# repetitions bounded both ways, or a ratio of two figures bounded the same way.
_PREFIX = {None: "", "lower": "≥ ", "upper": "≤ ", "unknown": "? "}


def _v(x: Any, bound: str | None = None) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        text = f"{x:.3g}" if abs(x) < 100 else f"{x:,.0f}"
    else:
        text = str(x)
    return _PREFIX.get(bound, "") + text


def _ratio(x: Any, bound: str | None = None) -> str:
    if bound == "unknown":
        return "? (both at a bound)"
    return "–" if x is None else f"{_PREFIX.get(bound, '')}{x:.2f}×"


def _bounded(r: dict[str, Any]) -> bool:
    return any(r.get(k) for k in ("kindred_bound", "baseline_bound", "ratio_bound"))


def _met(m: bool | None, r: dict[str, Any] | None = None) -> str:
    if r is not None and _bounded(r):
        return "undecided (bound)"
    if m is None and r is not None and str(r.get("note") or "").startswith("undecided"):
        return "undecided"
    return {True: "met", False: "MISSED", None: "–"}[m]


def _cells(r: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        _v(r["kindred"], r.get("kindred_bound")),
        _v(r["baseline"], r.get("baseline_bound")),
        _ratio(r["ratio"], r.get("ratio_bound")),
        _met(r["met"], r),
    )


def one_line(r: dict[str, Any]) -> str:
    k, b, rr, met = _cells(r)
    return (
        f"{r['scenario']}: {r['figure']}: kindred {k}, baseline {b}, "
        f"ratio {rr}, target {r['target'] or '–'} → {met}"
    )


def table(rows: list[dict[str, Any]]) -> str:
    head = ["scenario", "figure", "Kindred", "baseline", "ratio", "target", "result"]
    body = [
        [r["scenario"], r["figure"], *_cells(r)[:3], r["target"] or "–", _cells(r)[3]] for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    widths = [min(w, 70) for w in widths]
    line = "+".join("-" * (w + 2) for w in widths)
    out = [" | ".join(h.ljust(w) for h, w in zip(head, widths)), line]
    out += [" | ".join(str(c)[:w].ljust(w) for c, w in zip(b, widths)) for b in body]
    return "\n".join(out)


def markdown_table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| scenario | figure | Kindred | baseline | ratio | target | result | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        note = str(r.get("note") or "").replace("|", "/")
        k, b, rr, met = _cells(r)
        out.append(
            f"| {r['scenario']} | {r['figure']} | {k} | {b} | {rr} | {r['target'] or '–'} | **{met}** | {note} |"
        )
    return "\n".join(out)


def _load(d: dict | None) -> str:
    if not d:
        return "not sampled"
    return f"min {d['min']}, median {d['median']}, max {d['max']} ({d['samples']} samples)"


def _by_scenario(d: dict) -> str:
    parts = [f"{k} {v['min']}–{v['max']}" for k, v in d.items() if v]
    return "; ".join(parts) or "not sampled"


def _mode_note(meta: dict[str, Any]) -> str:
    if meta.get("mode") != "quick":
        return ""
    return (
        "This is a `--quick` run: one repetition of each comparison (no median over repeats, so no "
        "interval), shorter steps, one classifier "
        "architecture, time to flag without its int8 variant, moderation cost in `make run`'s layout only "
        "(production's layout: full mode or `--set modcost_production=true`, shown below when run), a "
        "shorter idle window without the pings-off window, a shorter connect deadline, and no "
        "soak (`--set soak=true` runs a 5-minute one). "
        "`make bench` (full mode: three repetitions, medians) replaces it.\n\n"
    )


def _overrides(meta: dict[str, Any]) -> str:
    """The mode's settings this run changed (`--set`), e.g. " with `--set modcost_production=true`"."""
    base = MODES.get(meta.get("mode"), {})
    if meta.get("mode") == "smoke":
        base = {**MODES["quick"], **base}
    cfg = meta.get("cfg") or {}
    changed = [
        f"{k}={json.dumps(v)}"
        for k, v in cfg.items()
        if k in base and json.loads(json.dumps(base[k])) != v
    ]
    return f" with `--set {' '.join(changed)}`" if changed else ""


def _supplements(extra: list[dict[str, Any]] | None) -> str:
    """Other saved runs (e.g. `--only classifier` in full mode) shown after the main table."""
    if not extra:
        return ""
    out = []
    for sup in extra:
        m = sup["meta"]
        la = (m.get("machine") or {}).get("load_avg_1m_during")
        out.append(
            f"### Supplementary run: `{m['mode']}` mode{_overrides(m)}, {', '.join(sup['results'])}, "
            f"{m['started']}, {m['seconds']:.0f} s, commit `{m.get('git') or '?'}`; load average during it: "
            f"{_load(la)}\n"
        )
        out.append(markdown_table(sup["rows"]))
        out.append("")
        from bench.analysis import analysis

        text = analysis(sup["rows"], sup["results"], m, with_history=False).split("\n", 2)[2]
        out.append("What this run's raw results say:\n\n" + text)
        out.append("")
    return "\n".join(out) + "\n"


# Sections written by hand (measurements made outside this harness, e.g. bench/idle_cost.py) go
# below this line in docs/performance.md; a rewrite keeps them.
KEPT_MARKER = "<!-- Sections below this line are written by hand and kept when the bench rewrites this file. -->"


def write_docs(
    path,
    meta: dict[str, Any],
    rows: list[dict[str, Any]],
    results: dict[str, Any],  # noqa: ANN001
    supplements: list[dict[str, Any]] | None = None,
) -> None:
    from bench.analysis import analysis, method

    m = meta["machine"]
    text = f"""# Performance

Measured by `make bench` (the harness in `bench/`). Every figure that has a baseline was measured
against it **in the same run**, on the same machine, with the same load generator; ratios are
Kindred ÷ baseline, and where a scenario repeats, the figure is the median of the runs.
This file is rewritten by every full or `--quick` run; raw results (every step, every latency
percentile) are in `var/bench/latest-<mode>.json`.

## Latest results

Run: `{meta["mode"]}` mode, {meta["started"]}, {meta["seconds"]:.0f} s, commit `{meta.get("git") or "?"}`.
Machine: {m.get("cpus")} CPUs ({m.get("cpu_model")}), {m.get("mem_gib")} GiB, Python {m.get("python")},
Linux {m.get("kernel")}; load average (1/5/15 min) at start {m.get("load_avg_at_start")}; 1-minute load
average sampled every 5 s during the run: {_load(m.get("load_avg_1m_during"))}. The machine is a shared
VM: absolute numbers move from run to run (full mode's notes give every repetition's figure;
`--quick` runs each once); ratios against a baseline measured minutes apart in the same run move less.
Load average by scenario (min–max of the samples): {_by_scenario(meta.get("load_avg_1m_by_scenario") or {})}.

{_mode_note(meta)}{markdown_table(rows)}

{_supplements(supplements)}
{analysis(rows, results, meta)}

{method(meta)}
"""
    path.write_text(with_kept_sections(text, path.read_text() if path.exists() else ""))


# Written above the kept sections on every rewrite, so that their figures never read as this
# run's: they were measured by hand, outside the harness, at the commits and times they name.
KEPT_HEADING = (
    "## Measured by hand, outside this run (history)\n\n"
    "The sections below were written by hand from measurements made outside this harness, at the "
    "commits and times they name; this run did not repeat them, and none of their figures is this "
    "run's."
)


def with_kept_sections(text: str, old: str) -> str:
    """The new report, followed by the old file's hand-written sections (from KEPT_MARKER on),
    under KEPT_HEADING."""
    if KEPT_MARKER not in old:
        return text
    return text.rstrip("\n") + "\n\n" + KEPT_HEADING + "\n\n" + old[old.index(KEPT_MARKER) :]
