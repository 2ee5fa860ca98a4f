"""Check the signatures in a PDF: pyHanko's validation (the authority) and poppler's `pdfsig` (a second opinion).

`verify_pdf` (below) is the full AdES validation of issue 5 (levels, proof of existence, offline revocation data);
`validate_pdf` is the quick per-signature check of issue 2. `validate_pdf` works offline: trust comes only from the given root certificates (e.g. `pki/ca.pem`), nothing
is fetched. Revocation is checked "soft-fail" — the DEMO PKI publishes no CRL or OCSP; issue 5 (B-LT) embeds
revocation data in the document and should switch to "hard-fail".

`pdfsig_report` runs `pdfsig` and parses its text. pdfsig exits 0 even when a digest does not match, so only
the text tells. Its trust verdict depends on the NSS database of the user running it, so use it for
"Signature is Valid" / "Total document signed", not for trust.
"""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from pipeline.errors import SigningError

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
    roots = _load_roots(trust_roots)
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
            signer_naam=_subject_attr(cert, "common_name") or "",
            big_nummer=_subject_attr(cert, "serial_number"),
            organisatie=_subject_attr(cert, "organization_name"),
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


def _load_roots(paths: Sequence[Path]) -> list[asn1_x509.Certificate]:
    roots: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            roots.extend(load_certs_from_pemder_data(Path(path).read_bytes()))
        except (OSError, ValueError) as e:
            raise SigningError(f"Vertrouwd basiscertificaat kan niet worden gelezen: {path} ({e})") from e
    if not roots:
        raise SigningError("Geen vertrouwde basiscertificaten opgegeven")
    return roots


def _subject_attr(cert: asn1_x509.Certificate, name: str) -> str | None:
    value = cert.subject.native.get(name)
    if isinstance(value, list):
        value = value[-1]
    return str(value) if value is not None else None


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


def pdfsig_report(path: Path) -> list[dict]:
    """Run poppler's `pdfsig` on `path`; one dict per signature, in pdfsig's order.

    Keys: `index`, `field_name`, `common_name`, `distinguished_name`, `signing_time`, `hash_algorithm`,
    `signature_type`, `signed_ranges`, `signature_validation`, `certificate_validation` (the raw texts, when
    pdfsig printed them), plus the booleans `signature_valid` ("Signature is Valid.") and
    `total_document_signed`.
    """
    try:
        result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=PDFSIG_TIMEOUT_S,
                                check=False)
    except FileNotFoundError as e:
        raise SigningError("pdfsig (poppler-utils) is niet geïnstalleerd") from e
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SigningError(f"pdfsig op {path} mislukt: {e}") from e
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


# --- AdES validation (ETSI EN 319 102-1) -------------------------------------------------------------------------
#
# `verify_pdf` is the validation `sopipe verify`, the archive reports and the check of returned documents use.
# It runs pyHanko's AdES validation (`pyhanko.sign.validation.ades`) strictly offline: everything it needs must
# be in the document (the DSS of a B-LT/B-LTA signature) or in the given trust roots; nothing is fetched.
# Revocation: a signature that claims B-LT or B-LTA must carry revocation data for its whole chain (pyHanko's
# REQUIRE_REVINFO); for B-B and B-T there is none to check offline, so the status is then not checked and the
# report says so in plain words.

MAIN_PASSED = "TOTAL-PASSED"
MAIN_FAILED = "TOTAL-FAILED"
MAIN_INDETERMINATE = "INDETERMINATE"


