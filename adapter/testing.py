"""Test doubles for the adapter's boundaries (the central application, the clock), and keys.

Like a stub broker, they let the engine run without the network; the project's own tests use
them for the engine's decisions, and the real components everywhere the issue asks for them.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from adapter.store.sealing import Keyring, Sealer, StoreKey, add_index_key, add_key, new_key_id

if TYPE_CHECKING:
    from adapter.batch_file import SignedBatch


def memory_sealer() -> Sealer:
    """A sealer on one fresh random AES-256 key held in memory only (real AES-GCM)."""
    key = StoreKey(new_key_id(), os.urandom(32))
    return Sealer(Keyring((key,), "(test keyring in memory)", index_secret=os.urandom(32)))


def keyring_file(path: Path) -> Path:
    """A keyring file at ``path`` (mode 600) with one fresh key, unless one is there already."""
    if not path.exists():
        add_key(path)
        add_index_key(path)
    return path


class FixedClock:
    """A clock that moves only when told to; its ``sleep`` moves it instead of waiting."""

    def __init__(self, now: datetime) -> None:
        self.current = now
        self.elapsed = 0.0
        """Seconds moved so far: the monotonic reading."""
        self.slept: list[float] = []
        """Every ``sleep`` asked for, in order."""

    def now(self) -> datetime:
        """The held time."""
        return self.current

    def monotonic(self) -> float:
        """Seconds moved since the clock was made."""
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        """Record the sleep and move the clock by it, at once."""
        self.slept.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        """Move forward by ``seconds``."""
        self.current += timedelta(seconds=seconds)
        self.elapsed += seconds


Reply = etree._Element | Exception | Callable[[etree._Element], etree._Element]


class ScriptedCentral:
    """A ``CentralTransport`` that answers Submit from a script of replies, in order.

    Each reply is an answer element, an exception to raise, or a function of the submitted
    message. Submitted messages are kept in ``submitted``; the mailbox is a plain list.
    """

    def __init__(self, replies: Sequence[Reply] = ()) -> None:
        self.replies: deque[Reply] = deque(replies)
        self.submitted: list[etree._Element] = []
        self.mailbox: list[etree._Element] = []
        self.confirmed: list[str] = []

    def submit(self, message: etree._Element) -> etree._Element:
        """Record the message and play the next reply."""
        self.submitted.append(message)
        if not self.replies:
            raise AssertionError("ScriptedCentral ran out of replies")
        reply = self.replies.popleft()
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, etree._Element):
            return reply
        return reply(message)

    def submit_file(self, batch: SignedBatch) -> etree._Element:
        """Read the batch file back as a tree (small test batches), then as ``submit``."""
        parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
        return self.submit(etree.parse(str(batch.path), parser).getroot())

    def fetch_answers(self, nihdi: str, limit: int) -> list[etree._Element]:
        """The unconfirmed mailbox answers."""
        return self.mailbox[:limit]

    def confirm_answers(self, nihdi: str, answer_ids: Sequence[str]) -> int:
        """Drop confirmed answers from the mailbox."""
        ns = "{urn:vsb-adapter:vsb:1}"
        before = len(self.mailbox)
        self.mailbox = [a for a in self.mailbox if a.findtext(f"{ns}AnswerId") not in answer_ids]
        self.confirmed += list(answer_ids)
        return before - len(self.mailbox)
