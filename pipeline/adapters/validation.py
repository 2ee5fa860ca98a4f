"""Check the signatures in a PDF with pyHanko's AdES validation (ETSI EN 319 102-1), strictly offline.

`verify_pdf` is the validation `sopipe verify`, the archive's reports and the check of returned documents use:
levels, proof of existence, the revocation data in the document; trust comes only from the given root certificates
(e.g. `pki/ca.pem`), nothing is fetched. (The tests' quick per-signature check and poppler's `pdfsig` as a second
opinion are in `tests/pdf_signatures.py`.)
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko_certvalidator import ValidationContext

from pipeline.adapters.keys import big_of, subject_attr
from pipeline.adapters.pdf_revisions import revisions_after, structure_problem
from pipeline.errors import SigningError


def load_trust_roots(paths: Sequence[Path]) -> list[asn1_x509.Certificate]:
    """The certificates in these PEM/DER files (raises SigningError when one cannot be read, or there are none)."""
    roots: list[asn1_x509.Certificate] = []
    for path in paths:
        try:
            roots.extend(load_certs_from_pemder_data(Path(path).read_bytes()))
        except (OSError, ValueError) as e:
            raise SigningError(f"Vertrouwd basiscertificaat kan niet worden gelezen: {path} ({e})") from e
    if not roots:
        raise SigningError("Geen vertrouwde basiscertificaten opgegeven")
    return roots


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
    """The BIG number in the signer's subject serialNumber (`keys.big_of`; None on a UZI-pas)."""
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
    reason: str | None = None
    """Why it is not passed, in Dutch, from the sub-indication (e.g. 'certificaat van de ondertekenaar
    ingetrokken'); None when passed."""
    subfilter: str = ""
    """The signature's /SubFilter: ETSI.CAdES.detached (PAdES) or adbe.pkcs7.detached (plain PKCS#7)."""
    timestamp_trusted: bool | None = None
    """The signature timestamp (B-T and up) chains to a trust root; None when there is no signature timestamp."""
    signer_time_from_attrs: bool = True
    """`signing_time` comes from the signed attributes (False: only the unsigned /M of the PDF says so)."""
    revocation_data: bool = False
    """The document carries revocation data (a DSS with CRLs, OCSP responses or VRI)."""
    revision: int | None = None
    """The revision (0: the first) whose end its byte range reaches; None when that cannot be told."""

    @property
    def ok(self) -> bool:
        return self.indication == MAIN_PASSED and self.docmdp_ok is not False and self.changed_after != "niet toegestaan"

    @property
    def format_label(self) -> str:
        """`PAdES B-LT`, or `PKCS#7 (adbe.pkcs7.detached)` for a signature that is not PAdES at all."""
        return f"PAdES {self.level}" if self.level.startswith("B-") else self.level


@dataclass(frozen=True)
class DocumentTimestampReport:
    field_name: str
    time: datetime | None
    tsa_naam: str
    tsa_cert_not_after: datetime | None
    intact: bool
    """The bytes the timestamp covers are unchanged (its message imprint matches)."""
    valid: bool = False
    """The TSA's signature over the token is correct."""
    trusted: bool = False
    """The TSA's certificate chains to a trust root and was valid at the timestamp's time."""
    indication: str = MAIN_INDETERMINATE
    sub_indication: str | None = None
    reason: str | None = None
    """Why it is not passed, in Dutch; None when passed."""
    token_digest: str = ""
    """SHA-256 (hex) of the timestamp token (/Contents), identifying it in reports."""
    tsa_cert_der: bytes = b""
    revision: int | None = None
    """The revision (0: the first) whose end its byte range reaches; None when that cannot be told."""

    @property
    def ok(self) -> bool:
        return self.indication == MAIN_PASSED


