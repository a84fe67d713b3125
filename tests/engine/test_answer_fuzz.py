"""Property-based fuzzing (hypothesis) of the answer side: what the central application sends.

The seeds are real answers as the simulator writes them (``simulator.soap`` around
``simulator.answers.Answer``): a Submit answer (accepted, refused with errors), a mailbox batch,
a confirmation count, soap:Client and soap:Server faults. Each example mutates one: bytes
inserted, deleted or replaced; an element deleted, duplicated, renamed or moved to another
namespace; an attribute or a namespace declaration added; text replaced; the HTTP status
changed. The bytes go over real HTTP (``tests.support.hostile``) into ``ZeepCentral`` and, as the
sender and the mailbox poller do, into ``parse_answer``. For every example:

* nothing escapes but an answer, ``TransientDeliveryError``, ``UnreadableAnswer`` or
  ``PermanentDeliveryError`` (the sender's four ways), so no example can kill a sender thread;
* the cause is accurate: a 2xx that cannot be read is in doubt (``UnreadableAnswer``, never a
  dead letter: the message may have been applied); a permanent failure is a soap:Client fault
  or an HTTP 4xx; an unmutated seed is read as what it is.

Reproducible as tests/mappings/test_properties.py: ``derandomize=True``, ``database=None``,
``deadline=None``; 3 tests, 350 examples in all over real HTTP, about 15-20 s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from adapter.central import ZeepCentral
from adapter.errors import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
    UnreadableAnswer,
)
from adapter.settings import CentralSettings
from mappings import parse_answer
from mappings.errors import AnswerFormatError
from mappings.model import CentralAnswer
from simulator import soap
from simulator.answers import Answer, Error, Outcome
from tests.support.hostile import HostileServer, Reply

FUZZ_SETTINGS: Final = settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CREATED: Final = datetime(2026, 11, 20, 10, tzinfo=UTC)
MESSAGE_ID: Final = "msg-fuzz-1"


def seed_answer(outcome: Outcome, index: int = 1) -> etree._Element:
    """A vsb:Answer as the simulator writes it."""
    errors = (
        (Error("VSB-ID-INSZ", "The INSZ is not known to the care fund.", "Patient.identifier"),)
        if outcome is Outcome.REFUSED
        else ()
    )
    return Answer(
        answer_id=f"A-{index}",
        in_reply_to=MESSAGE_ID if index == 1 else f"msg-{index}",
        created_at=CREATED,
        outcome=outcome,
        vsb_reference="VSB-2026-000042" if outcome is Outcome.ACCEPTED else None,
        errors=errors,
    ).to_element()


SUBMIT_SEEDS: Final = (
    soap.submit_response(seed_answer(Outcome.ACCEPTED)),
    soap.submit_response(seed_answer(Outcome.REFUSED)),
    soap.fault("Client", "schema: element Foo not expected"),
    soap.fault("Server", "simulated server fault"),
)
FETCH_SEEDS: Final = (
    soap.fetch_response([seed_answer(Outcome.ACCEPTED, n) for n in (2, 3, 4)]),
    soap.fetch_response([]),
)
CONFIRM_SEEDS: Final = (soap.confirm_response(3),)


# ---- mutations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One response: HTTP status and body, and whether it is a seed left as it was."""

    status: int
    body: bytes
    pristine: bool


def _byte_mutation(draw: st.DrawFn, body: bytes) -> bytes:
    position = draw(st.integers(0, len(body)))
    kind = draw(st.sampled_from(["insert", "delete", "replace"]))
    chunk = draw(
        st.one_of(
            st.binary(min_size=1, max_size=8),
            st.sampled_from([b"<", b">", b"&", b"&amp;", b"]]>", b"<!--", b"\x00", b"\xff"]),
        )
    )
    if kind == "insert":
        return body[:position] + chunk + body[position:]
    if kind == "delete":
        return body[:position] + body[position + len(chunk) :]
    return body[:position] + chunk + body[position + len(chunk) :]


def _tree_mutation(draw: st.DrawFn, body: bytes) -> bytes:
    root = etree.fromstring(body)
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    target = draw(st.sampled_from(elements))
    kind = draw(
        st.sampled_from(
            ["delete", "duplicate", "rename", "namespace", "attribute", "xmlns", "text"]
        )
    )
    parent = target.getparent()
    text = draw(st.text(max_size=40))
    clean = "".join(c for c in text if c.isprintable() and c not in "\ud800\udfff") or "x"
    if kind == "delete" and parent is not None:
        parent.remove(target)
    elif kind == "duplicate" and parent is not None:
        parent.insert(parent.index(target), etree.fromstring(etree.tostring(target)))
    elif kind == "rename":
        target.tag = etree.QName(etree.QName(target).namespace, f"X{len(clean)}").text
    elif kind == "namespace":
        namespace = draw(st.sampled_from(["urn:other", "", "urn:vsb-adapter:vsb:2"]))
        local = etree.QName(target).localname
        target.tag = f"{{{namespace}}}{local}" if namespace else local
    elif kind == "attribute":
        target.set(draw(st.sampled_from(["id", "{urn:x}a", "mustUnderstand"])), clean)
    elif kind == "xmlns":
        # The default namespace (key None) stays out: the tag's Clark name carries it.
        nsmap = {prefix: uri for prefix, uri in target.nsmap.items() if prefix}
        nsmap["q"] = "urn:q"
        replacement = etree.Element(target.tag, nsmap=nsmap)
        replacement[:] = list(target)
        replacement.text = target.text
        if parent is not None:
            parent.replace(target, replacement)
    elif kind == "text":
        try:
            target.text = clean
        except ValueError:
            target.text = "x"
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@st.composite
def cases(draw: st.DrawFn, seeds: tuple[bytes, ...]) -> Case:
    """A seed, mutated 0-3 times in bytes or in its tree, with an HTTP status."""
    body = draw(st.sampled_from(seeds))
    is_fault = b"Fault>" in body
    status = draw(st.sampled_from([500] if is_fault else [200]) | st.sampled_from([200, 500]))
    status = draw(st.one_of(st.just(status), st.sampled_from([202, 400, 404, 502, 503])))
    mutations = draw(st.integers(0, 3))
    mutated = body
    for _ in range(mutations):
        if draw(st.booleans()):
            mutated = _byte_mutation(draw, mutated)
        else:
            try:
                mutated = _tree_mutation(draw, mutated)
            except etree.XMLSyntaxError:
                mutated = _byte_mutation(draw, mutated)  # an earlier byte mutation broke it
    pristine = mutated == body and status == (500 if is_fault else 200)
    return Case(status, mutated, pristine)