@dataclass(frozen=True)
class AdesSignatureReport:
    """The verdict on one signature (approval or certification), in terms a records officer can be told."""

    field_name: str
    signer_naam: str
    """Common name of the signer's certificate."""
    big_nummer: str | None
    """serialNumber of the signer's subject: the BIG number on a doctor's certificate."""
    organisatie: str | None
    certification: bool
    """The certifying (author) signature of the document (DocMDP)."""
    level: str
    """PAdES baseline level the signature carries: B-B, B-T, B-LT or B-LTA."""
    indication: str
    """ETSI main indication: TOTAL-PASSED, TOTAL-FAILED or INDETERMINATE."""
    sub_indication: str | None
    """ETSI sub-indication, e.g. HASH_FAILURE, NO_CERTIFICATE_CHAIN_FOUND, OUT_OF_BOUNDS_NO_POE."""
    message: str | None
    """pyHanko's explanation when not passed."""
    signing_time: datetime | None
    """Time the signer's software claimed (not proven)."""
    proven_time: datetime | None
    """Best signature time: the earliest moment the signature is proven to have existed (a timestamp)."""
    validation_time: datetime
    intact: bool
    """The signed bytes are unchanged."""
    valid: bool
    """The cryptographic signature over them is correct."""
    trusted: bool
    """The signer's certificate chains to a trust root."""
    revocation_checked: bool
    """Revocation status was checked from data embedded in the document."""
    changed_after: str | None
    """What changed after signing: None (nothing), `toegestaan` (allowed updates such as later signatures,
    validation data and timestamps) or `niet toegestaan` (forbidden changes, e.g. a page was altered)."""
    docmdp_ok: bool | None
    coverage: str
    signer_cert_not_after: datetime | None
    signer_cert_der: bytes = b""
    signature_digest: str = ""
    """SHA-256 (hex) of the signature value (/Contents), identifying the signature in reports."""

    @property
    def ok(self) -> bool:
        return self.indication == MAIN_PASSED and self.docmdp_ok is not False and self.changed_after != "niet toegestaan"


@dataclass(frozen=True)
class DocumentTimestampReport:
    field_name: str
    time: datetime | None
    tsa_naam: str
    tsa_cert_not_after: datetime | None
    intact: bool


@dataclass(frozen=True)
class DocumentReport:
    signatures: tuple[AdesSignatureReport, ...]
    document_timestamps: tuple[DocumentTimestampReport, ...]
    validation_time: datetime
    simulated: bool = False
    """Validation at a future time, assuming the document timestamps are renewed in time (pyHanko's simulation)."""

    @property
    def ok(self) -> bool:
        return bool(self.signatures) and all(s.ok for s in self.signatures)

    @property
    def last_timestamp_expiry(self) -> datetime | None:
        """When the certificate of the newest document timestamp expires: renew before then."""
        stamps = [t for t in self.document_timestamps if t.tsa_cert_not_after is not None]
        return stamps[-1].tsa_cert_not_after if stamps else None


def verify_pdf(pdf: bytes, *, trust_roots: Sequence[Path], at: datetime | None = None,
               simulate_future: bool = False) -> DocumentReport:
    """Validate every signature in `pdf` offline with pyHanko's AdES validation.

    `at`: the validation time (default now). `simulate_future`: validate at `at` (in the future) as an archive
    would, assuming the document timestamps are renewed in time (pyHanko's
    `simulate_future_ades_lta_validation`): passes only for signatures whose proof survives their certificates.
    """
    import asyncio
    roots = _load_roots(trust_roots)
    now = datetime.now(UTC)
    at = at or now
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        regular = list(reader.embedded_regular_signatures)
        stamps = list(reader.embedded_timestamp_signatures)
    except Exception as e:
        raise SigningError(f"PDF kan niet worden gelezen om handtekeningen te controleren: {e}") from e
    reports = []
    for sig in regular:
        try:
            reports.append(asyncio.run(_verify_one(sig, reader, stamps, roots, at=at, now=now,
                                                   simulate_future=simulate_future)))
        except SigningError:
            raise
        except Exception as e:
            raise SigningError(f"Handtekening {sig.field_name!r} kan niet worden gecontroleerd: {e}") from e
    ts_reports = []
    for ts in stamps:
        try:
            tst_info = ts.signed_data["encap_content_info"]["content"].parsed
            gen_time = tst_info["gen_time"].native
        except Exception:
            gen_time = None
        cert = ts.signer_cert
        try:
            ts.compute_integrity_info()
            intact = bool(ts.compute_digest() == ts.external_digest)
        except Exception:
            intact = False
        ts_reports.append(DocumentTimestampReport(
            field_name=ts.field_name, time=gen_time, tsa_naam=_subject_attr(cert, "common_name") or "",
            tsa_cert_not_after=cert["tbs_certificate"]["validity"]["not_after"].native, intact=intact))
    return DocumentReport(tuple(reports), tuple(ts_reports), validation_time=at, simulated=simulate_future)


