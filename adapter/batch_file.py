"""An invoice batch written signed to a private file, for the time of its Submit only.

A batch of 100,000 lines is never a tree in the adapter (docs/performance.md, set H): it is
written as a stream (``mappings.invoice_batch.write_batch``), its streamed XAdES signature
appended (``adapter.streamed_signature``), then validated as a stream. The file holds
personal data in clear (INSZ numbers), so it is created 0600 in the configured directory
(``delivery.batch_directory``) and removed when the ``with`` block ends, whether the Submit
succeeded or anything on the way failed; a crash leaves it behind, and the daemon deletes
such a file once it is older than any Submit can last (``remove_stale``).

The bytes written are their own exclusive canonical form (tests/engine/test_batch_submit.py
checks it against lxml's), so the SHA-256 of the WS-Security Body — the Body's canonical
start tag, the file, its end — is taken while the file is written, in the same pass
(``adapter.streamed_envelope``). A byte changed afterwards fails the receiver's check.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from adapter.signing import Signer
from adapter.streamed_envelope import BodyFrame, body_frame
from adapter.streamed_signature import streamed_signature
from mappings import vsb_schema
from mappings.invoice_batch import (
    CLOSING_TAG,
    PREFIX,
    ROOT,
    BatchHead,
    Invoice,
    validate_batch,
    write_batch,
)

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

_BUFFER_BYTES = 1 << 20
_PREFIX, _SUFFIX = "batch-", ".xml"


@dataclass(frozen=True)
class SignedBatch:
    """A batch file signed and validated, ready for ``CentralTransport.submit_file``."""

    path: Path
    size: int
    """Bytes in the file, signature and closing tag included."""
    invoices: int
    lines: int
    message_id: str
    """The batch's VSB message id (``vsb:Header/vsb:MessageId``)."""
    frame: BodyFrame
    """The canonical Body around the file in its Submit envelope."""
    body_digest: bytes
    """SHA-256 of ``frame.start`` + the file + ``frame.end``: the WS-Security Body digest."""


class _Hashing(io.RawIOBase):
    """Writes through to a file and hashes exactly the bytes the file took."""

    def __init__(self, raw: BinaryIO, digest: hashlib._Hash) -> None:
        self._raw = raw
        self._digest = digest
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        view = memoryview(data)
        count = self._raw.write(view) or 0
        self._digest.update(view[:count])
        self.size += count
        return count


@contextmanager
def write_signed_batch(
    head: BatchHead, invoices: Iterable[Invoice], signer: Signer, directory: Path
) -> Iterator[SignedBatch]:
    """Write, sign and validate the batch in a new 0600 file in ``directory``; yield it.

    The file is deleted when the block ends, and on any failure before (a value refused by
    the writer, ``SchemaViolation`` from the validation, a full disk). ``directory`` is made
    (0700) if missing. The signing time is ``head.created_at``.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    frame = body_frame()
    digest = hashlib.sha256(frame.start)
    # mkstemp creates the file O_EXCL with mode 0600 whatever the umask.
    handle, name = tempfile.mkstemp(prefix=_PREFIX, suffix=_SUFFIX, dir=directory)
    path = Path(name)
    try:
        with os.fdopen(handle, "wb", buffering=0) as raw:
            hashing = _Hashing(raw, digest)
            with io.BufferedWriter(hashing, _BUFFER_BYTES) as out:
                written = write_batch(out, head, invoices)
                out.write(
                    streamed_signature(
                        signer,
                        written.digest,
                        vsb_schema.qname(ROOT),
                        {PREFIX: vsb_schema.VSB_NS},
                        head.created_at,
                    )
                )
                out.write(CLOSING_TAG)
        digest.update(frame.end)
        validate_batch(str(path))
        yield SignedBatch(
            path=path,
            size=hashing.size,
            invoices=written.invoices,
            lines=written.lines,
            message_id=head.message_id,
            frame=frame,
            body_digest=digest.digest(),
        )
    finally:
        path.unlink(missing_ok=True)


def remove_stale(directory: Path, older_than_seconds: float, now: float) -> int:
    """Delete batch files a crash left behind (older than any Submit can last); how many.

    A file in flight is never that old: a Submit ends within the central application's
    timeout, and a send that outlives its lease is resent from a new file anyway.
    """
    removed = 0
    for path in directory.glob(f"{_PREFIX}*{_SUFFIX}"):
        try:
            if now - path.stat().st_mtime > older_than_seconds:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # its own send ended meanwhile
    return removed
