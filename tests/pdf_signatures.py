"""Signature checks the tests use beside the production `verify_pdf`: pyHanko's quick per-signature verdict
(`validate_pdf`, offline, revocation "soft-fail") and poppler's `pdfsig` as a second opinion (`pdfsig_report`).

pdfsig exits 0 even when a digest does not match, so only its text tells. Its trust verdict depends on the NSS
database of the user running it, so use it for "Signature is Valid" / "Total document signed", not for trust.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from pipeline.adapters.child_env import child_environment
from pipeline.adapters.keys import big_of, subject_attr
from pipeline.adapters.validation import load_trust_roots
from pipeline.errors import SigningError

needs_pdfsig = pytest.mark.skipif(shutil.which("pdfsig") is None, reason="pdfsig (poppler-utils) not installed")

PDFSIG_TIMEOUT_S = 60


@dataclass(frozen=True)
class SignatureReport:
    """pyHanko's verdict on one signature."""

    field_name: str
    """Name of the signature field."""
    signer_naam: str
    """Common name of the signer's certificate."""
    big_nummer: str | None
    """serialNumber of the signer's certificate subject (the BIG number for doctors)."""
    organisatie: str | None
    """Organisation in the signer's certificate subject."""
    signing_time: datetime | None
    """Signing time claimed by the signer (not a trusted timestamp)."""
    intact: bool
    """The signed bytes are unchanged (digest matches)."""
    valid: bool
    """The cryptographic signature over them is correct."""
    trusted: bool
    """The signer's certificate chains to one of the trust roots (and is usable for signing)."""
    coverage: str
    """`ENTIRE_FILE` (nothing added since) or `ENTIRE_REVISION` (later revisions exist), or worse."""
    docmdp_ok: bool | None
    """Changes after this signature are allowed by the document's modification policy."""
    certification: bool
    """This is the certification (author) signature of the document."""
    modification_level: str | None
    """pyHanko's class of changes after this signature, e.g. `NONE`, `FORM_FILLING`."""
    summary: str
    """pyHanko's one-line summary, e.g. `INTACT:TRUSTED,UNTOUCHED`."""

    @property
    def ok(self) -> bool:
        """Intact, valid, trusted and not followed by forbidden changes."""
        return self.intact and self.valid and self.trusted and self.docmdp_ok is not False


def validate_pdf(pdf: bytes, *, trust_roots: Sequence[Path]) -> list[SignatureReport]:
    """Validate every signature in `pdf`, in document order, trusting only the certificates in `trust_roots`."""
    roots = load_trust_roots(trust_roots)
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        signatures = reader.embedded_signatures
    except Exception as e:
        raise SigningError(f"PDF kan niet worden gelezen om handtekeningen te controleren: {e}") from e
    reports = []
    for sig in signatures:
        context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")
        try:
            status = validate_pdf_signature(sig, signer_validation_context=context)
        except Exception as e:
            raise SigningError(f"Handtekening {sig.field_name!r} kan niet worden gecontroleerd: {e}") from e
        cert = status.signing_cert
        reports.append(SignatureReport(
            field_name=sig.field_name,
            signer_naam=subject_attr(cert, "common_name") or "",
            big_nummer=big_of(cert),
            organisatie=subject_attr(cert, "organization_name"),
            signing_time=status.signer_reported_dt,
            intact=status.intact,
            valid=status.valid,
            trusted=status.trusted,
            coverage=status.coverage.name if status.coverage is not None else "UNKNOWN",
            docmdp_ok=status.docmdp_ok,
            certification=sig.docmdp_level is not None,
            modification_level=status.modification_level.name if status.modification_level is not None else None,
            summary=status.summary(),
        ))
    return reports



# --- pdfsig ------------------------------------------------------------------------------------------------------

_PDFSIG_FIELDS = {
    "Signature Field Name": "field_name",
    "Signer Certificate Common Name": "common_name",
    "Signer full Distinguished Name": "distinguished_name",
    "Signing Time": "signing_time",
    "Signing Hash Algorithm": "hash_algorithm",
    "Signature Type": "signature_type",
    "Signed Ranges": "signed_ranges",
    "Signature Validation": "signature_validation",
    "Certificate Validation": "certificate_validation",
}
_SIGNATURE_HEADER = re.compile(r"^Signature #(\d+):\s*$")


def _pdfsig(path: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=PDFSIG_TIMEOUT_S,
                              check=False, env=child_environment())
    except FileNotFoundError as e:
        raise SigningError("pdfsig (poppler-utils) is niet geïnstalleerd") from e
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SigningError(f"pdfsig op {path} mislukt: {e}") from e


def pdfsig(pdf: Path | bytes) -> str:
    """What `pdfsig` prints about a PDF (a file or its bytes), as a person reads it."""
    if isinstance(pdf, bytes):
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "signed.pdf").write_bytes(pdf)
            return pdfsig(Path(d) / "signed.pdf")
    return _pdfsig(pdf).stdout


def pdfsig_report(path: Path) -> list[dict]:
    """Run poppler's `pdfsig` on `path`; one dict per signature, in pdfsig's order.

    Keys: `index`, `field_name`, `common_name`, `distinguished_name`, `signing_time`, `hash_algorithm`,
    `signature_type`, `signed_ranges`, `signature_validation`, `certificate_validation` (the raw texts, when
    pdfsig printed them), plus the booleans `signature_valid` ("Signature is Valid.") and
    `total_document_signed`.
    """
    result = _pdfsig(path)
    if "does not contain any signatures" in result.stdout + result.stderr:
        return []
    reports = parse_pdfsig_output(result.stdout)
    if not reports and result.returncode != 0:
        raise SigningError(f"pdfsig op {path} mislukt (code {result.returncode}): {result.stderr.strip()[:500]}")
    return reports


def parse_pdfsig_output(text: str) -> list[dict]:
    """Parse the text `pdfsig` prints (poppler 22+); see `pdfsig_report`."""
    reports: list[dict] = []
    current: dict | None = None
    for raw in text.splitlines():
        header = _SIGNATURE_HEADER.match(raw.strip())
        if header:
            current = {"index": int(header.group(1)), "total_document_signed": False, "signature_valid": False}
            reports.append(current)
            continue
        line = raw.strip()
        if current is None or not line.startswith("- "):
            continue
        line = line[2:]
        if line == "Total document signed":
            current["total_document_signed"] = True
        elif line == "Not total document signed":
            current["total_document_signed"] = False
        elif ":" in line:
            label, _, value = line.partition(":")
            key = _PDFSIG_FIELDS.get(label.strip())
            if key:
                current[key] = value.strip()
    for report in reports:
        report["signature_valid"] = report.get("signature_validation") == "Signature is Valid."
    return reports