async def _verify_one(sig, reader, stamps, roots, *, at: datetime, now: datetime,
                      simulate_future: bool) -> AdesSignatureReport:
    from pyhanko.sign.ades.report import AdESStatus
    from pyhanko.sign.validation import ades
    from pyhanko.sign.validation.policy_decl import (PdfSignatureValidationSpec, RevinfoOnlineFetchingRule,
                                                     RevocationInfoGatheringSpec, SignatureValidationSpec)
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
    from pyhanko_certvalidator.policy_decl import (LEGACY_POLICY_MAP, REQUIRE_REVINFO, CertRevTrustPolicy)
    from pyhanko_certvalidator.registry import SimpleTrustManager

    level = _detect_level(sig, reader, stamps)
    embedded = level in ("B-LT", "B-LTA")
    checking = REQUIRE_REVINFO if embedded else LEGACY_POLICY_MAP["soft-fail"]
    spec = PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(trust_manager=SimpleTrustManager.build(roots),
                                                        revinfo_policy=CertRevTrustPolicy(checking)),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(RevinfoOnlineFetchingRule.LOCAL_ONLY)))
    timing = ValidationTimingInfo(validation_time=at, best_signature_time=at,
                                  point_in_time_validation=at < now - _CLOCK_SLACK)
    if simulate_future:
        result = await ades.simulate_future_ades_lta_validation(sig, spec, future_validation_time=at,
                                                                 current_reference_time=now)
    elif level == "B-LTA":
        result = await ades.ades_lta_validation(sig, spec, timing_info=timing)
    else:
        # pyHanko's LTA process insists on a proof of existence from a document timestamp, so the lower levels
        # go through the process that fits them: basic (B-B) or with time (B-T, B-LT: DSS data as local
        # knowledge), with the PDF's own integrity checks (coverage, DocMDP, later changes) folded in.
        sig_spec = spec.signature_validation_spec
        if level == "B-LT":
            sig_spec = dataclasses.replace(sig_spec, local_knowledge=_dss_knowledge(reader))
        kwargs = dict(signed_data=sig.signed_data, validation_spec=sig_spec, timing_info=timing,
                      raw_digest=sig.compute_digest())
        if level == "B-B":
            result = await ades.ades_basic_validation(**kwargs)
        else:
            result = await ades.ades_with_time_validation(**kwargs)
    status = result.api_status
    if sig.coverage is None:  # the LTA process computed it already; the others did not
        from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
        sig.compute_integrity_info(diff_policy=DEFAULT_DIFF_POLICY)
    integrity = sig.summarise_integrity_info()
    sub = result.ades_subindic
    indication = {AdESStatus.PASSED: MAIN_PASSED, AdESStatus.FAILED: MAIN_FAILED}.get(sub.status,
                                                                                    MAIN_INDETERMINATE)
    cert = sig.signer_cert
    mod = integrity.get("modification_level")
    mod = mod.name if mod is not None else None
    cov = integrity.get("coverage")
    coverage = cov.name if cov is not None else "UNKNOWN"
    docmdp_ok = integrity.get("docmdp_ok")
    if coverage == "ENTIRE_FILE":
        changed = None
    elif docmdp_ok is not False and mod in (None, "NONE", "LTA_UPDATES", "FORM_FILLING"):
        changed = "toegestaan"
    else:
        changed = "niet toegestaan"
    best = getattr(result, "best_signature_time", None)
    message = None if indication == MAIN_PASSED else result.failure_msg
    proven = best if (best is not None and level != "B-B" and best < at) else None
    import hashlib
    contents = sig.sig_object.get("/Contents")
    digest = hashlib.sha256(bytes(contents.original_bytes) if hasattr(contents, "original_bytes")
                            else bytes(contents)).hexdigest() if contents is not None else ""
    return AdesSignatureReport(
        field_name=sig.field_name, signer_naam=_subject_attr(cert, "common_name") or "",
        big_nummer=_subject_attr(cert, "serial_number"), organisatie=_subject_attr(cert, "organization_name"),
        certification=sig.docmdp_level is not None, level=level, indication=indication,
        sub_indication=None if sub.status is AdESStatus.PASSED else sub.name, message=message,
        signing_time=sig.self_reported_timestamp, proven_time=proven, validation_time=at,
        intact=bool(status and status.intact), valid=bool(status and status.valid),
        trusted=bool(status and status.trusted), revocation_checked=embedded and indication == MAIN_PASSED,
        changed_after=changed, docmdp_ok=docmdp_ok, coverage=coverage,
        signer_cert_not_after=cert["tbs_certificate"]["validity"]["not_after"].native,
        signer_cert_der=cert.dump(), signature_digest=digest)


