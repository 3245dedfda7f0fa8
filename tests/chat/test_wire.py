"""The direct send under Kindred's Daphne (config/wire.py): frames are correct RFC 6455 server
frames, go out at once when nothing is buffered, and never overtake or lose buffered bytes.
Real-server behaviour is covered by tests/reliability/test_room_broadcast.py and
test_fault_slow_client.py; these pin the edge cases a real socket rarely shows on demand."""

from __future__ import annotations

from twisted.internet.main import CONNECTION_LOST

from config.wire import DirectSend, WebSocketProtocol, prepare


class FakeTransport:
    """Twisted's tcp.Connection buffer fields, recording what was sent and what was buffered."""

    def __init__(self, *, accepts: int | None = None, lost: bool = False) -> None:
        self.connected, self.disconnecting = True, False
        self.dataBuffer, self.offset, self._tempDataLen = b"", 0, 0
        self.accepts, self.lost = accepts, lost
        self.sent: list[bytes] = []
        self.buffered: list[bytes] = []

    def writeSomeData(self, data: bytes):  # noqa: ANN201, N802
        if self.lost:
            return CONNECTION_LOST
        n = len(data) if self.accepts is None else min(self.accepts, len(data))
        self.sent.append(bytes(data[:n]))
        return n

    def write(self, data: bytes) -> None:
        self.buffered.append(bytes(data))
        self._tempDataLen += len(data)


class TLSLikeTransport:
    def __init__(self) -> None:
        self.buffered: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.buffered.append(bytes(data))


class FakeProtocol:
    def __init__(self, transport, *, state: int = WebSocketProtocol.STATE_OPEN) -> None:  # noqa: ANN001
        self.transport, self.state = transport, state
        self._perMessageCompress = None
        self.send_queue: list = []
        self.prepared_via_autobahn: list = []

    def sendPreparedMessage(self, prepared) -> None:  # noqa: ANN001, N802
        self.prepared_via_autobahn.append(prepared)


def test_frames_are_unmasked_final_text_frames_with_the_right_length_encoding() -> None:
    short = "Night feeds again 🌙".encode()
    assert prepare("Night feeds again 🌙").payloadHybi == bytes([0x81, len(short)]) + short
    medium = "é" * 100  # 200 bytes: 16-bit length
    assert prepare(medium).payloadHybi[:4] == bytes([0x81, 126, 0, 200])
    long = "x" * 70_000  # 64-bit length
    assert prepare(long).payloadHybi[:10] == bytes([0x81, 127]) + (70_000).to_bytes(8, "big")


def test_an_idle_socket_gets_the_frame_at_once_in_one_send() -> None:
    transport = FakeTransport()
    frame = prepare('{"type":"pong"}')
    assert DirectSend(FakeProtocol(transport)).send(frame) is True
    assert transport.sent == [frame.payloadHybi] and transport.buffered == []


def test_what_the_kernel_does_not_take_is_buffered_in_order() -> None:
    transport = FakeTransport(accepts=3)
    frame = prepare("a slow phone")
    DirectSend(FakeProtocol(transport)).send(frame)
    assert transport.sent[0] + transport.buffered[0] == frame.payloadHybi


def test_a_frame_never_overtakes_bytes_already_buffered() -> None:
    transport = FakeTransport()
    transport.write(b"earlier frame")
    DirectSend(FakeProtocol(transport)).send(prepare("later"))
    assert transport.sent == []
    assert transport.buffered == [b"earlier frame", prepare("later").payloadHybi]


def test_frames_queued_inside_autobahn_or_compression_go_through_autobahn() -> None:
    queued = FakeProtocol(FakeTransport())
    queued.send_queue.append((b"x", True))
    compressed = FakeProtocol(FakeTransport())
    compressed._perMessageCompress = object()
    for protocol in (queued, compressed):
        frame = prepare("hello")
        assert DirectSend(protocol).send(frame) is True
        assert protocol.prepared_via_autobahn == [frame] and protocol.transport.sent == []


def test_a_closing_socket_is_left_to_the_asgi_path() -> None:
    for state in (
        WebSocketProtocol.STATE_CLOSING,
        WebSocketProtocol.STATE_CLOSED,
        WebSocketProtocol.STATE_CONNECTING,
    ):
        transport = FakeTransport()
        assert DirectSend(FakeProtocol(transport, state=state)).send_text("hello") is False
        assert transport.sent == [] and transport.buffered == []


def test_lost_connections_and_non_tcp_transports_fall_back_to_twisted_write() -> None:
    lost = FakeTransport(lost=True)
    DirectSend(FakeProtocol(lost)).send_text("hello")
    assert lost.buffered == [prepare("hello").payloadHybi]
    tls = TLSLikeTransport()
    DirectSend(FakeProtocol(tls)).send_text("hello")
    assert tls.buffered == [prepare("hello").payloadHybi]


class _Answering:
    """Just what KindredWebSocketProtocol.onMessage reads, around a fake transport."""

    def __new__(cls, transport: FakeTransport):  # noqa: ANN204
        from config.daphne import KindredWebSocketProtocol

        p = KindredWebSocketProtocol.__new__(KindredWebSocketProtocol)
        p.transport, p.state, p.muted = transport, WebSocketProtocol.STATE_OPEN, False
        p._perMessageCompress, p.send_queue, p.last_ping = None, [], 0.0
        p.passed_up = []
        p.application_queue = type("Q", (), {"put_nowait": lambda self, m: p.passed_up.append(m)})()
        p.client_addr = None
        return p


def test_a_registered_repeat_is_answered_below_asgi_and_anything_else_goes_up() -> None:
    transport = FakeTransport()
    p = _Answering(transport)
    ping = '{"type": "ping", "read_seq": 7}'
    p.onMessage(ping.encode(), False)  # nothing registered yet: the application handles it
    assert [m["text"] for m in p.passed_up] == [ping] and transport.sent == []
    DirectSend(p).answer_repeats(ping, '{"type": "pong"}')
    p.onMessage(ping.encode(), False)
    assert transport.sent == [prepare('{"type": "pong"}').payloadHybi] and len(p.passed_up) == 1
    assert p.last_ping > 0  # Daphne's keep-alive clock still sees her
    for other in (b'{"type": "ping", "read_seq": 8}', b'{"type":"message.send"}'):
        p.onMessage(other, False)
    p.onMessage(ping.encode(), True)  # binary is never a repeat of a text frame
    assert len(p.passed_up) == 4 and len(transport.sent) == 1


def test_a_repeat_on_a_closing_socket_goes_to_the_application() -> None:
    p = _Answering(FakeTransport())
    DirectSend(p).answer_repeats('{"type": "ping"}', '{"type": "pong"}')
    p.state = WebSocketProtocol.STATE_CLOSING
    p.onMessage(b'{"type": "ping"}', False)
    assert len(p.passed_up) == 1


def test_long_repeats_are_answered_too() -> None:
    transport = FakeTransport()
    p = _Answering(transport)
    long_ping = '{"type": "ping", "read_seq": 1, "pad": "' + "x" * 120 + '"}'
    DirectSend(p).answer_repeats(long_ping, '{"type": "pong"}')
    p.onMessage(long_ping.encode(), False)  # autobahn parsed it: still answered below ASGI
    assert transport.sent == [prepare('{"type": "pong"}').payloadHybi]
