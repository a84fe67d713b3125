"""SOAP 1.1 envelopes of the central application's WSDL: reading requests, writing responses
and faults.

Faults follow the WSDL: soap:Client means the request is wrong and will stay wrong,
soap:Server means try again later. Both travel with HTTP 500, as SOAP 1.1 requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from lxml import etree

from simulator.contract import safe_parser
from simulator.errors import RequestError

SOAP_ENV: Final = "http://schemas.xmlsoap.org/soap/envelope/"
CENTRAL: Final = "urn:vsb-adapter:central:1"
CONTENT_TYPE: Final = "text/xml; charset=utf-8"

OPERATIONS: Final = {
    f"{{{CENTRAL}}}SubmitRequest": "Submit",
    f"{{{CENTRAL}}}FetchAnswersRequest": "FetchAnswers",
    f"{{{CENTRAL}}}ConfirmAnswersRequest": "ConfirmAnswers",
}


@dataclass(frozen=True)
class SoapCall:
    """One parsed SOAP request: the operation and the body's request element."""

    operation: str
    request: etree._Element
    envelope: etree._Element
    """The whole envelope, for the WS-Security check."""


def parse_envelope(raw: bytes) -> SoapCall:
    """Read an envelope and name its operation by the body's child element."""
    try:
        root = etree.fromstring(raw, safe_parser())
    except etree.XMLSyntaxError as exc:
        raise RequestError(f"not well-formed XML: {exc}") from exc
    # lxml-stubs lacks DocInfo.doctype; lxml has it.
    doctype: str = getattr(root.getroottree().docinfo, "doctype", "")
    if doctype:
        raise RequestError("a DOCTYPE is not allowed")
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise RequestError("not a SOAP 1.1 Envelope")
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if body is None:
        raise RequestError("the Envelope has no Body")
    children = _elements(body)
    if len(children) != 1:
        raise RequestError("the Body must hold exactly one request element")
    request = children[0]
    operation = OPERATIONS.get(request.tag)
    if operation is None:
        raise RequestError(f"unknown operation element {request.tag}")
    return SoapCall(operation, request, root)


def _elements(parent: etree._Element) -> list[etree._Element]:
    # Comments and processing instructions are children too; only elements count.
    return [child for child in parent if isinstance(child.tag, str)]


def submit_payload(call: SoapCall) -> etree._Element:
    """The one VSB message inside a SubmitRequest."""
    children = _elements(call.request)
    if len(children) != 1:
        raise RequestError("SubmitRequest must hold exactly one VSB message")
    return children[0]


def _child_text(parent: etree._Element, name: str) -> str:
    text = parent.findtext(f"{{{CENTRAL}}}{name}")
    if text is None or not text.strip():
        raise RequestError(f"{etree.QName(parent).localname} needs {name}")
    return text.strip()


def fetch_arguments(call: SoapCall) -> tuple[str, int]:
    """Nihdi and Max of a FetchAnswersRequest."""
    nihdi = _child_text(call.request, "Nihdi")
    limit = _child_text(call.request, "Max")
    if not limit.isdigit() or int(limit) < 1:
        raise RequestError("Max must be a positive integer")
    return nihdi, int(limit)


def confirm_arguments(call: SoapCall) -> tuple[str, list[str]]:
    """Nihdi and the AnswerIds of a ConfirmAnswersRequest."""
    nihdi = _child_text(call.request, "Nihdi")
    ids = [(node.text or "").strip() for node in call.request.iterfind(f"{{{CENTRAL}}}AnswerId")]
    if not ids:
        raise RequestError("ConfirmAnswersRequest needs at least one AnswerId")
    return nihdi, ids


def _envelope(content: etree._Element) -> bytes:
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"soap": SOAP_ENV})
    etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(content)
    return etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")


def _response(name: str) -> etree._Element:
    return etree.Element(f"{{{CENTRAL}}}{name}", nsmap={"c": CENTRAL})


def submit_response(answer: etree._Element) -> bytes:
    """A SubmitResponse carrying one vsb:Answer."""
    response = _response("SubmitResponse")
    response.append(answer)
    return _envelope(response)


def fetch_response(answers: list[etree._Element]) -> bytes:
    """A FetchAnswersResponse carrying 0..n vsb:Answer."""
    response = _response("FetchAnswersResponse")
    for answer in answers:
        response.append(answer)
    return _envelope(response)


def confirm_response(confirmed: int) -> bytes:
    """A ConfirmAnswersResponse with the number of answers removed."""
    response = _response("ConfirmAnswersResponse")
    etree.SubElement(response, f"{{{CENTRAL}}}Confirmed").text = str(confirmed)
    return _envelope(response)


def fault(code: Literal["Client", "Server"], text: str) -> bytes:
    """A SOAP 1.1 fault."""
    node = etree.Element(f"{{{SOAP_ENV}}}Fault", nsmap={"soap": SOAP_ENV})
    # faultcode is a QName: its prefix must be declared in scope (it is, on the Fault).
    etree.SubElement(node, "faultcode").text = f"soap:{code}"
    etree.SubElement(node, "faultstring").text = text
    return _envelope(node)
