"""The shipped example events: the README demo and `vsb-adapter send` rely on them."""

from __future__ import annotations

import pytest

from mappings import MESSAGE_TYPES, read_envelope, validate_event
from tests.mappings.helpers import (
    EXAMPLE_NAMES,
    FACILITY,
    INSZ_EXPRESSION,
    INVALID_EXAMPLE_NAMES,
    example,
    issues_of,
    patient_insz,
    raw,
)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_is_valid(name: str) -> None:
    """Every example of mappings/examples passes validation for the example facility."""
    envelope = read_envelope(raw(example(name)))
    message_type = validate_event(envelope, FACILITY)
    assert message_type is MESSAGE_TYPES[envelope.event_code or ""]


def test_invalid_example_names_the_insz_field() -> None:
    """The invalid example is refused with one INSZ check-digit issue naming the field."""
    document = example("06-invalid-insz")
    issues = issues_of(document)
    assert [(issue.code, issue.expression) for issue in issues] == [
        ("insz-check-digit", INSZ_EXPRESSION)
    ]
    assert "INSZ" in issues[0].text
    assert patient_insz(document) not in issues[0].text


def test_examples_have_unique_event_ids() -> None:
    """Each example carries its own event id so the demo can send them all."""
    ids = [example(name)["id"] for name in EXAMPLE_NAMES + INVALID_EXAMPLE_NAMES]
    assert len(set(ids)) == len(ids)


def test_stop_example_follows_its_application() -> None:
    """The stop example is the second event of the diagnosis application's dossier."""
    application = read_envelope(raw(example("02-reva-application-diagnosis")))
    stop = read_envelope(raw(example("03-reva-stop")))
    assert (application.dossier_id, application.sequence) == (stop.dossier_id, 1)
    assert stop.sequence == 2
