"""Property-based tests (hypothesis) of the pure half of ingest: reading, validating, mapping.

Thousands of generated events go through ``read_envelope``, ``validate_event`` and, when
accepted, ``build_message``, as ingest and the sender run them. The events are the bundled
examples with elements replaced, deleted, duplicated, copied or marked with a personal-looking
name (values from a recursive strategy of every JSON type, text with lone surrogates and
control characters included, strings at the string limit); the examples' bytes with bytes
inserted, deleted or replaced, and wholly random bodies; and the examples with an element
wrapped in up to 200 arrays or objects, or replaced by a number literal of up to 5000
characters. For every one of them:

* nothing but ``InvalidEvent`` comes out of reading and validation, nothing at all out of
  building an accepted event's message (which ``build_message`` validates against the XSD);
* a refusal has issues; each has a code and a text and names its field (an expression that
  starts at a resource type and that the text quotes), except the body-level refusals that
  no field can be blamed for (``BODY_CODES``);
* no issue text or expression contains the INSZ of the example's Patient or a personal-looking
  marker placed in the event;
* the nesting and number limits of ``mappings.body`` refuse exactly the events past them.

Reproducible in CI: every test runs with ``derandomize=True`` (the examples follow from the
test's source, not from a random seed) and ``database=None`` (no example database: nothing
found on one machine is replayed on another), so every run of a commit generates the same
events; ``deadline=None`` because the first schema validations of a process are slow.
3 tests x 1500 examples: 25 to 50 s on two cores, depending on what else runs.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from mappings import (
    MESSAGE_TYPES,
    Envelope,
    InvalidEvent,
    Issue,
    build_message,
    read_envelope,
    validate_event,
)
from mappings.body import MAX_DEPTH, MAX_NUMBER_CHARS, MAX_STRING_CHARS
from mappings.envelope import EVENT_CODE, FHIR_ID, MAX_SEQUENCE, is_clean_key
from mappings.vsb_schema import qname
from tests.mappings.helpers import EXAMPLE_NAMES, FACILITY, context, example, patient_insz, raw
from tests.mappings.test_robustness import Path, paths
from tests.support.carried import is_built, read_carried

BODY_CODES: Final = frozenset({"not-json", "not-object", "too-deep", "number"})
"""Refusals of a body that cannot be decoded into an object: no field to point at."""
READ_CODES: Final = BODY_CODES | {"event-id"}
"""The only refusals of ``read_envelope``; ``event-id`` points at ``Bundle.id``."""
EXPRESSION: Final = re.compile(r"[A-Z][A-Za-z]{1,63}(?:[.\[(]|$)")
"""How an expression starts: at ``Bundle`` or at a resource type (docs/events.md)."""
MARKERS: Final = ("Jan Janssens", "Janssens, Jan", "jan.janssens@example.be", "+32 470 12 34 56")
"""Personal-looking strings placed in events; no issue may repeat them."""
VSB_REFERENCE: Final = "VSB-2026-000042"
SENTINEL: Final = "@@literal@@"
"""A string replaced in the JSON text by a raw literal (which ``json.dumps`` cannot write)."""

Result = TypeVar("Result")

PROPERTY_SETTINGS: Final = settings(
    max_examples=1500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass(frozen=True)
class Event:
    """A generated body and the personal strings it holds that no issue may contain."""

    body: bytes
    secrets: tuple[str, ...]


@dataclass(frozen=True)
class LimitEvent:
    """A generated body and whether the body limits must refuse it."""

    body: bytes
    secrets: tuple[str, ...]
    too_deep: bool
    bad_number: bool


# ---- running ingest ---------------------------------------------------------------------


def outcome(step: Callable[[], Result]) -> Result | tuple[Issue, ...]:
    """What ``step`` returns, or the issues of the ``InvalidEvent`` it raises."""
    try:
        return step()
    except InvalidEvent as refused:
        return refused.issues


def read(body: bytes) -> Envelope | tuple[Issue, ...]:
    """The event's envelope, or the issues ``read_envelope`` refuses it with."""
    return outcome(lambda: read_envelope(body))


