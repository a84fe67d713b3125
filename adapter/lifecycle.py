"""The lifecycle of a message in the log: one structured line per step, ids as fields.

A step line's message is the step's name (``received``, ``stored``, ``sent``, ...) and its
fields say which event, message, answer and dossier it is about, in which stage of the
engine, and how long the step took (``duration_ms``; what it measures is said per step in
docs/sysadmin.md). The engine calls ``step`` once per step and message, so that a message can
be followed from the EPD's event to its published answer with one filter on ``event_id``.

The dossier is never written in clear: an EPD's dossier id may hold a name or an INSZ. It is
a keyed digest, ``d:`` and 12 hex digits, under a key derived from the store keyring's
``@index`` secret, so that whoever reads the logs without the keyring cannot test guesses
against it; ``vsb-adapter dossier`` takes the digest as well as the id (``DossierTags``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from enum import StrEnum
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from adapter.logs import FIELDS
from mappings import dossier_key

log = logging.getLogger("adapter.lifecycle")

_TAG = re.compile(r"^d:[0-9a-f]{12}$")
_DOSSIER_PREFIX = dossier_key("")


class Step(StrEnum):
    """The steps of a message's life, each one line."""

    RECEIVED = "received"
    """A delivery was read and checked (valid or not)."""
    STORED = "stored"
    """Its event is in the store (``result``: stored, invalid, conflict, duplicate)."""
    SENT = "sent"
    """Its message was submitted and the central application answered."""
    ANSWERED = "answered"
    """An answer to it was stored (``source``: sync, mailbox, adapter)."""
    PUBLISHED = "published"
    """An answer was published to the EPD and confirmed by RabbitMQ."""
    RETRIED = "retried"
    """A try failed transiently; it is tried again later."""
    DEAD_LETTERED = "dead-lettered"
    """It was given up until support staff act (or, at ingest, sent to the broker's DLQ)."""
    REPLAYED = "replayed"
    """Support staff put a dead letter back at the head of its dossier."""
    DISCARDED = "discarded"
    """Support staff gave a dead letter up; the EPD is answered so."""
    RESTORED = "restored"
    """Support staff brought a discarded message back."""


class Stage(StrEnum):
    """The part of the adapter that took the step."""

    INGEST = "ingest"
    SEND = "send"
    MAILBOX = "mailbox"
    OUTBOX = "outbox"
    SUPPORT = "support"


_LEVELS = {Step.DEAD_LETTERED: logging.ERROR}


class DossierTags:
    """Dossier ids as the logs show them: ``d:`` and 12 hex digits of a keyed HMAC-SHA256.

    Without a secret (a keyring without its ``@index`` line) the digest is unkeyed: still
    no dossier id in clear, but one a reader can test guesses against.
    """

    def __init__(self, secret: bytes | None) -> None:
        self.keyed = secret is not None
        self._key = (
            HKDF(hashes.SHA256(), 32, salt=None, info=b"vsb-adapter log dossier tag").derive(secret)
            if secret is not None
            else b"vsb-adapter log dossier tag, unkeyed"
        )

    def of_id(self, dossier_id: str) -> str:
        """The tag of an EPD dossier id."""
        digest = hmac.new(self._key, dossier_id.encode(), hashlib.sha256).hexdigest()
        return f"d:{digest[:12]}"

    def of_key(self, ordering_key: str) -> str:
        """The tag of an ordering key: a dossier's by its id; any other key (a care fund's
        batches) by the whole key, under ``k:``."""
        if ordering_key.startswith(_DOSSIER_PREFIX):
            return self.of_id(ordering_key.removeprefix(_DOSSIER_PREFIX))
        digest = hmac.new(self._key, ordering_key.encode(), hashlib.sha256).hexdigest()
        return f"k:{digest[:12]}"


def is_tag(text: str) -> bool:
    """True if ``text`` is a dossier as the logs show it (``d:`` and 12 hex digits)."""
    return _TAG.match(text) is not None


_tags = DossierTags(None)


def use_secret(secret: bytes | None) -> None:
    """Tag dossiers under ``secret`` from now on (the daemon passes its keyring's index key)."""
    global _tags
    _tags = DossierTags(secret)


def tags() -> DossierTags:
    """The tags the step lines use."""
    return _tags


def step(
    name: Step,
    stage: Stage,
    *,
    event_id: str | None = None,
    message_id: str | None = None,
    answer_id: str | None = None,
    dossier_id: str | None = None,
    ordering_key: str | None = None,
    event_code: str | None = None,
    seconds: float | None = None,
    **fields: object,
) -> None:
    """Log one lifecycle line: ``name`` as its message, the ids and ``fields`` as fields.

    ``dossier_id`` (the EPD's) or ``ordering_key`` (the store's) becomes the ``dossier``
    field, as a tag; ``seconds`` becomes ``duration_ms``. ``dead-lettered`` is an ERROR,
    every other step INFO.
    """
    level = _LEVELS.get(name, logging.INFO)
    if not log.isEnabledFor(level):
        return
    values: dict[str, object] = {"step": name.value, "stage": stage.value}
    for key, value in (
        ("event_id", event_id),
        ("message_id", message_id),
        ("answer_id", answer_id),
        ("event_code", event_code),
    ):
        if value is not None:
            values[key] = value
    if dossier_id is not None:
        values["dossier"] = _tags.of_id(dossier_id)
    elif ordering_key is not None:
        values["dossier"] = _tags.of_key(ordering_key)
    if seconds is not None:
        values["duration_ms"] = round(seconds * 1000, 1)
    values.update({key: value for key, value in fields.items() if value is not None})
    log.log(level, "%s", name.value, extra={FIELDS: values})


class Claimed(Protocol):
    """What a step of a claimed message names (``adapter.store.Claim`` has it)."""

    @property
    def event_id(self) -> str: ...
    @property
    def message_id(self) -> str: ...
    @property
    def ordering_key(self) -> str | None: ...
    @property
    def event_code(self) -> str: ...


def claim_step(name: Step, stage: Stage, claim: Claimed, **fields: Any) -> None:
    """``step`` for a claimed message: its ids, dossier and event code from ``claim``."""
    step(
        name,
        stage,
        event_id=claim.event_id,
        message_id=claim.message_id,
        ordering_key=claim.ordering_key,
        event_code=claim.event_code,
        **fields,
    )
