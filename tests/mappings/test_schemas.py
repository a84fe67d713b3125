"""The published JSON Schemas, as an integrator would use them with any validator."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from importlib import resources
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from mappings import MESSAGE_TYPES, MessageType, fhirpath
from mappings.deadline import LATE_CHANGE, Deadlines, PeriodEffect, period_end
from mappings.event_schema import schema_issues
from mappings.registry import RegistrationError, register
from tests.mappings.helpers import (
    EXAMPLE_NAMES,
    INVALID_EXAMPLE_NAMES,
    example,
    info,
    resource,
    set_insz,
)


def published() -> dict[str, dict[str, Any]]:
    """Every schema file by name, as shipped."""
    folder = resources.files("mappings").joinpath("schemas", "events")
    return {
        item.name.removesuffix(".json"): json.loads(item.read_text("utf-8"))
        for item in folder.iterdir()
        if item.name.endswith(".json")
    }


def validator(code: str) -> Any:
    """A plain jsonschema validator for an event code, with the files in a registry."""
    schemas = published()
    # Refs are relative to the files' folder: each file is found under its own name.
    registry: Registry[Any] = Registry().with_resources(
        (f"{name}.json", Resource.from_contents(schema)) for name, schema in schemas.items()
    )
    return Draft202012Validator(schemas[code], registry=registry)


def published_expressions(document: dict[str, Any], code: str) -> set[str]:
    """The elements the published schema finds fault with, as FHIRPath expressions."""
    found: set[str] = set()
    for error in validator(code).iter_errors(document):
        path = tuple(error.absolute_path)
        if error.validator == "required":
            missing = [name for name in error.validator_value if name not in error.instance]
            found.update(fhirpath.render(document, (*path, name)) for name in missing)
        else:
            found.add(fhirpath.render(document, path))
    return found


class TestRegister:
    """``register`` refuses, at import, a type that misses a part or clashes with another."""

    STOP = MESSAGE_TYPES["reva-stop"]

    def test_the_registered_types_register(self) -> None:
        """The shipped types pass, so each refusal below is its own fault's."""
        assert register(MESSAGE_TYPES.values()) == dict(MESSAGE_TYPES)

    @pytest.mark.parametrize(
        ("types", "problem"),
        [
            ([STOP, replace(STOP, message_kind="RevaCancel")], "is registered twice"),
            ([replace(STOP, code="Reva_Stop")], "is not a valid event code"),
            ([replace(STOP, code="reva-unheard-of")], "has no JSON Schema in schemas/events"),
            (
                [replace(STOP, message_kind="RevaUnheardOf")],
                "names RevaUnheardOf, no message element of vsb-1.0.xsd",
            ),
            (
                [replace(STOP, deadlines=Deadlines(due_on=period_end))],
                "has the 30-day rule of an application but does not open one",
            ),
            (
                [replace(MESSAGE_TYPES["reva-application"], deadlines=LATE_CHANGE)],
                "has the 5-day rule of a change but modifies no application",
            ),
            (
                [replace(STOP, deadlines=Deadlines(period=PeriodEffect.STOPS))],
                "declares stops without a date",
            ),
            (
                [replace(STOP, deadlines=Deadlines(period_date=period_end))],
                "reads a period date it never sets",
            ),
        ],
        ids=[
            "duplicate",
            "invalid-code",
            "no-schema",
            "unknown-kind",
            "due-not-opening",
            "late-not-modifying",
            "period-without-date",
            "date-without-period",
        ],
    )
    def test_refused(self, types: list[MessageType], problem: str) -> None:
        """Each fault raises RegistrationError naming the code and the problem."""
        expected = f"^event code {types[-1].code!r} .*{re.escape(problem)}"
        with pytest.raises(RegistrationError, match=expected):
            register(types)


@pytest.mark.parametrize("name", EXAMPLE_NAMES + INVALID_EXAMPLE_NAMES)
def test_examples_match_the_published_schema(name: str) -> None:
    """Every example, even the one with a bad check digit, is structurally valid."""
    document = example(name)
    code = resource(document, "MessageHeader")["eventCoding"]["code"]
    assert published_expressions(document, code) == set()


def broken_application() -> dict[str, Any]:
    """An application with structural faults inside and outside supportingInfo."""
    document = example("02-reva-application-diagnosis")
    claim = resource(document, "Claim")
    info(claim, "location")["valueString"] = ""
    info(claim, "informed-consent")["timingDate"] = "30/10/2026"
    info(claim, "care-setting")["code"]["coding"][0]["code"] = "residential"
    del info(claim, "medical-report")["valueAttachment"]["contentType"]
    del resource(document, "MessageHeader")["source"]
    resource(document, "MessageHeader")["focus"] = []
    set_insz(document, "123")
    return document


def broken_stop() -> dict[str, Any]:
    """A stop with faults in both of its supportingInfo items."""
    document = example("03-reva-stop")
    claim = resource(document, "Claim")
    info(claim, "stop")["code"]["coding"][0]["code"] = "bored"
    del info(claim, "referral-after")["valueString"]
    return document


@pytest.mark.parametrize(
    ("code", "make"), [("reva-application", broken_application), ("reva-stop", broken_stop)]
)
def test_runtime_agrees_with_the_published_schema(code: str, make: Any) -> None:
    """The adapter's category dispatch finds exactly what the published if/then finds."""
    document = make()
    runtime = {issue.expression for issue in schema_issues(document, code)}
    assert runtime == published_expressions(document, code)
    assert runtime
