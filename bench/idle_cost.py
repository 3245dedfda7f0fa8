"""What an idle connected member costs the web process: CPU seconds per socket-minute.

Starts the production-like layout the reliability tests use (a private redis-server, a fresh
database, `manage.py serve`: Daphne plus the embedded worker), opens N member sockets to one room
(5 per member, the per-user cap), lets every socket ping once (so the room socket has handled its
ping, as for a phone that has been idle a while), then measures the server process's CPU time
(utime + stime from /proc) over alternating windows:

- ``json``: each socket sends the client's JSON ping every ``--ping-every`` seconds, staggered,
  and expects its pong (what the browser client does while its page is visible);
- ``silent``: the sockets send nothing; the server's own WebSocket pings are answered by the
  client library, as a browser answers them without JavaScript (a hidden page, or the server's
  keep-alive alone);
- ``empty``: before connecting and after closing, no sockets at all (the process's floor).

Cost per socket-minute = (window CPU - empty CPU rate x window) / (N x window minutes). The
machine is shared, so every window is repeated and the spread is printed; compare figures only
from runs made side by side.

    .venv/bin/python -m bench.idle_cost --sockets 500 --window 60 --reps 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import sys
import time
from pathlib import Path

from websockets.asyncio.client import connect

from tests.browser.conftest import LiveServer, _Database, _free_port
from tests.reliability.conftest import ORIGIN, PrivateRedis

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "test-artifacts" / "idle-cost"
ROOM = "newborn"
PER_USER = 5

_SETUP = r"""
import json
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
# A fast hasher for this throw-away database only: the accounts are made, not logged into.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
from accounts.actions import do_create_account
Store = import_module(settings.SESSION_ENGINE).SessionStore
out = []
for n in range(%d):
    user = do_create_account(username=f"idle{n:04d}", password="idle-cost-only-2026", display_name=f"Idle {n}",
                             role="member", stage="newborn", adult_confirmed=True, guidelines_accepted=True,
                             validate_password_strength=False)
    session = Store()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "accounts.backends.KindredBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    out.append(session.session_key)
print("SESSIONS " + json.dumps(out))
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


