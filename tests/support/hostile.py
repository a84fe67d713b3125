"""A tiny HTTP server that answers every POST with bytes the test chose: a hostile endpoint.

Real sockets and real HTTP, so the adapter's whole reading path (requests, the size limit,
zeep's parser) meets the bytes as it would meet a broken or malicious central application.
Every request line is recorded, so a test can tell that a document made no network access.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
CENTRAL = "urn:vsb-adapter:central:1"


@dataclass
class Reply:
    """What the server sends: a status, a content type and a body (or chunks of one)."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/xml; charset=utf-8"
    chunks: Iterator[bytes] | None = None
    """Sent with chunked transfer encoding and no Content-Length, when set."""


@dataclass
class HostileServer:
    """Serves ``reply`` to every POST; records every request path."""

    reply: Reply = field(default_factory=Reply)
    requests: list[str] = field(default_factory=list)
    sent_bytes: int = 0

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read ``requests`` instead."""

            def do_GET(self) -> None:
                server.requests.append(f"GET {self.path}")
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                server.requests.append(f"POST {self.path}")
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                reply = server.reply
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                if reply.chunks is None:
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    server.sent_bytes += len(reply.body)
                    return
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in reply.chunks:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        server.sent_bytes += len(chunk)
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    self.close_connection = True  # the client stopped reading: as it should

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The SOAP endpoint's address."""
        return f"http://127.0.0.1:{self._http.server_address[1]}/soap"

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._http.shutdown()
        self._http.server_close()


def envelope(response: bytes, prolog: bytes = b"") -> bytes:
    """A SOAP envelope around one response element (given as XML text)."""
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        + prolog
        + b'<soap:Envelope xmlns:soap="'
        + SOAP_ENV.encode()
        + b'"><soap:Body>'
        + response
        + b"</soap:Body></soap:Envelope>"
    )


def submit_response(answer: bytes, prolog: bytes = b"") -> bytes:
    """A SubmitResponse envelope carrying ``answer`` (XML text of a vsb:Answer, or anything)."""
    return envelope(
        b'<c:SubmitResponse xmlns:c="' + CENTRAL.encode() + b'">' + answer + b"</c:SubmitResponse>",
        prolog,
    )