@dataclass(frozen=True)
class DocumentReport:
    signatures: tuple[AdesSignatureReport, ...]
    document_timestamps: tuple[DocumentTimestampReport, ...]
    validation_time: datetime
    simulated: bool = False
    """Validation at a future time, assuming the document timestamps are renewed in time (pyHanko's simulation)."""
    revisions: tuple = ()
    """What each revision after the first adds and changes (`pipeline.core.revisions.RevisionChanges`, index 1:
    the second revision); empty when there is one revision, no signature, or they cannot be read."""

    @property
    def ok(self) -> bool:
        """Signed or timestamped, and every signature and every document timestamp passes."""
        return bool(self.signatures or self.document_timestamps) and all(s.ok for s in self.signatures) \
            and all(t.ok for t in self.document_timestamps)

    @property
    def signed_fields(self) -> dict[str, tuple[str, int | None]]:
        """Per field name the kind of value (`/Sig`, `/DocTimeStamp`) and the revision it signs
        (`pipeline.adapters.pdf_revisions`)."""
        return {**{t.field_name: ("/DocTimeStamp", t.revision) for t in self.document_timestamps},
                **{s.field_name: ("/Sig", s.revision) for s in self.signatures}}

    @property
    def last_timestamp_expiry(self) -> datetime | None:
        """When the certificate of the newest document timestamp expires: renew before then."""
        stamps = [t for t in self.document_timestamps if t.tsa_cert_not_after is not None]
        return stamps[-1].tsa_cert_not_after if stamps else None


@dataclass(frozen=True)
class Validation:
    """One validation of a PDF's signatures, made once and passed on with the bytes it is of (a returned signed
    PDF: `pipeline.adapters.returned_pdf`; the archive's validation report reuses it)."""
    report: DocumentReport
    trust_roots: tuple[Path, ...]
    """The trust roots it was validated against."""
    sha256: str
    """SHA-256 of exactly the bytes validated."""


def verify_pdf(pdf: bytes, *, trust_roots: Sequence[Path], at: datetime | None = None,
               simulate_future: bool = False) -> DocumentReport:
    """Validate every signature in `pdf` offline with pyHanko's AdES validation.

    `at`: the validation time (default now). `simulate_future`: validate at `at` (in the future) as an archive
    would, assuming the document timestamps are renewed in time (pyHanko's
    `simulate_future_ades_lta_validation`): passes only for signatures whose proof survives their certificates.
    """
    return verify_and_read(pdf, trust_roots=trust_roots, at=at, simulate_future=simulate_future)[0]


def verify_and_read(pdf: bytes, *, trust_roots: Sequence[Path], at: datetime | None = None,
                    simulate_future: bool = False):
    """`verify_pdf`, and the pyHanko reader it read `pdf` with (for what else is read from the same parse:
    `pipeline.adapters.pdf_revisions.pdf_revisions`)."""
    import asyncio
    roots = load_trust_roots(trust_roots)
    now = datetime.now(UTC)
    at = at or now
    reader, regular, stamps, broken = _read_signatures(pdf)
    ts_reports = [_verify_timestamp(ts, roots) for ts in stamps]
    proofs = [(ts.signed_revision, r.time) for ts, r in zip(stamps, ts_reports) if r.ok and r.time is not None]
    reports = []
    for sig in regular:
        try:
            reports.append(asyncio.run(_verify_one(sig, reader, stamps, roots, at=at, now=now,
                                                   simulate_future=simulate_future, proofs=proofs)))
        except Exception as e:  # one unreadable signature is a verdict on it, not the end of the report
            reports.append(_structure_failure(sig.field_name, at, e))
    reports.extend(_structure_failure(name, at, e) for name, e in broken)
    report = DocumentReport(tuple(reports), tuple(ts_reports), validation_time=at, simulated=simulate_future)
    return _judge_changes_after(report, reader), reader


