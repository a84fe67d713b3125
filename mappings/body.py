"""Decoding an event's body within fixed limits, so that no body can make the decoder fail.

Python's ``json`` raises ``RecursionError`` on deep nesting, ``ValueError`` on an integer of
more than 4,300 digits, and happily returns strings with unpaired surrogates, which no store
and no XML can carry. Every one of those is turned here into a refusal with its own issue
code (docs/events.md, "Limits"):

==================  ==========================================================  ===============
limit               value                                                       issue code
==================  ==========================================================  ===============
encoding            UTF-8 JSON text; ``NaN`` and ``Infinity`` are not JSON      ``not-json``
nesting             at most ``MAX_DEPTH`` arrays and objects inside each other  ``too-deep``
numbers             at most ``MAX_NUMBER_CHARS`` characters, and finite         ``number``
strings (values     at most ``MAX_STRING_CHARS`` characters, no unpaired        ``string-too-long``,
and keys)           surrogate (``\\ud800`` alone)                                ``bad-character``
==================  ==========================================================  ===============

The total size is the broker's (``broker.max_event_bytes``): a larger body never reaches this
module. The depth is measured before parsing, on the text with its strings taken out, so the
parser itself never recurses deeper than the limit.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Iterator
from typing import Any, Final, NamedTuple

from mappings import fhirpath
from mappings.errors import InvalidEvent
from mappings.fhirpath import Segment
from mappings.model import Issue

MAX_DEPTH: Final = 32
"""Arrays and objects nested inside each other (the examples nest 9 deep)."""
MAX_NUMBER_CHARS: Final = 32
"""Characters of one number literal (a 32-bit sequence number has 10)."""
MAX_STRING_CHARS: Final = 14_680_064
"""Characters of one string (14 MiB): room for the base64 of a 10 MiB attachment, with line
breaks (``mappings.attachment``); texts are bounded by the schemas to 2000."""

_ESCAPE: Final = re.compile(r"\\.", re.DOTALL)
_STRUCTURE: Final = str.maketrans("", "", " \t\r\n:,0123456789.-+eEtrufalsn")
"""JSON text outside strings but brackets: whitespace, separators, numbers, true/false/null."""
_DEPTH_STEP: Final = {"[": 1, "{": 1, "]": -1, "}": -1}
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


class _NumberRefused(ValueError):
    """Raised from inside the parser's number hooks."""


class Decoded(NamedTuple):
    """A body's JSON document and what is wrong with its strings (nothing, usually)."""

    document: Any
    issues: list[Issue]


def parse_body(raw: bytes) -> Decoded:
    """Decode ``raw``; ``InvalidEvent`` with one issue if it cannot be read within the limits.

    A readable document whose strings break a limit is returned with those issues, so the
    refusal can still be correlated by the event id.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refusal("not-json", "The event is not UTF-8 JSON.") from exc
    if _too_deep(text):
        raise _refusal(
            "too-deep", f"The event nests arrays and objects more than {MAX_DEPTH} deep."
        )
    try:
        document = json.loads(
            text, parse_int=_integer, parse_float=_decimal, parse_constant=_constant
        )
    except _NumberRefused as exc:
        raise _refusal("number", str(exc)) from exc
    except json.JSONDecodeError as exc:
        raise _refusal("not-json", "The event is not UTF-8 JSON.") from exc
    # Only a body longer than the string limit can hold a longer string, and only a \\uD8xx
    # escape can give a surrogate (a strict UTF-8 decode never does): the usual body is
    # not walked at all.
    if len(text) <= MAX_STRING_CHARS and not _SURROGATE_ESCAPE.search(text):
        return Decoded(document, [])
    return Decoded(document, _string_issues(document))


def _string_issues(document: Any) -> list[Issue]:
    issues = []
    for path, value in _strings(document, ()):
        if len(value) > MAX_STRING_CHARS:
            code, rule = "string-too-long", f"is longer than {MAX_STRING_CHARS} characters"
        elif _SURROGATE.search(value):
            code, rule = "bad-character", "holds an unpaired surrogate (not Unicode text)"
        else:
            continue
        # Not an object (an array, say): refused as such by the envelope; no path to render.
        expression = (
            fhirpath.render(document, path) if path and isinstance(document, dict) else "Bundle"
        )
        issues.append(Issue(code, f"{expression} {rule}.", expression))
    return issues


def _refusal(code: str, text: str) -> InvalidEvent:
    return InvalidEvent([Issue(code, text, None)])


def _too_deep(text: str) -> bool:
    # Without its escapes, every quote of the text opens or closes a string: the text
    # outside strings is every other piece between quotes. What is left after deleting
    # JSON's other structure is the brackets (and, in a body that is not JSON, junk).
    unescaped = _ESCAPE.sub("", text) if "\\" in text else text
    brackets = "".join(unescaped.split('"')[::2]).translate(_STRUCTURE)
    if len(brackets) <= MAX_DEPTH:
        return False  # cannot nest deeper than it has brackets
    return max(itertools.accumulate(_DEPTH_STEP.get(c, 0) for c in brackets)) > MAX_DEPTH


def _integer(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _NumberRefused(f"The event has a number of more than {MAX_NUMBER_CHARS} characters.")
    return int(literal)


def _decimal(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _NumberRefused(f"The event has a number of more than {MAX_NUMBER_CHARS} characters.")
    value = float(literal)
    if not math.isfinite(value):
        raise _NumberRefused("The event has a number too large to be represented.")
    return value


def _constant(name: str) -> Any:
    # NaN, Infinity and -Infinity are extensions of Python's json, not JSON.
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def _strings(value: Any, path: tuple[Segment, ...]) -> Iterator[tuple[tuple[Segment, ...], str]]:
    """Every string of the document, keys included, with its path (depth is bounded)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield (*path, key), key
            yield from _strings(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _strings(child, (*path, index))
