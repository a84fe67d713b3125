"""The XAdES-BES signature of a document that was written as a stream, never held whole.

``adapter.signing.Signer.sign`` gives a tree to signxml, which copies and re-parses it: right
for a message of a few kilobytes (or one 10 MiB attachment), not for an invoice batch of
100,000 lines (docs/performance.md, set H). A batch is written in canonical form
(``mappings.invoice_batch``), so the SHA-256 of the bytes written *is* the digest of the
enveloped reference; this module builds the same ``ds:Signature`` signxml builds around
that digest — same algorithms, same XAdES signed properties — so the receiver verifies it
like every other message (C14N 1.1, RSA-SHA256, SHA-256 digests, the certificate in
``ds:X509Data``).

The signature is built as a child of a stand-in root with the document's namespace, so
that the inclusive canonical forms of ``ds:SignedInfo`` and ``xades:SignedProperties``
carry the same inherited namespace declarations as they do in the real document.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime
from typing import Final

from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from adapter.signing import Signer

DS: Final = "http://www.w3.org/2000/09/xmldsig#"
XADES: Final = "http://uri.etsi.org/01903/v1.3.2#"
C14N11: Final = "http://www.w3.org/2006/12/xml-c14n11"
ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
RSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256: Final = "http://www.w3.org/2001/04/xmlenc#sha256"
SIGNED_PROPERTIES: Final = "http://uri.etsi.org/01903#SignedProperties"


def streamed_signature(
    signer: Signer,
    digest: bytes,
    root_tag: str,
    root_nsmap: dict[str, str],
    signed_at: datetime,
) -> bytes:
    """The serialised ``ds:Signature`` to append as the root's last child, in its exclusive
    canonical form (so a document written canonically stays canonical with it).

    ``digest`` is the SHA-256 of the document's canonical form without the signature;
    ``root_tag`` and ``root_nsmap`` are the document root's (for the inherited namespaces).
    """
    sign, certificate = signer.header_identity()  # key and certificate from one read
    stand_in = etree.Element(root_tag, nsmap=root_nsmap)
    signature_id = f"sig-{uuid.uuid4().hex}"
    reference_id = f"{signature_id}-document"
    properties_id = f"{signature_id}-signed-properties"
    key_info_id = f"{signature_id}-certificate"

    # xades is declared where exclusive c14n renders it (its first use), not on the
    # Signature: the bytes appended are then their exclusive canonical form, which the
    # WS-Security Body digest of the streamed envelope is taken over (adapter/batch_file.py),
    # and the inclusive forms signed here are the ones the receiver computes from them.
    signature = _sub(stand_in, DS, "Signature", nsmap={"ds": DS})
    signature.set("Id", signature_id)
    signed_info = _sub(signature, DS, "SignedInfo")
    _sub(signed_info, DS, "CanonicalizationMethod").set("Algorithm", C14N11)
    _sub(signed_info, DS, "SignatureMethod").set("Algorithm", RSA_SHA256)
    document_reference = _reference(signed_info, "", digest)
    document_reference.set("Id", reference_id)
    transforms = _sub(document_reference, DS, "Transforms")
    document_reference.insert(0, transforms)
    _sub(transforms, DS, "Transform").set("Algorithm", ENVELOPED)
    _sub(transforms, DS, "Transform").set("Algorithm", C14N11)
    value = _sub(signature, DS, "SignatureValue")
    key_info = _sub(signature, DS, "KeyInfo")
    key_info.set("Id", key_info_id)
    der = certificate.public_bytes(Encoding.DER)
    x509_data = _sub(key_info, DS, "X509Data")
    _sub(x509_data, DS, "X509Certificate").text = base64.b64encode(der).decode()

    obj = _sub(signature, DS, "Object")
    qualifying = _sub(obj, XADES, "QualifyingProperties", nsmap={"xades": XADES})
    qualifying.set("Target", f"#{signature_id}")
    properties = _sub(qualifying, XADES, "SignedProperties")
    properties.set("Id", properties_id)
    signature_properties = _sub(properties, XADES, "SignedSignatureProperties")
    _sub(signature_properties, XADES, "SigningTime").text = signed_at.isoformat(timespec="seconds")
    cert_digest = _sub(
        _sub(_sub(signature_properties, XADES, "SigningCertificateV2"), XADES, "Cert"),
        XADES,
        "CertDigest",
    )
    _sub(cert_digest, DS, "DigestMethod").set("Algorithm", SHA256)
    _sub(cert_digest, DS, "DigestValue").text = _b64(hashlib.sha256(der).digest())
    data_object = _sub(
        _sub(properties, XADES, "SignedDataObjectProperties"), XADES, "DataObjectFormat"
    )
    data_object.set("ObjectReference", f"#{reference_id}")
    _sub(data_object, XADES, "Description").text = "VSB message"
    _sub(data_object, XADES, "MimeType").text = "text/xml"

    # The signed properties and the key info are complete: their digests go into
    # SignedInfo, which is then complete and signed. Three references, in signxml's order:
    # its verifier expects exactly these three.
    properties_reference = _reference(
        signed_info, f"#{properties_id}", hashlib.sha256(_c14n(properties)).digest()
    )
    properties_reference.set("Type", SIGNED_PROPERTIES)
    _reference(signed_info, f"#{key_info_id}", hashlib.sha256(_c14n(key_info)).digest())
    value.text = _b64(sign(_c14n(signed_info)))
    return bytes(etree.tostring(signature, method="c14n", exclusive=True))


def _reference(signed_info: etree._Element, uri: str, digest: bytes) -> etree._Element:
    reference = _sub(signed_info, DS, "Reference")
    reference.set("URI", uri)
    _sub(reference, DS, "DigestMethod").set("Algorithm", SHA256)
    _sub(reference, DS, "DigestValue").text = _b64(digest)
    return reference


def _sub(
    parent: etree._Element, ns: str, name: str, nsmap: dict[str, str] | None = None
) -> etree._Element:
    return etree.SubElement(parent, f"{{{ns}}}{name}", nsmap=nsmap)


def _c14n(element: etree._Element) -> bytes:
    # Inclusive C14N 1.0 equals 1.1 here: the two differ only on xml:id and xml:base,
    # which these documents never carry.
    return bytes(etree.tostring(element, method="c14n"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
