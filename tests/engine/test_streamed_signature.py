"""The streamed XAdES signature of an invoice batch, checked by the receiver's own verifier.

The simulator verifies with signxml (simulator/signature.py), which shares no code with the
adapter's streamed signature: a batch it accepts is signed as every other message is, and a
changed byte anywhere in what was signed is caught.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from adapter.devpki import DevPki, issue
from adapter.signing import Signer
from adapter.streamed_signature import DS, streamed_signature
from mappings import vsb_schema
from mappings.invoice_batch import CLOSING_TAG, ROOT, validate_batch, write_batch
from simulator.signature import SignatureError, TrustStore
from tests.mappings.test_invoice_batch import CREDIT_NOTE, HEAD, INVOICE


@pytest.fixture(scope="module")
def signer(pki: DevPki) -> Signer:
    return Signer.from_keystore(pki.keystore, b"dev-only")


def signed_batch(signer: Signer) -> bytes:
    """A batch of an invoice and a credit note, written as a stream and signed."""
    out = io.BytesIO()
    written = write_batch(out, HEAD, [INVOICE, CREDIT_NOTE])
    out.write(
        streamed_signature(
            signer,
            written.digest,
            vsb_schema.qname(ROOT),
            {"vsb": vsb_schema.VSB_NS},
            datetime(2026, 12, 1, 9, 31, tzinfo=UTC),
        )
    )
    out.write(CLOSING_TAG)
    return out.getvalue()


class TestVerifiedByTheReceiver:
    """The simulator's verifier accepts the streamed signature and refuses tampering."""

    def test_a_signed_batch_verifies(self, signer: Signer) -> None:
        """The signed content the verifier returns is the whole batch."""
        document = signed_batch(signer)
        signed = TrustStore([signer.certificate]).verify(etree.fromstring(document))
        assert etree.QName(signed).localname == ROOT
        assert signed.findtext(f"{{{vsb_schema.VSB_NS}}}BatchNumber") == HEAD.batch_number

    def test_the_signed_batch_is_schema_valid(self, signer: Signer, tmp_path: Path) -> None:
        """The signature sits in the batch's signature slot."""
        path = tmp_path / "batch.xml"
        path.write_bytes(signed_batch(signer))
        validate_batch(str(path))

    @pytest.mark.parametrize(
        ("before", "after", "error"),
        [
            (b"<vsb:Amount>98.76</vsb:Amount>", b"<vsb:Amount>98.77</vsb:Amount>", "digest"),
            (b"<vsb:CareFund>180</vsb:CareFund>", b"<vsb:CareFund>280</vsb:CareFund>", "digest"),
            (b"2026-12-01T09:31:00+00:00", b"2026-12-01T09:32:00+00:00", "digest"),
            (b"<vsb:Kind>credit-note</vsb:Kind>", b"<vsb:Kind>invoice</vsb:Kind>", "digest"),
        ],
        ids=["line-amount", "care-fund", "signing-time", "invoice-kind"],
    )
    def test_a_changed_byte_is_caught(
        self, signer: Signer, before: bytes, after: bytes, error: str
    ) -> None:
        """A change in a line, the head or the signed properties fails the digest."""
        document = signed_batch(signer)
        assert before in document
        tampered = document.replace(before, after, 1)
        with pytest.raises(SignatureError, match=error):
            TrustStore([signer.certificate]).verify(etree.fromstring(tampered))

    def test_another_key_is_refused(self, signer: Signer, pki: DevPki) -> None:
        """A batch signed by a certificate the receiver does not trust is refused."""
        document = signed_batch(signer)
        stranger, _ = issue(pki, "stranger")
        with pytest.raises(SignatureError, match="unknown certificate"):
            TrustStore([stranger]).verify(etree.fromstring(document))

    def test_three_references_like_signxml(self, signer: Signer) -> None:
        """The document, the signed properties and the key info are each referenced."""
        signature = etree.fromstring(signed_batch(signer)).find(f"{{{DS}}}Signature")
        assert signature is not None
        uris = [str(ref.get("URI")) for ref in signature.iter(f"{{{DS}}}Reference")]
        assert uris[0] == ""
        assert [uri.rsplit("-", 1)[-1] for uri in uris[1:]] == ["properties", "certificate"]
