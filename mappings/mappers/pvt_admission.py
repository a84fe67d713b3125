"""pvt-admission (Claim use=preauthorization) -> vsb:PvtAdmission.

An admission to a psychiatric care home: a new request, or a migration file (seed 000: a file
the VI had approved before the switch-over of 1 April 2023). ``billablePeriod.start`` is the
admission date, ``Claim.diagnosis`` the DSM-5 code; the user type, the informed consent, the
migration flag and what the VI decided (receipt, approval, approved period, an extension that
follows) are ``Claim.supportingInfo`` items by category. The adapter classifies the file from
those dates (``mappings.migration.classify_pvt``): it refuses a flag that contradicts them and
a file that is not to be sent (nothing to migrate, the VI's approval still awaited), and builds
the message from the class: a late request starts later than the admission, and a migration
file carries only the limited content (no informed consent) with the VI's approval.
"""

from __future__ import annotations

import re
from typing import Final

from lxml import etree

from mappings import fhirpath, rules, vsb_schema
from mappings.answers.granted import GRANTED
from mappings.bundle import EventBundle, Node, coding_code
from mappings.deadline import Deadlines, application_due
from mappings.mapper import Mapper, Unmappable, required_text
from mappings.mappers.common import code_text, date_value, insz
from mappings.mappers.modification import part
from mappings.message_type import MessageType
from mappings.migration import Classification, MigrationClass, PvtFile, classify_pvt
from mappings.model import Issue, MessageContext
from mappings.ordering import BY_DOSSIER
from mappings.role import OPENS
from mappings.vocabulary import DSM5_SYSTEM

_OPTIONAL: Final = (
    "informed-consent",
    "migration",
    "vi-receipt",
    "vi-approval",
    "vi-approved-period",
    "extension-follows",
)
_VI_FACTS: Final = ("vi-receipt", "vi-approval", "vi-approved-period")
"""What the VI decided: required of a migration file, which the VI had approved."""
DSM5_CODE: Final = re.compile(r"[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?|[0-9]{3}(\.[0-9]{1,2})?")
"""vsb-1.0.xsd ``Dsm5Code``: the ICD-10-CM form (F20.9) or the ICD-9-CM form (295.90)."""
_REFUSED_CLASSES: Final = {
    MigrationClass.NOTHING_TO_MIGRATE: "nothing-to-migrate",
    MigrationClass.AWAITING_APPROVAL: "awaiting-vi-approval",
}
"""The classes of a file that is not sent (now), and their issue codes."""


def check(bundle: EventBundle, claim: Node) -> list[Issue]:
    """Parts once, consent or migration, the VI's facts of a migration file, dates in order,
    the DSM-5 code, and the file's class (a contradicting flag, a file not to be sent)."""
    issues: list[Issue] = []
    parts = rules.parts(bundle, claim, issues, required=["user-type"], optional=_OPTIONAL)
    flagged = _flag(parts["migration"])
    if not flagged and not bundle.supporting_info(claim, "informed-consent"):
        expression = rules.supporting_info_expression(bundle, claim, "informed-consent")
        text = f"{expression} is required unless the file is a migration file."
        issues.append(Issue("consent-required", text, expression))
    facts = _missing_facts(bundle, claim) if flagged else []
    dates = _date_issues(bundle, claim, parts)
    # Classified only from dates that are all there and valid (a class from a half-given
    # file would contradict the flag for the wrong reason), unless the dates given decide
    # alone: then the VI's facts a migration file needs are beside the point.
    decided = not dates and (not facts or _decided_without_approval(bundle, claim))
    classes = _class_issues(bundle, claim, flagged) if decided else []
    if any(issue.code == "migration-flag" for issue in classes):
        facts = []
    issues.extend([*facts, *dates, *_diagnosis_issues(bundle, claim), *classes])
    return issues


