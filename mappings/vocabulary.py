"""The URLs and code systems of the event contract and of the FHIR answers.

Belgian identifier systems and code systems are the eHealth and MyCareNet ones an EPD
integrator already uses (HL7 Belgium MyCareNet IG 2.1.2): SSIN and NIHDI identifiers, the
eAgreement agreement types and decision values. Only what has no official system lives under
the project's ``urn:vsb-adapter:fhir:`` prefix, so it can never be mistaken for one.
"""

from __future__ import annotations

from typing import Final

SSIN_SYSTEM: Final = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/ssin"
NIHDI_SYSTEM: Final = "https://www.ehealth.fgov.be/standards/fhir/core/NamingSystem/nihdi"
HCO_SYSTEM: Final = "urn:vsb-adapter:fhir:hco"

EVENT_SYSTEM: Final = "urn:vsb-adapter:fhir:event"
DOSSIER_EXTENSION: Final = "urn:vsb-adapter:fhir:dossier"
SEQUENCE_EXTENSION: Final = "urn:vsb-adapter:fhir:sequence"

SUPPORTING_INFO_SYSTEM: Final = "urn:vsb-adapter:fhir:supporting-info"
CARE_TEAM_ROLE_SYSTEM: Final = "urn:vsb-adapter:fhir:care-team-role"
REQUEST_TYPE_SYSTEM: Final = "urn:vsb-adapter:fhir:reva-request-type"
CARE_SETTING_SYSTEM: Final = "urn:vsb-adapter:fhir:care-setting"
TRANSPORT_TYPE_SYSTEM: Final = "urn:vsb-adapter:fhir:transport-type"
STOP_REASON_SYSTEM: Final = "urn:vsb-adapter:fhir:reva-stop-reason"
INTERRUPTION_REASON_SYSTEM: Final = "urn:vsb-adapter:fhir:interruption-reason"
SUBTYPE_SYSTEM: Final = (
    "https://www.ehealth.fgov.be/standards/fhir/mycarenet/CodeSystem/agreement-types"
)
"""MyCareNet's agreement types (``Claim.subType``): ``rehabilitation-convention``, and for
psychiatric care homes ``stay-orgpsychiatriccarehome``."""
REHABILITATION_SUBTYPE: Final = "rehabilitation-convention"
PVT_SUBTYPE: Final = "stay-orgpsychiatriccarehome"
PVT_USER_TYPE_SYSTEM: Final = "urn:vsb-adapter:fhir:pvt-user-type"
"""Who a psychiatric care home admits: ``psychiatric-patient``, ``mental-disability``."""
DISCHARGE_DESTINATION_SYSTEM: Final = "urn:vsb-adapter:fhir:discharge-destination"
"""Where a PVT resident goes on discharge: ``home``, ``other-facility``, ``hospital``,
``deceased``, ``other``."""
DSM5_SYSTEM: Final = "http://hl7.org/fhir/sid/dsm5"
"""DSM-5 as FHIR registers it (terminologies-systems): the diagnosis of a PVT admission."""
ACT_CODE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
"""HL7 v3 ActCode: ``Encounter.class`` ``IMP`` (inpatient) of a PVT stay."""

