"""A deliberately minimal WebSocket client over a plain TCP socket, for a reader that can really
stop reading: with a tiny receive buffer and nobody calling recv(), the server's writes back up
(first in the kernel, then in Daphne's own buffers), as with a phone that froze or lost signal."""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import time
from typing import Any


class RawWebSocket:
    def __init__(
        self, host: str, port: int, path: str, *, origin: str, cookie: str, rcvbuf: int = 4096
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connect, so the window the server sees is small from the first byte.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(5)
        self.sock.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\nCookie: {cookie}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise ConnectionError(f"handshake refused: {status!r}")
        self.bytes_read = 0
        self.closed = False

    def _fill(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except TimeoutError:
            return False
        except (ConnectionResetError, BrokenPipeError):
            self.closed = True
            return False
        if not chunk:
            self.closed = True
            return False
        self.bytes_read += len(chunk)
        self.buf += chunk
        return True

    def _need(self, n: int, deadline: float) -> bool:
        while len(self.buf) < n:
            if not self._fill(deadline):
                return False
        return True

    def recv_any(self, timeout: float) -> tuple[int, bytes] | None:
        """The next frame of any kind as (opcode, payload), or None on timeout/close."""
        deadline = time.monotonic() + timeout
        if not self._need(2, deadline):
            return None
        length, offset = self.buf[1] & 0x7F, 2
        if length == 126:
            if not self._need(4, deadline):
                return None
            length, offset = struct.unpack(">H", self.buf[2:4])[0], 4
        elif length == 127:
            if not self._need(10, deadline):
                return None
            length, offset = struct.unpack(">Q", self.buf[2:10])[0], 10
        if not self._need(offset + length, deadline):
            return None
        opcode = self.buf[0] & 0x0F
        payload, self.buf = self.buf[offset : offset + length], self.buf[offset + length :]
        return opcode, payload

    def send_bytes(self, data: bytes) -> None:
        """Bytes exactly as given, in one write: for frames built by hand (`frame`)."""
        self.sock.sendall(data)

    def recv_frame(self, timeout: float) -> dict[str, Any] | None:
        """The next text frame as JSON, or None on timeout/close. Control frames are skipped."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.recv_any(deadline - time.monotonic())
            if got is None:
                return None
            opcode, payload = got
            if opcode == 0x8:
                self.closed = True
                return None
            if opcode == 0x1:
                return json.loads(payload.decode("utf-8"))

    def send_raw(self, opcode: int, payload: bytes) -> None:
        """A masked frame, as a client must send (opcode 1 text, 2 binary)."""
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x80 | opcode])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        try:
            self.sock.sendall(header + mask + masked)
        except (ConnectionResetError, BrokenPipeError):
            self.closed = True

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bytes | None = b"",
) -> bytes:
    """One client frame built by hand (RFC 6455 §5.2), short payloads only: `mask=None` sends it
    unmasked (a protocol error from a client), `mask=b""` masks it with a fresh random key."""
    assert len(payload) <= 125
    if mask == b"":
        mask = os.urandom(4)
    head = bytes(
        [
            (0x80 if fin else 0) | (rsv << 4) | opcode,
            (0x80 if mask is not None else 0) | len(payload),
        ]
    )
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