class Sockets:
    def __init__(self, base: str, origin: str, cookies: list[str], ping_frame: str) -> None:
        self.base, self.origin, self.cookies, self.ping_frame = base, origin, cookies, ping_frame
        self.sockets: list = []
        self.pongs = 0
        self.missing = 0
        self.connect_retries = 0
        self.readers: list[asyncio.Task] = []

    async def open(self, n: int) -> None:
        async def one(i: int):  # noqa: ANN202
            for attempt in range(5):  # a loaded machine may miss Daphne's 5 s handshake deadline
                try:
                    ws = await connect(
                        f"{self.base}/ws/rooms/{ROOM}/",
                        origin=self.origin,
                        additional_headers={"Cookie": self.cookies[i // PER_USER]},
                        open_timeout=60,
                        ping_interval=None,  # answers the server's pings, sends none of its own
                        max_queue=None,
                    )
                    while json.loads(await ws.recv())["type"] != "room.joined":
                        pass
                    return ws
                except Exception:  # noqa: BLE001
                    self.connect_retries += 1
                    await asyncio.sleep(1 + attempt)
            raise RuntimeError("a socket could not join after 5 attempts")

        for start in range(0, n, 20):
            self.sockets += await asyncio.gather(
                *(one(i) for i in range(start, min(n, start + 20)))
            )
        self.readers = [asyncio.create_task(self._read(ws)) for ws in self.sockets]

    async def _read(self, ws) -> None:  # noqa: ANN001
        async for raw in ws:
            if raw == '{"type":"pong"}' or json.loads(raw).get("type") == "pong":
                self.pongs += 1

    async def ping_all(self, spread: float) -> None:
        """Every socket pings once, spread evenly over `spread` seconds."""
        order = list(self.sockets)
        random.shuffle(order)
        t0 = time.monotonic()
        for k, ws in enumerate(order):
            delay = t0 + spread * k / len(order) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await ws.send(self.ping_frame)

    async def json_window(self, seconds: float, every: float) -> int:
        before = self.pongs
        sent = 0
        end = time.monotonic() + seconds
        while time.monotonic() + every <= end + 0.01:
            await self.ping_all(every)
            sent += len(self.sockets)
        await asyncio.sleep(max(0.0, end - time.monotonic()))
        await asyncio.sleep(1)
        self.missing += sent - (self.pongs - before)
        return sent

    async def close(self) -> None:
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        for task in self.readers:
            task.cancel()


async def measure(pid: int, seconds: float, body) -> tuple[float, float, float]:  # noqa: ANN001
    """(cpu seconds, wall seconds, load average) while `body` runs for `seconds`."""
    c0, t0, l0 = cpu_seconds(pid), time.monotonic(), load1()
    await body(seconds)
    return cpu_seconds(pid) - c0, time.monotonic() - t0, (l0 + load1()) / 2


def summary(xs: list[float]) -> str:
    if len(xs) == 1:
        return f"{xs[0]:.3f}"
    return f"median {statistics.median(xs):.3f} (min {min(xs):.3f}, max {max(xs):.3f}, n={len(xs)})"


async def run(args: argparse.Namespace, stack: dict) -> dict:
    pid = stack["pid"]
    result: dict = {"args": vars(args), "windows": []}

    async def idle(seconds: float) -> None:
        await asyncio.sleep(seconds)

    # The floor: no sockets, once the process has finished starting (the embedded worker loads
    # and warms up for a while after /healthz answers).
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        cpu, wall, _ = await measure(pid, 5, idle)
        if cpu / wall < 0.1:
            break
    empty = []
    for _ in range(2):
        cpu, wall, load = await measure(pid, args.empty_window, idle)
        empty.append(cpu / wall)
        result["windows"].append({"kind": "empty", "cpu_s": cpu, "wall_s": wall, "load1": load})
    socks = Sockets(stack["ws_base"], stack["origin"], stack["cookies"], args.ping_frame)
    t0 = time.monotonic()
    await socks.open(args.sockets)
    result["connect_s"] = round(time.monotonic() - t0, 1)
    result["connect_retries"] = socks.connect_retries
    print(f"{len(socks.sockets)} sockets joined in {result['connect_s']} s", flush=True)
    await socks.ping_all(min(10, args.ping_every))  # primed: each room socket has handled a ping
    await asyncio.sleep(args.settle)
    per: dict[str, list[float]] = {"json": [], "silent": []}
    for rep in range(args.reps):
        kinds = ["json", "silent"] if rep % 2 == 0 else ["silent", "json"]
        for kind in kinds:
            if kind == "json":

                async def body(seconds: float) -> None:
                    await socks.json_window(seconds, args.ping_every)

            else:
                body = idle
            cpu, wall, load = await measure(pid, args.window, body)
            floor = statistics.median(empty) * wall
            cost_ms = (cpu - floor) / (args.sockets * wall / 60) * 1000
            per[kind].append(cost_ms)
            result["windows"].append(
                {
                    "kind": kind,
                    "rep": rep,
                    "cpu_s": round(cpu, 3),
                    "wall_s": round(wall, 1),
                    "load1": round(load, 2),
                    "ms_per_socket_minute": round(cost_ms, 3),
                }
            )
            print(
                f"  rep {rep} {kind:6s} cpu {cpu:6.2f} s in {wall:5.1f} s (load {load:.2f}): "
                f"{cost_ms:.3f} ms CPU per socket-minute",
                flush=True,
            )
    await socks.close()
    await asyncio.sleep(8)
    for _ in range(1):
        cpu, wall, load = await measure(pid, args.empty_window, idle)
        empty.append(cpu / wall)
        result["windows"].append({"kind": "empty", "cpu_s": cpu, "wall_s": wall, "load1": load})
    result["empty_cpu_pct"] = [round(100 * e, 2) for e in empty]
    result["ms_per_socket_minute"] = {k: v for k, v in per.items()}
    result["pongs_missing"] = socks.missing
    for kind, xs in per.items():
        print(f"{kind}: ms CPU per socket-minute {summary(xs)}")
    print(f"empty process: {result['empty_cpu_pct']} % of a core; pongs missing: {socks.missing}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--empty-window", type=float, default=30.0)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument(
        "--ping-every", type=float, default=25.0, help="the client's JSON ping interval"
    )
    parser.add_argument("--ping-frame", default='{"type":"ping"}')
    parser.add_argument("--label", default="run")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    redis = PrivateRedis(OUT / "redis.log")
    redis.start()
    database = _Database()
    env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "REDIS_URL": redis.url,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        "SECRET_KEY": "idle-cost-only-" + "x" * 40,
        "DJANGO_ENV": "development",
        "CHANNEL_PREFIX": f"kindred-idle-{os.getpid()}",
        "MODERATION_CLASSIFIER": "none",
        "MODERATION_SEMANTIC": "false",
        "MODERATION_EMBEDDED_WORKER": "false",  # not part of an idle socket's cost
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = LiveServer(env=env, port=_free_port(), log_path=OUT / f"server-{args.label}.log")
    server.log_path.write_text("")
    try:
        server.manage("migrate", "--noinput")
        import subprocess

        users = -(-args.sockets // PER_USER)
        out = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", _SETUP % users],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        ).stdout
        sessions = json.loads(
            next(x for x in out.splitlines() if x.startswith("SESSIONS ")).removeprefix("SESSIONS ")
        )
        server.start()
        stack = {
            "pid": server.proc.pid,
            "ws_base": f"ws://127.0.0.1:{server.port}",
            "origin": f"{ORIGIN}:{server.port}",
            "cookies": [f"sessionid={s}" for s in sessions],
        }
        result = asyncio.run(run(args, stack))
        result["label"] = args.label
        result["recorded_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        (OUT / f"{args.label}.json").write_text(json.dumps(result, indent=2) + "\n")
    finally:
        server.stop(signal.SIGKILL)
        redis.stop()
        database.drop()


if __name__ == "__main__":
    main()