OUTCOME_EXTENSION: Final = "urn:vsb-adapter:fhir:outcome"
DECISION_SYSTEM: Final = (
    "https://www.ehealth.fgov.be/standards/fhir/mycarenet/CodeSystem/decision-values"
)
"""MyCareNet's decision values: ``agreement``, ``intreatment`` (in beraad), ``refusal``."""
DATA_ABSENT_REASON_EXTENSION: Final = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
ISSUE_SYSTEM: Final = "urn:vsb-adapter:fhir:issue"
VSB_ERROR_SYSTEM: Final = "urn:vsb-adapter:fhir:vsb-error"
ERROR_LEVEL_EXTENSION: Final = "urn:vsb-adapter:fhir:error-level"
ERROR_LOCATION_EXTENSION: Final = "urn:vsb-adapter:fhir:error-location"
AFFILIATION_EXTENSION: Final = "urn:vsb-adapter:fhir:affiliation"
CARE_FUND_SYSTEM: Final = "urn:vsb-adapter:fhir:care-fund"
ELIGIBILITY_ITEM_SYSTEM: Final = "urn:vsb-adapter:fhir:eligibility-item"
"""What a look-up before invoicing asks (``CoverageEligibilityRequest.item.category``) and its
answer gives (``…Response.insurance.item`` category, ``benefit.type``)."""
INCREASED_ALLOWANCE_ITEM: Final = "increased-allowance"
PERSONAL_SHARE_ITEM: Final = "personal-share"
EVENT_ID_SYSTEM: Final = "urn:vsb-adapter:fhir:event-id"
INVOICE_TYPE_SYSTEM: Final = "urn:vsb-adapter:fhir:invoice-type"
"""Whose flat fees an invoice bills: ``reva`` or ``pvt`` (``Claim.type``; on an
``invoice-batch`` List also the url of its extension, valueCode)."""
INVOICE_KIND_SYSTEM: Final = "urn:vsb-adapter:fhir:invoice-kind"
"""``invoice`` or ``credit-note`` (``Claim.subType`` of an ``invoice`` event)."""
INVOICE_NUMBER_SYSTEM: Final = "urn:vsb-adapter:fhir:invoice-number"
"""The invoice number, unique for the facility across all its batches."""
INVOICE_BATCH_SYSTEM: Final = "urn:vsb-adapter:fhir:invoice-batch"
"""The batch number ("zending"): an invoice's extension (valueString) and the batch List's
identifier system."""
BILLING_MONTH_EXTENSION: Final = "urn:vsb-adapter:fhir:billing-month"
"""``YYYY-MM``: the month a batch is its care fund's monthly batch for (valueString)."""
LINE_KIND_SYSTEM: Final = "urn:vsb-adapter:fhir:line-kind"
"""An invoice line's ``category``: ``service`` or ``personal-share``."""
SERVICE_CODE_SYSTEM: Final = "urn:vsb-adapter:fhir:service-code"
"""An invoice line's ``productOrService``: the 6-digit service (nomenclature) code."""
FOR_LINE_EXTENSION: Final = "urn:vsb-adapter:fhir:for-line"
"""On a personal-share line: the service line it belongs to (valuePositiveInt)."""
CREDITS_EXTENSION: Final = "urn:vsb-adapter:fhir:credits"
"""On a credit note's line: the line it cancels, sub-extensions ``invoice`` (valueString)
and ``line`` (valuePositiveInt)."""
LIST_SYSTEM: Final = "urn:vsb-adapter:fhir:list"
"""What a List of the contract is (``List.code``): ``invoice-batch``."""
RELATED_CLAIM_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship"
"""FHIR's related-claim relationships: ``prior`` names the invoice a correcting invoice
replaces (``Claim.related``)."""
MIGRATION_CLASS_EXTENSION: Final = "urn:vsb-adapter:fhir:migration-class"
"""On the focus of an answer: the adapter's migration class (``class``) and why (``reason``)."""

CARE_SETTING_AMBULANT: Final = "ambulant"

CARE_FUNDS: Final = {
    "180": "CM Zorgkas",
    "280": "Neutrale Zorgkas",
    "380": "Solidaris Zorgkas",
    "480": "Zorgkas van de Liberale Ziekenfondsen",
    "580": "Zorgkas van de Onafhankelijke Ziekenfondsen (Helan)",
    "680": "Vlaamse Zorgkas",
}

INVOICE_OUTCOME_EXTENSION: Final = "urn:vsb-adapter:fhir:invoice-outcome"
"""On an invoice's ClaimResponse: ``accepted``, ``refused``, ``refused-by-adapter``, ``held``,
``pending``."""
INVOICE_ACKNOWLEDGEMENT_EXTENSION: Final = "urn:vsb-adapter:fhir:invoice-acknowledgement"
"""On an invoice's ClaimResponse: the batch's acknowledgement (sub-extensions ``stage``,
``code`` 931000/920999/920099, ``lines``, ``non-blocking-errors``)."""
