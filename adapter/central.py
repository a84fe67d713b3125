"""The central care-fund application as the engine sees it: one small Protocol, one zeep client.

``CentralTransport`` is the boundary. ``ZeepCentral`` speaks SOAP to the real endpoint or the
simulator; tests may put any object with the same four methods in its place. An invoice
batch goes by ``submit_file``: its envelope is streamed around the signed file
(``adapter.streamed_envelope``) over the same session, and its answer read by zeep's own
reply path, so it is verified and translated exactly as every other answer. Every failure
leaves this module as a ``TransientDeliveryError`` (try again) or a
``PermanentDeliveryError`` (dead letter), decided here where the libraries are called.
"""

from __future__ import annotations

import email.utils
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import requests
import zeep
import zeep.exceptions
from lxml import etree
from zeep.transports import Transport

from adapter.errors import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
    UnreadableAnswer,
)
from adapter.settings import CentralSettings
from adapter.signing import Signer
from adapter.streamed_envelope import StreamedEnvelope, streamed_envelope
from adapter.tls import TlsFailure, context_for, session, tls_failure
from adapter.wssecurity import plugin_for

if TYPE_CHECKING:
    from adapter.batch_file import SignedBatch

WSDL = Path(__file__).resolve().parent.parent / "mappings" / "wsdl" / "central-1.0.wsdl"
_SERVICE = "{urn:vsb-adapter:central:1}CentralBinding"
log = logging.getLogger(__name__)


class CentralTransport(Protocol):
    """The operations the engine needs from the central application."""

    def submit(self, message: etree._Element) -> etree._Element:
        """Send one signed VSB message; return the synchronous ``vsb:Answer``."""
        ...

    def submit_file(self, batch: SignedBatch) -> etree._Element:
        """Send a signed batch file (never a tree) by Submit; return its ``vsb:Answer``."""
        ...

    def fetch_answers(self, nihdi: str, limit: int) -> list[etree._Element]:
        """Later answers waiting in the facility's mailbox (unconfirmed ones come again)."""
        ...

    def confirm_answers(self, nihdi: str, answer_ids: Sequence[str]) -> int:
        """Tell the central application these answers are safely stored and published."""
        ...


