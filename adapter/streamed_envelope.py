"""The SOAP envelope of a Submit around a signed batch file, sent as a stream, never a tree.

zeep builds an envelope as a tree and serialises it whole: for an invoice batch of 100,000
lines that is the tree ``adapter.batch_file`` exists to avoid. Here the envelope is bytes
around the file::

    <soap:Envelope><soap:Header><wsse:Security>…</wsse:Security></soap:Header>
    <soap:Body wsu:Id=…><c:SubmitRequest>  the file's bytes  </c:SubmitRequest></soap:Body>
    </soap:Envelope>

The WS-Security header is the one ``adapter.wssecurity`` builds for every request (the same
functions make its Timestamp, token and Signature). Only the Body's digest is taken
differently: the batch file is its own exclusive canonical form, so the canonical Body is
``frame.start`` + the file + ``frame.end``, hashed while the file is written
(``adapter.batch_file``). The Body sent is those very bytes, so the receiver's digest of
what it parsed equals it, and a byte of the file changed after signing fails the
receiver's WS-Security check (wsse:FailedCheck).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final

from cryptography import x509
from lxml import etree

from adapter.wssecurity import (
    SOAP_ENV,
    WSU,
    HeaderIds,
    add_security,
    add_signature,
    exclusive_c14n,
)

if TYPE_CHECKING:
    from adapter.batch_file import SignedBatch

CENTRAL: Final = "urn:vsb-adapter:central:1"
_CLOSING: Final = b"</soap:Envelope>"
CHUNK_BYTES: Final = 1 << 20
"""What is read from the file and handed to the socket at a time."""

Identity = Callable[[], tuple[Callable[[bytes], bytes], x509.Certificate]]
"""``Signer.header_identity``: a signing function and its certificate, from one read."""


@dataclass(frozen=True)
class BodyFrame:
    """The canonical bytes of the ``soap:Body`` before and after the batch file."""

    body_id: str
    start: bytes
    """``<soap:Body …wsu:Id=…><c:SubmitRequest …>``, as exclusive c14n renders them."""
    end: bytes
    """``</c:SubmitRequest></soap:Body>``."""


def body_frame(body_id: str | None = None) -> BodyFrame:
    """The Body's canonical start and end around a payload, for ``body_id`` (or a new one).

    Taken from lxml's own exclusive c14n of a Body holding a marker, not written by hand:
    the namespace declarations and the attribute order are then c14n's, on both sides.
    """
    body_id = body_id or f"Body-{uuid.uuid4().hex}"
    marker = uuid.uuid4().hex
    body = etree.Element(f"{{{SOAP_ENV}}}Body", nsmap={"soap": SOAP_ENV, "wsu": WSU})
    body.set(f"{{{WSU}}}Id", body_id)
    etree.SubElement(body, f"{{{CENTRAL}}}SubmitRequest", nsmap={"c": CENTRAL}).text = marker
    start, end = exclusive_c14n(body).split(marker.encode())
    return BodyFrame(body_id, start, end)


class StreamedEnvelope:
    """One Submit's request body: iterable in chunks, with a length (so it goes with a
    Content-Length, not chunked). Each send needs a new one: the Timestamp is fresh and an
    iteration reads the file once."""

    def __init__(self, head: bytes, path: Path, size: int, tail: bytes) -> None:
        self._head, self._path, self._size, self._tail = head, path, size, tail

    def __len__(self) -> int:
        return len(self._head) + self._size + len(self._tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self._head
        sent = 0
        with self._path.open("rb") as batch:
            while chunk := batch.read(CHUNK_BYTES):
                sent += len(chunk)
                yield chunk
        if sent != self._size:
            # The Content-Length already went out: better a broken request than one that
            # frames another file's bytes as this batch.
            raise OSError(f"batch file {self._path.name} changed size while it was sent")
        yield self._tail


def streamed_envelope(
    batch: SignedBatch, identity: Identity | None, now: datetime, ttl_seconds: float
) -> StreamedEnvelope:
    """The Submit envelope of ``batch``: signed by ``identity`` (the WS-Security header over
    the Body and a Timestamp valid ``ttl_seconds`` from ``now``), or bare without one."""
    frame = batch.frame
    head = b'<soap:Envelope xmlns:soap="' + SOAP_ENV.encode() + b'">'
    if identity is not None:
        sign, certificate = identity()  # one read: a reload cannot pair new token, old key
        header = etree.Element(f"{{{SOAP_ENV}}}Header", nsmap={"soap": SOAP_ENV})
        ids = HeaderIds.fresh(body=frame.body_id)
        security, timestamp = add_security(header, ids, certificate, now, ttl_seconds)
        add_signature(security, ids, sign, batch.body_digest, timestamp)
        head += bytes(etree.tostring(header))
    return StreamedEnvelope(head + frame.start, batch.path, batch.size, frame.end + _CLOSING)
