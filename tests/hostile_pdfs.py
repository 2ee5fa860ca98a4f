"""PDFs an attacker (or a careless tool) returns: made from real documents with pyHanko, then bent.

Shared by the intake tests (`test_one_file_never_stops_the_pipeline.py`, the property test of the intake) and
the archive tests. Fictional data only.
"""

from __future__ import annotations

import io
import re

from asn1crypto import cms

from tests.casefactory import scanned_pdf as scanned_form  # noqa: F401  (a scan: shared with the consent tests)


def document_timestamp(pdf: bytes, identity) -> bytes:
    """`pdf` with a document timestamp appended in an incremental update, made offline with `identity`'s key and
    certificate standing in for a TSA (a `SigningIdentity` of the DEMO PKI)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    signer = identity._signer
    stamper = DummyTimeStamper(tsa_cert=signer.signing_cert, tsa_key=signer.signing_key)
    out = PdfTimeStamper(stamper).timestamp_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), "sha256")
    return out.getvalue()


_CONTENTS = re.compile(rb"/Contents\s*<([0-9A-Fa-f]+)>")


def without_certificates(pdf: bytes) -> bytes:
    """The last signature or timestamp of `pdf` with every certificate taken out of its CMS: the same bytes
    otherwise (the token is written back into its /Contents placeholder, padded), so its byte range still holds."""
    *_, last = _CONTENTS.finditer(pdf)
    hex_token = last.group(1)
    signed = cms.ContentInfo.load(bytes.fromhex(hex_token.decode("ascii")))["content"]
    stripped = cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData({
        "version": signed["version"], "digest_algorithms": signed["digest_algorithms"],
        "encap_content_info": signed["encap_content_info"], "signer_infos": signed["signer_infos"]})})
    new = stripped.dump().hex().encode("ascii")
    assert len(new) <= len(hex_token)
    new = new.ljust(len(hex_token), b"0")
    return pdf[:last.start(1)] + new + pdf[last.end(1):]
