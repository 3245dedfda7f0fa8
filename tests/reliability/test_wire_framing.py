"""WebSocket framing on the real server, driven byte by byte over a raw socket (issue #17).

Kindred used to recognise a repeated keep-alive ping on the wire, before autobahn's frame parser.
A ping (or Close) header sent in one write, followed in the next by payload bytes equal to a
masked repeat, was then answered with a JSON pong from inside the control frame, and the stream
was misread from there on. The framing is now autobahn's alone; these tests hold the server to
RFC 6455 where that shortcut broke it, and for the protocol errors the server used to answer by
dropping TCP without a Close frame (§7.1.7)."""

from __future__ import annotations

import json
import os
import random
import socket
import struct
import time

import pytest

from tests.reliability.conftest import MEMBERS, Stack
from tests.reliability.rawsocket import RawWebSocket, frame

pytestmark = [pytest.mark.slow, pytest.mark.integration]

ROOM = "newborn"
NAME = MEMBERS[14]
PING = json.dumps({"type": "ping"}).encode()
PONG = json.dumps({"type": "pong"})
TEXT, CLOSE, CONTROL_PING, CONTROL_PONG = 0x1, 0x8, 0x9, 0xA


def _open(stack: Stack) -> RawWebSocket:
    ws = RawWebSocket(
        "127.0.0.1",
        stack.server.port,
        f"/ws/rooms/{ROOM}/",
        origin=stack.origin,
        cookie=stack.cookie(NAME),
        rcvbuf=65536,
    )
    ws.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = ws.recv_frame(timeout=deadline - time.monotonic())
        if got and got.get("type") == "room.joined":
            return ws
    raise AssertionError("room.joined never came")


def _answers(
    ws: RawWebSocket, seconds: float, *, until: int | None = None
) -> list[tuple[int, bytes]]:
    """Every frame that answers the client (pongs, errors, Close) in the next `seconds`; the
    room's own traffic (presence and the like) is left out. Stops early after `until` answers."""
    out: list[tuple[int, bytes]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (until is None or len(out) < until):
        got = ws.recv_any(timeout=deadline - time.monotonic())
        if got is None:
            break
        opcode, payload = got
        if opcode == TEXT and json.loads(payload).get("type") not in ("pong", "error"):
            continue
        out.append(got)
        if opcode == CLOSE:
            break
    return out


def _registered_repeat(ws: RawWebSocket) -> None:
    """Two JSON pings answered: the second is a repeat the server may answer below ASGI."""
    for _ in range(2):
        ws.send_bytes(frame(TEXT, PING))
        assert _answers(ws, 5, until=1) == [(TEXT, PONG.encode())]


def _masked(payload: bytes, mask: bytes) -> bytes:
    return bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def test_a_ping_whose_payload_looks_like_a_repeat_gets_its_pong_frame(stack: Stack) -> None:
    ws = _open(stack)
    try:
        _registered_repeat(ws)
        lookalike = frame(TEXT, PING)  # the exact bytes of a masked repeat ping
        mask = os.urandom(4)
        ws.send_bytes(bytes([0x80 | CONTROL_PING, 0x80 | len(lookalike)]) + mask)
        time.sleep(0.3)  # its own read on the server
        ws.send_bytes(lookalike)  # the ping's payload, as sent on the wire
        # RFC 6455 §5.5.3: a Pong echoing the ping's (unmasked) payload, and nothing else.
        assert _answers(ws, 2) == [(CONTROL_PONG, _masked(lookalike, mask))]
        # The stream is still read in step: an ordinary ping is answered as before.
        ws.send_bytes(frame(TEXT, PING))
        assert _answers(ws, 5, until=1) == [(TEXT, PONG.encode())]
    finally:
        ws.close()


def test_a_close_whose_payload_looks_like_a_repeat_is_answered_with_close_only(
    stack: Stack,
) -> None:
    ws = _open(stack)
    try:
        _registered_repeat(ws)
        # Fixed masks, so the Close's unmasked payload (status code and reason) is the same every run.
        lookalike = frame(TEXT, PING, mask=b"\x5a\x17\xc3\x08")
        ws.send_bytes(bytes([0x80 | CLOSE, 0x80 | len(lookalike)]) + b"\x21\x42\x63\x84")
        time.sleep(0.3)
        ws.send_bytes(lookalike)
        answers = _answers(ws, 5)
        assert [opcode for opcode, _ in answers] == [CLOSE], (
            answers,
            ws.closed,
        )  # no pong from inside it
    finally:
        ws.close()


@pytest.mark.parametrize(
    ("broken", "code"),
    [
        (frame(TEXT, PING, mask=None), 1002),  # a client frame must be masked (§5.1)
        (frame(TEXT, PING, rsv=4), 1002),  # RSV1 without an extension (§5.2)
        (frame(0x3, b"reserved"), 1002),  # a reserved opcode (§5.2)
        (frame(CONTROL_PING, b"split", fin=False), 1002),  # a fragmented control frame (§5.5)
        (frame(TEXT, b'{"type": "ping", "x": "\xff\xfe"}'), 1007),  # text that is not UTF-8 (§8.1)
    ],
    ids=["unmasked", "rsv", "opcode", "fragmented-ping", "utf8"],
)
def test_a_protocol_error_gets_a_close_frame_with_its_code_before_the_connection_ends(
    stack: Stack, broken: bytes, code: int
) -> None:
    ws = _open(stack)
    try:
        ws.send_bytes(broken)
        answers = _answers(ws, 5)
        assert answers and answers[-1][0] == CLOSE, f"no Close frame, only {answers}"
        assert struct.unpack(">H", answers[-1][1][:2])[0] == code
        # ... and then the server ends the connection (at once or after its close-handshake timeout).
        deadline = time.monotonic() + 5
        while not ws.closed and time.monotonic() < deadline:
            ws.recv_any(timeout=deadline - time.monotonic())
        assert ws.closed
    finally:
        ws.close()


def test_frames_split_anywhere_across_reads_get_every_answer_in_order(stack: Stack) -> None:
    """An independent check of the server's framing with the ping shortcut in place: a stream of
    JSON pings (repeats the server answers below ASGI) and control pings, cut at random byte
    positions into separate writes, gets exactly one answer per frame, in order."""
    rng = random.Random(17)
    ws = _open(stack)
    try:
        _registered_repeat(ws)
        for _ in range(25):
            sent, expected = [], []
            for _ in range(rng.randint(3, 6)):
                if rng.random() < 0.5:
                    sent.append(frame(TEXT, PING))
                    expected.append((TEXT, PONG.encode()))
                else:
                    body = os.urandom(rng.randint(0, 20))
                    sent.append(frame(CONTROL_PING, body))
                    expected.append((CONTROL_PONG, body))
            stream = b"".join(sent)
            cuts = sorted(rng.sample(range(1, len(stream)), rng.randint(1, 6)))
            for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
                ws.send_bytes(stream[a:b])
                time.sleep(0.02)
            assert _answers(ws, 5, until=len(expected)) == expected
    finally:
        ws.close()
