"""Validation never crashes, whatever element of an event is broken."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from mappings import (
    MESSAGE_TYPES,
    InvalidEvent,
    Issue,
    build_message,
    read_envelope,
    validate_event,
)
from mappings.event_schema import passes_fast, schema_issues
from tests.mappings.helpers import FACILITY, context, example, patient_insz, raw
from tests.support.carried import is_built, read_carried
from tests.support.events import examples_of

Path = tuple[str | int, ...]
REPLACEMENTS: tuple[object, ...] = (None, {}, "\u0007", 0)


def paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every element path of a JSON document."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield (*prefix, index)
            yield from paths(child, (*prefix, index))


def replaced(document: dict[str, Any], path: Path, value: object) -> dict[str, Any]:
    """A copy of the document with the element at path replaced."""
    copied = copy.deepcopy(document)
    parent: Any = copied
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return copied


def _full_schema_issues(document: dict[str, Any], code: str) -> list[Issue]:
    """jsonschema's verdict alone, the fast check switched off."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("mappings.event_schema.passes_fast", lambda _doc, _code: False)
        return schema_issues(document, code)


def refusal(document: dict[str, Any]) -> tuple[Issue, ...] | None:
    """The issues of a refused event, or None after building the accepted event's message."""
    try:
        envelope = read_envelope(raw(document))
        message_type = validate_event(envelope, FACILITY)
    except InvalidEvent as refused:
        return refused.issues
    # Accepted despite the change (an element the adapter ignores): it must still map.
    if is_built(message_type):
        build_message(envelope, context(vsb_reference="VSB-2026-000042"))
    else:
        read_carried(envelope, message_type)
    return None


ONE_PER_TYPE = [examples_of(code)[0] for code in sorted(MESSAGE_TYPES)]
"""One example of every registered message type."""


@pytest.mark.parametrize("name", ONE_PER_TYPE)
def test_every_broken_element_is_an_issue_or_harmless(name: str) -> None:
    """Replacing any element by a wrong value is refused with issues or still maps cleanly."""
    original = example(name)
    # A batch names no user (its invoices do).
    insz = patient_insz(original) if name not in examples_of("invoice-batch") else "85073003328"
    for path in paths(original):
        for value in REPLACEMENTS:
            issues = refusal(replaced(original, path, value))
            if issues is not None:
                assert issues, path
                assert all(insz not in issue.text for issue in issues), path


@pytest.mark.parametrize("name", ONE_PER_TYPE)
def test_the_fast_check_agrees_with_the_full_validator(name: str) -> None:
    """For every broken element, the compiled fast check and jsonschema reach one verdict."""
    original = example(name)
    code = read_envelope(raw(original)).event_code
    assert code is not None
    for path in paths(original):
        for value in REPLACEMENTS:
            document = replaced(original, path, value)
            full = _full_schema_issues(document, code)
            assert passes_fast(document, code) == (not full), path
