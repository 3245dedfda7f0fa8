"""`python -m bench [--quick | --smoke] [--only NAME ...] [--no-docs]`"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from bench import driver, modcap, overload, report, scenarios, soak
from bench.modes import MODES
from bench.util import PY, ROOT, RUN, VAR, machine, raise_nofile, write_json

ALL = [
    "fanout",
    "moderation_cost",
    "classifier",
    "time_to_flag",
    "moderated_capacity",
    "overload",
    "idle",
    "scale_out",
    "page_weight",
    "soak",
]
SMOKE = ["fanout", "moderated_capacity", "overload", "idle", "page_weight", "soak"]
NEEDS_MODEL = {
    "moderation_cost",
    "time_to_flag",
    "scale_out",
    "moderated_capacity",
    "overload",
    "soak",
}
# Run with a model except in a smoke run, where these assess with the rules alone.
RULES_IN_SMOKE = {"moderated_capacity", "overload", "soak"}
# Each scenario's function: bench.scenarios, except those in modules of their own.
SCENARIOS = {name: getattr(scenarios, name, None) for name in ALL} | {
    "moderated_capacity": modcap.moderated_capacity,
    "overload": overload.overload,
    "soak": soak.soak,
}


def _setup_sqlite(members: int, rooms: list[str]) -> tuple[Path, dict]:
    run = RUN
    run.mkdir(parents=True, exist_ok=True)
    template = run / "template.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(template) + suffix).unlink(missing_ok=True)
    out = run / "accounts.json"
    subprocess.run(
        [
            PY,
            "-m",
            "bench.djsetup",
            "setup",
            "--members",
            str(members),
            "--rooms",
            *rooms,
            "--out",
            str(out),
        ],
        env=driver.env(DATABASE_URL=f"sqlite:///{template}"),
        check=True,
        timeout=600,
    )
    return template, json.loads(out.read_text())


def _pg_helpers() -> dict[str, Any]:
    import psycopg
    import redis

    redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2).ping()
    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True, connect_timeout=3
    ):
        pass
    created: list[str] = []

    def create(tag: str) -> str:
        name = f"kindred_bench_{os.getpid()}_{tag}"
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')
            c.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return f"postgres://postgres@127.0.0.1:5432/{name}"

    def setup(db_url: str, members: int, rooms: tuple[str, ...] = ("scale",)) -> dict:
        out = RUN / "pg-accounts.json"
        subprocess.run(
            [
                PY,
                "-m",
                "bench.djsetup",
                "setup",
                "--members",
                str(members),
                "--rooms",
                *rooms,
                "--out",
                str(out),
            ],
            env=driver.env(DATABASE_URL=db_url),
            check=True,
            timeout=600,
        )
        return json.loads(out.read_text())

    def rep(db_url: str, acked: list[str] | None = None) -> dict:
        out = RUN / "pg-report.json"
        args = ["--rooms", "scale", "--out", str(out)]
        if acked is not None:
            ids = RUN / "pg-acked.json"
            ids.write_text(json.dumps(acked))
            args += ["--acked", str(ids)]
        subprocess.run(
            [PY, "-m", "bench.djsetup", "report", *args],
            env=driver.env(DATABASE_URL=db_url),
            check=True,
            timeout=120,
        )
        return json.loads(out.read_text())

    def drop(db_url: str) -> None:
        name = db_url.rsplit("/", 1)[1]
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return {"create": create, "setup": setup, "report": rep, "drop": drop}


class LoadSampler:
    """The machine's 1-minute load average every few seconds while the run lasts (the machine is
    shared: this says how busy it was while we measured)."""

    def __init__(self, every: float = 5.0) -> None:
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._every = every
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(
                (round(time.monotonic() - self._t0, 1), round(os.getloadavg()[0], 2))
            )
            self._stop.wait(self._every)

    def since(self, t: float) -> list[float]:
        return [v for (s, v) in self.samples if s >= t - self._t0]

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        vals = [v for _, v in self.samples]
        return (
            {
                "min": min(vals),
                "median": sorted(vals)[len(vals) // 2],
                "max": max(vals),
                "samples": len(vals),
            }
            if vals
            else {}
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--quick",
        action="store_true",
        help="one repetition, each figure found by a search, shorter windows (about 20 minutes on 2 cores)",
    )
    g.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, no model: checks the harness works (< 60 s)",
    )
    p.add_argument("--only", nargs="*", choices=ALL, help="run only these scenarios")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    p.add_argument(
        "--model", default="original", help="Detoxify architecture for the server-side scenarios"
    )
    p.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="KEY=JSON",
        help="override a setting of the mode, e.g. modcost_production=true (recorded in the results)",
    )
    p.add_argument(
        "--render",
        metavar="RESULTS_JSON",
        help="rewrite docs/performance.md from a saved results file (no measuring)",
    )
    p.add_argument(
        "--supplement",
        nargs="*",
        default=[],
        metavar="RESULTS_JSON",
        help="with --render: also show these saved runs (e.g. an --only run) after the main table",
    )
    a = p.parse_args(argv)
    if a.render:
        saved = json.loads(Path(a.render).read_text())
        sups = [json.loads(Path(f).read_text()) for f in a.supplement]
        report.write_docs(
            ROOT / "docs" / "performance.md", saved["meta"], saved["rows"], saved["results"], sups
        )
        print(f"docs/performance.md rewritten from {a.render}", flush=True)
        return 0
    mode = "smoke" if a.smoke else "quick" if a.quick else "full"
    cfg = {**MODES["quick"], **MODES[mode]} if mode == "smoke" else dict(MODES[mode])
    for item in a.set:
        key, _, value = item.partition("=")
        if key not in cfg and key not in MODES["full"]:
            p.error(f"--set: unknown setting {key!r}")
        cfg[key] = json.loads(value)
    names = a.only or (SMOKE if mode == "smoke" else ALL)
    if "soak" in names and not cfg.get("soak"):
        # Half an hour in full mode; quick mode runs a short one only when asked.
        if a.only:
            p.error(f"the soak is off in {mode} mode: add --set soak=true")
        names = [n for n in names if n != "soak"]
    raise_nofile()
    # SIGTERM runs the finally blocks, which stop every server and load generator we started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.time()
    sampler = LoadSampler()
    load_at_start = os.getloadavg()
    git_at_start = _git()  # the product may change under a long run on a shared work tree
    (VAR / "logs").mkdir(parents=True, exist_ok=True)
    print(f"kindred bench: mode={mode}, scenarios={', '.join(names)}", flush=True)

    rooms = [f"fan-{s}" for s in cfg["fanout_sizes"]]
    rooms += ["modcost", "warm", "flag-cap", "flag", modcap.ROOM, overload.ROOM]
    n_idle = cfg["idle_sockets"] if "idle" in names else 0
    rooms += [f"idle-{i:03d}" for i in range((n_idle + 24) // 25)]
    if "soak" in names:
        rooms += soak.room_slugs(cfg)
    members_needed = (
        max(
            [
                n_idle,
                max(cfg["fanout_sizes"]),
                cfg.get("modcost_size", 0),
                cfg.get("modcap_size", 0),
                soak.members_needed(cfg) if "soak" in names else 0,
            ]
        )
        + 3
    )
    t = time.monotonic()
    template, accounts = _setup_sqlite(members_needed, rooms)
    print(
        f"  accounts: {members_needed} members in {len(rooms)} rooms ({time.monotonic() - t:.1f} s)",
        flush=True,
    )
    ctx: dict[str, Any] = {
        "cfg": cfg,
        "template": template,
        "members": accounts["members"],
        "moderators": accounts["moderators"],
        "mode": mode,
    }
    # A smoke run's moderated capacity, overload and soak assess with the rules alone
    # (bench.modcap._model_env).
    needs_model = set(names) & NEEDS_MODEL - (RULES_IN_SMOKE if mode == "smoke" else set())
    if needs_model:
        from bench.models import ARCH, build

        t = time.monotonic()
        ckpt, hf = build(a.model)
        ctx["model_env"] = {
            "MODERATION_CLASSIFIER": "detoxify",
            "DETOXIFY_MODEL": a.model,
            "DETOXIFY_CHECKPOINT": str(ckpt),
            "MODERATION_SEMANTIC": "1",
        }
        ctx["model_name"] = (
            f"Detoxify {a.model} ({ARCH[a.model][2]} architecture, random weights, fp32, 1 thread)"
        )
        print(f"  model {a.model}: {ckpt} ({time.monotonic() - t:.1f} s)", flush=True)
    if "time_to_flag" in names:
        out = RUN / "flagbait.json"
        subprocess.run(
            [PY, "-m", "bench.djsetup", "flagbait", "--out", str(out)],
            env=driver.env(DATABASE_URL=f"sqlite:///{template}"),
            check=False,
            timeout=300,
        )
        ctx["flagbait"] = json.loads(out.read_text()).get("texts", []) if out.exists() else []
    if (
        "scale_out" in names
        or ("fanout" in names and cfg.get("samework_production_sizes"))
        or ("moderation_cost" in names and cfg.get("modcost_production"))
        or ("moderated_capacity" in names and cfg.get("modcap_production"))
    ):
        try:
            ctx["pg"] = _pg_helpers()
        except Exception as exc:  # noqa: BLE001
            ctx["pg_error"] = f"PostgreSQL/Redis not reachable on 127.0.0.1 ({exc})"

    results: dict[str, Any] = {}
    # A scenario may read an earlier one's results (overload reuses moderated capacity's figure).
    ctx["results"] = results
    rows: list[dict] = []
    for name in names:
        t = time.monotonic()
        print(f"- {name} …", flush=True)
        try:
            r = SCENARIOS[name](ctx)
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc()
            r = {
                "rows": [
                    scenarios.row(
                        name.replace("_", " "),
                        "scenario failed",
                        note=f"{type(exc).__name__}: {exc}",
                        met=False,
                    )
                ],
                "raw": {"error": traceback.format_exc()},
            }
        r["seconds"] = round(time.monotonic() - t, 1)
        la = sampler.since(t)
        r["load_avg_1m"] = {"min": min(la), "max": max(la)} if la else {}
        results[name] = r
        rows += r["rows"]
        for rw in r["rows"]:
            print("    " + report.one_line(rw), flush=True)
    mach = machine()
    mach["load_avg_at_start"] = [round(x, 2) for x in load_at_start]
    mach["load_avg_1m_during"] = sampler.stop()
    meta = {
        "mode": mode,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
        "seconds": round(time.time() - started, 1),
        "machine": mach,
        "cfg": cfg,
        "git": git_at_start
        + ("" if _git() == git_at_start else f" (HEAD moved to {_git()} during the run)"),
        "load_avg_1m_by_scenario": {n: results[n].get("load_avg_1m") for n in results},
    }
    table = report.table(rows)
    print()
    print(table)
    print(
        f"\n{len(rows)} figures in {meta['seconds']} s (mode {mode}); raw results in var/bench/",
        flush=True,
    )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    write_json(
        VAR / f"results-{mode}-{stamp}.json", {"meta": meta, "rows": rows, "results": results}
    )
    write_json(VAR / f"latest-{mode}.json", {"meta": meta, "rows": rows, "results": results})
    if mode != "smoke" and not a.no_docs and not a.only:
        report.write_docs(ROOT / "docs" / "performance.md", meta, rows, results)
        print("docs/performance.md updated", flush=True)
    shutil.rmtree(RUN, ignore_errors=True)
    return 0


def _git() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except Exception:  # noqa: BLE001
        return ""
