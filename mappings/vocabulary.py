"""The URLs and code systems of the event contract and of the FHIR answers.

Belgian identifier systems are the eHealth ones an EPD integrator already uses
(HL7 Belgium MyCareNet IG); everything the project defines itself lives under the
``urn:vsb-adapter:fhir:`` prefix so it can never be mistaken for an official system.
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
SUBTYPE_SYSTEM: Final = "urn:vsb-adapter:fhir:claim-subtype"
REHABILITATION_SUBTYPE: Final = "rehabilitation-convention"

OUTCOME_EXTENSION: Final = "urn:vsb-adapter:fhir:outcome"
DECISION_SYSTEM: Final = "urn:vsb-adapter:fhir:decision"
ISSUE_SYSTEM: Final = "urn:vsb-adapter:fhir:issue"
VSB_ERROR_SYSTEM: Final = "urn:vsb-adapter:fhir:vsb-error"
ERROR_LEVEL_EXTENSION: Final = "urn:vsb-adapter:fhir:error-level"
ERROR_LOCATION_EXTENSION: Final = "urn:vsb-adapter:fhir:error-location"
AFFILIATION_EXTENSION: Final = "urn:vsb-adapter:fhir:affiliation"
CARE_FUND_SYSTEM: Final = "urn:vsb-adapter:fhir:care-fund"
EVENT_ID_SYSTEM: Final = "urn:vsb-adapter:fhir:event-id"

CARE_SETTING_AMBULANT: Final = "ambulant"

CARE_FUNDS: Final = {
    "180": "CM Zorgkas",
    "280": "Neutrale Zorgkas",
    "380": "Solidaris Zorgkas",
    "480": "Zorgkas van de Liberale Ziekenfondsen",
    "580": "Zorgkas van de Onafhankelijke Ziekenfondsen (Helan)",
    "680": "Vlaamse Zorgkas",
}