# ---- running the answer side ------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[HostileServer, ZeepCentral]]:
    server = HostileServer()
    yield server, ZeepCentral(CentralSettings(url=server.url, timeout_seconds=5))
    server.stop()


def outcome(call: Callable[[], object]) -> object:
    """What the call returns, or the delivery error it raises; anything else fails the test."""
    try:
        return call()
    except DeliveryError as exc:
        error = exc
    assert type(error) in (TransientDeliveryError, UnreadableAnswer, PermanentDeliveryError)
    return error


def read_answer(element: etree._Element) -> object:
    """The sender's reading of a Submit answer: ``parse_answer``, unreadable if it fails."""
    try:
        return parse_answer(element)
    except AnswerFormatError as exc:
        return UnreadableAnswer(f"unreadable answer: {exc}")


def check_cause(result: object, case: Case) -> None:
    """Each classification is the accurate one for what came."""
    if isinstance(result, PermanentDeliveryError):
        text = str(result)
        assert text.startswith(("SOAP fault soap:Client", "SOAP fault Client", "HTTP 4")), text
        if text.startswith("HTTP"):
            assert 400 <= case.status < 500
    elif isinstance(result, UnreadableAnswer):
        assert str(result).startswith("unreadable answer"), result
        assert case.status < 300 or b"Fault>" in case.body, "a 2xx, or a fault that came"
    elif isinstance(result, TransientDeliveryError):
        text = str(result)
        assert text.startswith(("HTTP 5", "SOAP fault", "the central application's")), text
    if 200 <= case.status < 300 and isinstance(result, DeliveryError):
        assert not isinstance(result, PermanentDeliveryError) or "Client" in str(result), (
            "a 2xx that cannot be read may have been applied: never a dead letter"
        )


@settings(FUZZ_SETTINGS, max_examples=150)
@given(case=cases(SUBMIT_SEEDS))
def test_submit_answers_are_classified(
    endpoint: tuple[HostileServer, ZeepCentral], case: Case
) -> None:
    """Submit: an answer (read as the sender reads it) or one of the three delivery errors."""
    server, central = endpoint
    server.reply = Reply(case.body, status=case.status)
    result = outcome(lambda: central.submit(etree.Element("{urn:vsb-adapter:vsb:1}Message")))
    if isinstance(result, etree._Element):
        result = read_answer(result)
    check_cause(result, case)
    if case.pristine:
        expected = {0: "accepted", 1: "refused"}.get(SUBMIT_SEEDS.index(case.body))
        if expected is None:
            assert isinstance(result, DeliveryError)
        else:
            assert isinstance(result, CentralAnswer), result
            assert result.outcome.value == expected


@settings(FUZZ_SETTINGS, max_examples=120)
@given(case=cases(FETCH_SEEDS))
def test_mailbox_batches_are_classified(
    endpoint: tuple[HostileServer, ZeepCentral], case: Case
) -> None:
    """FetchAnswers: a list of elements, each read or left unconfirmed; or a delivery error."""
    server, central = endpoint
    server.reply = Reply(case.body, status=case.status)
    result = outcome(lambda: central.fetch_answers("71012314001", 50))
    if isinstance(result, list):
        read = [read_answer(element) for element in result]
        if case.pristine:
            assert len(read) == (3 if case.body == FETCH_SEEDS[0] else 0)
            assert not any(isinstance(r, DeliveryError) for r in read)
    else:
        check_cause(result, case)


@settings(FUZZ_SETTINGS, max_examples=80)
@given(case=cases(CONFIRM_SEEDS))
def test_confirmations_are_classified(
    endpoint: tuple[HostileServer, ZeepCentral], case: Case
) -> None:
    """ConfirmAnswers: a count or a delivery error."""
    server, central = endpoint
    server.reply = Reply(case.body, status=case.status)
    result = outcome(lambda: central.confirm_answers("71012314001", ["A-1"]))
    if isinstance(result, DeliveryError):
        check_cause(result, case)
    else:
        assert isinstance(result, int)
        if case.pristine:
            assert result == 3