_CLOCK_SLACK = timedelta(minutes=5)


def _dss_knowledge(reader):
    """Certificates, CRLs and OCSP responses in the document security store, as pyHanko 'local knowledge'."""
    from asn1crypto.crl import CertificateList
    from asn1crypto.ocsp import OCSPResponse
    from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
    from pyhanko.sign.validation.policy_decl import LocalKnowledge
    from pyhanko_certvalidator.revinfo.archival import CRLContainer, OCSPContainer
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except NoDSSFoundError:
        return LocalKnowledge()
    return LocalKnowledge(
        known_ocsps=[c for r in dss.ocsps for c in OCSPContainer.load_multi(OCSPResponse.load(r.get_object().data))],
        known_crls=[CRLContainer(crl_data=CertificateList.load(c.get_object().data)) for c in dss.crls],
        known_certs=list(dss.load_certs()))


def _detect_level(sig, reader, stamps) -> str:
    """The PAdES baseline level a signature carries (what is present, not whether it validates)."""
    unsigned = sig.signer_info["unsigned_attrs"]
    has_ts = unsigned.native is not None and any(
        attr["type"].native == "signature_time_stamp_token" for attr in unsigned)
    if not has_ts:
        return "B-B"
    dss = reader.root.get("/DSS")
    dss = dss.get_object() if dss is not None else None
    has_revinfo = dss is not None and any(key in dss for key in ("/OCSPs", "/CRLs", "/VRI"))
    if not has_revinfo:
        return "B-T"
    if any(ts.signed_revision > sig.signed_revision for ts in stamps):
        return "B-LTA"
    return "B-LT"


# --- ETSI TS 119 102-2 validation report ------------------------------------------------------------------------

ETSI_NS = "http://uri.etsi.org/19102/v1.2.1#"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
_MAIN_URI = {MAIN_PASSED: "urn:etsi:019102:mainindication:total-passed",
             MAIN_FAILED: "urn:etsi:019102:mainindication:total-failed",
             MAIN_INDETERMINATE: "urn:etsi:019102:mainindication:indeterminate"}
_PROCESS_URI = {"B-B": "urn:etsi:019102:validationprocess:Basic",
                "B-T": "urn:etsi:019102:validationprocess:LTVM",
                "B-LT": "urn:etsi:019102:validationprocess:LTVM",
                "B-LTA": "urn:etsi:019102:validationprocess:LTA"}


