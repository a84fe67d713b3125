"""The streamed invoice batch: canonical bytes, the digest they give, streaming validation.

The streamed signature rests on one assumption: what ``write_batch`` writes is already the
canonical form of the document. These tests check it against lxml's own C14N, and feed the
streaming validator broken and hostile files.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from mappings.errors import SchemaViolation
from mappings.invoice_batch import (
    CLOSING_TAG,
    BatchHead,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    LineKind,
    LineReference,
    validate_batch,
    write_batch,
)
from mappings.model import Facility

INSZ = "85073003328"
HEAD = BatchHead(
    message_id="m-batch-1",
    created_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    facility=Facility("71012314001", "40012345"),
    batch_number="202611",
    care_fund="180",
    invoice_type="reva",
    billing_month="2026-11",
    invoice_date=date(2026, 12, 1),
)


def day_lines(first: int, day: date, amount: str = "98.76") -> tuple[InvoiceLine, InvoiceLine]:
    """A day's service line and its personal-share line (numbers ``first``, ``first + 1``)."""
    return (
        InvoiceLine(first, LineKind.SERVICE, "771010", day, Decimal(amount)),
        InvoiceLine(
            first + 1, LineKind.PERSONAL_SHARE, "771090", day, Decimal("0"), for_line=first
        ),
    )


INVOICE = Invoice(
    "INV-2026-1",
    InvoiceKind.INVOICE,
    INSZ,
    "VSB-2026-000001",
    (*day_lines(1, date(2026, 11, 2)), *day_lines(3, date(2026, 11, 3), "12.5")),
)
CREDIT_NOTE = Invoice(
    "CN-2026-1",
    InvoiceKind.CREDIT_NOTE,
    INSZ,
    "VSB-2026-000001",
    (
        replace(
            day_lines(1, date(2026, 10, 6))[0],
            credits=LineReference("INV-2026-0", 7),
        ),
    ),
)
CORRECTION = replace(INVOICE, number="INV-2026-2", corrects="INV-2026-0")


def written(head: BatchHead, invoices: list[Invoice]) -> tuple[bytes, bytes]:
    """The whole unsigned document and the digest ``write_batch`` computed for it."""
    out = io.BytesIO()
    result = write_batch(out, head, invoices)
    return out.getvalue() + CLOSING_TAG, result.digest


class TestCanonicalForm:
    """What the writer writes is byte for byte the C14N of the document it describes."""

    @pytest.mark.parametrize(
        "head",
        [
            HEAD,
            replace(
                HEAD, replaces_message_id="m-batch-0", ordering_key="care-fund:180", sequence=4
            ),
        ],
        ids=["plain", "with-optional-header-fields"],
    )
    def test_bytes_are_canonical(self, head: BatchHead) -> None:
        """Parsing and canonicalising the written document gives back the same bytes."""
        document, _ = written(head, [INVOICE, CREDIT_NOTE, CORRECTION])
        assert etree.tostring(etree.fromstring(document), method="c14n") == document

    def test_digest_is_that_of_the_canonical_document(self) -> None:
        """The digest covers the whole document, closing tag included."""
        document, digest = written(HEAD, [INVOICE])
        assert digest == hashlib.sha256(document).digest()

    def test_amounts_have_cents(self) -> None:
        """An amount is written with two decimals, as vsb:Amount requires."""
        document, _ = written(HEAD, [INVOICE])
        assert b"<vsb:Amount>12.50</vsb:Amount>" in document
        assert b"<vsb:Amount>0.00</vsb:Amount>" in document

    def test_counts(self) -> None:
        """The writer reports how many invoices and lines it wrote."""
        result = write_batch(io.BytesIO(), HEAD, [INVOICE, CREDIT_NOTE])
        assert (result.invoices, result.lines) == (2, 5)
        assert result.size > 0


