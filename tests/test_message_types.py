"""Invariants driven by the registry: every registered message type has all of its parts.

Nothing here lists the types by hand: a type added to ``mappings.registry`` with one of the
places of docs/architecture.md ("Adding a message type") forgotten fails one of these tests
(the schema and the VSB element already fail at import, in ``mappings.registry.register``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from adapter.central import ZeepCentral
from adapter.devpki import DevPki
from adapter.engine.answers import from_central
from adapter.settings import CentralSettings
from adapter.signing import Signer
from adapter.store import AnswerSource
from mappings import (
    MESSAGE_TYPES,
    AnswerHead,
    MessageContext,
    MessageType,
    Outcome,
    build_message,
    parse_answer,
    read_envelope,
    to_fhir_answer,
    validate_event,
)
from mappings.invoice_batch import validate_batch
from mappings.issue_types import ISSUE_TYPES
from simulator import Simulator
from tests.mappings.helpers import FACILITY
from tests.support.carried import is_built, write_example_batch
from tests.support.events import example, example_path, examples_of
from tests.support.fhir import parse_r4

ROOT = Path(__file__).resolve().parents[1]
EVENTS_MD = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
TYPES = sorted(MESSAGE_TYPES)


def built(name: str, message_type: MessageType) -> etree._Element:
    """The unsigned VSB message of an example (a modification with a made-up reference)."""
    envelope = read_envelope(example_path(name).read_bytes())
    context = MessageContext(
        message_id=f"inv-{name}",
        created_at=datetime(2026, 11, 20, 10, tzinfo=UTC),
        facility=FACILITY,
        vsb_reference="VSB-2026-999999" if message_type.role.modifies else None,
    )
    return build_message(envelope, context)


@pytest.fixture(scope="module")
def signer(pki: DevPki) -> Signer:
    return Signer.from_keystore(pki.keystore, b"dev-only")


@pytest.mark.parametrize("code", TYPES)
class TestEveryMessageType:
    """Each registered type: schema, example, XSD, simulator, FHIR answer, docs."""

    def test_it_has_an_example_that_passes_the_adapters_checks(self, code: str) -> None:
        """At least one example in mappings/examples is of this type and is accepted."""
        names = examples_of(code)
        assert names, f"no example of {code} in mappings/examples"
        for name in names:
            assert (
                validate_event(read_envelope(example_path(name).read_bytes()), FACILITY).code
                == code
            )

    def test_its_examples_pass_check_jsonschema_on_the_published_schema(self, code: str) -> None:
        """An integrator's tool, given the schema file as it is, accepts the examples."""
        schema = ROOT / "mappings" / "schemas" / "events" / f"{code}.json"
        checker = Path(sys.executable).with_name("check-jsonschema")
        for name in examples_of(code):
            done = subprocess.run(
                [str(checker), "--schemafile", str(schema), str(example_path(name))],
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stdout + done.stderr

    def test_its_examples_are_fhir_r4(self, code: str) -> None:
        """Every resource of its examples parses with a FHIR R4 model library."""
        for name in examples_of(code):
            parse_r4(example(name))

    def test_its_message_passes_the_vsb_schema(self, code: str, tmp_path: Path) -> None:
        """Its examples build a VSB message of its kind that vsb-1.0.xsd accepts (a part or
        a batch: the streamed batch it takes part in, validated as a stream)."""
        message_type = MESSAGE_TYPES[code]
        if not is_built(message_type):
            for name in examples_of(code):
                written = write_example_batch(name, message_type, tmp_path / f"{name}.xml")
                validate_batch(str(tmp_path / f"{name}.xml"))
                assert written.invoices >= 1
            return
        for name in examples_of(code):
            message = built(name, message_type)
            assert etree.QName(message).localname == message_type.message_kind

    def test_the_simulator_answers_it(
        self, code: str, simulator: Simulator, signer: Signer, pki: DevPki
    ) -> None:
        """The central-application simulator reads its kind and answers (no client fault),
        and that answer becomes a FHIR answer that parses as R4."""
        message_type = MESSAGE_TYPES[code]
        if not is_built(message_type):
            pytest.skip("parts and batches are submitted by the streamed path, not built")
        [name, *_] = examples_of(code)
        settings = CentralSettings(
            url=simulator.url,
            timeout_seconds=5,
            answer_certificate=str(pki.central_cert),
            ca_bundle=str(pki.ca_cert),
        )
        central = ZeepCentral(settings, signer)
        answer = parse_answer(central.submit(signer.sign(built(name, message_type))))
        prepared = from_central(answer, message_type, event_id="e-1", source=AnswerSource.SYNC)
        parse_r4(json.loads(prepared.body))

    @pytest.mark.parametrize("outcome", [Outcome.ACCEPTED, Outcome.IN_BERAAD, Outcome.REFUSED])
    def test_every_outcome_renders_as_fhir_r4(self, code: str, outcome: Outcome) -> None:
        """Its answer kind renders every outcome with no body (as in the adapter's own
        answers) as valid FHIR whose focus is the kind's resource."""
        message_type = MESSAGE_TYPES[code]
        head = AnswerHead(
            "a-1", "e-1", code, outcome, "VSB-1", (), datetime(2026, 11, 20, tzinfo=UTC)
        )
        bundle = to_fhir_answer(head, message_type.answer, None)
        parse_r4(bundle)
        resources = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
        [header] = [r for r in resources.values() if r["resourceType"] == "MessageHeader"]
        focus = resources[header["focus"][0]["reference"]]
        assert focus["resourceType"] == message_type.answer.resource

    def test_it_has_a_section_in_events_md(self, code: str) -> None:
        """docs/events.md documents it under ``## Event <code>`` and in the event codes."""
        assert f"\n## Event {code}\n" in EVENTS_MD
        codes_row = next(
            line for line in EVENTS_MD.splitlines() if "`urn:vsb-adapter:fhir:event`" in line
        )
        assert f"`{code}`" in codes_row


class TestIssueCodes:
    """The issue codes of the FHIR answers and of docs/events.md are the same list."""

    def test_every_issue_code_is_documented_with_its_issue_type(self) -> None:
        """Each row of the table names a code of ``ISSUE_TYPES`` and its IssueType, and back."""
        table = EVENTS_MD.split("| code | IssueType |", 1)[1].split("\n\n", 1)[0]
        rows = dict(re.findall(r"^\| `([a-z0-9-]+)` \| `([a-z-]+)` \|", table, re.MULTILINE))
        assert rows == dict(ISSUE_TYPES)
