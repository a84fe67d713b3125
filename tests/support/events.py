"""Test events made from the bundled examples, with the ids, dossier and number a test needs."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

AFFILIATED = "85073003328"
CAN_JOIN = "12031512419"
CANNOT_JOIN = "90411706253"


_EXAMPLES = resources.files("mappings").joinpath("examples")


def _names(folder: Any) -> tuple[str, ...]:
    return tuple(sorted(f.name[:-5] for f in folder.iterdir() if f.name.endswith(".json")))


EXAMPLE_NAMES = _names(_EXAMPLES)
"""The valid examples (``mappings/examples/*.json``), found in the folder."""
INVALID_EXAMPLE_NAMES = _names(_EXAMPLES.joinpath("invalid"))
"""The examples the adapter refuses (``mappings/examples/invalid/*.json``)."""


def event_code(document: dict[str, Any]) -> str:
    """The event code of an example."""
    return str(document["entry"][0]["resource"]["eventCoding"]["code"])


@functools.cache
def _examples_by_code() -> Mapping[str, tuple[str, ...]]:
    # Read once per session: parametrized tests ask for the examples of every code.
    by_code: dict[str, list[str]] = {}
    for name in EXAMPLE_NAMES:
        by_code.setdefault(event_code(example(name)), []).append(name)
    return {code: tuple(names) for code, names in by_code.items()}


def examples_of(code: str) -> list[str]:
    """The valid examples of an event code, found by the code inside them."""
    return list(_examples_by_code().get(code, ()))


def example_path(name: str) -> Path:
    """The file of an example event in mappings/examples (or its invalid/ folder)."""
    folder = _EXAMPLES.joinpath("invalid") if name in INVALID_EXAMPLE_NAMES else _EXAMPLES
    return Path(str(folder.joinpath(f"{name}.json")))


def example(name: str) -> dict[str, Any]:
    """A fresh copy of an example event from mappings/examples (or its invalid/ folder)."""
    return json.loads(example_path(name).read_text("utf-8"))


def placed(
    document: dict[str, Any], event_id: str, dossier: str, sequence: int, insz: str | None = None
) -> bytes:
    """The body of ``document`` as event ``event_id``, number ``sequence`` of ``dossier``
    (and of person ``insz`` if given)."""
    document["id"] = event_id
    for extension in document["entry"][0]["resource"]["extension"]:
        if extension["url"].endswith(":dossier"):
            extension["valueString"] = dossier
        elif extension["url"].endswith(":sequence"):
            extension["valuePositiveInt"] = sequence
    if insz is not None:
        for entry in document["entry"]:
            if entry["resource"]["resourceType"] == "Patient":
                entry["resource"]["identifier"][0]["value"] = insz
    return json.dumps(document).encode()


def application(event_id: str, dossier: str, sequence: int = 1, insz: str = AFFILIATED) -> bytes:
    """A REVA diagnosis application (accepted for an affiliated person on 2026-11-20)."""
    return placed(example("02-reva-application-diagnosis"), event_id, dossier, sequence, insz)


def stop(event_id: str, dossier: str, sequence: int, insz: str = AFFILIATED) -> bytes:
    """A REVA stop of the dossier's application."""
    return placed(example("03-reva-stop"), event_id, dossier, sequence, insz)


def lookup(event_id: str, dossier: str, sequence: int, insz: str = AFFILIATED) -> bytes:
    """An insurance-status look-up."""
    return placed(example("01-insurance-status"), event_id, dossier, sequence, insz)


UNREADABLE_POISON: dict[str, bytes] = {
    "deep": b'{"id": "p-deep", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "digits": b'{"id": "p-digits", "x": ' + b"9" * 5000 + b"}",
    "nul": b'{"id": "p-nul"\x00, "x": 1}',
    "latin1": b'{"id": "p-latin1", "x": "Jos\xe9"}',
    "nan": b'{"id": "p-nan", "x": NaN}',
    "array": b"[1, 2, 3]",
    "empty": b"",
}
"""Bodies whose event id cannot be read, one per kind of issue 7 (the first issue code of
each: too-deep, number, then not-json but for the array, not-object)."""
