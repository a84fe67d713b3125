"""Every error code the simulated central application answers with.

Each code names one rule; ``docs/simulator.md`` gives its outcome and exact boundary.
"""

from __future__ import annotations

from typing import Final

# --- any message ------------------------------------------------------------------------
INVALID_INSZ: Final = "VSB-INSZ-01"
UNKNOWN_FACILITY: Final = "VSB-FAC-01"

# --- applications -----------------------------------------------------------------------
CAN_JOIN: Final = "VSB-AFF-01"
CANNOT_JOIN: Final = "VSB-AFF-02"
LATE: Final = "VSB-REVA-30D"
END_BEFORE_START: Final = "VSB-REVA-END"
PERIOD_TOO_LONG: Final = "VSB-REVA-PERIOD"
EXCEPTION_REQUEST: Final = "VSB-REVA-EXC"
BAD_PREVIOUS: Final = "VSB-REVA-PREV"
PREVIOUS_END: Final = "VSB-REVA-PREV-END"
QUOTA_USED: Final = "VSB-REVA-QUOTA"
REVA_MIGRATION_TOO_LATE: Final = "VSB-REVA-MIG-NEW"
REVA_MIGRATION_NO_VI_APPROVAL: Final = "VSB-REVA-MIG-VI"

# --- PVT admissions ---------------------------------------------------------------------
PVT_MIGRATION_NEW: Final = "VSB-PVT-MIG-NEW"
PVT_MIGRATION_NO_VI_APPROVAL: Final = "VSB-PVT-MIG-VI"
PVT_MIGRATION_RECEIVED_LATE: Final = "VSB-PVT-MIG-LATE"
PVT_MIGRATION_NOTHING_LEFT: Final = "VSB-PVT-MIG-ENDED"
PVT_MIGRATION_END: Final = "VSB-PVT-MIG-END"
PVT_MIGRATION_CONSENT: Final = "VSB-PVT-MIG-CONSENT"
PVT_BEFORE_SWITCH_OVER: Final = "VSB-PVT-BEFORE"
PVT_NO_CONSENT: Final = "VSB-PVT-CONSENT"
PVT_END_BEFORE_START: Final = "VSB-PVT-END"
PVT_LATE: Final = "VSB-PVT-LATE"

# --- every modification -----------------------------------------------------------------
BAD_REFERENCE: Final = "VSB-MOD-REF"
CANCELLED: Final = "VSB-MOD-CANCELLED"
LATE_CHANGE: Final = "VSB-MOD-LATE"
OTHER_SECTOR: Final = "VSB-MOD-SECTOR"

# --- per modification -------------------------------------------------------------------
NO_DATA: Final = "VSB-DATA-EMPTY"
START_TOO_EARLY: Final = "VSB-START-EARLY"
START_CHANGED_TOO_LATE: Final = "VSB-START-LATE"
START_AFTER_END: Final = "VSB-START-END"
EXTENSION_WHILE_RUNNING: Final = "VSB-EXT-RUNNING"
EXTENSION_BREAK: Final = "VSB-EXT-BREAK"
EXTENSION_BEYOND_MAXIMUM: Final = "VSB-EXT-MAX"
EXTENSION_PERIOD_TOO_LONG: Final = "VSB-EXT-PERIOD"
NO_EXTENSION: Final = "VSB-EXT-NONE"
BAD_STOP_DATE: Final = "VSB-STOP-DATE"
ALREADY_STOPPED: Final = "VSB-STOP-DONE"
NO_STOP: Final = "VSB-STOP-NONE"
INTERRUPTION_TOO_LONG: Final = "VSB-INT-LONG"
INTERRUPTION_END: Final = "VSB-INT-END"
INTERRUPTION_OUTSIDE_PERIOD: Final = "VSB-INT-PERIOD"
INTERRUPTION_OVERLAP: Final = "VSB-INT-OVERLAP"
NO_INTERRUPTION: Final = "VSB-INT-NONE"
KM_EXISTS: Final = "VSB-KM-EXISTS"
NO_KM: Final = "VSB-KM-NONE"
KM_STOPPED: Final = "VSB-KM-STOPPED"
KM_NOT_STOPPED: Final = "VSB-KM-NOT-STOPPED"
PVT_EXTENSION_OPEN: Final = "VSB-PVT-EXT-OPEN"
PVT_EXTENSION_BREAK: Final = "VSB-PVT-EXT-BREAK"
PVT_EXTENSION_DISCHARGED: Final = "VSB-PVT-EXT-DISCHARGED"
PVT_DISCHARGE_BEFORE_ADMISSION: Final = "VSB-PVT-DIS-DATE"
PVT_ALREADY_DISCHARGED: Final = "VSB-PVT-DIS-DONE"
PVT_DISCHARGE_IN_FUTURE: Final = "VSB-PVT-DIS-FUTURE"

# --- invoicing: technical stage (the Submit's answer, level B) ---------------------------
INVOICE_MONTH_TAKEN: Final = "VSB-INV-MONTH-TAKEN"
INVOICE_BATCH_NUMBER: Final = "VSB-INV-BATCH-NUMBER"
INVOICE_RESEND_CHANGED: Final = "VSB-INV-RESEND-CHANGED"

# --- invoicing: content stage, level B (the whole batch) ---------------------------------
INVOICE_FACILITY: Final = "VSB-INV-FACILITY"
INVOICE_DATE: Final = "VSB-INV-DATE"
INVOICE_MONTH: Final = "VSB-INV-MONTH"
INVOICE_FIVE_PERCENT: Final = "VSB-INV-FIVE-PERCENT"

# --- invoicing: content stage, level F (one invoice) -------------------------------------
INVOICE_INSZ: Final = "VSB-INV-INSZ"
INVOICE_CARE_FUND: Final = "VSB-INV-CARE-FUND"
INVOICE_NO_GRANT: Final = "VSB-INV-NO-GRANT"
INVOICE_NUMBER_USED: Final = "VSB-INV-NUMBER-USED"
INVOICE_LINE_NUMBER: Final = "VSB-INV-LINE-NUMBER"
INVOICE_CORRECTION_EARLY: Final = "VSB-INV-CORRECTION-EARLY"
INVOICE_KIND: Final = "VSB-INV-KIND"

# --- invoicing: content stage, level R (one line) ----------------------------------------
LINE_SERVICE_CODE: Final = "VSB-INV-SERVICE-CODE"
LINE_TOO_OLD: Final = "VSB-INV-TOO-OLD"
LINE_FUTURE: Final = "VSB-INV-FUTURE"
LINE_PVT_VI: Final = "VSB-INV-PVT-VI"
LINE_REVA_BEFORE: Final = "VSB-INV-REVA-BEFORE"
LINE_OUTSIDE_PERIOD: Final = "VSB-INV-OUTSIDE-PERIOD"
LINE_PERSONAL_SHARE: Final = "VSB-INV-PERSONAL-SHARE"
LINE_DUPLICATE: Final = "VSB-INV-DUPLICATE"
LINE_CREDIT_UNKNOWN: Final = "VSB-INV-CREDIT-UNKNOWN"
LINE_CREDIT_TWICE: Final = "VSB-INV-CREDIT-TWICE"
LINE_CREDIT_AMOUNT: Final = "VSB-INV-CREDIT-AMOUNT"

# --- admin decisions --------------------------------------------------------------------
REFUSED_AFTER_REVIEW: Final = "VSB-BERAAD-REF"
