"""An invoice batch sent as a stream: the private signed file, its streamed envelope with the
WS-Security header, and the Submit against the real simulator over mutual TLS, whose answer
is verified like every other one.

Real keys from the dev PKI, the bundled simulator over HTTPS with WS-Security required and
its answers signed; nothing is mocked.
"""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from adapter.batch_file import write_signed_batch
from adapter.central import ZeepCentral
from adapter.devpki import DevPki
from adapter.errors import PermanentDeliveryError, UnreadableAnswer, UntrustedAnswer
from adapter.settings import CentralSettings
from adapter.signing import Signer
from adapter.streamed_envelope import streamed_envelope
from adapter.wssecurity import SOAP_ENV, verify_envelope
from mappings.errors import SchemaViolation
from mappings.invoice_batch import BatchHead, Invoice, InvoiceKind, InvoiceLine, LineKind
from mappings.model import Facility
from simulator import Simulator
from simulator.wssecurity import AnswerSigner
from tests.conftest import FACILITY_HCO, FACILITY_NIHDI

VSB = "{urn:vsb-adapter:vsb:1}"
DAYS = 15


@pytest.fixture(scope="module")
def signer(pki: DevPki) -> Signer:
    return Signer.from_keystore(pki.keystore, b"dev-only")


@pytest.fixture
def central(simulator: Simulator, pki: DevPki, signer: Signer) -> ZeepCentral:
    """A client signing its requests and checking answers, over mutual TLS, as the daemon's."""
    settings = CentralSettings(
        url=simulator.url,
        answer_certificate=str(pki.central_cert),
        ca_bundle=str(pki.ca_cert),
    )
    return ZeepCentral(settings, signer)


def head(number: str = "202611", message_id: str = "m-batch-1") -> BatchHead:
    return BatchHead(
        message_id=message_id,
        created_at=datetime.now(UTC),
        facility=Facility(FACILITY_NIHDI, FACILITY_HCO),
        batch_number=number,
        care_fund="180",
        invoice_type="reva",
        billing_month="2026-11",
        invoice_date=date(2026, 11, 20),
    )


def invoices(count: int) -> Iterator[Invoice]:
    """``count`` invoices of ``DAYS`` days each, a service and its personal share a day."""
    for index in range(count):
        lines: list[InvoiceLine] = []
        for offset in range(DAYS):
            day = date(2026, 11, 2) + timedelta(days=offset)
            number = 2 * offset + 1
            lines.append(InvoiceLine(number, LineKind.SERVICE, "771021", day, Decimal("98.76")))
            lines.append(
                InvoiceLine(
                    number + 1, LineKind.PERSONAL_SHARE, "779990", day, Decimal(0), for_line=number
                )
            )
        yield Invoice(
            f"INV-{index + 1}",
            InvoiceKind.INVOICE,
            f"{85073000000 + index:011d}",
            "VSB-2026-000001",
            tuple(lines),
        )


def text(answer: etree._Element, path: str) -> str | None:
    return answer.findtext(path.replace("v:", VSB))


class TestTheFile:
    """The signed batch file: canonical bytes, private, gone when its block ends."""

    def test_the_bytes_are_their_exclusive_canonical_form(
        self, signer: Signer, tmp_path: Path
    ) -> None:
        """lxml's exclusive C14N of the parsed file is the file, byte for byte: the
        WS-Security Body digest taken while writing rests on it."""
        with write_signed_batch(head(), invoices(3), signer, tmp_path) as batch:
            written = batch.path.read_bytes()
        parsed = etree.fromstring(written, etree.XMLParser(resolve_entities=False))
        assert etree.tostring(parsed, method="c14n", exclusive=True) == written
        assert (batch.size, batch.invoices, batch.lines) == (len(written), 3, 3 * 2 * DAYS)

    def test_the_body_digest_is_that_of_the_body_sent(self, signer: Signer, tmp_path: Path) -> None:
        """The receiver's digest of the Body it parses equals the one signed."""
        with write_signed_batch(head(), invoices(2), signer, tmp_path) as batch:
            sent = b"".join(streamed_envelope(batch, signer.header_identity, _now(), 300))
        envelope = etree.fromstring(sent)
        body = envelope.find(f"{{{SOAP_ENV}}}Body")
        assert body is not None
        canonical = etree.tostring(body, method="c14n", exclusive=True)
        assert hashlib.sha256(canonical).digest() == batch.body_digest
        # The request verifies as an answer would, against the facility's own certificate.
        verify_envelope(envelope, signer.certificate, _now(), 300)
        assert len(streamed_envelope(batch, None, _now(), 300)) < len(sent)

    def test_the_file_is_private(self, signer: Signer, tmp_path: Path) -> None:
        """Mode 0600 in a directory made 0700: it holds INSZ numbers in clear."""
        directory = tmp_path / "batches"
        with write_signed_batch(head(), invoices(1), signer, directory) as batch:
            assert stat.S_IMODE(batch.path.stat().st_mode) == 0o600
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700
            assert batch.path.parent == directory
            assert "85073" not in batch.path.name

    def test_the_file_is_gone_after_the_block(self, signer: Signer, tmp_path: Path) -> None:
        """Deleted on leaving the block, and when the block fails."""
        with write_signed_batch(head(), invoices(1), signer, tmp_path) as batch:
            assert batch.path.exists()
        assert not batch.path.exists()
        with (
            pytest.raises(RuntimeError),
            write_signed_batch(head(), invoices(1), signer, tmp_path) as failed,
        ):
            raise RuntimeError("the send failed")
        assert not failed.path.exists()
        assert list(tmp_path.iterdir()) == []

    @pytest.mark.parametrize(
        ("broken", "error"),
        [
            (replace(head(), invoice_type="neither"), SchemaViolation),
            (replace(head(), batch_number="20\x0111"), ValueError),
        ],
        ids=["schema-invalid", "control-character"],
    )
    def test_no_file_is_left_when_writing_fails(
        self, signer: Signer, tmp_path: Path, broken: BatchHead, error: type[Exception]
    ) -> None:
        """A batch refused by the writer or the schema leaves no file behind."""
        with pytest.raises(error), write_signed_batch(broken, invoices(1), signer, tmp_path):
            pytest.fail("an invalid batch must not be yielded")
        assert list(tmp_path.iterdir()) == []