class _RecordingTransport(Transport):
    """zeep's transport, keeping what the last response looked like (never its content).

    It also bounds what it reads: an answer longer than ``max_answer_bytes`` is refused
    after reading at most that many bytes (at once when its Content-Length says so), so a
    hostile or broken endpoint cannot make a sender thread hold an unbounded body.
    """

    last_response = "no response"
    last_status: int | None = None
    """The HTTP status of the last call's response; None until one came."""

    def __init__(self, *, max_answer_bytes: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_answer_bytes = max_answer_bytes

    def post(self, address: str, message: Any, headers: Any, timeout: float | None = None) -> Any:
        """POST like zeep, but stream the body in and stop reading past the limit."""
        response = self.session.post(
            address,
            data=message,
            headers=headers,
            timeout=timeout or self.operation_timeout,
            stream=True,
        )
        self.last_status = response.status_code
        try:
            response._content = self._bounded_body(response)  # what .content then returns
        finally:
            response.close()
        return response

    def _bounded_body(self, response: requests.Response) -> bytes:
        limit = self.max_answer_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            self._refuse(response, f"{declared} bytes announced", "larger than the limit")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > limit:
                self._refuse(response, f"more than {limit} bytes", "larger than the limit")
            chunks.append(chunk)
        body = b"".join(chunks)
        if any(marker in body for marker in _DTD_MARKERS):
            # zeep refuses a DTD only after libxml2 has parsed it (and started expanding its
            # entities, up to libxml2's amplification guard); refused here, nothing is parsed.
            self._refuse(response, f"{size} bytes", "a DTD or entity declaration")
        return body

    def _refuse(self, response: requests.Response, size: str, why: str) -> None:
        content_type = response.headers.get("Content-Type", "no content type")
        self.last_response = f"HTTP {response.status_code}, {content_type}, {size}"
        if 200 <= response.status_code < 300:
            # It came, so the message may have been applied: in doubt, resent.
            raise UnreadableAnswer(
                f"unreadable answer: {self.last_response}: {why}"
                f" (limit {self.max_answer_bytes} bytes; refused unread)"
            )
        raise TransientDeliveryError(
            f"HTTP {response.status_code} from the central application, refused unread:"
            f" {why} ({size})"
        )

    def post_xml(self, address: str, envelope: Any, headers: Any) -> Any:
        return self._recorded(
            lambda: super(_RecordingTransport, self).post_xml(address, envelope, headers)
        )

    def post_stream(
        self, address: str, body: StreamedEnvelope, headers: Any, timeout: float
    ) -> Any:
        """POST a streamed envelope (sent with its Content-Length, in chunks), the answer
        bounded and recorded as zeep's own calls are, within ``timeout`` seconds."""
        return self._recorded(lambda: self.post(address, body, headers, timeout))

    def _recorded(self, send: Callable[[], Any]) -> Any:
        self.last_response = "no response"
        self.last_status = None
        response = send()
        content_type = response.headers.get("Content-Type", "no content type")
        self.last_response = (
            f"HTTP {response.status_code}, {content_type}, {len(response.content)} bytes"
        )
        return response


_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
"""A DTD in an answer, in any encoding an XML parser would detect; never legitimate in SOAP."""

ZEEP_SETTINGS = zeep.Settings(
    forbid_dtd=True, forbid_entities=True, forbid_external=True, xml_huge_tree=False
)
"""How zeep parses the WSDL and every answer: no DTD (so no entity of any kind, internal or
external, and no billion laughs), no network access from inside a document, and libxml2's
default limits (``xml_huge_tree`` off: text nodes up to 10 MB, nesting up to 256 deep).
Answers are small; only requests carry attachments, and zeep does not parse those."""


class ZeepCentral:
    """``CentralTransport`` over SOAP with zeep; one zeep client (and HTTP session) per thread."""

    def __init__(
        self,
        settings: CentralSettings,
        signer: Signer | None = None,
        on_untrusted: Callable[[str], None] | None = None,
    ) -> None:
        """``signer``: WS-Security on every request and signed answers checked (see
        adapter/wssecurity.py); ``on_untrusted`` hears the reason of each refused answer."""
        self._settings = settings
        self._signer = signer
        # Built once (the keystore key handed to OpenSSL once); a bad ca_bundle fails here.
        self._tls = context_for(settings, signer)
        self.on_tls_failure: Callable[[str], None] | None = None
        """Hears the reason of each TLS failure (the daemon counts them in a metric)."""
        self._plugins = [] if signer is None else [plugin_for(settings, signer, on_untrusted)]
        self._wsdl = settings.wsdl or str(WSDL)
        self._local = threading.local()

    def _service(self) -> Any:
        service = getattr(self._local, "service", None)
        if service is None:
            transport = _RecordingTransport(
                max_answer_bytes=self._settings.max_answer_bytes,
                session=session(self._tls),
                timeout=self._settings.timeout_seconds,
                operation_timeout=self._settings.timeout_seconds,
            )
            client = zeep.Client(
                self._wsdl, transport=transport, settings=ZEEP_SETTINGS, plugins=self._plugins
            )
            service = client.create_service(_SERVICE, self._settings.url)
            self._local.service = service
            self._local.client = client
            self._local.transport = transport
        return service

    def _call(self, operation: Callable[[Any], Any]) -> Any:
        service = self._service()
        try:
            return _call(lambda: operation(service), self._local.transport)
        except TlsFailure as exc:
            # Retried like any connection failure, but said for what it is: an expired or
            # replaced certificate must be found in minutes, not as "cannot connect".
            log.warning("TLS failure towards %s: %s", self._settings.url, exc)
            if self.on_tls_failure is not None:
                self.on_tls_failure(exc.reason)
            raise

    def submit(self, message: etree._Element) -> etree._Element:
        """Send one signed VSB message in the ``xs:any`` slot, untouched by zeep's typing."""
        return self._one_answer(self._call(lambda service: service.Submit(_value_1=message)))

    def submit_file(self, batch: SignedBatch) -> etree._Element:
        """Send a signed batch file by Submit, its envelope streamed around the file.

        Signed by the same WS-Security header as ``submit`` (a new Timestamp each call);
        the answer goes through zeep's reply handling: the same parser settings, the
        signed-answer check, fault and error translation.
        """

        def send(service: Any) -> Any:
            binding = service._binding
            operation = binding.get("Submit")
            identity = None if self._signer is None else self._signer.header_identity
            body = streamed_envelope(
                batch, identity, datetime.now(UTC), self._settings.wssecurity_ttl_seconds
            )
            headers = {
                "SOAPAction": f'"{operation.soapaction}"',
                "Content-Type": "text/xml; charset=utf-8",
            }
            transport: _RecordingTransport = self._local.transport
            response = transport.post_stream(
                self._settings.url, body, headers, self._settings.batch_timeout_seconds
            )
            return binding.process_reply(self._local.client, operation, response)

        return self._one_answer(self._call(send))

    def _one_answer(self, response: Any) -> etree._Element:
        answers = _elements(response)
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
        failure = tls_failure(exc)  # requests' SSLError, or a TLS alert met while reading
        if failure is not None:
            raise failure from exc
        raise TransientDeliveryError("cannot connect to the central application") from exc
    except requests.RequestException as exc:
        # A body cut off or mis-encoded mid-read (ChunkedEncodingError, ContentDecodingError).
        raise TransientDeliveryError(
            f"the central application's response broke off: {exc.__class__.__name__}"
        ) from exc
    except etree.XMLSyntaxError as exc:
        raise UnreadableAnswer(f"unreadable answer: {transport.last_response}: {exc.msg}") from exc
    except zeep.exceptions.Error as exc:
        if transport.last_status is not None:
            raise _unreadable(transport, str(exc)) from exc
        raise PermanentDeliveryError(f"SOAP error: {exc}") from exc  # our request: a bug
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
        # zeep's own slips on XML it did not expect (an Envelope without a Body is a
        # TypeError in zeep 4.3): found by tests/engine/test_answer_fuzz.py.
        if transport.last_status is None:
            raise  # no response yet: a bug on this side, not the answer's
        raise _unreadable(transport, f"zeep cannot read it ({exc.__class__.__name__})") from exc


def _unreadable(transport: _RecordingTransport, what: str) -> DeliveryError:
    """A response came that zeep could not read: in doubt for a 2xx, else by its status."""
    status = transport.last_status or 0
    if 200 <= status < 300:
        return UnreadableAnswer(f"unreadable answer: {transport.last_response}: {what}")
    text = f"HTTP {status} from the central application, unreadable: {what}"
    if status >= 500 or status in (408, 429):
        return TransientDeliveryError(text)
    return PermanentDeliveryError(text)


def probe_central(settings: CentralSettings, signer: Signer | None = None) -> str | None:
    """None if the central application's endpoint answers HTTP at all, else the reason.

    Over the same TLS as the daemon's calls (``signer``: the keystore's client certificate).
    """
    return probe(settings, signer).problem


@dataclass(frozen=True)
class Probe:
    """What one look at the central application's endpoint found."""

    problem: str | None
    """None when it answers HTTP below 500; else why not."""
    server_time: datetime | None = None
    """The time its answer's ``Date`` header gives (None without one)."""


def probe(settings: CentralSettings, signer: Signer | None = None) -> Probe:
    """GET the WSDL over the daemon's TLS settings: whether it answers, and its clock."""
    try:
        with session(context_for(settings, signer)) as client:
            response = client.get(settings.url, params={"wsdl": ""}, timeout=5)
    except requests.RequestException as exc:
        failure = tls_failure(exc)
        if failure is not None:
            return Probe(f"central application at {settings.url}: {failure}")
        return Probe(
            f"central application not reachable at {settings.url}: {exc.__class__.__name__}"
        )
    server_time = _http_date(response.headers.get("Date"))
    if response.status_code >= 500:
        text = f"central application at {settings.url} answers HTTP {response.status_code}"
        return Probe(text, server_time)
    return Probe(None, server_time)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        found = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)
