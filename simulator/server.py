"""The simulator's HTTP server: SOAP on ``/soap`` (WSDL on ``GET /soap?wsdl``), admin JSON
on ``/admin/<action>``.

Each connection gets a daemon thread (``ThreadingHTTPServer``); simulated latency and stalls
are slept in that thread without holding any lock, so concurrent calls overlap as they
would against the real central application.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import ssl
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from simulator import soap
from simulator.admin import AdminApi
from simulator.admin_auth import authorized
from simulator.errors import RequestError
from simulator.faults import UNREADABLE_BODIES, FaultKind, Injection
from simulator.messages import peek_header
from simulator.population import mask_numbers
from simulator.record import Call
from simulator.runtime import Runtime
from simulator.tls import handshake, server_context
from simulator.wssecurity import WsSecurityFault, verify_request

log = logging.getLogger("simulator.server")

SOAP_PATH: Final = "/soap"
ADMIN_PREFIX: Final = "/admin/"


def wall_clock() -> str:
    """The real wall-clock time (not the simulated day), for the call record."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class SimulatorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that knows the simulator's parts and its open connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], runtime: Runtime):
        self.runtime = runtime
        config = runtime.config
        self.tls = server_context(config.tls_cert, config.tls_key, config.client_ca)
        self.scheme = "http" if self.tls is None else "https"
        self.admin = AdminApi(runtime)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, SimulatorHandler)

    @property
    def base_url(self) -> str:
        """``http(s)://host:port`` of the bound socket."""
        host, port = self.server_address[:2]
        shown = host if isinstance(host, str) else host.decode()
        return f"{self.scheme}://{shown}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the connection, so stop can close idle keep-alive connections too."""
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection, over TLS when configured (handshake in this thread)."""
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        with self._connections_lock:
            self._connections.discard(request)  # wrapping detaches it: track the TLS socket
        wrapped = handshake(self.tls, request, client_address[0])
        if wrapped is None:
            return
        with self._connections_lock:
            self._connections.add(wrapped)
        try:
            super().finish_request(wrapped, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(wrapped)
            with contextlib.suppress(OSError):
                wrapped.shutdown(socket.SHUT_RDWR)
            wrapped.close()

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection as it closes."""
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log a failed connection; a client that gave up (timeout, drop) is no error."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError | ssl.SSLError):
            log.debug("connection from %s ended early: %s", client_address[0], exc)
        else:
            log.exception("error serving %s", client_address[0])

    def close_connections(self) -> None:
        """Shut down every open connection (their handler threads then end)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class SimulatorHandler(BaseHTTPRequestHandler):
    """Serves one connection's requests."""

    server: SimulatorHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as zeep's requests session expects
    server_version = "vsb-simulator/1.0"
    timeout = 120  # an idle keep-alive connection is closed after this many seconds
    # Headers and body go out in two writes; with Nagle's algorithm the second waits for the
    # client's delayed ACK (~40 ms per call on a kept-alive connection), a delay no real
    # server adds.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Route the access log to logging (URLs carry no personal data)."""
        log.debug("%s " + format, self.address_string(), *args)

    # --- plumbing ----------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_soap(self, status: int, envelope: bytes) -> None:
        """A SOAP envelope, signed with the central application's key when it has one."""
        signer = self.server.runtime.answer_signer
        if signer is not None:
            envelope = signer.sign(envelope, self.server.runtime.now())
        self._send(status, envelope, soap.CONTENT_TYPE)

    def _send_json(self, status: int, body: bytes) -> None:
        self._send(status, body, "application/json")

    def _drop(self) -> None:
        """Close the connection without a response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _read_body(self) -> bytes | None:
        # Without Content-Length or Transfer-Encoding an HTTP/1.1 request has no body.
        length = self.headers.get("Content-Length", "0")
        if "Transfer-Encoding" in self.headers or not length.isdigit():
            self.close_connection = True
            self._send(411, b"a Content-Length is required\n", "text/plain")
            return None
        if int(length) > self.server.runtime.config.max_body_bytes:
            self.close_connection = True
            self._send(413, b"request too large\n", "text/plain")
            return None
        return self.rfile.read(int(length))

    def _wait(self, seconds: float) -> None:
        # An Event wait, not time.sleep: stopping the simulator cuts every stall short.
        if seconds > 0:
            self.server.runtime.stopping.wait(seconds)

    def _stall(self, seconds: float, record: Call | None) -> None:
        """Wait ``seconds``, noting in the record when the client hangs up meanwhile.

        A client that times out closes its connection; from then on the call is no longer
        in processing on its side, which is what the dossier-overlap check must judge.
        """
        deadline = time.monotonic() + seconds
        stopping = self.server.runtime.stopping
        while (remaining := deadline - time.monotonic()) > 0 and not stopping.is_set():
            readable, _, _ = select.select([self.connection], [], [], min(remaining, 0.02))
            if readable:  # a hang-up, or (never from the adapter) a pipelined request
                if record is not None and self._peer_closed():
                    self.server.runtime.recorder.update(record, abandoned_at=time.monotonic())
                break
        self._wait(deadline - time.monotonic())

    def _peer_closed(self) -> bool:
        if isinstance(self.connection, ssl.SSLSocket):
            # TLS allows no MSG_PEEK. A client that does not pipeline sends nothing mid-call
            # but its close_notify before it hangs up: readable means gone.
            return True
        try:
            return bool(self.connection.recv(1, socket.MSG_PEEK) == b"")
        except OSError:
            return True

    # --- routing -----------------------------------------------------------------------

    def do_GET(self) -> None:
        """WSDL, admin reads, or a short hello."""
        parts = urlsplit(self.path)
        if parts.path == SOAP_PATH and "wsdl" in {
            key.lower() for key in parse_qs(parts.query, keep_blank_values=True)
        }:
            host = self.headers.get("Host")
            base = f"{self.server.scheme}://{host}" if host else self.server.base_url
            self._send(
                200, self.server.runtime.app.contract.wsdl(base + SOAP_PATH), soap.CONTENT_TYPE
            )
        elif parts.path.startswith(ADMIN_PREFIX):
            self._admin("GET", parts.path)
        elif parts.path == "/":
            self._send(
                200,
                b"VSB central application simulator: POST /soap, GET /soap?wsdl, /admin/\n",
                "text/plain",
            )
        else:
            self._send(404, b"not found\n", "text/plain")

    def do_POST(self) -> None:
        """SOAP calls and admin actions."""
        path = urlsplit(self.path).path
        if path == SOAP_PATH:
            self._soap()
        elif path.startswith(ADMIN_PREFIX):
            self._admin("POST", path)
        else:
            self._send(404, b"not found\n", "text/plain")

    def _admin(self, method: str, path: str) -> None:
        token = self.server.runtime.config.admin_token
        if not authorized(self.headers.get("Authorization"), token):
            # Closed: an unread request body must not be taken for the next request.
            self.close_connection = True
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Bearer realm="vsb-simulator admin"')
            self.send_header("Content-Type", "application/json")
            refusal = b'{"error": "the admin API needs Authorization: Bearer <admin token>"}'
            self.send_header("Content-Length", str(len(refusal)))
            self.end_headers()
            self.wfile.write(refusal)
            return
        body = b"" if method == "GET" else self._read_body()
        if body is None:
            return
        response = self.server.admin.handle(method, path[len(ADMIN_PREFIX) :].strip("/"), body)
        self._send_json(response.status, response.encoded())

    # --- SOAP --------------------------------------------------------------------------

    def _soap(self) -> None:
        received_at, received_wall = time.monotonic(), wall_clock()
        raw = self._read_body()
        if raw is None:
            return
        runtime = self.server.runtime
        try:
            call = soap.parse_envelope(raw)
        except RequestError as exc:
            self._send_soap(500, soap.fault("Client", str(exc)))
            return
        if runtime.config.require_wssecurity:
            # Before anything else: an unauthenticated call is not recorded, nor faulted.
            try:
                verify_request(
                    call.envelope,
                    runtime.app.trust.lookup,
                    runtime.now(),
                    runtime.config.wssecurity_skew_seconds,
                )
            except WsSecurityFault as exc:
                log.info("%s refused: %s", call.operation, exc)
                self._send_soap(500, soap.fault("Client", str(exc)))
                return
        record = self._record(call, received_at, received_wall)
        injection = runtime.faults.draw(call.operation)
        self._wait(runtime.faults.delay_seconds())
        if injection is not None and not injection.kind.applies:
            self._inject(injection, record)
            return
        status, body, fields = self._process(call)
        if injection is not None:
            fields["injected"] = injection.kind.value
            if injection.kind is FaultKind.APPLY_THEN_DROP:
                self._finish(record, http_status=None, **fields)
                self._drop()
                return
            if injection.kind.replaces_answer:
                # Sent as they are, unsigned: they stand for a broken answer.
                status, (body, content_type) = 200, UNREADABLE_BODIES[injection.kind]
                self._finish(record, http_status=status, **fields)
                self._send(status, body, content_type)
                return
            self._stall(injection.stall_seconds, record)
        self._finish(record, http_status=status, **fields)
        self._send_soap(status, body)

    def _record(self, call: soap.SoapCall, received_at: float, received_wall: str) -> Call | None:
        """Start the record of a Submit call (other operations are not recorded)."""
        if call.operation != "Submit":
            return None
        try:
            peek = peek_header(soap.submit_payload(call))
        except RequestError:
            peek = peek_header(None)
        record = Call(
            received_at=received_at,
            received_wall=received_wall,
            message_id=peek.message_id,
            kind=peek.kind,
            dossier_id=peek.dossier_id,
            sequence=peek.sequence,
        )
        self.server.runtime.recorder.add(record)
        return record

    def _process(self, call: soap.SoapCall) -> tuple[int, bytes, dict[str, Any]]:
        """Run the operation; return HTTP status, body and the facts for the call record."""
        app = self.server.runtime.app
        try:
            if call.operation == "Submit":
                result = app.submit(soap.submit_payload(call))
                fields = {
                    "outcome": result.answer.outcome.value,
                    "answer_id": result.answer.answer_id,
                    "duplicate": result.duplicate,
                }
                return 200, soap.submit_response(result.answer.to_element()), fields
            if call.operation == "FetchAnswers":
                nihdi, limit = soap.fetch_arguments(call)
                answers = [answer.to_element() for answer in app.fetch(nihdi, limit)]
                return 200, soap.fetch_response(answers), {}
            nihdi, answer_ids = soap.confirm_arguments(call)
            return 200, soap.confirm_response(app.confirm(nihdi, answer_ids)), {}
        except RequestError as exc:
            log.info("%s refused: %s", call.operation, mask_numbers(str(exc)))
            return 500, soap.fault("Client", str(exc)), {"fault": f"soap:Client: {exc}"}
        except Exception:
            # A bug in the simulator: say "try again later" rather than "your request is wrong".
            log.exception("%s failed", call.operation)
            text = "internal error in the simulator"
            return 500, soap.fault("Server", text), {"fault": f"soap:Server: {text}"}

    def _inject(self, injection: Injection, record: Call | None) -> None:
        """A fault that strikes before the request is applied."""
        kind = injection.kind
        log.info("injecting %s", kind.value)
        if kind is FaultKind.DROP:
            self._finish(record, injected=kind.value, http_status=None)
            self._drop()
            return
        if kind is FaultKind.HTTP500:
            self._finish(record, injected=kind.value, http_status=500)
            self._send(500, b"Internal Server Error\n", "text/plain")
            return
        if kind is FaultKind.TIMEOUT:
            self._stall(injection.stall_seconds, record)
        text = "simulated timeout" if kind is FaultKind.TIMEOUT else "simulated server fault"
        self._finish(record, injected=kind.value, http_status=500, fault=f"soap:Server: {text}")
        self._send_soap(500, soap.fault("Server", text))

    def _finish(self, record: Call | None, **fields: Any) -> None:
        """Complete the call record; called just *before* the response is written."""
        if record is None:
            return
        fields.update(finished_at=time.monotonic(), finished_wall=wall_clock())
        self.server.runtime.recorder.update(record, **fields)