def ingest(body: bytes) -> tuple[Issue, ...] | None:
    """The issues of a refused event, or None after building the accepted event's message.

    Any exception but a refusal's ``InvalidEvent`` from reading or validation, and any
    exception at all from building an accepted event's message, fails the test.
    """
    envelope = read(body)
    if isinstance(envelope, tuple):
        assert [issue.code for issue in envelope] in [[code] for code in READ_CODES], envelope
        return envelope
    assert FHIR_ID.fullmatch(envelope.event_id)
    assert envelope.event_code is None or EVENT_CODE.fullmatch(envelope.event_code)
    assert envelope.dossier_id is None or is_clean_key(envelope.dossier_id)
    assert envelope.sequence is None or 1 <= envelope.sequence <= MAX_SEQUENCE
    accepted = outcome(lambda: validate_event(envelope, FACILITY))
    if isinstance(accepted, tuple):
        assert not {issue.code for issue in accepted} & READ_CODES, accepted
        return accepted
    if not is_built(accepted):
        read_carried(envelope, accepted)  # a part or a batch: streamed, never a tree
        return None
    message = build_message(envelope, context(vsb_reference=VSB_REFERENCE))
    assert etree.QName(message).localname == accepted.message_kind
    header = message.find(qname("Header"))
    assert header is not None
    assert header.findtext(qname("MessageId")) == context().message_id
    # A look-up's Header has no dossier; every other message carries the envelope's.
    assert header.findtext(qname("DossierId")) in (None, envelope.dossier_id)
    assert header.findtext(qname("Sequence")) in (None, str(envelope.sequence))
    return None


def check_refusal(issues: tuple[Issue, ...], secrets: tuple[str, ...]) -> None:
    """A refusal names its fields and repeats none of the event's personal strings."""
    assert issues, "a refusal without issues"
    for issue in issues:
        assert issue.code, issue
        assert issue.text, issue
        if issue.expression is None:
            assert issue.code in BODY_CODES, issue
        else:
            assert EXPRESSION.match(issue.expression), issue
            assert issue.expression in issue.text, issue
        for secret in secrets:
            assert secret not in issue.text, (secret, issue)
            assert secret not in (issue.expression or ""), (secret, issue)


def run(event: Event | LimitEvent) -> tuple[Issue, ...] | None:
    """Ingest the event and check its refusal, if it is refused."""
    issues = ingest(event.body)
    if issues is not None:
        check_refusal(issues, event.secrets)
    return issues


# ---- JSON values --------------------------------------------------------------------------

ODD_CHARACTERS: Final = (
    "\ud800",
    "\udfff",
    "\x00",
    "\x07",
    "\x1f",
    "\x7f",
    "\u200b",
    "\u202e",
    "\ufeff",
    "\ufffe",
    "\uffff",
    "\U0010ffff",
    "[",
    "{",
    '"',
    "\\",
)
"""Characters that break a limit, XML, a dossier id or a naive bracket count."""
LIKELY_TEXTS: Final = (
    "",
    " ",
    "2026-02-30",
    "2026-13-01",
    "2029-11-01",
    "2026-11-20T10:00:00+01:00",
    "85073003328",
    "85073003329",
    "85.07.30-033.28",
    "12345625580",
    "12345625581",
    "71012314001",
    "40012345",
    "urn:uuid:cb5c103a-9d32-5af7-85f8-877d71e707e0",
    "urn:vsb-adapter:fhir:dossier",
    "urn:vsb-adapter:fhir:sequence",
    *sorted(MESSAGE_TYPES),
    "JVBERi0xLjQK",
    "JVBERi0xLjQ",
    "JVBERi0xLjR=",
    "application/pdf",
)
"""Values close to the examples' own, to reach the rules behind the schema."""

