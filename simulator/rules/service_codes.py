"""The service codes the simulator accepts on an invoice line, per invoice type and line kind.

These are the simulator's own six-digit codes, not the published nomenclature (DOMAIN.md:
"Above the normal invoicing capacity, use the related service code"): each REVA day code has
its "above normal capacity" sibling, PVT has stay-day codes, and each type has one
personal-share code. ``docs/simulator.md`` ("Invoicing") lists the same table.
"""

from __future__ import annotations

from typing import Final

REVA_SERVICE_CODES: Final = frozenset(
    {
        "771011",  # rehabilitation session, ambulant
        "771012",  # the same above the normal invoicing capacity
        "771021",  # rehabilitation day, day hospital
        "771022",  # the same above the normal invoicing capacity
        "771031",  # multidisciplinary consultation
        "771032",  # the same above the normal invoicing capacity
    }
)
PVT_SERVICE_CODES: Final = frozenset(
    {
        "761011",  # stay day, psychiatric patient
        "761012",  # stay day, mentally disabled resident
        "761021",  # stay day kept during a short absence (hospitalisation, leave)
    }
)
PERSONAL_SHARE_CODES: Final = {"reva": "779990", "pvt": "769990"}
"""The one personal-share code per invoice type."""

SERVICE_CODES: Final = {"reva": REVA_SERVICE_CODES, "pvt": PVT_SERVICE_CODES}


def code_allowed(invoice_type: str, line_kind: str, code: str) -> bool:
    """Whether ``code`` may stand on a line of this kind in a batch of this type."""
    if line_kind == "personal-share":
        return PERSONAL_SHARE_CODES.get(invoice_type) == code
    return code in SERVICE_CODES.get(invoice_type, frozenset())