def _decided_without_approval(bundle: EventBundle, claim: Node) -> bool:
    """Admitted from 1/4/2023 (a new request), or received by the VI after 30/4/2023 (a late
    request): no approval of the VI makes such a file a migration file."""
    found = classify(bundle, claim)
    if found is None:
        return False
    received = _fact(bundle, claim, "vi-receipt", "timingDate").present
    return found.kind is MigrationClass.NEW_REQUEST or (
        found.kind is MigrationClass.LATE_REQUEST and received
    )


def classify(bundle: EventBundle, claim: Node) -> Classification | None:
    """The file's migration class from its dates (None while one is missing or invalid)."""
    admission = rules.parse_date(claim.child("billablePeriod").child("start"))
    if admission is None:
        return None
    nodes = (
        _fact(bundle, claim, "vi-receipt", "timingDate"),
        _fact(bundle, claim, "vi-approval", "timingDate"),
        _fact(bundle, claim, "vi-approved-period", "timingPeriod").child("end"),
    )
    days = [rules.parse_date(node) for node in nodes]
    if any(node.present and day is None for node, day in zip(nodes, days, strict=True)):
        return None
    receipt, approval, approved_end = days
    return classify_pvt(
        PvtFile(
            admission=admission,
            vi_receipt=receipt,
            vi_approval=approval,
            approved_end=approved_end,
            extension_follows=_flag(_item(bundle, claim, "extension-follows")),
        )
    )


def _item(bundle: EventBundle, claim: Node, category: str) -> Node | None:
    found = bundle.supporting_info(claim, category)
    return found[0] if found else None


def _fact(bundle: EventBundle, claim: Node, category: str, key: str) -> Node:
    item = _item(bundle, claim, category)
    return item.child(key) if item is not None else Node(None, ())


def _flag(item: Node | None) -> bool:
    return item is not None and item.child("valueBoolean").value is True


def _missing_facts(bundle: EventBundle, claim: Node) -> list[Issue]:
    issues = []
    for category in _VI_FACTS:
        if not bundle.supporting_info(claim, category):
            expression = rules.supporting_info_expression(bundle, claim, category)
            text = f"{expression} is required for a migration file (what the VI approved)."
            issues.append(Issue("required", text, expression))
    return issues


def _date_issues(bundle: EventBundle, claim: Node, parts: dict[str, Node | None]) -> list[Issue]:
    def of(category: str, key: str) -> Node:
        item = parts[category]
        return item.child(key) if item is not None else Node(None, ())

    billable = claim.child("billablePeriod")
    approved = of("vi-approved-period", "timingPeriod")
    receipt, approval = of("vi-receipt", "timingDate"), of("vi-approval", "timingDate")
    nodes = [claim.child("created"), billable.child("start"), billable.child("end")]
    nodes += [of("informed-consent", "timingDate"), receipt, approval]
    nodes += [approved.child("start"), approved.child("end")]
    issues = rules.date_issues(bundle, nodes)
    for start, end in (
        (billable.child("start"), billable.child("end")),
        (approved.child("start"), approved.child("end")),
    ):
        order = rules.period_order_issue(bundle, start, end, strict=False)
        issues.extend([order] if order is not None else [])
    first, last = rules.parse_date(receipt), rules.parse_date(approval)
    if first is not None and last is not None and last < first:
        expression, received = bundle.expression(approval), bundle.expression(receipt)
        text = f"{expression} must not be before the VI received the request ({received})."
        issues.append(Issue("period-order", text, expression))
    return issues


def _diagnosis_issues(bundle: EventBundle, claim: Node) -> list[Issue]:
    # Texts name the element and the rule only: a diagnosis is personal data.
    diagnosis = next(claim.child("diagnosis").items(), None)
    concept = diagnosis.child("diagnosisCodeableConcept") if diagnosis is not None else None
    if concept is None or not isinstance(concept.child("coding").value, list):
        return []  # the schema names the missing diagnosis
    code = coding_code(concept, DSM5_SYSTEM)
    if code is None:
        expression = bundle.expression(concept.child("coding")) + fhirpath.where(
            "system", DSM5_SYSTEM
        )
        text = f"{expression} is required: the diagnosis of an admission is a DSM-5 code."
        return [Issue("dsm5-code", text, expression)]
    if isinstance(code.value, str) and DSM5_CODE.fullmatch(code.value):
        return []
    if code.present and not isinstance(code.value, str):
        return []  # the schema names the wrong type
    expression = bundle.expression(code)
    text = f"{expression} must be a DSM-5 code in its ICD-10-CM or ICD-9-CM form."
    return [Issue("dsm5-code", text, expression)]


