"""Small helpers: processes, ports, /proc sampling, statistics. No Django here."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "bench"
# Scratch files (database copies, accounts) of this run only: two runs at once on one machine
# must not overwrite each other's template database and session cookies.
RUN = VAR / "run" / str(os.getpid())
PY = sys.executable


def raise_nofile(limit: int = 20000) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, limit)) if hard != resource.RLIM_INFINITY else max(soft, limit)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    except (ValueError, OSError):
        pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def _preexec() -> None:
    raise_nofile()
    os.setsid()


class Proc:
    """A child process we started; stopped by its own pid (and its session) only."""

    def __init__(
        self,
        args: list[str],
        *,
        env: dict[str, str] | None = None,
        log: Path | None = None,
        stdin: Any = None,
        stdout: Any = None,
    ) -> None:
        self.log = log
        out = stdout
        self._logf = None
        if out is None and log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            self._logf = open(log, "ab")  # noqa: SIM115
            out = self._logf
        self.p = subprocess.Popen(
            args,
            env=env,
            cwd=ROOT,
            stdin=stdin,
            stdout=out,
            stderr=self._logf if self._logf else None,
            preexec_fn=_preexec,
        )
        self.pid = self.p.pid

    def stop(self, timeout: float = 10.0) -> None:
        if self.p.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait(5)
        if self._logf:
            self._logf.close()


# --- /proc sampling -----------------------------------------------------------------------------

CLK = os.sysconf("SC_CLK_TCK")

# Everyday messages for the load generators. None is acted on by the rules or the safety model,
# and each one's own risk score (whole, or its sentences read alone), with the load generator's
# tag, is far below the context floor, so the model never reads them again with her recent
# messages. Four of the eight are two sentences, which the safety model also reads one at a time
# (a third and fourth encode): 44 % of the test split's ordinary messages have two or more.
ORDINARY_TEXTS = [
    "what time do your little ones usually go down for their nap",
    "thanks for the tip about white noise. we will give it a go tonight",
    "we tried the swaddle again and she slept three hours. small wins",
    "which bottles did you all end up using? ours keep leaking at night",
    "does anyone have tips for the four month sleep regression",
    "my health visitor said the same thing, trust your instincts",
    "we found a lovely baby group at the library on tuesday mornings",
    "the pram fits in the boot if you take the wheels off first. took me a week to work that out",
]
# A supportive reply whose own risk score (0.07-0.20 under v8, tag included) is at or above the
# context floor (0.05), so the model reads it again together with her recent messages: a second,
# longer encode. One message in nine is such a line, as 67 of the 605 ordinary messages of the
# safety model's test split are (11 %). Until the bench used this mix, every fan-out and moderation
# scenario sent this line alone, so every message took the second encode.
SUPPORTIVE_REPLY = "thanks so much for this, it really helps to hear"
BENCH_TEXTS = [SUPPORTIVE_REPLY, *ORDINARY_TEXTS]

# Numbers in bench message bodies (the load generators' tags) are written in these twelve plant
# emoji, for 0-9, ":" and ".": in digits they read to the safety model like times and dates and
# lifted benign text's risk score (bench/loadgen.py's docstring has the figures), while the
# tokenizer reads a run of emoji as one unknown word whatever it spells.
TAG_DIGITS = "🌱🌿🍀🌸🌼🌻🌷🌹🌺🍁🍂🍃"
_TO_TAG = str.maketrans("0123456789:.", TAG_DIGITS)
_FROM_TAG = str.maketrans(TAG_DIGITS, "0123456789:.")


def to_tag_digits(text: str) -> str:
    return text.translate(_TO_TAG)


def from_tag_digits(text: str) -> str:
    return text.translate(_FROM_TAG)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        parts = fh.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / CLK


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    import platform

    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "mem_gib": round(mem / 2**30, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# --- statistics ---------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(q / 100 * (len(s) - 1)))))
    return s[k]


def median(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b in (None, 0):
        return None
    return a / b


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def which_ok(name: str) -> bool:
    return shutil.which(name) is not None


# --- shared by the load generators (bench/loadgen.py, bench/soakgen.py) -----------------------


def percentile_summary(values_ms: list[float]) -> dict[str, float | None]:
    """p50, p99 and max of a list of milliseconds (``None`` each when it is empty)."""
    if not values_ms:
        return {"p50": None, "p99": None, "max": None}
    v = sorted(values_ms)
    return {
        "p50": round(v[len(v) // 2], 2),
        "p99": round(v[min(len(v) - 1, int(0.99 * (len(v) - 1) + 0.5))], 2),
        "max": round(v[-1], 2),
    }


async def read_command() -> str:
    """The next line the harness writes to a load generator's stdin, without blocking its loop."""
    loop = asyncio.get_running_loop()
    return (await loop.run_in_executor(None, sys.stdin.readline)).strip()


def emit(obj: dict) -> None:
    """One JSON line to the harness."""
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()