def _judge_changes_after(report: DocumentReport, reader) -> DocumentReport:
    """Each signature is followed only by more signatures, validation data and document timestamps, judged by
    comparing the revisions (`pipeline.core.revisions.judge_after`), not by pyHanko's classes of allowed changes
    (which let an unsigned field drawn over a page pass as "form filling")."""
    from pipeline.core.revisions import judge_after
    if not report.signatures or reader.xrefs.total_revisions < 2:
        return report
    try:
        changes = revisions_after(reader, 0, signed=report.signed_fields)
    except Exception:  # the revisions cannot be followed: the signatures' own checks say what they can
        return report
    stamps = frozenset(t.field_name for t in report.document_timestamps)
    judged = []
    report = dataclasses.replace(report, revisions=changes)
    for sig in report.signatures:
        verdict = judge_after(changes[sig.revision:], timestamps=stamps) if sig.revision is not None \
            and sig.indication != MAIN_FAILED else None
        if verdict is None or verdict.accepted:
            judged.append(sig)
            continue
        what = "; ".join(f.text for f in verdict.findings)
        judged.append(dataclasses.replace(
            sig, indication=MAIN_FAILED, sub_indication="SIG_CONSTRAINTS_FAILURE", changed_after="niet toegestaan",
            reason=f"{MODIFIED_REASON}: {what}", message=f"toegevoegd of gewijzigd na deze handtekening: {what}"))
    return dataclasses.replace(report, signatures=tuple(judged))


def _read_signatures(pdf: bytes):
    """(reader, regular signatures, document timestamps, [(field, error)] for signatures that cannot be parsed)."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign.fields import enumerate_sig_fields
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
    except Exception as e:
        raise SigningError(f"PDF kan niet worden gelezen om handtekeningen te controleren: {structure_problem(e)}"
                           ) from e
    if reader.encrypted:
        raise SigningError("Dit PDF-bestand is versleuteld (beveiligd met een wachtwoord of certificaat); de "
                           "handtekeningen kunnen zonder ontsleutelen niet worden gecontroleerd. Vraag de afzender "
                           "om een onversleuteld exemplaar.")
    signatures, broken = [], []
    try:
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except (PdfError, ValueError, KeyError, TypeError) as e:
        raise SigningError(f"PDF kan niet worden gelezen om handtekeningen te controleren: {structure_problem(e)}"
                           ) from e
    try:
        signatures = list(reader.embedded_signatures)  # pyHanko's own (cached) list, which its LTA process uses
        for sig in signatures:
            sig.signed_data.native  # noqa: B018 - parse the whole CMS structure now, not halfway the validation
    except Exception:  # one of them cannot be parsed: take them one by one and report the broken ones as such
        signatures = []
        for name, _sig_obj, field in fields:
            try:
                sig = EmbeddedPdfSignature(reader, field, name)
                sig.signed_data.native  # noqa: B018
                sig.signed_revision  # noqa: B018
            except Exception as e:
                broken.append((name, e))
                continue
            signatures.append(sig)
        signatures.sort(key=lambda s: s.signed_revision)
        reader._embedded_signatures = signatures  # what pyHanko's processes see: the readable signatures
    return (reader, [s for s in signatures if s.sig_object_type == "/Sig"],
            [s for s in signatures if s.sig_object_type == "/DocTimeStamp"], broken)


def _structure_failure(field_name: str, at: datetime, error: Exception) -> AdesSignatureReport:
    """The report for a signature whose /Contents or signature dictionary cannot be read at all."""
    return AdesSignatureReport(
        field_name=field_name, signer_naam="(onleesbaar)", big_nummer=None, organisatie=None, certification=False,
        level="onbekend", indication=MAIN_FAILED, sub_indication="FORMAT_FAILURE",
        message=f"{type(error).__name__}: {error}"[:500], signing_time=None, proven_time=None, validation_time=at,
        intact=False, valid=False, trusted=False, revocation_checked=False, changed_after=None, docmdp_ok=None,
        coverage="UNKNOWN", signer_cert_not_after=None, reason=REASONS["FORMAT_FAILURE"])


def _verify_timestamp(ts, roots) -> DocumentTimestampReport:
    """A document timestamp: integrity of what it covers, the TSA's signature, the TSA's chain at its own time."""
    from pyhanko.sign.validation import validate_pdf_timestamp
    try:
        tst_info = ts.signed_data["encap_content_info"]["content"].parsed
        gen_time = tst_info["gen_time"].native
    except Exception:
        gen_time = None
    try:
        cert = ts.signer_cert
        status = validate_pdf_timestamp(ts, validation_context=ValidationContext(
            trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail", moment=gen_time,
            other_certs=list(ts.other_embedded_certs)))
        intact, valid, trusted = bool(status.intact), bool(status.valid), bool(status.trusted)
        problem = status.trust_problem_indic.name if status.trust_problem_indic is not None else None
    except Exception:  # an unreadable token, or one without the TSA's certificate: a structure failure of it
        intact = valid = trusted = False
        problem = "FORMAT_FAILURE"
        cert = _embedded_signer_cert(ts)
    if not intact:
        indication, sub = MAIN_FAILED, "HASH_FAILURE" if problem != "FORMAT_FAILURE" else problem
    elif not valid:
        indication, sub = MAIN_FAILED, "SIG_CRYPTO_FAILURE"
    elif not trusted:
        indication, sub = MAIN_INDETERMINATE, problem or "NO_CERTIFICATE_CHAIN_FOUND"
    else:
        indication, sub = MAIN_PASSED, None
    return DocumentTimestampReport(
        field_name=ts.field_name, time=gen_time,
        tsa_naam=(subject_attr(cert, "common_name") or "") if cert is not None else "(onbekend)",
        tsa_cert_not_after=cert["tbs_certificate"]["validity"]["not_after"].native if cert is not None else None,
        intact=intact, valid=valid, trusted=trusted, indication=indication, sub_indication=sub,
        reason=None if sub is None else TIMESTAMP_REASONS.get(sub, REASONS.get(sub, sub)),
        token_digest=_contents_digest(ts), tsa_cert_der=cert.dump() if cert is not None else b"",
        revision=_revision(ts))


def _embedded_signer_cert(sig):
    """The signer's certificate when the CMS carries it, else None (pyHanko raises for a token without it)."""
    try:
        return sig.signer_cert
    except Exception:
        return None


