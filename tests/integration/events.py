"""Test events made from the bundled examples, with the ids, dossier and number a test needs."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

AFFILIATED = "85073003328"
CAN_JOIN = "12031512419"
CANNOT_JOIN = "90411706253"


def example(name: str) -> dict[str, Any]:
    """A fresh copy of ``mappings/examples/<name>.json``."""
    text = resources.files("mappings").joinpath("examples", f"{name}.json").read_text("utf-8")
    return copy.deepcopy(json.loads(text))


def _place(document: dict[str, Any], event_id: str, dossier: str, sequence: int) -> bytes:
    document["id"] = event_id
    for extension in document["entry"][0]["resource"]["extension"]:
        if extension["url"].endswith(":dossier"):
            extension["valueString"] = dossier
        elif extension["url"].endswith(":sequence"):
            extension["valuePositiveInt"] = sequence
    return json.dumps(document).encode()


def _set_insz(document: dict[str, Any], insz: str) -> None:
    for entry in document["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["identifier"][0]["value"] = insz


def application(event_id: str, dossier: str, sequence: int = 1, insz: str = AFFILIATED) -> bytes:
    """A REVA diagnosis application (accepted for an affiliated person on 2026-11-20)."""
    document = example("02-reva-application-diagnosis")
    _set_insz(document, insz)
    return _place(document, event_id, dossier, sequence)


def stop(event_id: str, dossier: str, sequence: int, insz: str = AFFILIATED) -> bytes:
    """A REVA stop of the dossier's application."""
    document = example("03-reva-stop")
    _set_insz(document, insz)
    return _place(document, event_id, dossier, sequence)


def lookup(event_id: str, dossier: str, sequence: int, insz: str = AFFILIATED) -> bytes:
    """An insurance-status look-up."""
    document = example("01-insurance-status")
    _set_insz(document, insz)
    return _place(document, event_id, dossier, sequence)
