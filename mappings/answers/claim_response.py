"""Answers to applications and their modifications: a ClaimResponse (use preauthorization).

As MyCareNet eAgreement answers a preauthorisation: ``outcome`` is ``complete`` once decided
and ``partial`` while in beraad, the decision is an adjudication category of MyCareNet's
decision values (``agreement``, ``intreatment``, ``refusal``), and the VSB reference number
plays ``preAuthRef``. A vsb:Answer to these types carries nothing beyond the common head.
"""

from __future__ import annotations

from typing import Any, Final

from lxml import etree

from mappings.answer_kind import AnswerHead, AnswerKind
from mappings.answers.common import DISPOSITIONS, INSURER, PATIENT, error, request, timestamp
from mappings.model import Outcome
from mappings.vocabulary import DECISION_SYSTEM

DECISIONS: Final = {
    Outcome.ACCEPTED: "agreement",
    Outcome.IN_BERAAD: "intreatment",
    Outcome.REFUSED: "refusal",
}


def read(answer: etree._Element) -> None:
    """Nothing beyond the head."""
    del answer


def render(head: AnswerHead, body: None) -> dict[str, Any]:
    """The ClaimResponse for an outcome of an application or a modification."""
    del body
    resource: dict[str, Any] = {
        "resourceType": "ClaimResponse",
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "institutional",
                }
            ]
        },
        "use": "preauthorization",
        "patient": PATIENT,
        "created": timestamp(head),
        "insurer": INSURER,
        "request": request(head),
        "outcome": "partial" if head.outcome is Outcome.IN_BERAAD else "complete",
        "disposition": DISPOSITIONS[head.outcome],
        "adjudication": [
            {"category": {"coding": [{"system": DECISION_SYSTEM, "code": DECISIONS[head.outcome]}]}}
        ],
    }
    if head.vsb_reference is not None:
        resource["preAuthRef"] = head.vsb_reference
    if head.issues:
        resource["error"] = [error(issue) for issue in head.issues]
    return resource


CLAIM_RESPONSE: Final = AnswerKind[None](resource="ClaimResponse", read=read, render=render)