def _contents_digest(sig) -> str:
    """SHA-256 (hex) of a signature's or timestamp's /Contents: the value that identifies it in reports."""
    import hashlib
    contents = sig.sig_object.get("/Contents")
    if contents is None:
        return ""
    return hashlib.sha256(bytes(contents.original_bytes) if hasattr(contents, "original_bytes")
                          else bytes(contents)).hexdigest()


# The real reason behind an ETSI sub-indication, in words a records officer can act on.
REASONS = {
    "HASH_FAILURE": "document gewijzigd na ondertekening (de vingerafdruk klopt niet)",
    "SIG_CRYPTO_FAILURE": "handtekening beschadigd (de cryptografische controle faalt)",
    "FORMAT_FAILURE": "structuurfout: de handtekening is niet leesbaar of niet volgens het formaat",
    "REVOKED": "certificaat van de ondertekenaar ingetrokken",
    "REVOKED_NO_POE": "certificaat van de ondertekenaar ingetrokken (geen bewijs dat er vóór de intrekking is "
                      "getekend)",
    "REVOKED_CA_NO_POE": "certificaat van een tussenliggende certificaatautoriteit ingetrokken",
    "EXPIRED": "certificaat van de ondertekenaar verlopen",
    "OUT_OF_BOUNDS_NO_POE": "certificaat van de ondertekenaar verlopen (of nog niet geldig) en geen bewijs "
                            "(tijdstempel) dat er binnen de geldigheid is getekend",
    "OUT_OF_BOUNDS_NOT_REVOKED": "certificaat van de ondertekenaar verlopen (niet ingetrokken), geen bewijs van "
                                 "ondertekening binnen de geldigheid",
    "NOT_YET_VALID": "certificaat van de ondertekenaar nog niet geldig op het moment van ondertekenen",
    "NO_CERTIFICATE_CHAIN_FOUND": "onbekende certificaatautoriteit (geen keten naar een vertrouwd "
                                  "basiscertificaat)",
    "NO_SIGNING_CERTIFICATE_FOUND": "certificaat van de ondertekenaar ontbreekt in de handtekening",
    "CHAIN_CONSTRAINTS_FAILURE": "certificaatketen voldoet niet aan de eisen (gebruik of beleid)",
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": "certificaatketen kan niet worden gecontroleerd",
    "CRYPTO_CONSTRAINTS_FAILURE": "te zwakke of niet toegestane cryptografie",
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": "te zwakke cryptografie en geen bewijs van ondertekening toen die nog "
                                         "sterk genoeg was",
    "REVOCATION_OUT_OF_BOUNDS_NO_POE": "intrekkingsgegevens niet actueel genoeg en geen bewijs van eerder bestaan",
    "TRY_LATER": "intrekkingsstatus (nog) niet vast te stellen: geen intrekkingsgegevens in het document",
    "TIMESTAMP_ORDER_FAILURE": "tijdstempels in onjuiste volgorde",
    "NO_POE": "geen bewijs van bestaan (tijdstempel) op het vereiste moment",
    "SIG_CONSTRAINTS_FAILURE": "niet toegestane wijziging na ondertekening",
    "POLICY_PROCESSING_ERROR": "validatiebeleid kan niet worden toegepast",
    "SIGNED_DATA_NOT_FOUND": "ondertekende gegevens niet gevonden",
    "GENERIC": "handtekening kan niet worden gecontroleerd",
}
TIMESTAMP_REASONS = {
    "HASH_FAILURE": "archieftijdstempel klopt niet met het document (gewijzigd na het tijdstempelen)",
    "SIG_CRYPTO_FAILURE": "archieftijdstempel beschadigd (handtekening van de tijdstempeldienst klopt niet)",
    "NO_CERTIFICATE_CHAIN_FOUND": "tijdstempeldienst niet vertrouwd (geen keten naar een vertrouwd "
                                  "basiscertificaat)",
    "FORMAT_FAILURE": "archieftijdstempel onleesbaar (structuurfout)",
}
COVERAGE_REASON = ("de handtekening dekt het document niet volledig (afwijkend bytebereik: delen van het bestand "
                   "vallen buiten de handtekening)")
