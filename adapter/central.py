"""The central care-fund application as the engine sees it: one small Protocol, one zeep client.

``CentralTransport`` is the boundary. ``ZeepCentral`` speaks SOAP to the real endpoint or the
simulator; tests may put any object with the same three methods in its place. Every failure
leaves this module as a ``TransientDeliveryError`` (try again) or a
``PermanentDeliveryError`` (dead letter), decided here where the libraries are called.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

from adapter.errors import PermanentDeliveryError, TransientDeliveryError, UnreadableAnswer
from adapter.settings import CentralSettings

WSDL = Path(__file__).resolve().parent.parent / "mappings" / "wsdl" / "central-1.0.wsdl"
_SERVICE = "{urn:vsb-adapter:central:1}CentralBinding"


class CentralTransport(Protocol):
    """The three operations the engine needs from the central application."""

    def submit(self, message: etree._Element) -> etree._Element:
        """Send one signed VSB message; return the synchronous ``vsb:Answer``."""
        ...

    def fetch_answers(self, nihdi: str, limit: int) -> list[etree._Element]:
        """Later answers waiting in the facility's mailbox (unconfirmed ones come again)."""
        ...

    def confirm_answers(self, nihdi: str, answer_ids: Sequence[str]) -> int:
        """Tell the central application these answers are safely stored and published."""
        ...


class _RecordingTransport(Transport):
    """zeep's transport, keeping what the last response looked like (never its content)."""

    last_response = "no response"

    def post_xml(self, address: str, envelope: Any, headers: Any) -> Any:
        self.last_response = "no response"
        response = super().post_xml(address, envelope, headers)
        content_type = response.headers.get("Content-Type", "no content type")
        self.last_response = (
            f"HTTP {response.status_code}, {content_type}, {len(response.content)} bytes"
        )
        return response


class ZeepCentral:
    """``CentralTransport`` over SOAP with zeep; one zeep client (and HTTP session) per thread."""

    def __init__(self, settings: CentralSettings) -> None:
        self._settings = settings
        self._wsdl = settings.wsdl or str(WSDL)
        self._local = threading.local()

    def _service(self) -> Any:
        service = getattr(self._local, "service", None)
        if service is None:
            session = requests.Session()
            transport = _RecordingTransport(
                session=session,
                timeout=self._settings.timeout_seconds,
                operation_timeout=self._settings.timeout_seconds,
            )
            client = zeep.Client(self._wsdl, transport=transport)
            service = client.create_service(_SERVICE, self._settings.url)
            self._local.service = service
            self._local.transport = transport
        return service

    def _call(self, operation: Callable[[Any], Any]) -> Any:
        service = self._service()
        return _call(lambda: operation(service), self._local.transport)

    def submit(self, message: etree._Element) -> etree._Element:
        """Send one signed VSB message in the ``xs:any`` slot, untouched by zeep's typing."""
        answers = _elements(self._call(lambda service: service.Submit(_value_1=message)))
        if len(answers) != 1:
            raise UnreadableAnswer(
                f"unreadable answer: {self._local.transport.last_response}:"
                f" {len(answers)} elements where one vsb:Answer belongs"
            )
        return answers[0]

    def fetch_answers(self, nihdi: str, limit: int) -> list[etree._Element]:
        """Fetch up to ``limit`` unconfirmed later answers."""
        return _elements(self._call(lambda service: service.FetchAnswers(Nihdi=nihdi, Max=limit)))

    def confirm_answers(self, nihdi: str, answer_ids: Sequence[str]) -> int:
        """Confirm answers so the mailbox stops delivering them."""
        response = self._call(
            lambda service: service.ConfirmAnswers(Nihdi=nihdi, AnswerId=list(answer_ids))
        )
        try:
            return int(response)
        except (TypeError, ValueError) as exc:
            raise UnreadableAnswer(
                f"unreadable answer: {self._local.transport.last_response}: no count"
            ) from exc


def _elements(response: Any) -> list[etree._Element]:
    """The raw elements of an ``xs:any`` response, however zeep chose to unwrap it."""
    if response is None:
        return []
    if isinstance(response, etree._Element):
        return [response]
    if isinstance(response, list):
        return [item for item in response if isinstance(item, etree._Element)]
    return _elements(getattr(response, "_value_1", None))


def _call(operation: Callable[[], Any], transport: _RecordingTransport) -> Any:
    """Run one zeep call, translating every library error into ours.

    A response that came (HTTP 2xx) but cannot be read, whether garbage, empty, not SOAP or
    XML with entity declarations (which are never expanded), is an ``UnreadableAnswer``:
    the message may have been applied. Its text says what came (status, content type,
    size, parser error), never the content, which could quote the message.
    """
    try:
        return operation()
    except zeep.exceptions.Fault as exc:
        code = str(exc.code or "")
        text = f"SOAP fault {code or '?'}: {exc.message}"
        if code.endswith("Client"):
            raise PermanentDeliveryError(text) from exc
        raise TransientDeliveryError(text) from exc
    except zeep.exceptions.TransportError as exc:
        if 200 <= exc.status_code < 300:
            parser = (
                exc.__context__.message
                if isinstance(exc.__context__, zeep.exceptions.Error)
                else "not XML"
            )
            raise UnreadableAnswer(
                f"unreadable answer: {transport.last_response}: {parser}"
            ) from exc
        text = f"HTTP {exc.status_code} from the central application"
        if exc.status_code >= 500 or exc.status_code in (408, 429):
            raise TransientDeliveryError(text) from exc
        raise PermanentDeliveryError(text) from exc
    except (zeep.exceptions.DTDForbidden, zeep.exceptions.EntitiesForbidden) as exc:
        raise UnreadableAnswer(
            f"unreadable answer: {transport.last_response}: a DTD or entity declaration"
            " (refused, never expanded)"
        ) from exc
    except zeep.exceptions.XMLSyntaxError as exc:
        raise UnreadableAnswer(
            f"unreadable answer: {transport.last_response}: {exc.message}"
        ) from exc
    except requests.Timeout as exc:
        raise TransientDeliveryError("timeout waiting for the central application") from exc
    except requests.ConnectionError as exc:
        raise TransientDeliveryError("cannot connect to the central application") from exc
    except etree.XMLSyntaxError as exc:
        raise UnreadableAnswer(f"unreadable answer: {transport.last_response}: {exc.msg}") from exc
    except zeep.exceptions.Error as exc:
        raise PermanentDeliveryError(f"SOAP error: {exc}") from exc


def probe_central(settings: CentralSettings) -> str | None:
    """None if the central application's endpoint answers HTTP at all, else the reason."""
    try:
        response = requests.get(settings.url, params={"wsdl": ""}, timeout=5)
    except requests.RequestException as exc:
        return f"central application not reachable at {settings.url}: {exc.__class__.__name__}"
    if response.status_code >= 500:
        return f"central application at {settings.url} answers HTTP {response.status_code}"
    return None