class TestStreamingValidation:
    """``validate_batch`` accepts the writer's batches and names what is wrong in others."""

    def test_a_written_batch_is_valid(self, tmp_path: Path) -> None:
        """Invoices, a credit note and a correcting invoice pass vsb-1.0.xsd."""
        path = tmp_path / "batch.xml"
        path.write_bytes(written(HEAD, [INVOICE, CREDIT_NOTE, CORRECTION])[0])
        validate_batch(str(path))

    def test_an_invalid_value_is_named_without_its_value(self, tmp_path: Path) -> None:
        """A service code of five digits is refused, naming the element, not the value."""
        bad = replace(INVOICE, lines=(replace(INVOICE.lines[0], service_code="77101"),))
        path = tmp_path / "batch.xml"
        path.write_bytes(written(HEAD, [bad])[0])
        with pytest.raises(SchemaViolation, match="ServiceCode") as caught:
            validate_batch(str(path))
        assert "77101" not in str(caught.value)

    def test_an_insz_in_an_error_is_masked(self, tmp_path: Path) -> None:
        """An INSZ of the wrong length is refused without the number in the message."""
        bad = replace(INVOICE, insz="8507300332")
        path = tmp_path / "batch.xml"
        path.write_bytes(written(HEAD, [bad])[0])
        with pytest.raises(SchemaViolation, match="Insz") as caught:
            validate_batch(str(path))
        assert "8507300332" not in str(caught.value)

    def test_an_invoice_without_lines_is_refused(self, tmp_path: Path) -> None:
        """Every invoice has at least one line."""
        path = tmp_path / "batch.xml"
        path.write_bytes(written(HEAD, [replace(INVOICE, lines=())])[0])
        with pytest.raises(SchemaViolation):
            validate_batch(str(path))


class TestHostileInput:
    """Poison in a batch's values or its file is refused cleanly, never expanded."""

    @pytest.mark.parametrize("poison", ["INV\x00-1", "INV\x1b-1", "INV\r1"])
    def test_control_characters_are_refused_by_the_writer(self, poison: str) -> None:
        """A control character cannot reach the document."""
        with pytest.raises(ValueError, match="InvoiceNumber holds a control character"):
            write_batch(io.BytesIO(), HEAD, [replace(INVOICE, number=poison)])

    def test_markup_in_a_value_stays_text(self, tmp_path: Path) -> None:
        """Markup characters are escaped: the document stays well formed, the value invalid."""
        path = tmp_path / "batch.xml"
        evil = replace(INVOICE, number="A</vsb:InvoiceNumber><x>&")
        path.write_bytes(written(HEAD, [evil])[0])
        with pytest.raises(SchemaViolation, match="InvoiceNumber"):
            validate_batch(str(path))

    def test_an_external_entity_is_not_resolved(self, tmp_path: Path) -> None:
        """A DOCTYPE with an external entity is refused, the entity never read."""
        secret = tmp_path / "secret.txt"
        secret.write_text("85073003328")
        document, _ = written(HEAD, [INVOICE])
        hostile = (
            f'<!DOCTYPE x [<!ENTITY leak SYSTEM "file://{secret}">]>'.encode()
            + document.replace(b"<vsb:Hco>40012345</vsb:Hco>", b"<vsb:Hco>&leak;</vsb:Hco>")
        )
        path = tmp_path / "batch.xml"
        path.write_bytes(hostile)
        with pytest.raises(SchemaViolation) as caught:
            validate_batch(str(path))
        assert "85073003328" not in str(caught.value)

    def test_billion_laughs_is_not_expanded(self, tmp_path: Path) -> None:
        """Nested entities are refused without expanding them."""
        entities = '<!ENTITY a0 "lol">' + "".join(
            f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
        )
        document, _ = written(HEAD, [INVOICE])
        hostile = f"<!DOCTYPE x [{entities}]>".encode() + document.replace(
            b"<vsb:Hco>40012345</vsb:Hco>", b"<vsb:Hco>&a9;</vsb:Hco>"
        )
        path = tmp_path / "batch.xml"
        path.write_bytes(hostile)
        with pytest.raises(SchemaViolation):
            validate_batch(str(path))

    def test_a_truncated_file_is_refused(self, tmp_path: Path) -> None:
        """A batch cut off in the middle is not well formed, and says so."""
        document, _ = written(HEAD, [INVOICE, INVOICE])
        path = tmp_path / "batch.xml"
        path.write_bytes(document[: len(document) // 2])
        with pytest.raises(SchemaViolation, match="invoice batch"):
            validate_batch(str(path))