DOCMDP_REASON = "wijziging na certificering die de certificeringshandtekening (DocMDP) niet toestaat"
MODIFIED_REASON = "niet toegestane wijziging na ondertekening (bijvoorbeeld een gewijzigde pagina)"
UNTRUSTED_TSA_REASON = ("tijdstempel van een niet-vertrouwde tijdstempeldienst (geen keten naar een vertrouwd "
                        "basiscertificaat); de ondertekenaar zelf is wel vertrouwd")


async def _verify_one(sig, reader, stamps, roots, *, at: datetime, now: datetime,
                      simulate_future: bool, proofs: Sequence[tuple[int, datetime]] = ()) -> AdesSignatureReport:
    """`proofs`: (revision, time) of each document timestamp that passed: a proof that the revisions up to it
    existed at that time."""
    from pyhanko.sign.ades.report import AdESStatus
    from pyhanko.sign.validation import ades
    from pyhanko.sign.validation.policy_decl import (PdfSignatureValidationSpec, RevinfoOnlineFetchingRule,
                                                     RevocationInfoGatheringSpec, SignatureValidationSpec)
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
    from pyhanko_certvalidator.policy_decl import (LEGACY_POLICY_MAP, REQUIRE_REVINFO, CertRevTrustPolicy)
    from pyhanko_certvalidator.registry import SimpleTrustManager

    level = _detect_level(sig, reader, stamps)
    subfilter = str(sig.sig_object.get("/SubFilter", "")).lstrip("/")
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
        if level == "B-LT" or _has_revinfo(reader):  # whatever revocation data the document carries is used
            sig_spec = dataclasses.replace(sig_spec, local_knowledge=_dss_knowledge(reader))
        kwargs = dict(signed_data=sig.signed_data, validation_spec=sig_spec, timing_info=timing,
                      raw_digest=sig.compute_digest())
        if level == "B-B":
            result = await ades.ades_basic_validation(**kwargs)
        else:
            result = await ades.ades_with_time_validation(**kwargs)
    poe = min((t for revision, t in proofs if revision > sig.signed_revision), default=None) \
        if level == "B-B" else None
    if poe is not None and result.ades_subindic.status is not AdESStatus.PASSED:
        # A signature without its own timestamp, made before a trusted document timestamp (a doctor who signed
        # without a TSA; the pipeline added the archive timestamp on acceptance): pyHanko's processes with time
        # want a signature timestamp, so validate at the proven moment, with the document's validation data.
        past = await ades.ades_basic_validation(
            signed_data=sig.signed_data, raw_digest=sig.compute_digest(),
            validation_spec=dataclasses.replace(spec.signature_validation_spec,
                                                local_knowledge=_dss_knowledge(reader)),
            timing_info=ValidationTimingInfo(validation_time=poe, best_signature_time=poe,
                                             point_in_time_validation=True))
        if past.ades_subindic.status is AdESStatus.PASSED:
            result = past
    status = result.api_status
    if sig.coverage is None or sig.diff_result is None:  # the LTA process computed it already; the others not
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
    sub_name = None if sub.status is AdESStatus.PASSED else sub.name
    revinfo = _has_revinfo(reader)
    reason = None if sub_name is None else REASONS.get(sub_name, sub_name)
    timestamp_trusted = await _signature_timestamp_trusted(sig, roots)
    if sub_name == "NO_CERTIFICATE_CHAIN_FOUND" and status is not None and status.trusted \
            and timestamp_trusted is False:
        reason = UNTRUSTED_TSA_REASON  # the chain that is missing is the TSA's, not the signer's
    # What pyHanko's AdES processes leave to the PDF layer: coverage and the changes after signing. Two different
    # failures, each named; an earlier TOTAL-FAILED (a broken hash, say) keeps its own reason.
    if indication != MAIN_FAILED:
        if coverage not in ("ENTIRE_FILE", "ENTIRE_REVISION", "UNKNOWN"):
            indication, sub_name, reason = MAIN_FAILED, "FORMAT_FAILURE", COVERAGE_REASON
        elif changed == "niet toegestaan":
            indication, sub_name = MAIN_FAILED, "SIG_CONSTRAINTS_FAILURE"
            # "DocMDP" only where a certification signature set that policy; otherwise it is a plain change
            reason = DOCMDP_REASON if docmdp_ok is False and _certified(reader) else MODIFIED_REASON
    best = getattr(result, "best_signature_time", None) or poe
    message = None if indication == MAIN_PASSED else (result.failure_msg or reason)
    proven = best if (best is not None and (level != "B-B" or poe is not None) and best < at) else None
    from pyhanko.sign.validation.generic_cms import extract_self_reported_ts
    claimed = extract_self_reported_ts(sig.signer_info)  # the signed signingTime attribute
    from_attrs = claimed is not None
    if claimed is None:
        claimed = sig.self_reported_timestamp  # falls back to the unsigned /M: "volgens de ondertekenaar" at most
    digest = _contents_digest(sig)
    return AdesSignatureReport(
        field_name=sig.field_name, signer_naam=subject_attr(cert, "common_name") or "",
        big_nummer=big_of(cert), organisatie=subject_attr(cert, "organization_name"),
        certification=sig.docmdp_level is not None,
        level="PKCS#7 (adbe.pkcs7.detached)" if subfilter == "adbe.pkcs7.detached" else level, indication=indication,
        sub_indication=sub_name, message=message,
        signing_time=claimed, proven_time=proven, validation_time=at,
        intact=bool(status and status.intact), valid=bool(status and status.valid),
        trusted=bool(status and status.trusted),
        revocation_checked=revinfo and (indication == MAIN_PASSED or (sub_name or "").startswith("REVOKED")),
        revocation_data=revinfo,
        changed_after=changed, docmdp_ok=docmdp_ok, coverage=coverage,
        signer_cert_not_after=cert["tbs_certificate"]["validity"]["not_after"].native,
        signer_cert_der=cert.dump(), signature_digest=digest, reason=reason, subfilter=subfilter,
        timestamp_trusted=timestamp_trusted, signer_time_from_attrs=from_attrs, revision=_revision(sig))


