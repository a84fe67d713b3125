"""The JSON Schemas of the event contract, loaded once, and their errors as Issues.

One Draft 2020-12 schema per event code (``schemas/events/<code>.json``) refers to the
shared definitions in ``common.json`` through a ``referencing`` registry. Error texts are
written here from the failing keyword and the schema, never from jsonschema's own
message, which quotes the offending value (it could be an INSZ or a diagnosis).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any, Final

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from mappings import fhirpath
from mappings.model import Issue

COMMON_ID: Final = "urn:vsb-adapter:schema:events:common"
ISSUE_CODE_KEYWORD: Final = "x-issue-code"
"""A schema annotation that gives a rule its own issue code instead of ``schema``."""
EXPECTED_KEYWORD: Final = "x-expected"
"""A schema annotation that says in words what a pattern expects."""


def _load() -> tuple[dict[str, Any], Any]:
    schemas: dict[str, dict[str, Any]] = {}
    folder = resources.files("mappings").joinpath("schemas", "events")
    for item in folder.iterdir():
        if item.name.endswith(".json"):
            contents = json.loads(item.read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(contents)
            schemas[item.name.removesuffix(".json")] = contents
    registry: Registry[Any] = Registry().with_resources(
        (contents["$id"], Resource.from_contents(contents)) for contents in schemas.values()
    )
    validators = {
        code: Draft202012Validator(contents, registry=registry)
        for code, contents in schemas.items()
        if code != "common"
    }
    envelope = Draft202012Validator({"$ref": f"{COMMON_ID}#/$defs/bundle"}, registry=registry)
    return validators, envelope


_VALIDATORS, _ENVELOPE = _load()

SCHEMA_CODES: Final = frozenset(_VALIDATORS)
"""The event codes that have a schema."""


def schema_issues(document: Mapping[str, Any], event_code: str | None) -> list[Issue]:
    """Validate ``document`` against the schema of ``event_code`` (or the envelope only).

    An unknown or missing event code still gets the envelope checked, so the EPD learns
    about every structural problem in one answer.
    """
    validator = _VALIDATORS.get(event_code or "", _ENVELOPE)
    # One issue per element and code: a blank text breaks both its length and its pattern.
    issues: dict[tuple[str, str | None], Issue] = {}
    for error in validator.iter_errors(document):
        for issue in _issues(document, error):
            issues.setdefault((issue.code, issue.expression), issue)
    return list(issues.values())


def _issues(document: Mapping[str, Any], error: Any) -> Iterator[Issue]:
    path = tuple(error.absolute_path)
    keyword: str = error.validator
    schema: Any = error.schema
    schema = schema if isinstance(schema, dict) else {}
    if keyword == "required":
        instance = error.instance if isinstance(error.instance, dict) else {}
        for name in error.validator_value:
            if name not in instance:
                expression = fhirpath.render(document, (*path, name))
                yield Issue("required", f"{expression} is required.", expression)
        return
    expression = fhirpath.render(document, path)
    code = schema.get(ISSUE_CODE_KEYWORD, "schema")
    yield Issue(
        str(code), f"{expression} {_rule(keyword, error.validator_value, schema)}.", expression
    )


def _rule(keyword: str, value: Any, schema: Mapping[str, Any]) -> str:
    expected = schema.get(EXPECTED_KEYWORD)
    if keyword == "type":
        return f"must be of JSON type {value}"
    if keyword == "const":
        return f"must be {json.dumps(value)}"
    if keyword == "enum":
        return "must be one of " + ", ".join(json.dumps(item) for item in value)
    if keyword in ("pattern", "contains") and expected:
        return f"must be {expected}" if keyword == "pattern" else f"must contain {expected}"
    if keyword == "pattern":
        return f"must match the pattern {value}"
    limits = {
        "minLength": "must be at least {} characters long",
        "maxLength": "must be at most {} characters long",
        "minItems": "must have at least {} element(s)",
        "maxItems": "must have at most {} element(s)",
        "minimum": "must be at least {}",
        "maximum": "must be at most {}",
    }
    if keyword in limits:
        return limits[keyword].format(value)
    return f"breaks the schema rule '{keyword}'"
