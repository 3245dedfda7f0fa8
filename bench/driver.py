"""Starting servers under test and driving load-generator processes."""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.util import PY, RUN, VAR, Proc, cpu_seconds, free_port, pct, wait_port

BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DJANGO_ENV": "development",
    "DEBUG": "0",  # DEBUG keeps every SQL query in memory: never benchmark with it on
    "SECRET_KEY": "bench-only-secret-key-not-for-production-0123456789abcdef",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "LOG_LEVEL": "WARNING",
    # The per-member rate limit (10 per 10 s) is raised for the benchmark: a few sockets stand in
    # for many members, so each sends far faster than a person could.
    "CHAT_RATE_LIMIT_COUNT": "1000000",
    "TORCH_THREADS": "1",
    "PYTHONUNBUFFERED": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}


def env(**extra: str) -> dict[str, str]:
    e = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "DATABASE_URL", "MODERATION_EMBEDDED_WORKER")
    }
    e.update(BASE_ENV)
    e.update({k: str(v) for k, v in extra.items() if v is not None})
    return e


def sqlite_copy(template: Path, name: str) -> str:
    dest = RUN / f"{name}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(dest) + suffix).unlink(missing_ok=True)
    shutil.copyfile(template, dest)
    return f"sqlite:///{dest}"


def start_kindred(
    name: str, *, db_url: str, port: int | None = None, extra: dict[str, str] | None = None
) -> tuple[Proc, int]:
    port = port or free_port()
    p = Proc(
        [PY, "manage.py", "serve", "--port", str(port)],
        env=env(DATABASE_URL=db_url, **(extra or {})),
        log=VAR / "logs" / f"{name}.log",
    )
    wait_port(port, 90, p.p)
    return p, port


def start_worker(name: str, *, db_url: str, extra: dict[str, str] | None = None) -> Proc:
    return Proc(
        [PY, "manage.py", "moderation_worker"],
        env=env(DATABASE_URL=db_url, **(extra or {})),
        log=VAR / "logs" / f"{name}.log",
    )


def start_baseline(name: str) -> tuple[Proc, int]:
    port = free_port()
    p = Proc(
        [PY, "-m", "bench.baseline_ws", "--port", str(port)],
        env=env(),
        log=VAR / "logs" / f"{name}.log",
    )
    wait_port(port, 30, p.p)
    return p, port


def start_samework(name: str, *, db_url: str) -> tuple[Proc, int]:
    """The same-work baseline (bench/baseline_samework.py) on its own database."""
    port = free_port()
    p = Proc(
        [PY, "-m", "bench.baseline_samework", "--port", str(port), "--db", db_url],
        env=env(),
        log=VAR / "logs" / f"{name}.log",
    )
    wait_port(port, 30, p.p)
    return p, port


def settle(
    pids: list[int], *, quiet: float = 0.25, window: float = 0.5, max_wait: float = 90.0
) -> float:
    """Wait until the processes use under `quiet` of a core (model loaded, join storm over)."""
    start = time.monotonic()
    while time.monotonic() - start < max_wait:
        try:
            before = sum(cpu_seconds(p) for p in pids)
            time.sleep(window)
            used = sum(cpu_seconds(p) for p in pids) - before
        except (FileNotFoundError, ProcessLookupError):
            break
        if used / window < quiet:
            break
    return time.monotonic() - start


