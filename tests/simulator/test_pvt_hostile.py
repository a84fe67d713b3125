"""The six new kinds against malformed input (as ``test_signature`` checks the REVA
application): elements out of the XSD's order and oversized text are soap:Client schema
faults with no effect, and every answer to them validates against the XSD."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from lxml import etree

from simulator import Simulator
from simulator.contract import DEFAULT_XSD

from .builders_pvt import (
    increased_allowance_request,
    migration_file,
    personal_share_request,
    pvt_admission,
    pvt_cancel,
    pvt_discharge,
    pvt_extension,
)
from .conftest import AFFILIATED, NS, VSB, SoapClient
from .scenario import Signer

REFERENCE = "VSB-2026-000001"

KINDS: dict[str, Callable[[], etree._Element]] = {
    "IncreasedAllowanceRequest": lambda: increased_allowance_request(AFFILIATED, "2026-03-10"),
    "PersonalShareRequest": lambda: personal_share_request(AFFILIATED, "2026-03-10"),
    "PvtAdmission": lambda: pvt_admission(end="2026-12-31"),
    "PvtExtension": lambda: pvt_extension(REFERENCE, "2026-07-01", "2026-09-30"),
    "PvtDischarge": lambda: pvt_discharge(REFERENCE, "2026-03-05"),
    "PvtCancel": lambda: pvt_cancel(REFERENCE),
}

SWAPPED = {
    "IncreasedAllowanceRequest": ("Insz", "ReferenceDate"),
    "PersonalShareRequest": ("Insz", "ReferenceDate"),
    "PvtAdmission": ("AdmissionDate", "StartDate"),
    "PvtExtension": ("StartDate", "EndDate"),
    "PvtDischarge": ("DischargeDate", "DischargeTime"),
    "PvtCancel": ("VsbReference", "Insz"),
}
"""Two neighbouring elements of each kind, to be sent the other way round."""

OVERSIZED = {
    "IncreasedAllowanceRequest": "Insz",
    "PersonalShareRequest": "Insz",
    "PvtAdmission": "Diagnosis",
    "PvtExtension": "VsbReference",
    "PvtDischarge": "Destination",
    "PvtCancel": "Reason",
}
"""An element of each kind that gets 100 000 characters (each has a length or pattern)."""

SCHEMA = etree.XMLSchema(etree.parse(str(DEFAULT_XSD)))


def _fault(simulator: Simulator, message: etree._Element) -> tuple[str, str]:
    reply = SoapClient(simulator.url).submit(message)
    assert reply.status == 500
    assert reply.fault is not None
    return reply.fault


@pytest.mark.parametrize("kind", list(KINDS))
def test_elements_out_of_order(simulator: Simulator, signed: Signer, kind: str) -> None:
    """Two elements swapped: a schema fault naming one of them; nothing is kept."""
    message = KINDS[kind]()
    first, second = (message.find(f"v:{name}", NS) for name in SWAPPED[kind])
    assert first is not None
    assert second is not None
    second.addnext(copy.deepcopy(first))
    message.remove(first)
    code, text = _fault(simulator, signed(message))
    assert code == "soap:Client"
    assert text.startswith("schema: ")
    assert any(name in text for name in SWAPPED[kind])
    assert simulator.admissions() == []
    assert simulator.references_issued == 0


@pytest.mark.parametrize("kind", list(KINDS))
def test_oversized_text(simulator: Simulator, signed: Signer, kind: str) -> None:
    """100 000 characters in a bounded element: a schema fault, short and INSZ-free."""
    message = KINDS[kind]()
    node = message.find(f"v:{OVERSIZED[kind]}", NS)
    assert node is not None
    node.text = "9" * 100_000
    code, text = _fault(simulator, signed(message))
    assert code == "soap:Client"
    assert text.startswith("schema: ")
    assert len(text) < 2_000
    assert AFFILIATED not in text
    assert simulator.admissions() == []


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("v:DischargeTime", "25:00:00"),
        ("v:DischargeDate", "2026-02-30"),
        ("v:Destination", "moon"),
    ],
    ids=["hour 25", "30 February", "unknown destination"],
)
def test_bad_discharge_values(simulator: Simulator, signed: Signer, path: str, value: str) -> None:
    """Impossible times, dates and destinations never reach the rules."""
    message = pvt_discharge(REFERENCE, "2026-03-05")
    node = message.find(path, NS)
    assert node is not None
    node.text = value
    assert _fault(simulator, signed(message))[0] == "soap:Client"


def test_a_foreign_element_in_a_vi_approval(simulator: Simulator, signed: Signer) -> None:
    """An element the XSD does not know, inside ViApproval, is a schema fault."""
    message = migration_file()
    approval = message.find("v:ViApproval", NS)
    assert approval is not None
    etree.SubElement(approval, f"{{{VSB}}}ApprovedBy").text = "somebody"
    assert _fault(simulator, signed(message))[1].startswith("schema: ")


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_answer_is_schema_valid(simulator: Simulator, signed: Signer, kind: str) -> None:
    """Accepted or refused, the answers to the new kinds validate against the XSD."""
    answer = SoapClient(simulator.url).submit(signed(KINDS[kind]())).answer
    assert SCHEMA.validate(copy.deepcopy(answer)), SCHEMA.error_log
