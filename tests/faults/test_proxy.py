"""The fault proxy itself, against a tiny echo server: forward, cut, refuse, stall, delay, stop."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.proxy import FaultProxy


class EchoServer:
    """Echoes every byte back until the client closes; one daemon thread per connection."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._stopping = threading.Event()
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._echo, args=(connection,), daemon=True).start()

    def _echo(self, connection: socket.socket) -> None:
        connection.settimeout(0.2)
        with connection:
            while not self._stopping.is_set():
                try:
                    data = connection.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                connection.sendall(data)

    def close(self) -> None:
        self._stopping.set()
        self._listener.close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.close()


@pytest.fixture
def proxy(echo: EchoServer) -> Iterator[FaultProxy]:
    with FaultProxy("127.0.0.1", echo.port) as running:
        yield running


def connect(proxy: FaultProxy, timeout: float = 2.0) -> socket.socket:
    return socket.create_connection(proxy.address, timeout=timeout)


def refused(proxy: FaultProxy) -> bool:
    """Whether a new connection is reset or closed at once (before or after connect returns)."""
    try:
        sock = connect(proxy)
    except ConnectionResetError:
        return True
    with sock:
        with contextlib.suppress(OSError):
            sock.sendall(b"anyone?")
        return closed_by_peer(sock)


def receive(sock: socket.socket, size: int) -> bytes:
    """Exactly ``size`` bytes (or fewer if the peer closes)."""
    chunks = []
    while size:
        data = sock.recv(min(size, 65536))
        if not data:
            break
        chunks.append(data)
        size -= len(data)
    return b"".join(chunks)


def closed_by_peer(sock: socket.socket, timeout: float = 2.0) -> bool:
    """Whether the peer closed or reset the connection within ``timeout``."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def test_bytes_pass_both_ways_unchanged(proxy: FaultProxy) -> None:
    """Small and large payloads come back byte for byte, on several connections at once."""
    payload = bytes(range(256)) * 4096  # 1 MiB
    with connect(proxy) as first, connect(proxy) as second:
        first.sendall(b"hello")
        assert receive(first, 5) == b"hello"
        sender = threading.Thread(target=second.sendall, args=(payload,), daemon=True)
        sender.start()
        assert receive(second, len(payload)) == payload
        sender.join(5)
        assert proxy.open_connections == 2
    assert (
        proxy.url("amqp", "/%2F", "guest:guest") == f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2F"
    )
    assert proxy.amqp_url() == f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2F"
    assert proxy.http_url("/soap") == f"http://127.0.0.1:{proxy.port}/soap"


def test_a_half_close_passes_the_eof_on_and_keeps_the_answer(proxy: FaultProxy) -> None:
    """A client that shuts its sending side still gets the echo, then the EOF."""
    with connect(proxy) as sock:
        sock.sendall(b"last words")
        sock.shutdown(socket.SHUT_WR)
        assert receive(sock, 10) == b"last words"
        assert closed_by_peer(sock)


def test_cut_closes_every_open_connection_and_keeps_accepting(proxy: FaultProxy) -> None:
    """After cut() the open connections are gone both ways; a new connection works."""
    with connect(proxy) as first, connect(proxy) as second:
        for sock in (first, second):
            sock.sendall(b"ping")
            assert receive(sock, 4) == b"ping"
        assert proxy.cut() == 2
        assert closed_by_peer(first)
        assert closed_by_peer(second)
    with connect(proxy) as third:
        third.sendall(b"again")
        assert receive(third, 5) == b"again"


def test_refuse_closes_new_connections_until_turned_off(proxy: FaultProxy) -> None:
    """While refusing, a new connection is closed at once and nothing reaches the target."""
    proxy.refuse(True)
    assert refused(proxy)
    assert proxy.refused >= 1
    proxy.refuse(False)
    with connect(proxy) as sock:
        sock.sendall(b"back")
        assert receive(sock, 4) == b"back"


def test_stall_holds_the_bytes_and_the_connection(proxy: FaultProxy) -> None:
    """While stalled nothing passes but the connection stays open; afterwards the bytes flow."""
    with connect(proxy) as sock:
        proxy.stall(True)
        sock.sendall(b"held")
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(4)
        assert proxy.open_connections == 1
        proxy.stall(False)
        sock.settimeout(2)
        assert receive(sock, 4) == b"held"


def test_a_cut_while_stalled_throws_the_held_bytes_away(proxy: FaultProxy) -> None:
    """Bytes held by a stall never arrive once the connection is cut: a hung peer that died."""
    with connect(proxy) as sock:
        proxy.stall(True)
        sock.sendall(b"lost")
        time.sleep(0.2)
        proxy.cut()
        proxy.stall(False)
        assert closed_by_peer(sock)


def test_delay_adds_latency_per_chunk(proxy: FaultProxy) -> None:
    """With a delay of 0.2 s a round trip (two chunks) takes at least 0.4 s."""
    proxy.delay(0.2)
    with connect(proxy) as sock:
        started = time.monotonic()
        sock.sendall(b"slow")
        assert receive(sock, 4) == b"slow"
        assert time.monotonic() - started >= 0.4
    proxy.delay(0)


def test_an_unreachable_target_closes_the_client() -> None:
    """With nothing listening behind the proxy a client connection is closed at once."""
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        free_port = int(placeholder.getsockname()[1])
    with FaultProxy("127.0.0.1", free_port) as proxy:
        assert refused(proxy)


def test_stop_closes_everything_and_ends_its_threads(echo: EchoServer) -> None:
    """stop() resets open connections, stops listening and ends every thread in bounded time."""
    proxy = FaultProxy("127.0.0.1", echo.port).start()
    port = proxy.port
    sock = connect(proxy)
    sock.sendall(b"x")
    assert receive(sock, 1) == b"x"
    proxy.stall(True)
    started = time.monotonic()
    proxy.stop()
    assert time.monotonic() - started < 2
    assert closed_by_peer(sock)
    sock.close()
    assert proxy.alive_threads == 0
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
