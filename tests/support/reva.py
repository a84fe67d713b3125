"""REVA events for the end-to-end rule suite: an application and each modification, from the
examples, with the dates and values a rule row needs.

Each builder returns the event as a document; ``tests.support.events.placed`` gives it its
event id, dossier, number and person. INSZ numbers are made here from a birth date with the
check digits of DOMAIN.md ("Identifiers"), written anew: neither the adapter's nor the
simulator's code is used, so the tests cannot agree with either by sharing it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.support.events import example

SUPPORTING_INFO = "urn:vsb-adapter:fhir:supporting-info"
RELATED_CLAIM = "http://terminology.hl7.org/CodeSystem/ex-relatedclaimrelationship"
Document = dict[str, Any]


def insz(born: date, serial: int = 1) -> str:
    """A valid INSZ for a person born on ``born`` (serial 1..997, odd for men).

    Check digits: 97 - (the first nine digits mod 97), over "2" + those digits for births from
    2000 on.
    """
    body = f"{born:%y%m%d}{serial:03d}"
    number = int(("2" if born.year >= 2000 else "") + body)
    return f"{body}{97 - number % 97:02d}"


def _claim(document: Document) -> Document:
    claim: Document = next(
        e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Claim"
    )
    return claim


def _item(category: str, **values: Any) -> Document:
    return {"category": {"coding": [{"system": SUPPORTING_INFO, "code": category}]}, **values}


def _items(document: Document, *items: Document) -> Document:
    _claim(document)["supportingInfo"] = list(items)
    return document


def application(
    start: date,
    end: date,
    *,
    request_type: str = "diagnosis",
    created: date | None = None,
    previous_reference: str | None = None,
) -> Document:
    """A REVA application of ``request_type`` for ``start`` .. ``end``, requested on
    ``created`` (the start by default), naming the earlier application on a facility change."""
    document = example("08-reva-application-running")
    claim = _claim(document)
    claim["billablePeriod"] = {"start": start.isoformat(), "end": end.isoformat()}
    claim["created"] = (created or start).isoformat()
    for item in claim["supportingInfo"]:
        code = item["category"]["coding"][0]["code"]
        if code == "request-type":
            item["code"]["coding"][0]["code"] = request_type
        elif code == "informed-consent":
            item["timingDate"] = (created or start).isoformat()
    if previous_reference is not None:
        claim["related"] = [
            {
                "relationship": {"coding": [{"system": RELATED_CLAIM, "code": "prior"}]},
                "reference": {"value": previous_reference},
            }
        ]
    return document


def cancel() -> Document:
    """Cancel the application."""
    return example("22-reva-cancel")


def data_change(*, empty: bool = False) -> Document:
    """A new location and contact person; ``empty``: neither (nor an accident code)."""
    document = example("09-reva-data-change")
    if empty:
        _claim(document).pop("supportingInfo")
        for entry in document["entry"]:
            entry["resource"].pop("contact", None)
    return document


def start_change(new_start: date) -> Document:
    """Move the start to ``new_start``."""
    document = example("10-reva-start-change")
    _claim(document)["billablePeriod"] = {"start": new_start.isoformat()}
    return document


def extension(start: date, end: date) -> Document:
    """Extend the period by ``start`` .. ``end``."""
    document = example("24-reva-extension")
    _claim(document)["billablePeriod"] = {"start": start.isoformat(), "end": end.isoformat()}
    return document


def extension_cancel(start: date) -> Document:
    """Cancel the extension starting on ``start``."""
    return _items(example("25-reva-extension-cancel"), _item("extension", timingDate=str(start)))


def stop(day: date, reason: str = "early") -> Document:
    """Stop the application on ``day``."""
    document = example("20-reva-stop-running")
    stop_item = _item(
        "stop",
        timingDate=day.isoformat(),
        code={"coding": [{"system": "urn:vsb-adapter:fhir:reva-stop-reason", "code": reason}]},
    )
    referral = _item("referral-after", valueString="Follow-up by the general practitioner.")
    return _items(document, stop_item, referral)


def stop_cancel() -> Document:
    """Cancel the accepted stop."""
    return example("21-reva-stop-cancel")


def _interruption(
    start: date, end: date | None, expected_end: date | None, reason: str
) -> list[Document]:
    period = {"start": start.isoformat()} | ({"end": end.isoformat()} if end else {})
    coded = {"coding": [{"system": "urn:vsb-adapter:fhir:interruption-reason", "code": reason}]}
    items = [_item("interruption", timingPeriod=period, code=coded)]
    if expected_end is not None:
        items.append(_item("expected-end", timingDate=expected_end.isoformat()))
    return items


def interruption(
    start: date,
    end: date | None = None,
    *,
    expected_end: date | None = None,
    reason: str = "hospital-stay",
) -> Document:
    """An interruption from ``start``, with its end or its expected end."""
    items = _interruption(start, end, expected_end, reason)
    return _items(example("11-reva-interruption"), *items)


def interruption_change(
    named: date, start: date, end: date | None = None, *, expected_end: date | None = None
) -> Document:
    """The interruption that started on ``named`` becomes ``start`` .. ``end``."""
    items = _interruption(start, end, expected_end, "hospital-stay")
    named_item = _item("interruption-start", timingDate=named.isoformat())
    return _items(example("12-reva-interruption-change"), named_item, *items)


def interruption_cancel(named: date) -> Document:
    """Cancel the interruption that started on ``named``."""
    named_item = _item("interruption-start", timingDate=named.isoformat())
    return _items(example("13-reva-interruption-cancel"), named_item)


def medical_report_change() -> Document:
    """A new medical report (part 3)."""
    return example("14-reva-medical-report-change")


def document(data: str | None = None) -> Document:
    """An additional document (its base64 ``data`` if given)."""
    event = example("15-reva-document")
    if data is not None:
        _claim(event)["supportingInfo"][0]["valueAttachment"]["data"] = data
    return event


def km_request() -> Document:
    """Ask the km allowance (own transport)."""
    return example("16-reva-km-request")


def km_change() -> Document:
    """Change the km allowance (professional transport)."""
    return example("17-reva-km-change")


def km_stop(day: date) -> Document:
    """Stop the km allowance on ``day``."""
    return _items(example("18-reva-km-stop"), _item("km-stop", timingDate=day.isoformat()))


def km_stop_cancel() -> Document:
    """Cancel the stop of the km allowance."""
    return example("19-reva-km-stop-cancel")