class TestSubmitFile:
    """``ZeepCentral.submit_file`` against the simulator over HTTPS with WS-Security."""

    def test_a_large_batch_is_taken_in_and_judged(
        self, central: ZeepCentral, simulator: Simulator, signer: Signer, tmp_path: Path
    ) -> None:
        """A batch of 3,000 lines: technical 931000 at Submit, its content answer (every
        line read) in the mailbox, and the file gone afterwards."""
        with write_signed_batch(head(), invoices(100), signer, tmp_path) as batch:
            answer = central.submit_file(batch)
        assert batch.lines == 3000
        assert not batch.path.exists()
        assert text(answer, "v:InReplyTo") == "m-batch-1"
        assert text(answer, "v:Outcome") == "in-beraad"
        assert text(answer, "v:InvoiceAcknowledgement/v:Stage") == "technical"
        assert text(answer, "v:InvoiceAcknowledgement/v:Code") == "931000"
        [call] = simulator.record()
        assert call.message_id == "m-batch-1"
        later = [
            found
            for found in central.fetch_answers(FACILITY_NIHDI, 10)
            if text(found, "v:InReplyTo") == "m-batch-1"
        ]
        assert [text(found, "v:InvoiceAcknowledgement/v:Stage") for found in later] == ["content"]
        assert text(later[0], "v:InvoiceAcknowledgement/v:Lines") == "3000"
        assert text(later[0], "v:InvoiceAcknowledgement/v:BatchNumber") == "202611"

    def test_a_batch_number_used_before_is_refused(
        self, central: ZeepCentral, signer: Signer, tmp_path: Path
    ) -> None:
        """The same batch number again (another message): technical 920999, refused."""
        with write_signed_batch(head(), invoices(2), signer, tmp_path) as batch:
            central.submit_file(batch)
        again = head(message_id="m-batch-2")
        with write_signed_batch(again, invoices(2), signer, tmp_path) as batch:
            answer = central.submit_file(batch)
        assert text(answer, "v:Outcome") == "refused"
        assert text(answer, "v:InvoiceAcknowledgement/v:Code") == "920999"

    def test_a_byte_changed_after_signing_is_refused(
        self, central: ZeepCentral, simulator: Simulator, signer: Signer, tmp_path: Path
    ) -> None:
        """The file altered after it was signed: the simulator's WS-Security fault for a
        tampered Body (wsse:FailedCheck), a soap:Client fault, permanent as on the tree
        path; nothing recorded, and the file still removed."""
        with write_signed_batch(head(), invoices(5), signer, tmp_path) as batch:
            tampered = batch.path.read_bytes().replace(b">98.76<", b">98.77<", 1)
            batch.path.write_bytes(tampered)
            with pytest.raises(PermanentDeliveryError) as caught:
                central.submit_file(batch)
        assert str(caught.value) == (
            "SOAP fault soap:Client: wsse:FailedCheck: the Body's digest does not match"
        )
        assert simulator.record() == []
        assert not batch.path.exists()

    def test_an_unsigned_answer_is_unreadable(
        self, central: ZeepCentral, simulator: Simulator, signer: Signer, tmp_path: Path
    ) -> None:
        """An answer without WS-Security is not believed: in doubt, resent with its id."""
        simulator.runtime.answer_signer = None
        with (
            write_signed_batch(head(), invoices(2), signer, tmp_path) as batch,
            pytest.raises(UnreadableAnswer) as caught,
        ):
            central.submit_file(batch)
        assert isinstance(caught.value, UntrustedAnswer)
        assert caught.value.reason == "unsigned"

    def test_a_tampered_answer_is_unreadable(
        self, central: ZeepCentral, simulator: Simulator, signer: Signer, tmp_path: Path
    ) -> None:
        """An answer changed after the simulator signed it fails its digest; the resend
        with the same message id, signed right, gets the stored answer."""
        right = simulator.runtime.answer_signer
        assert right is not None
        simulator.runtime.answer_signer = _Tampering(right)
        with write_signed_batch(head(), invoices(2), signer, tmp_path) as batch:
            with pytest.raises(UntrustedAnswer) as caught:
                central.submit_file(batch)
            assert caught.value.reason == "tampered"
            simulator.runtime.answer_signer = right
            answer = central.submit_file(batch)
        assert text(answer, "v:InvoiceAcknowledgement/v:Code") == "931000"
        assert [call.duplicate for call in simulator.record()] == [False, True]


class _Tampering(AnswerSigner):
    """Signs as the central application, then changes the signed Body (931000 → 920999)."""

    def __init__(self, signer: AnswerSigner) -> None:
        self.__dict__.update(signer.__dict__)

    def sign(self, raw: bytes, now: datetime) -> bytes:
        return super().sign(raw, now).replace(b"931000", b"920999")


def _now() -> datetime:
    return datetime.now(UTC)