def _revision(sig) -> int | None:
    try:
        return sig.signed_revision
    except Exception:  # a byte range that ends in no revision
        return None


_CLOCK_SLACK = timedelta(minutes=5)


async def _signature_timestamp_trusted(sig, roots) -> bool | None:
    """Does the signature timestamp (B-T and up) chain to a trust root at its own time? None: there is none."""
    from pyhanko.sign.validation.generic_cms import (extract_tst_data_iter, message_imprint_checker,
                                                     validate_tst_signed_data)
    try:
        tokens = list(extract_tst_data_iter(sig.signer_info, signed=False))
    except Exception:
        return None
    if not tokens:
        return None
    try:
        gen_time = tokens[0]["encap_content_info"]["content"].parsed["gen_time"].native
        context = ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail",
                                    moment=gen_time)
        found = await validate_tst_signed_data(tokens[0], context, message_imprint_checker(sig.signer_info))
    except Exception:
        return False
    return bool(found.get("trusted")) and bool(found.get("intact", True))


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


def _certified(reader) -> bool:
    """The document carries a certification signature (a DocMDP policy in the catalog's /Perms)."""
    perms = reader.root.get("/Perms")
    return perms is not None and "/DocMDP" in perms.get_object()


def _has_revinfo(reader) -> bool:
    dss = reader.root.get("/DSS")
    dss = dss.get_object() if dss is not None else None
    return dss is not None and any(key in dss for key in ("/OCSPs", "/CRLs", "/VRI"))


