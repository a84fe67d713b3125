"""Poison in the PVT events' own elements: refused with named fields, never a crash.

test_robustness.py breaks every element of one example per type, and test_properties.py
mutates every example at random; here the values that hurt these shapes most go into the
elements only they have (the DSM-5 code, the VI's dates, the discharge's dateTime, …): control
characters, NUL, impossible dates and times, numbers past the body limits, deep nesting.
"""

from __future__ import annotations

import json
from typing import Any, Final

import pytest

from mappings import build_message, check_event
from mappings.body import MAX_DEPTH
from tests.mappings.helpers import FACILITY, context, example, patient_insz
from tests.mappings.test_robustness import REPLACEMENTS, paths, refusal, replaced

Path = tuple[str | int, ...]
CLAIM: Final = ("entry", 3, "resource")

ELEMENTS: Final[dict[str, list[Path]]] = {
    "26-pvt-admission-new": [
        (*CLAIM, "diagnosis", 0, "diagnosisCodeableConcept", "coding", 0, "code"),
        (*CLAIM, "diagnosis", 0, "diagnosisCodeableConcept", "coding", 0, "system"),
        (*CLAIM, "supportingInfo", 0, "code", "coding", 0, "code"),
        (*CLAIM, "supportingInfo", 1, "timingDate"),
        (*CLAIM, "supportingInfo", 2, "valueBoolean"),
        (*CLAIM, "billablePeriod", "start"),
        (*CLAIM, "created"),
    ],
    "27-pvt-admission-migration": [
        (*CLAIM, "supportingInfo", 1, "valueBoolean"),
        (*CLAIM, "supportingInfo", 2, "timingDate"),
        (*CLAIM, "supportingInfo", 3, "timingDate"),
        (*CLAIM, "supportingInfo", 4, "timingPeriod", "start"),
        (*CLAIM, "supportingInfo", 4, "timingPeriod", "end"),
        (*CLAIM, "supportingInfo", 4, "timingPeriod"),
    ],
    "28-pvt-extension": [(*CLAIM, "billablePeriod", "start"), (*CLAIM, "billablePeriod", "end")],
    "29-pvt-discharge": [
        (*CLAIM, "period", "end"),
        (*CLAIM, "period", "start"),
        (*CLAIM, "hospitalization", "dischargeDisposition", "coding", 0, "code"),
        (*CLAIM, "subject", "reference"),
        (*CLAIM, "class"),
    ],
    "30-pvt-cancel": [(*CLAIM, "supportingInfo", 0, "valueString")],
}
POISON: Final[tuple[object, ...]] = (
    "\x00",
    "F20.9\x00",
    "\u0007",
    "\ud800",
    "\u202e",
    "2023-02-29",
    "9999-99-99",
    "2026-11-30T14:30:00+01:00\x00",
    "2026-11-30T25:61:61+99:99",
    "2026-11-30T14:30:00.0000000000000000001+01:00",
    "F20.9" * 1000,
    True,
    10**40,
    -1.5,
    [],
    ["2026-11-30"],
    {"start": "2026-11-16"},
)
SECRET_CODES: Final = ("F20.9", "F71")
"""The examples' diagnoses: personal data, never in an issue text."""


def body_with(document: dict[str, Any], path: Path, literal: str) -> bytes:
    """The event with the element at ``path`` written as the raw JSON ``literal``."""
    marker = "@@poison@@"
    text = json.dumps(replaced(document, path, marker))
    return text.replace(json.dumps(marker), literal).encode()


def verdict(body: bytes, secrets: tuple[str, ...]) -> None:
    """Refused with issues that name fields and keep the secrets, or built cleanly."""
    checked = check_event(body, FACILITY)
    if checked.message_type is None:
        assert checked.issues
        for issue in checked.issues:
            assert issue.code != "unprocessable", issue
            for secret in secrets:
                assert secret not in issue.text, (secret, issue)
                assert secret not in (issue.expression or ""), (secret, issue)
        return
    assert checked.envelope is not None
    build_message(checked.envelope, context(vsb_reference="VSB-2026-000042"))


@pytest.mark.parametrize("name", sorted(ELEMENTS))
def test_poison_in_the_pvt_elements(name: str) -> None:
    """Each poison value in each of the type's own elements."""
    original = example(name)
    secrets = (patient_insz(original), *SECRET_CODES)
    for path in ELEMENTS[name]:
        for value in POISON:
            verdict(json.dumps(replaced(original, path, value)).encode(), secrets)


@pytest.mark.parametrize("name", sorted(ELEMENTS))
def test_body_limits_in_the_pvt_elements(name: str) -> None:
    """Numbers past the limits and nesting past MAX_DEPTH there are refused by the body."""
    original = example(name)
    nested = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    for path in ELEMENTS[name]:
        for literal, code in (("1e400", "number"), ("9" * 40, "number"), (nested, "too-deep")):
            checked = check_event(body_with(original, path, literal), FACILITY)
            assert [issue.code for issue in checked.issues] == [code], (path, literal)


def test_every_broken_element_of_the_migration_file() -> None:
    """test_robustness's replacement of every element, for the migration file too (its
    supportingInfo has parts the new request has not)."""
    original = example("27-pvt-admission-migration")
    insz = patient_insz(original)
    for path in paths(original):
        for value in REPLACEMENTS:
            issues = refusal(replaced(original, path, value))
            if issues is not None:
                assert issues, path
                assert all(insz not in issue.text for issue in issues), path
