"""The central care-fund application as the engine sees it: one small Protocol, one zeep client.

``CentralTransport`` is the boundary. ``ZeepCentral`` speaks SOAP to the real endpoint or the
simulator; tests may put any object with the same three methods in its place. Every failure
leaves this module as a ``TransientDeliveryError`` (try again) or a
``PermanentDeliveryError`` (dead letter), decided here where the libraries are called.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

from adapter.errors import PermanentDeliveryError, TransientDeliveryError
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
            transport = Transport(
                session=session,
                timeout=self._settings.timeout_seconds,
                operation_timeout=self._settings.timeout_seconds,
            )
            client = zeep.Client(self._wsdl, transport=transport)
            service = client.create_service(_SERVICE, self._settings.url)
            self._local.service = service
        return service

    def submit(self, message: etree._Element) -> etree._Element:
        """Send one signed VSB message in the ``xs:any`` slot, untouched by zeep's typing."""
        response = _call(lambda: self._service().Submit(_value_1=message))
        answers = _elements(response)
        if len(answers) != 1:
            raise TransientDeliveryError("central application answered without a vsb:Answer")
        return answers[0]

    def fetch_answers(self, nihdi: str, limit: int) -> list[etree._Element]:
        """Fetch up to ``limit`` unconfirmed later answers."""
        response = _call(lambda: self._service().FetchAnswers(Nihdi=nihdi, Max=limit))
        return _elements(response)

    def confirm_answers(self, nihdi: str, answer_ids: Sequence[str]) -> int:
        """Confirm answers so the mailbox stops delivering them."""
        response = _call(
            lambda: self._service().ConfirmAnswers(Nihdi=nihdi, AnswerId=list(answer_ids))
        )
        return int(response)


def _elements(response: Any) -> list[etree._Element]:
    """The raw elements of an ``xs:any`` response, however zeep chose to unwrap it."""
    if response is None:
        return []
    if isinstance(response, etree._Element):
        return [response]
    if isinstance(response, list):
        return [item for item in response if isinstance(item, etree._Element)]
    return _elements(getattr(response, "_value_1", None))


def _call(operation: Any) -> Any:
    """Run one zeep call, translating every library error into ours."""
    try:
        return operation()
    except zeep.exceptions.Fault as exc:
        code = str(exc.code or "")
        text = f"SOAP fault {code or '?'}: {exc.message}"
        if code.endswith("Client"):
            raise PermanentDeliveryError(text) from exc
        raise TransientDeliveryError(text) from exc
    except zeep.exceptions.TransportError as exc:
        text = f"HTTP {exc.status_code} from the central application"
        if exc.status_code >= 500 or exc.status_code in (408, 429):
            raise TransientDeliveryError(text) from exc
        raise PermanentDeliveryError(text) from exc
    except requests.Timeout as exc:
        raise TransientDeliveryError("timeout waiting for the central application") from exc
    except requests.ConnectionError as exc:
        raise TransientDeliveryError("cannot connect to the central application") from exc
    except (etree.XMLSyntaxError, zeep.exceptions.XMLSyntaxError) as exc:
        raise TransientDeliveryError("unreadable response from the central application") from exc
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
