"""The JSON Schemas of the event contract, loaded once, and their errors as Issues.

One Draft 2020-12 schema per event code (``schemas/events/<code>.json``) refers to the
shared definitions by the relative reference ``common.json#/$defs/…``, so that any validator
given the files as they are (``check-jsonschema --schemafile …``) resolves them; here a
``referencing`` registry holds ``common.json`` under that name. Error texts are
written here from the failing keyword and the schema, never from jsonschema's own
message, which quotes the offending value (it could be an INSZ or a diagnosis).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

import fastjsonschema
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from mappings import fhirpath
from mappings.bundle import EventBundle
from mappings.fhirpath import Segment
from mappings.model import Issue

COMMON_ID: Final = "common.json"
"""How the schemas refer to the shared definitions (a reference relative to their folder)."""
ISSUE_CODE_KEYWORD: Final = "x-issue-code"
"""A schema annotation that gives a rule its own issue code instead of ``schema``."""
EXPECTED_KEYWORD: Final = "x-expected"
"""A schema annotation that says in words what a pattern expects."""
RULE_KEYWORD: Final = "x-rule"
"""A schema annotation that replaces the generated rule text of a constraint."""
CATEGORY_PREFIX: Final = "supporting-info-"
"""``$defs`` named so hold the shape of one supportingInfo category."""


@dataclass(frozen=True)
class _EventSchema:
    document: Any
    """Validates the whole event except the category-specific shape of supportingInfo."""
    categories: Mapping[str, Any]
    """One validator per supportingInfo category (``$defs/supporting-info-<category>``)."""


def _load() -> tuple[dict[str, _EventSchema], Any]:
    schemas: dict[str, dict[str, Any]] = {}
    folder = resources.files("mappings").joinpath("schemas", "events")
    for item in folder.iterdir():
        if item.name.endswith(".json"):
            contents = json.loads(item.read_text(encoding="utf-8"))
            Draft202012Validator.check_schema(contents)
            schemas[item.name.removesuffix(".json")] = contents
    common = schemas.pop("common")
    registry: Registry[Any] = Registry().with_resource(COMMON_ID, Resource.from_contents(common))
    compiled = {code: _compile(contents, registry) for code, contents in schemas.items()}
    envelope = Draft202012Validator({"$ref": f"{COMMON_ID}#/$defs/bundle"}, registry=registry)
    return compiled, envelope


def _compile(contents: dict[str, Any], registry: Registry[Any]) -> _EventSchema:
    # The published schema dispatches supportingInfo items on their category with
    # if/then, which costs jsonschema ~5 ms per event; at run time the same
    # per-category subschemas are applied by a dictionary look-up instead.
    runtime = copy.deepcopy(contents)
    definitions = runtime.get("$defs", {})
    categories = {
        name.removeprefix(CATEGORY_PREFIX): Draft202012Validator(schema, registry=registry)
        for name, schema in definitions.items()
        if name.startswith(CATEGORY_PREFIX)
    }
    if categories:
        definitions.get("supporting-info", {}).pop("allOf", None)
    return _EventSchema(Draft202012Validator(runtime, registry=registry), categories)


def _fast_validators() -> dict[str, Callable[[Any], Any]]:
    """The published schemas compiled to Python by fastjsonschema: ~1 ms instead of ~4 ms.

    They only decide *whether* an event is valid; jsonschema still writes the issues of an
    invalid one. fastjsonschema compiles draft 7 and resolves no URN references, so each
    schema is rewritten to its draft 7 equivalent with the common definitions copied into its
    own ``$defs``. A test checks both verdicts agree on every element of the examples broken.
    """
    folder = resources.files("mappings").joinpath("schemas", "events")
    published = {
        item.name.removesuffix(".json"): json.loads(item.read_text(encoding="utf-8"))
        for item in folder.iterdir()
        if item.name.endswith(".json")
    }
    common = published.pop("common")
    return {
        code: fastjsonschema.compile(_bundle(schema, common)) for code, schema in published.items()
    }


def _bundle(schema: dict[str, Any], common: dict[str, Any]) -> dict[str, Any]:
    bundled: dict[str, Any] = _rebase(schema, "")
    definitions = bundled.setdefault("$defs", {})
    for name, definition in common.get("$defs", {}).items():
        definitions[f"common--{name}"] = _rebase(definition, "common--")
    return bundled


def _rebase(node: Any, local: str) -> Any:
    """Copy ``node`` with its references pointing into the bundled ``$defs``."""
    if isinstance(node, list):
        return [_rebase(item, local) for item in node]
    if not isinstance(node, dict):
        return node
    copied: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("$schema", "$id"):
            continue
        if key == "$ref" and isinstance(value, str):
            if value.startswith(f"{COMMON_ID}#/$defs/"):
                value = "#/$defs/common--" + value.removeprefix(f"{COMMON_ID}#/$defs/")
            elif value.startswith("#/$defs/"):
                value = f"#/$defs/{local}" + value.removeprefix("#/$defs/")
        copied[key] = _rebase(value, local)
    if "prefixItems" in copied:
        # 2020-12's prefixItems (+ items for the rest) is draft 7's items array (+ additionalItems).
        rest = copied.pop("items", None)
        copied["items"] = copied.pop("prefixItems")
        if rest is not None:
            copied["additionalItems"] = rest
    if "$ref" in copied and len(copied) > 1:
        # Draft 7 (what fastjsonschema compiles) ignores the siblings of a $ref; 2020-12 applies
        # them. allOf keeps the 2020-12 meaning.
        reference = {"$ref": copied.pop("$ref")}
        return {"allOf": [reference, copied]}
    return copied


def passes_fast(document: Mapping[str, Any], event_code: str) -> bool:
    """Whether ``document`` satisfies the published schema of ``event_code`` (fast check)."""
    try:
        _FAST[event_code](document)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


_SCHEMAS, _ENVELOPE = _load()
_FAST = _fast_validators()

SCHEMA_CODES: Final = frozenset(_SCHEMAS)
"""The event codes that have a schema."""


def schema_issues(document: Mapping[str, Any], event_code: str | None) -> list[Issue]:
    """Validate ``document`` against the schema of ``event_code`` (or the envelope only).

    An unknown or missing event code still gets the envelope checked, so the EPD learns
    about every structural problem in one answer.
    """
    schema = _SCHEMAS.get(event_code or "")
    if schema is not None and event_code in _FAST and passes_fast(document, event_code):
        return []
    errors: list[tuple[tuple[Segment, ...], Any]] = []
    if schema is None:
        errors.extend(((), error) for error in _ENVELOPE.iter_errors(document))
    else:
        errors.extend(((), error) for error in schema.document.iter_errors(document))
        errors.extend(_category_errors(document, schema.categories))
    # One issue per element and code: a blank text breaks both its length and its pattern.
    issues: dict[tuple[str, str | None], Issue] = {}
    for prefix, error in errors:
        for issue in _issues(document, prefix, error):
            issues.setdefault((issue.code, issue.expression), issue)
    return list(issues.values())


def _category_errors(
    document: Mapping[str, Any], categories: Mapping[str, Any]
) -> Iterator[tuple[tuple[Segment, ...], Any]]:
    bundle = EventBundle(document)
    for claim in bundle.resources("Claim"):
        for item in claim.child("supportingInfo").items():
            codes = {
                code
                for coding in item.child("category").child("coding").items()
                if isinstance(code := coding.child("code").value, str)
            }
            for code in sorted(codes & categories.keys()):
                for error in categories[code].iter_errors(item.value):
                    yield item.path, error


def _issues(
    document: Mapping[str, Any], prefix: tuple[Segment, ...], error: Any
) -> Iterator[Issue]:
    path = (*prefix, *error.absolute_path)
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
    if isinstance(schema.get(RULE_KEYWORD), str):
        return str(schema[RULE_KEYWORD])
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