def _detect_level(sig, reader, stamps) -> str:
    """The PAdES baseline level a signature carries (what is present, not whether it validates).

    A signature with SubFilter adbe.pkcs7.detached is no PAdES signature; `_verify_one` labels it as such."""
    if not has_signature_timestamp(sig):
        return "B-B"
    dss = reader.root.get("/DSS")
    dss = dss.get_object() if dss is not None else None
    has_revinfo = dss is not None and any(key in dss for key in ("/OCSPs", "/CRLs", "/VRI"))
    if not has_revinfo:
        return "B-T"
    if any(ts.signed_revision > sig.signed_revision for ts in stamps):
        return "B-LTA"
    return "B-LT"


def has_signature_timestamp(sig) -> bool:
    """The signature carries its own signature timestamp (an unsigned attribute of its CMS)."""
    unsigned = sig.signer_info["unsigned_attrs"]
    return unsigned.native is not None and any(attr["type"].native == "signature_time_stamp_token"
                                               for attr in unsigned)


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
    SignatureValidationStatus with MainIndication (total-passed | total-failed | indeterminate), SubIndication and,
    as AssociatedValidationReportData, the reason `sopipe verify` prints (Dutch, `urn:sopipe:reden`) and pyHanko's
    message (`urn:sopipe:melding`). The SignatureValidationObjects are the signer certificates and each document
    timestamp: a timestamp object (its token by digest, the proof of existence it gives when it passes) with its
    own ValidationReport (indication, sub-indication and reason of that timestamp) and its TSA certificate.
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

    def digest(parent, hex_digest: str):
        dav = el(parent, "DigestAlgAndValue")
        el(dav, "DigestMethod", ns=DS_NS, Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
        el(dav, "DigestValue", base64.b64encode(bytes.fromhex(hex_digest)).decode() if hex_digest else "", ns=DS_NS)

    def identifier(parent, ident_id: str, hex_digest: str, field_name: str):
        ident = el(parent, "SignatureIdentifier", id=ident_id)
        digest(ident, hex_digest)
        el(ident, "HashOnly", "false")
        el(ident, "DocHashOnly", "false")
        el(ident, "DAIdentifier", field_name)

    def verdict(parent, indication: str, sub: str | None, reason: str | None, message: str | None = None):
        status = el(parent, "SignatureValidationStatus")
        el(status, "MainIndication", _MAIN_URI[indication])
        if sub:
            el(status, "SubIndication", f"urn:etsi:019102:subindication:{sub}")
        if reason or message:
            extra = el(el(status, "AssociatedValidationReportData"), "AdditionalValidationReportData")
            for kind, text in (("urn:sopipe:reden", reason), ("urn:sopipe:melding", message)):
                if text:
                    data = el(extra, "ReportData")
                    el(data, "Type", kind)
                    el(data, "Value", text[:2000])

    root = ET.Element(f"{{{ETSI_NS}}}ValidationReport")
    objects = []
    for n, sig in enumerate(report.signatures, start=1):
        svr = el(root, "SignatureValidationReport")
        identifier(svr, f"sig-{n}", sig.signature_digest, sig.field_name)
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
        verdict(svr, sig.indication, sig.sub_indication, sig.reason,
                sig.message if sig.message != sig.reason else None)
    vos = el(root, "SignatureValidationObjects")
    stamps = []
    for n, ts in enumerate(report.document_timestamps, start=1):
        tsa_id = f"vo-tsa-{n}"
        if ts.tsa_cert_der:
            objects.append((tsa_id, ts.tsa_cert_der))
        stamps.append((n, ts, tsa_id if ts.tsa_cert_der else None))
    for vo_id, der in objects:
        vo = el(vos, "ValidationObject", id=vo_id)
        el(vo, "ObjectType", "urn:etsi:019102:validationObject:certificate")
        el(el(vo, "ValidationObjectRepresentation"), "base64", base64.b64encode(der).decode())
    for n, ts, tsa_id in stamps:  # each document timestamp with its own validation
        vo = el(vos, "ValidationObject", id=f"vo-ts-{n}")
        el(vo, "ObjectType", "urn:etsi:019102:validationObject:timestamp")
        digest(el(vo, "ValidationObjectRepresentation"), ts.token_digest)
        if ts.ok and ts.time is not None:  # a passed timestamp proves the document existed then
            poe = el(vo, "POE")
            el(poe, "POETime", iso(ts.time))
            el(poe, "TypeOfProof", "urn:etsi:019102:poetype:validation")
        tvr = el(vo, "ValidationReport")
        identifier(tvr, f"ts-{n}", ts.token_digest, ts.field_name)
        el(el(tvr, "ValidationTimeInfo"), "ValidationTime", iso(report.validation_time))
        if tsa_id:
            info = el(tvr, "SignerInformation", Pseudonym="false")
            el(info, "SignerCertificate", VOReference=tsa_id)
            el(info, "Signer", ts.tsa_naam or None)
        el(el(tvr, "SignatureValidationProcess"), "SignatureValidationProcessID", _PROCESS_URI["B-B"])
        verdict(tvr, ts.indication, ts.sub_indication, ts.reason)
    validator = el(root, "SignatureValidator")
    el(el(validator, "DigitalId"), "X509SubjectName", "CN=sopipe", ns=DS_NS)
    # Which document was validated (not part of the ETSI elements above; kept as a comment for people).
    root.insert(0, ET.Comment(f" {document_name} sha256={document_sha256} PAdES-niveau(s): "
                              f"{', '.join(s.level for s in report.signatures) or 'geen handtekening'}; documenttijdstempels: "
                              f"{len(report.document_timestamps)} "))
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
