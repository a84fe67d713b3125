"""The REVA rule table (``reva_rules.py``) end to end, one test per row.

Every event goes the production way: published on RabbitMQ, stored and checked by the
adapter, signed and sent over SOAP to the simulator, whose "today" is set per step, and its
answer read back from RabbitMQ. Sessions go into the simulator's ledger directly (invoicing
will feed it). One adapter and one simulator (``domain_rig``) serve the whole module; each
row has dossiers and a person of its own.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import date
from typing import Any

import pytest

from mappings.attachment import MAX_BYTES
from tests.integration.conftest import DomainRig
from tests.integration.reva_rules import ADULT, RULES, Rule, Step
from tests.support import reva
from tests.support.events import placed
from tests.support.rig import issue_codes, outcome, reference


class Run:
    """One row being played: its dossiers' numbers and the references they got."""

    def __init__(self, rig: DomainRig, rule: Rule, index: int) -> None:
        self.adapter, self.simulator = rig
        self.person = (
            rule.person if rule.person != ADULT else reva.insz(date(1975, 1, 1), index)
        )  # never ADULT
        self.tag = f"rule{index}-{uuid.uuid4().hex[:6]}"
        self.sequences: dict[int, int] = {}
        self.references: dict[int, str] = {}

    def play(self, step: Step) -> tuple[str, set[str]]:
        """The outcome of a step and the codes of its answer."""
        self.simulator.set_today(step.today)
        if step.event is None:
            result = self.simulator.record_sessions(
                self.references[step.dossier], step.today, step.sessions
            )
            codes = {error.code for error in result.errors}
            return ("refused" if result.refused else "accepted"), codes
        return self.send(step)

    def send(self, step: Step) -> tuple[str, set[str]]:
        document = json.loads(json.dumps(step.event))  # the table's rows stay as written
        self._resolve_previous(document)
        sequence = self.sequences[step.dossier] = self.sequences.get(step.dossier, 0) + 1
        dossier = f"{self.tag}-d{step.dossier}"
        event_id = f"{dossier}-{sequence}"
        body = placed(document, event_id, dossier, sequence, step.person or self.person)
        [sent] = self.adapter.send(body)
        final = step.outcome != "in-beraad"
        answer = self.adapter.answers([sent], final=final)[sent][-1 if final else 0]
        found = reference(answer)
        if found is not None and step.dossier not in self.references:
            self.references[step.dossier] = found
        return outcome(answer), issue_codes(answer)

    def _resolve_previous(self, document: dict[str, Any]) -> None:
        """``@N`` in a Claim.related reference: the VSB reference dossier N was given."""
        for entry in document["entry"]:
            for related in entry["resource"].get("related", []):
                value = related["reference"]["value"]
                if value.startswith("@"):
                    related["reference"]["value"] = self.references[int(value[1:])]


@pytest.mark.parametrize(
    "index", range(len(RULES)), ids=[f"{i:02d} {rule.name}" for i, rule in enumerate(RULES)]
)
def test_rule(domain_rig: DomainRig, index: int) -> None:
    """Each step of the row gets the answer the table says, on the day it says."""
    rule = RULES[index]
    run = Run(domain_rig, rule, index + 1)
    for number, step in enumerate(rule.steps, 1):
        got, codes = run.play(step)
        where = f"{rule.name} ({rule.domain}), step {number}: {step.label}"
        assert got == step.outcome, f"{where}: got {got} {sorted(codes)}"
        if step.code is not None:
            assert step.code in codes, f"{where}: got {got} {sorted(codes)}"
        elif got == "accepted":
            assert not codes, f"{where}: accepted with {sorted(codes)}"


def test_a_document_of_ten_mebibytes_goes_through(domain_rig: DomainRig) -> None:
    """The largest document allowed is stored, signed, sent and answered like any other."""
    run = Run(domain_rig, Rule("large", "docs/events.md, Documents", ()), 999)
    opening = reva.application(date(2026, 1, 1), date(2028, 12, 31))
    assert run.play(Step(date(2026, 1, 1), opening, "accepted"))[0] == "accepted"
    pdf = b"%PDF-1.7\n" + os.urandom(MAX_BYTES - 9)
    document = reva.document(base64.b64encode(pdf).decode())
    assert run.play(Step(date(2026, 1, 5), document, "accepted")) == ("accepted", set())