def _class_issues(bundle: EventBundle, claim: Node, flagged: bool) -> list[Issue]:
    found = classify(bundle, claim)
    if found is None:
        return []
    contradiction = found.flag_contradiction(flagged)
    if contradiction is not None:
        expression = rules.supporting_info_expression(bundle, claim, "migration")
        return [Issue("migration-flag", f"{expression}: {contradiction}.", expression)]
    code = _REFUSED_CLASSES.get(found.kind)
    if code is None:
        return []
    expression = bundle.expression(claim.child("billablePeriod").child("start"))
    return [Issue(code, f"{expression}: {found.reason}.", expression)]


def build(bundle: EventBundle, claim: Node, context: MessageContext, root: etree._Element) -> None:
    """Append the admission in the element order of vsb-1.0.xsd, shaped by its class."""
    del context  # an admission carries no VSB reference yet
    found = classify(bundle, claim)
    if found is None:
        raise Unmappable("classification")
    period = claim.child("billablePeriod")
    receipt = _fact(bundle, claim, "vi-receipt", "timingDate")
    late = found.kind is MigrationClass.LATE_REQUEST and receipt.present
    # A late request is the central application's from the VI's receipt (its 30 days).
    requested = receipt if late else claim.child("created")
    approved = _fact(bundle, claim, "vi-approved-period", "timingPeriod")
    vsb_schema.add(root, "Insz", insz(bundle))
    vsb_schema.add(root, "RequestDate", date_value(requested))
    vsb_schema.add(root, "AdmissionDate", date_value(period.child("start")))
    vsb_schema.add(root, "StartDate", found.start.isoformat())
    end = approved.child("end") if found.migration else period.child("end")
    if end.present:
        vsb_schema.add(root, "EndDate", date_value(end))
    vsb_schema.add(
        root, "UserType", code_text(part(bundle, claim, "user-type").child("code"), "user-type")
    )
    vsb_schema.add(root, "Diagnosis", _dsm5(claim))
    consent = _item(bundle, claim, "informed-consent")
    if consent is not None and not found.migration:
        # A migration file carries the limited content only (seed 000): no consent again.
        element = vsb_schema.add(root, "InformedConsent")
        signed = consent.child("valueBoolean").value is True
        vsb_schema.add(element, "Signed", "true" if signed else "false")
        vsb_schema.add(element, "Date", date_value(consent.child("timingDate")))
    vsb_schema.add(root, "Migration", "true" if found.migration else "false")
    if found.migration:
        element = vsb_schema.add(root, "ViApproval")
        vsb_schema.add(element, "ReceiptDate", date_value(receipt))
        vsb_schema.add(
            element, "ApprovalDate", date_value(_fact(bundle, claim, "vi-approval", "timingDate"))
        )
        vsb_schema.add(element, "ApprovedStart", date_value(approved.child("start")))
        vsb_schema.add(element, "ApprovedEnd", date_value(approved.child("end")))


def _dsm5(claim: Node) -> str:
    diagnosis = next(claim.child("diagnosis").items(), None)
    code = (
        coding_code(diagnosis.child("diagnosisCodeableConcept"), DSM5_SYSTEM)
        if diagnosis is not None
        else None
    )
    if code is None:
        raise Unmappable("diagnosis")
    return required_text(code)


MESSAGE_TYPE = MessageType(
    code="pvt-admission",
    message_kind="PvtAdmission",
    request=Mapper(focus_type="Claim", check=check, build=build, classify=classify),
    answer=GRANTED,
    ordering=BY_DOSSIER,
    role=OPENS,
    deadlines=Deadlines(due_on=application_due(classify)),
)
