"""The masked view of a stored payload or answer body: its structure, not the person.

Support reads events and answers through it (``vsb-adapter event``, ``show``, the console,
the broker's dead-letter queue) unless someone asks for them unmasked, which is audited.
"""

from __future__ import annotations

import json
from typing import Any

from adapter.logs import mask

_SHOWN_KEYS = frozenset(
    {
        "resourceType",
        "type",
        "id",
        "fullUrl",
        "reference",
        "url",
        "system",
        "code",
        "status",
        "use",
        "timestamp",
        "severity",
        "outcome",
        "contentType",
        "valuePositiveInt",
        "valueBoolean",
    }
)
"""Keys whose string values are structure, not a person: shown by a masked view. Every
other string (names, identifiers, free text, dates, documents) is masked: an allow-list, so
a field the contract adds later is masked until someone decides otherwise."""


def masked(text: str) -> str:
    """A stored payload or answer body with everything personal masked.

    JSON keeps its shape: strings under the keys of ``_SHOWN_KEYS`` stay, 11-digit numbers
    (INSZ, BIS) show their last two digits, every other string becomes ``***`` (a long one
    ``***(N characters)``). Text that is not JSON (a refused body) shows only its length.
    """
    try:
        data = json.loads(text)
    except ValueError:
        return f"<{len(text)} characters, not JSON: shown only with --unmask>"
    return json.dumps(_masked(data, None), indent=2, ensure_ascii=False)


def _masked(value: Any, key: str | None) -> Any:
    if isinstance(value, dict):
        return {k: _masked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, key) for v in value]
    if not isinstance(value, str):
        return value
    if key in _SHOWN_KEYS:
        return mask(value)  # an identifier in a shown field still loses its digits
    if value.isdigit() and len(value) == 11:
        return mask(value)
    return "***" if len(value) <= 40 else f"***({len(value)} characters)"