texts: st.SearchStrategy[str] = st.one_of(
    st.text(st.one_of(st.characters(), st.sampled_from(ODD_CHARACTERS)), max_size=24),
    st.sampled_from(LIKELY_TEXTS),
    st.sampled_from(MARKERS),
    st.builds(
        lambda marker, odd: marker + odd, st.sampled_from(MARKERS), st.sampled_from(ODD_CHARACTERS)
    ),
)
numbers: st.SearchStrategy[int | float] = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from((0, 1, -1, MAX_SEQUENCE, MAX_SEQUENCE + 1, 2**63)),
    st.floats(allow_nan=False, allow_infinity=False),
)
scalars: st.SearchStrategy[Any] = st.one_of(st.none(), st.booleans(), numbers, texts)
json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(texts, children, max_size=4),
    ),
    max_leaves=12,
)
long_texts: st.SearchStrategy[str] = st.builds(
    lambda char, extra: char * (MAX_STRING_CHARS + extra),
    st.sampled_from(("a", "\u00e9", "\U0001f600")),
    st.sampled_from((0, 1)),
)
"""A string at the string limit or one character past it."""


def depth(value: Any) -> int:
    """How many arrays and objects nest inside each other in ``value`` (a scalar is 0)."""
    if isinstance(value, dict):
        return 1 + max((depth(child) for child in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(child) for child in value), default=0)
    return 0


# ---- mutations of the examples' documents --------------------------------------------------


def parent_of(document: Any, path: Path) -> Any:
    """The container of the element at ``path``."""
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    return parent


def value_at(document: Any, path: Path) -> Any:
    """The element at ``path``."""
    return parent_of(document, path)[path[-1]] if path else document


def fresh_example(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[str, ...]]:
    """A copy of an example and its personal strings (the Patient's INSZ, the markers)."""
    document = example(draw(st.sampled_from(EXAMPLE_NAMES)))
    # A batch names no user (its invoices do): then only the markers are secret.
    users = [e for e in document["entry"] if e["resource"]["resourceType"] == "Patient"]
    return document, ((patient_insz(document),) if users else ()) + MARKERS


OPERATIONS: Final = (
    *("replace",) * 6,
    *("delete",) * 3,
    "duplicate",
    "copy",
    *("mark",) * 3,
    "root",
)
"""What ``mutate`` does, weighted: replacing the whole document is mostly a ``not-object``.

Making a string as long as the string limit (``long``) is drawn only by ``TestLimits``: at
14 MiB characters, drawn among the others it would make the suite take an hour."""


def mutate(draw: st.DrawFn, document: Any, operations: tuple[str, ...] = OPERATIONS) -> Any:
    """``document`` with one element replaced, deleted, duplicated, copied or marked.

    Or made a string at or just past the string limit, or replaced as a whole.
    """
    if not isinstance(document, dict | list) or not document:
        return draw(json_values)
    operation = draw(st.sampled_from(operations))
    candidates = list(paths(document))
    if operation == "duplicate":
        candidates = [path for path in candidates if isinstance(path[-1], int)] or candidates
    path = draw(st.sampled_from(candidates))
    parent, key = parent_of(document, path), path[-1]
    if operation == "replace":
        parent[key] = draw(json_values)
    elif operation == "delete":
        del parent[key]
    elif operation == "duplicate" and isinstance(key, int):
        parent.insert(key, copy.deepcopy(parent[key]))
    elif operation == "copy":
        parent[key] = copy.deepcopy(value_at(document, draw(st.sampled_from(candidates))))
    elif operation == "mark":
        old = parent[key] if isinstance(parent[key], str) else ""
        where = draw(st.sampled_from(("alone", "before", "after")))
        marker = draw(st.sampled_from(MARKERS))
        parent[key] = {"alone": marker, "before": marker + old, "after": old + marker}[where]
    elif operation == "long":
        parent[key] = draw(long_texts)
    elif operation == "root":
        return draw(json_values)
    return document