def _readline(proc: subprocess.Popen, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select(
            [proc.stdout], [], [], max(0.05, min(1.0, deadline - time.monotonic()))
        )
        if r:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("load generator exited early")
            try:
                return json.loads(line)
            except ValueError:
                continue
        if proc.poll() is not None:
            raise RuntimeError(f"load generator exited with {proc.returncode}")
    raise TimeoutError("load generator did not answer in time")


class Fleet:
    """`n` load-generator processes sharing the sockets round-robin."""

    def __init__(
        self,
        *,
        port: int,
        sockets: list[dict[str, Any]],
        n_procs: int,
        mode: str = "fanout",
        steps: list[dict[str, float]] | None = None,
        grace: float = 1.0,
        texts: list[str] | None = None,
        ping_interval: float | None = None,
        record_acks: bool = False,
        record_times: bool = False,
        max_seconds: float = 600,
        name: str = "loadgen",
        connect_deadline: float | None = None,
    ) -> None:
        self.procs: list[Proc] = []
        n_procs = max(1, min(n_procs, len(sockets)))
        shares = [sockets[i::n_procs] for i in range(n_procs)]
        total_senders = sum(1 for s in sockets if s.get("send"))
        offset = 0
        tag = secrets.token_hex(4)
        for i, share in enumerate(shares):
            spec = {
                "mode": mode,
                "base": f"ws://127.0.0.1:{port}",
                "origin": f"http://127.0.0.1:{port}",
                "sockets": share,
                "steps": steps or [],
                "grace": grace,
                "texts": texts,
                "total_senders": total_senders,
                "sender_offset": offset,
                "ping_interval": ping_interval,
                "record_acks": record_acks,
                "record_times": record_times,
                "max_seconds": max_seconds,
                "proc": i,
                "tag": tag,
                "connect_deadline": connect_deadline,
                "connect_concurrency": 64,
            }
            offset += sum(1 for s in share if s.get("send"))
            p = Proc(
                [PY, "-m", "bench.loadgen"],
                env=env(),
                log=None,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            p.p.stdin.write((json.dumps(spec) + "\n").encode())
            p.p.stdin.flush()
            self.procs.append(p)
        self.pids = [p.pid for p in self.procs]

    def ready(self, timeout: float = 300) -> dict[str, Any]:
        out = [_readline(p.p, timeout) for p in self.procs]
        return {
            "connected": sum(o.get("connected", 0) for o in out),
            "failed": sum(o.get("failed", 0) for o in out),
            "gave_up": sum(o.get("gave_up", 0) for o in out),
            "connect_seconds": max(o.get("connect_seconds", 0) for o in out),
            "errors": [o.get("errors") for o in out if o.get("errors")],
        }

    def go(
        self,
        arg: float,
        t0: float | None = None,
        timeout: float = 300,
        step: dict[str, float] | None = None,
        ping_interval: float | None = None,
    ) -> list[dict[str, Any]]:
        """Run step `arg` (fan-out mode; `step` defines its rate and duration when it was not in the
        spec) or hold idle sockets for `arg` seconds, pinging every `ping_interval` (idle mode)."""
        t0 = t0 or time.time() + 0.3
        extra = f" {step['rate']:.6f} {step['duration']:.3f}" if step else ""
        extra += f" {ping_interval:g}" if ping_interval else ""
        for p in self.procs:
            p.p.stdin.write(f"go {t0:.6f} {arg}{extra}\n".encode())
            p.p.stdin.flush()
        return [_readline(p.p, timeout) for p in self.procs]

    def tally(self, timeout: float = 30) -> dict[str, dict[int, int]]:
        """Every step's deliveries, acks and sends counted so far across the fleet, late ones
        included (a step's result counts only what arrived within its grace)."""
        for p in self.procs:
            p.p.stdin.write(b"tally\n")
            p.p.stdin.flush()
        out: dict[str, dict[int, int]] = {"recv": {}, "acked": {}, "sent": {}}
        for p in self.procs:
            t = _readline(p.p, timeout)
            for key in out:
                for k, n in (t.get(key) or {}).items():
                    out[key][int(k)] = out[key].get(int(k), 0) + int(n)
        return out

    def stop(self) -> None:
        for p in self.procs:
            try:
                p.p.stdin.write(b"stop\n")
                p.p.stdin.flush()
            except (BrokenPipeError, OSError):
                pass
        deadline = time.monotonic() + 10
        for p in self.procs:
            try:
                p.p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            p.stop()


def merge_step(results: list[dict[str, Any]], *, members: int, duration: float) -> dict[str, Any]:
    lat = [x for r in results for x in r.get("lat", [])]
    recv = sum(r.get("recv", 0) for r in results)
    sent = sum(r.get("sent", 0) for r in results)
    acked = sum(r.get("acked", 0) for r in results)
    expected = acked * members
    errors: dict[str, int] = {}
    for r in results:
        for k, v in (r.get("errors") or {}).items():
            errors[k] = errors.get(k, 0) + v

    def worst(key: str, q: str) -> float | None:
        vals = [(r.get(key) or {}).get(q) for r in results]
        vals = [v for v in vals if v is not None]
        return max(vals) if vals else None

    return {
        "sent": sent,
        "acked": acked,
        "expected": expected,
        "received": recv,
        "lost": max(0, expected - recv) + (sent - acked) * members,
        "deliveries_per_s": round(recv / duration, 1),
        "p50_ms": pct(lat, 50),
        "p99_ms": pct(lat, 99),
        "p999_ms": pct(lat, 99.9),
        "max_ms": max(lat) if lat else None,
        # The load generator's own health (worst process): sends behind schedule, event loop late.
        "send_lag_p99_ms": worst("send_lag_ms", "p99"),
        "loop_lag_max_ms": worst("loop_lag_ms", "max"),
        "out_of_order": sum(r.get("out_of_order", 0) for r in results),
        "gaps": sum(r.get("gaps", 0) for r in results),
        "errors": errors,
    }
