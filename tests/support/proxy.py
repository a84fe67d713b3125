"""A small threaded TCP fault proxy for fault tests (stdlib sockets and threads only).

    with FaultProxy("127.0.0.1", 5672) as proxy:
        url = proxy.amqp_url()          # point the adapter here
        proxy.cut()                     # every open connection is reset, new ones still pass
        proxy.refuse(True)              # an outage: new connections are closed at once
        proxy.stall(True)               # a hung peer: connections stay open, no byte passes
        proxy.delay(0.2)                # latency per forwarded chunk

Every thread is a daemon and every loop wakes at least every ``TICK`` seconds to look at the
flags, so ``stop()`` ends it all in bounded time. While stalled, the proxy does not read
from either side: bytes wait in the kernel buffers and flow again after ``stall(False)``,
unless ``cut()`` reset the connections first (then they are gone, as with a peer that hung
and died).
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from types import TracebackType

TICK = 0.05
CHUNK = 65536


class _Link:
    """One proxied connection: the client's socket and the upstream one."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.closed = threading.Event()
        self._lock = threading.Lock()
        self._half_closed = 0

    def half_close(self, towards: socket.socket) -> None:
        """One direction reached EOF: pass the EOF on; close the link once both did."""
        with contextlib.suppress(OSError):
            towards.shutdown(socket.SHUT_WR)
        with self._lock:
            self._half_closed += 1
            done = self._half_closed >= 2
        if done:
            self.close()

    def close(self, *, reset: bool = False) -> None:
        """Close both sockets, with a TCP reset (RST) if ``reset``; idempotent."""
        with self._lock:
            if self.closed.is_set():
                return
            self.closed.set()
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                if reset:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class FaultProxy:
    """Forwards TCP connections from 127.0.0.1:<free port> to ``target`` with faults on demand."""

    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self._listener: socket.socket | None = None
        self._links: set[_Link] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._refusing = threading.Event()
        self._stalled = threading.Event()
        self._delay = 0.0
        self._threads: list[threading.Thread] = []
        self.accepted = 0
        """Connections accepted so far (refused ones included)."""
        self.refused = 0
        """Connections closed at once because the proxy was refusing."""
        self.cuts = 0
        """Connections reset by ``cut()``."""

    # --- life cycle ------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        """Listen on a free port and accept connections on a daemon thread."""
        if self._listener is not None:
            return self
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        listener.listen(128)
        listener.settimeout(TICK)
        self._listener = listener
        self._stopping.clear()
        self._spawn(self._accept_loop, "proxy-accept")
        return self

    def stop(self) -> None:
        """Stop accepting, close every connection, end every thread (bounded)."""
        self._stopping.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.close()
        for link in self._take_links():
            link.close(reset=True)
        deadline = time.monotonic() + 5
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = [t for t in self._threads if t.is_alive()]

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- addresses -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        if self._listener is None:
            raise RuntimeError("the proxy is not started")
        return int(self._listener.getsockname()[1])

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` to connect to."""
        return (self.host, self.port)

    def url(self, scheme: str, path: str = "", userinfo: str = "") -> str:
        """``scheme://[userinfo@]host:port[path]``."""
        user = f"{userinfo}@" if userinfo else ""
        return f"{scheme}://{user}{self.host}:{self.port}{path}"

    def amqp_url(self, user: str = "guest", password: str = "guest", vhost: str = "%2F") -> str:
        """An AMQP URL through the proxy."""
        return self.url("amqp", f"/{vhost}", f"{user}:{password}")

    def http_url(self, path: str = "/") -> str:
        """An HTTP URL through the proxy."""
        return self.url("http", path)

    # --- faults ----------------------------------------------------------------------------

    def cut(self) -> int:
        """Reset every open connection both ways (new ones still pass); returns how many."""
        links = self._take_links()
        for link in links:
            link.close(reset=True)
        self.cuts += len(links)
        return len(links)

    def refuse(self, on: bool = True) -> None:
        """While on, every new connection is accepted and reset at once (an outage)."""
        if on:
            self._refusing.set()
        else:
            self._refusing.clear()

    def stall(self, on: bool = True) -> None:
        """While on, no byte passes either way; connections stay open (a hung peer)."""
        if on:
            self._stalled.set()
        else:
            self._stalled.clear()

    def delay(self, seconds: float) -> None:
        """Wait ``seconds`` before forwarding each chunk (0: no added latency)."""
        self._delay = max(0.0, seconds)

    @property
    def open_connections(self) -> int:
        """Connections currently proxied."""
        with self._lock:
            return sum(1 for link in self._links if not link.closed.is_set())

    @property
    def alive_threads(self) -> int:
        """The proxy's threads still running (0 after ``stop()``)."""
        return sum(1 for thread in self._threads if thread.is_alive())

    # --- internals -------------------------------------------------------------------------

    def _spawn(self, target: Callable[..., object], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads = [t for t in self._threads if t.is_alive()]
        self._threads.append(thread)

    def _take_links(self) -> list[_Link]:
        with self._lock:
            links, self._links = list(self._links), set()
        return links

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            if self._refusing.is_set() or self._stopping.is_set():
                self.refused += 1
                _reset(client)
                continue
            self._spawn(self._open_link, "proxy-link", client)

    def _open_link(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _reset(client)
            return
        for sock in (client, upstream):
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        link = _Link(client, upstream)
        with self._lock:
            if self._stopping.is_set():
                link.close(reset=True)
                return
            self._links.add(link)
        self._spawn(self._pump, "proxy-up", link, client, upstream)
        self._pump(link, upstream, client)

    def _pump(self, link: _Link, source: socket.socket, target: socket.socket) -> None:
        """Copy ``source`` to ``target`` until EOF, an error, a cut or ``stop()``."""
        eof = False
        try:
            while self._running(link):
                if self._stalled.is_set():
                    time.sleep(TICK)
                    continue
                readable, _, _ = select.select([source], [], [], TICK)
                if not readable or not self._running(link) or self._stalled.is_set():
                    continue
                try:
                    data = source.recv(CHUNK)
                except BlockingIOError:
                    continue
                if not data:
                    eof = True
                    link.half_close(target)
                    break
                if self._delay:
                    time.sleep(self._delay)
                self._send(link, target, data)
        except (OSError, ValueError):
            pass
        if not eof:
            link.close(reset=True)
        if link.closed.is_set():
            with self._lock:
                self._links.discard(link)

    def _send(self, link: _Link, target: socket.socket, data: bytes) -> None:
        view = memoryview(data)
        while view and self._running(link):
            if self._stalled.is_set():
                time.sleep(TICK)
                continue
            _, writable, _ = select.select([], [target], [], TICK)
            if not writable:
                continue
            try:
                sent = target.send(view)
            except BlockingIOError:
                continue
            view = view[sent:]

    def _running(self, link: _Link) -> bool:
        return not self._stopping.is_set() and not link.closed.is_set()


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