def etsi_validation_report(report: DocumentReport, *, document_name: str, document_sha256: str) -> bytes:
    """The report as ETSI TS 119 102-2 XML: a faithful subset (the main elements, in the schema's order).

    Per signature: SignatureIdentifier (digest of the signature value, the field name), ValidationTimeInfo
    (validation time, best signature time as proof of existence), SignatureAttributes (claimed signing time),
    SignerInformation (the signer's certificate by reference and name), SignatureValidationProcess, and
    SignatureValidationStatus with MainIndication (total-passed | total-failed | indeterminate) and
    SubIndication. The signer certificates are the SignatureValidationObjects.
    """
    import base64
    import xml.etree.ElementTree as ET

    ET.register_namespace("", ETSI_NS)
    ET.register_namespace("ds", DS_NS)

    def el(parent, tag: str, text: str | None = None, ns: str = ETSI_NS, **attrs):
        node = ET.SubElement(parent, f"{{{ns}}}{tag}", {k: v for k, v in attrs.items() if v is not None})
        if text is not None:
            node.text = text
        return node

    def iso(moment: datetime) -> str:
        return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    root = ET.Element(f"{{{ETSI_NS}}}ValidationReport")
    objects = []
    for n, sig in enumerate(report.signatures, start=1):
        svr = el(root, "SignatureValidationReport")
        ident = el(svr, "SignatureIdentifier", id=f"sig-{n}")
        dav = el(ident, "DigestAlgAndValue")
        el(dav, "DigestMethod", ns=DS_NS, Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
        el(dav, "DigestValue", base64.b64encode(bytes.fromhex(sig.signature_digest)).decode() if sig.signature_digest
           else "", ns=DS_NS)
        el(ident, "HashOnly", "false")
        el(ident, "DocHashOnly", "false")
        el(ident, "DAIdentifier", sig.field_name)
        times = el(svr, "ValidationTimeInfo")
        el(times, "ValidationTime", iso(sig.validation_time))
        if sig.proven_time is not None:
            best = el(times, "BestSignatureTime")
            el(best, "POETime", iso(sig.proven_time))
            el(best, "TypeOfProof", "urn:etsi:019102:poetype:validation")
        if sig.signing_time is not None:
            attrs = el(svr, "SignatureAttributes")
            el(el(attrs, "SigningTime", Signed="true"), "Time", iso(sig.signing_time))
        vo_id = f"vo-cert-{n}"
        objects.append((vo_id, sig.signer_cert_der))
        info = el(svr, "SignerInformation", Pseudonym="false")
        el(info, "SignerCertificate", VOReference=vo_id)
        el(info, "Signer", sig.signer_naam + (f" (BIG {sig.big_nummer})" if sig.big_nummer else ""))
        process = el(svr, "SignatureValidationProcess")
        el(process, "SignatureValidationProcessID", _PROCESS_URI.get(sig.level, _PROCESS_URI["B-B"]))
        status = el(svr, "SignatureValidationStatus")
        el(status, "MainIndication", _MAIN_URI[sig.indication])
        if sig.sub_indication:
            el(status, "SubIndication", f"urn:etsi:019102:subindication:{sig.sub_indication}")
        if sig.message:
            data = el(status, "AssociatedValidationReportData")
            el(el(data, "AdditionalValidationReportData"), "ReportData").text = sig.message[:2000]
    vos = el(root, "SignatureValidationObjects")
    for vo_id, der in objects:
        vo = el(vos, "ValidationObject", id=vo_id)
        el(vo, "ObjectType", "urn:etsi:019102:validationObject:certificate")
        el(el(vo, "ValidationObjectRepresentation"), "base64", base64.b64encode(der).decode())
    validator = el(root, "SignatureValidator")
    el(el(validator, "DigitalId"), "X509SubjectName", "CN=sopipe", ns=DS_NS)
    # Which document was validated (not part of the ETSI elements above; kept as a comment for people).
    root.insert(0, ET.Comment(f" {document_name} sha256={document_sha256} PAdES-niveau(s): "
                              f"{', '.join(s.level for s in report.signatures) or 'geen handtekening'} "))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