ENCODINGS: Final[tuple[Callable[[Any], bytes], ...]] = (
    lambda document: json.dumps(document).encode("ascii"),
    lambda document: json.dumps(document, indent=2, sort_keys=True).encode("ascii"),
    # Without \\u escapes a lone surrogate is encoded as bytes that are not UTF-8.
    lambda document: json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass"),
)


@st.composite
def mutated_documents(draw: st.DrawFn, operations: tuple[str, ...] = OPERATIONS) -> Event:
    """An example with one to four of its elements changed, encoded one of three ways."""
    document: Any
    document, secrets = fresh_example(draw)
    for _ in range(draw(st.one_of(st.just(1), st.integers(min_value=1, max_value=4)))):
        document = mutate(draw, document, operations)
    return Event(draw(st.sampled_from(ENCODINGS))(document), secrets)


# ---- mutations of bytes, and random bodies ---------------------------------------------------

ODD_BYTES: Final = (
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xed\xa0\x80",  # a surrogate in UTF-8 form (CESU), not UTF-8
    b"\xef\xbb\xbf",
    b"\\",
    b"\\u",
    b"\\ud800",
    b"\\udfff",
    b"\\ude00\\ud83d",
    b"\\ud83d\\ude00",
    b"\\u0000",
    b'"',
    b'\\"',
    b"{",
    b"}",
    b"[",
    b"]",
    b"[" * (MAX_DEPTH + 1),
    b":",
    b",",
    b"null",
    b"NaN",
    b"-Infinity",
    b"1e999",
    b"7" * (MAX_NUMBER_CHARS + 1),
    b"\r\n",
)


@st.composite
def mutated_bytes(draw: st.DrawFn) -> Event:
    """An example's bytes with one to four runs of bytes inserted, deleted or replaced."""
    document, secrets = fresh_example(draw)
    body = bytearray(draw(st.sampled_from(ENCODINGS))(document))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(body)))
        chunk = draw(
            st.one_of(
                st.sampled_from(ODD_BYTES),
                st.binary(min_size=1, max_size=8),
                st.text(min_size=1, max_size=8).map(str.encode),
            )
        )
        operation = draw(st.sampled_from(("insert", "delete", "replace")))
        if operation == "insert":
            body[position:position] = chunk
        elif operation == "delete":
            del body[position : position + draw(st.integers(min_value=1, max_value=16))]
        else:
            body[position : position + len(chunk)] = chunk
    return Event(bytes(body), secrets)


JSON_ISH: Final = ' \t\n{}[]":,0123456789.-+eE\\utrfalsnNI'
"""The characters of JSON's structure: random text of them stresses the depth scan."""

random_bodies: st.SearchStrategy[Event] = st.one_of(
    st.builds(Event, st.binary(max_size=256), st.just(MARKERS)),
    st.builds(Event, st.text(JSON_ISH, max_size=256).map(str.encode), st.just(MARKERS)),
    st.builds(
        Event,
        st.one_of(
            json_values,
            st.fixed_dictionaries(
                {"id": st.from_regex(FHIR_ID, fullmatch=True)}, optional={"entry": json_values}
            ),
        ).map(lambda document: json.dumps(document).encode("ascii")),
        st.just(MARKERS),
    ),
)


# ---- nesting and number limits -----------------------------------------------------------


def wrapped(value: Any, levels: int, shape: str) -> Any:
    """``value`` inside ``levels`` arrays, objects or both alternately."""
    for level in range(levels):
        as_array = shape == "arrays" or (shape == "mixed" and level % 2 == 0)
        value = [value] if as_array else {"x": value}
    return value


