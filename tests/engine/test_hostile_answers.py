"""Hostile answers from a real HTTP endpoint: each refused cleanly, unread or unexpanded.

A tiny local server (``tests.support.hostile``) replies with bytes no central application
should send: an external entity, a billion laughs, a huge attribute, nesting past libxml2's
limit, a body past ``central.max_answer_bytes`` (announced or chunked). ``ZeepCentral`` must
turn each into an ``UnreadableAnswer`` (the message is in doubt and resent with its id), never
fetch anything, never expand anything, and never quote the content back. The JSON side (a
deeply nested event refused as ``too-deep``) is covered by tests/mappings/test_body.py,
tests/engine/test_ingest.py and, daemon alive, tests/integration/test_poison.py.
"""

from __future__ import annotations

import re
import resource
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from adapter.central import ZeepCentral
from adapter.devpki import DevPki
from adapter.engine.breaker import CircuitBreaker
from adapter.engine.ingest import Ingest
from adapter.engine.sender import Sender
from adapter.errors import TransientDeliveryError, UnreadableAnswer
from adapter.settings import CentralSettings, DeliverySettings
from adapter.signing import Signer
from adapter.store import Store, Support, create_store_engine, migrate
from adapter.testing import FixedClock, memory_sealer
from mappings import Facility, MessageContext, build_message, read_envelope
from monitoring import Metrics
from queues import Delivery
from tests.support import events
from tests.support.hostile import HostileServer, Reply, submit_response

FACILITY = Facility("71012314001", "40012345")
LIMIT = 1_048_576
LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b"]>"
)


def answer(extra: bytes = b"", message_id: str = "msg-h-1") -> bytes:
    """A valid vsb:Answer to ``message_id``, with ``extra`` inside its start tag."""
    return (
        b'<Answer xmlns="urn:vsb-adapter:vsb:1"' + extra + b"><AnswerId>A-1</AnswerId>"
        b"<InReplyTo>" + message_id.encode() + b"</InReplyTo>"
        b"<CreatedAt>2026-11-20T10:00:00+01:00</CreatedAt><Outcome>accepted</Outcome></Answer>"
    )


HOSTILE = {
    "external-entity": submit_response(
        answer(b' x="&leak;"'),
        b'<!DOCTYPE a [<!ENTITY leak SYSTEM "http://127.0.0.1:{port}/leak">]>\n',
    ),
    "external-file": submit_response(
        answer(b' x="&leak;"'), b'<!DOCTYPE a [<!ENTITY leak SYSTEM "file:///etc/passwd">]>\n'
    ),
    "external-dtd": submit_response(
        answer(), b'<!DOCTYPE a SYSTEM "http://127.0.0.1:{port}/evil.dtd">\n'
    ),
    "billion-laughs": submit_response(answer(b' x="&lol9;"'), LAUGHS),
    "deep-nesting": submit_response(b"<a>" * 5000 + b"</a>" * 5000),
}


@pytest.fixture
def server() -> Iterator[HostileServer]:
    hostile = HostileServer()
    yield hostile
    hostile.stop()


@pytest.fixture
def message(pki: DevPki) -> etree._Element:
    envelope = read_envelope(events.application("h-1", "D-H", 1))
    context = MessageContext(
        message_id="msg-h-1", created_at=datetime(2026, 11, 20, 10, tzinfo=UTC), facility=FACILITY
    )
    return Signer.from_keystore(pki.keystore, b"dev-only").sign(build_message(envelope, context))


def central(server: HostileServer) -> ZeepCentral:
    return ZeepCentral(CentralSettings(url=server.url, timeout_seconds=5, max_answer_bytes=LIMIT))


def peak_rss_mib() -> float:
    """The process's peak resident size so far (Linux: KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_document_is_unreadable_and_never_expanded(
    server: HostileServer, message: etree._Element, kind: str
) -> None:
    """DTDs are refused before any entity exists; nothing is fetched; memory stays flat."""
    port = str(server.url.split(":")[2].split("/")[0]).encode()
    server.reply = Reply(HOSTILE[kind].replace(b"{port}", port))
    before = peak_rss_mib()
    with pytest.raises(UnreadableAnswer, match="unreadable answer: HTTP 200") as caught:
        central(server).submit(message)
    assert peak_rss_mib() - before < 64, "nothing was expanded"
    assert server.requests == ["POST /soap"], "no entity or DTD was fetched"
    assert "lol" not in str(caught.value)
    assert "passwd" not in str(caught.value)
    if kind != "deep-nesting":
        assert "a DTD or entity declaration" in str(caught.value)
        assert "refused unread" in str(caught.value), "refused before parsing"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_oversized_answer_is_refused_unread(
    server: HostileServer, message: etree._Element, chunked: bool
) -> None:
    """Past the limit the body is not read whole: announced, or streamed and cut off."""
    if chunked:
        server.reply = Reply(chunks=iter([b"<" + b"x" * 65535] * 1024))  # 64 MiB offered
    else:
        server.reply = Reply(submit_response(answer(b' x="' + b"y" * (2 * LIMIT) + b'"')))
    before = peak_rss_mib()
    with pytest.raises(
        UnreadableAnswer,
        match=re.escape("larger than the limit (limit 1048576 bytes; refused unread)"),
    ) as caught:
        central(server).submit(message)
    assert peak_rss_mib() - before < 64
    assert ("more than 1048576 bytes" if chunked else "bytes announced") in str(caught.value)
    if chunked:
        assert server.sent_bytes < 32 * LIMIT, "the adapter stopped reading"


def test_an_oversized_error_response_is_transient(
    server: HostileServer, message: etree._Element
) -> None:
    """An HTTP 500 with a huge body is an outage like any other 500: tried again."""
    server.reply = Reply(b"x" * (2 * LIMIT), status=500, content_type="text/plain")
    with pytest.raises(
        TransientDeliveryError, match=r"HTTP 500 .* refused unread: larger than the limit"
    ) as caught:
        central(server).submit(message)
    assert not isinstance(caught.value, UnreadableAnswer)


def test_a_huge_attribute_under_the_limit_is_an_unreadable_answer(
    sqlite_url: str, pki: DevPki, server: HostileServer
) -> None:
    """Parsed (it fits), refused by the XSD, resent later: through the real sender."""
    engine = create_store_engine(sqlite_url, 2)
    migrate(engine)
    store = Store(engine, sealer=memory_sealer())
    clock = FixedClock(datetime(2026, 11, 20, 9, tzinfo=UTC))
    metrics = Metrics()
    Ingest(store, FACILITY, clock, metrics)(
        [Delivery(body=events.application("e1", "D", 1), redelivered=False, message_id=None)]
    )
    [due] = store.due(clock.now(), 1)
    claim = store.claim(due, "test", clock.now(), timedelta(seconds=60))
    assert claim is not None
    huge = b' huge="' + b"z" * (LIMIT - 4096) + b'"'
    server.reply = Reply(submit_response(answer(huge, claim.message_id)))
    sender = Sender(
        store,
        central(server),
        Signer.from_keystore(pki.keystore, b"dev-only"),
        FACILITY,
        clock,
        metrics,
        CircuitBreaker(3, 60, clock),
        DeliverySettings(quick_tries=1, max_attempts=3, max_age_seconds=3600),
    )
    sender.send(claim)
    [view] = Support(store).dossier("dossier:D")
    assert view.state == "pending", "in doubt: resent later with the same id"
    assert (view.last_error or "").startswith("unreadable answer: the answer does not match")
    assert len(view.last_error or "") < 2000, "the attribute is not quoted back whole"
    engine.dispose()