@st.composite
def number_literals(draw: st.DrawFn) -> str:
    """A JSON number literal of up to about 5000 characters (integer, fraction, exponent)."""
    digits = draw(st.one_of(st.integers(1, MAX_NUMBER_CHARS + 2), st.integers(1, 5000)))
    start = draw(st.sampled_from("0123456789"))
    integer = "0" if start == "0" else start + ("0123456789" * (digits // 10 + 1))[: digits - 1]
    literal = draw(st.sampled_from(("", "-"))) + integer
    if draw(st.booleans()):
        literal += "." + "5" * draw(
            st.one_of(st.integers(1, MAX_NUMBER_CHARS), st.integers(1, 5000))
        )
    if draw(st.booleans()):
        exponent = draw(st.integers(min_value=0, max_value=99999))
        literal += draw(st.sampled_from(("e", "E", "e+", "e-", "E-"))) + str(exponent)
    return literal


def refused_number(literal: str) -> bool:
    """Whether ``mappings.body`` must refuse the number literal: too long, or not finite."""
    return len(literal) > MAX_NUMBER_CHARS or not math.isfinite(float(literal))


@st.composite
def limit_events(draw: st.DrawFn) -> LimitEvent:
    """An example with an element deeply wrapped, a number literal, or brackets in a string."""
    document, secrets = fresh_example(draw)
    path = draw(st.sampled_from(list(paths(document))))
    parent = parent_of(document, path)
    kind = draw(st.sampled_from(("arrays", "objects", "mixed", "number", "string")))
    if kind == "number":
        literal = draw(number_literals())
        parent[path[-1]] = SENTINEL
        text = json.dumps(document).replace(json.dumps(SENTINEL), literal)
        return LimitEvent(text.encode("ascii"), secrets, False, refused_number(literal))
    if kind == "string":
        # Brackets, quotes and digits inside a string nest nothing and are no number.
        unit = draw(st.sampled_from(("[", "{", '[{"', "\\[", "9" * MAX_NUMBER_CHARS)))
        parent[path[-1]] = unit * draw(st.integers(min_value=1, max_value=5000))
        return LimitEvent(raw(document), secrets, False, False)
    levels = draw(st.one_of(st.integers(1, MAX_DEPTH + 2), st.integers(1, 200)))
    parent[path[-1]] = wrapped(parent[path[-1]], levels, kind)
    return LimitEvent(raw(document), secrets, depth(document) > MAX_DEPTH, False)


# ---- the properties ------------------------------------------------------------------------


class TestDocumentMutations:
    """Examples whose elements are changed are refused with named fields or map cleanly."""

    @PROPERTY_SETTINGS
    @given(mutated_documents())
    def test_changed_elements(self, event: Event) -> None:
        """Any change of an example is a refusal naming its fields, or a message that builds."""
        run(event)


class TestBodies:
    """Bodies broken at the byte level, or random, never escape the refusal path."""

    @PROPERTY_SETTINGS
    @given(st.one_of(mutated_bytes(), random_bodies))
    def test_broken_and_random_bytes(self, event: Event) -> None:
        """Any body is a refusal naming its fields (or the body), or a message that builds."""
        run(event)


class TestLimits:
    """The body limits refuse exactly the events past them, whatever the event around them."""

    @PROPERTY_SETTINGS
    @given(limit_events())
    def test_nesting_and_numbers(self, event: LimitEvent) -> None:
        """Nesting past MAX_DEPTH and numbers past the number limits are refused, and only they."""
        issues = run(event)
        codes = {issue.code for issue in issues or ()}
        assert ("too-deep" in codes) == event.too_deep, issues
        assert ("number" in codes) == event.bad_number, issues

    @settings(PROPERTY_SETTINGS, max_examples=10)
    @given(mutated_documents(operations=("long", "replace", "mark")))
    def test_strings_at_the_string_limit(self, event: Event) -> None:
        """A string at MAX_STRING_CHARS or one past it, anywhere: a named refusal or a message."""
        run(event)
