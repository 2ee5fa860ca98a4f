"""`sopipe archive verify` and `sopipe audit --verify`: a bundle checked offline, the audit chain checked whole.

`verify_bundle` checks every hash, every PDF signature (`pipeline.adapters.validation.verify_pdf`), the
manifest seal (`pipeline.adapters.cms`), the audit records, and that nothing was added or removed; it names each
failure. `check_anchor` then checks that the chain head sealed into the bundle is still in this root's trail.
"""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

from pipeline.adapters.audit import Audit
from pipeline.adapters.cms import certificate_pem, check_detached_seal, load_chain, load_trust_roots
from pipeline.adapters.store import Store
from pipeline.core import trail
from pipeline.core.trail import Actie, AuditRecord, Gebeurtenis, Uitkomst
from pipeline.errors import PipelineError
from pipeline.shell.archive_bundle import AUDIT, CHAIN, MANIFEST, SEAL, sha256

if TYPE_CHECKING:  # certificates are parsed in the adapter; here they are only passed on
    from asn1crypto.x509 import Certificate


@dataclass(frozen=True)
class Problem:
    bestand: str
    reden: str

    def __str__(self) -> str:
        return f"{self.bestand}: {self.reden}"


@dataclass
class BundleReport:
    kenmerk: str | None = None
    problems: list[Problem] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    """What held, one line each."""
    trust_from_bundle: bool = False
    """No --trust given: the root certificate came from the bundle itself (integrity, not authenticity)."""
    manifest: dict | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, bestand: str, reden: str) -> None:
        self.problems.append(Problem(bestand, reden))


def verify_bundle(path: Path, *, trust: Sequence[Path] = ()) -> BundleReport:
    """Check a bundle offline. `trust`: root certificate(s) of the arbodienst obtained independently; without
    them the root in the bundle's own chain is used, which proves integrity but not who made the bundle."""
    report = BundleReport()
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as e:
        report.fail(Path(path).name, f"geen leesbare zip-bundel ({e})")
        return report
    with zf, _quiet("pyhanko", "pyhanko_certvalidator"):
        names = [i.filename for i in zf.infolist()]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            report.fail(dup, "komt meer dan eens voor in de bundel")
        contents: dict[str, bytes] = {}
        for name in dict.fromkeys(names):
            try:
                contents[name] = zf.read(name)
            except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as e:  # CRC or inflate error
                report.fail(name, f"beschadigd in de zip ({e})")
        manifest_bytes, signature = contents.get(MANIFEST), contents.get(SEAL)
        if manifest_bytes is None:
            if MANIFEST not in names:
                report.fail(MANIFEST, "ontbreekt: de bundel kan niet worden gecontroleerd")
            return report
        try:
            manifest = json.loads(manifest_bytes)
            entries = {e["naam"]: e for e in manifest["bestanden"]}
            report.kenmerk = manifest.get("kenmerk")
            report.manifest = manifest
        except (ValueError, KeyError, TypeError) as e:
            report.fail(MANIFEST, f"geen geldig manifest ({e})")
            manifest, entries = {}, {}
        chain = load_chain(contents.get(CHAIN, b""))
        roots = _trust_roots(trust, chain, report)
        if signature is None:
            if SEAL not in names:
                report.fail(SEAL, "ontbreekt: het manifest is niet verzegeld")
        else:
            _verify_seal(manifest_bytes, signature, roots=roots, chain=chain, report=report)
        for name, entry in entries.items():
            data = contents.get(name)
            if data is None:
                if name not in names:
                    report.fail(name, "ontbreekt in de bundel (staat wel in het manifest)")
                continue
            actual = sha256(data)
            if actual != entry.get("sha256") or len(data) != entry.get("bytes"):
                report.fail(name, f"inhoud gewijzigd: SHA-256 {actual}, volgens het manifest {entry.get('sha256')}")
                continue
            report.checked.append(f"{name}: hash klopt")
        for name in names if entries else ():  # an unreadable manifest already failed: no list of extras
            if name not in entries and name not in (MANIFEST, SEAL) and not name.endswith("/"):
                report.fail(name, "staat niet in het manifest (toegevoegd na het verzegelen)")
        for name, entry in entries.items():
            if name.lower().endswith(".pdf") and name in contents:
                _verify_pdf(name, contents[name], entry, roots=roots, report=report)
        if AUDIT in contents:
            _verify_audit(contents[AUDIT], manifest, report)
    return report


def _trust_roots(trust: Sequence[Path], chain: list[Certificate], report: BundleReport) -> list[Certificate]:
    if trust:
        return load_trust_roots(trust)
    report.trust_from_bundle = True
    return [c for c in chain if c.self_signed]


def _verify_seal(manifest_bytes: bytes, signature: bytes, *, roots, chain, report: BundleReport) -> None:
    status = check_detached_seal(manifest_bytes, signature, roots=roots, chain=chain)
    signer = status.signer
    if status.unreadable:
        report.fail(SEAL, f"zegel onleesbaar of ongeldig ({status.unreadable})")
    elif not status.intact:
        report.fail(MANIFEST, f"past niet bij het zegel in {SEAL} (van {signer}): het manifest of het zegel is na "
                              "het verzegelen gewijzigd")
    elif not status.valid:
        report.fail(SEAL, f"zegel cryptografisch ongeldig (zegel van {signer})")
    elif not status.trusted:
        report.fail(SEAL, f"zegelcertificaat van {signer} is niet vertrouwd (geen keten naar het basiscertificaat)")
    else:
        report.checked.append(f"{MANIFEST}: zegel van {signer} klopt ({status.summary})")


def _verify_pdf(name: str, pdf: bytes, entry: dict, *, roots, report: BundleReport) -> None:
    """The same verdicts and reasons as `sopipe verify` (`verify_pdf`), document timestamps included."""
    from pipeline.adapters.validation import verify_pdf
    with tempfile.TemporaryDirectory() as tmp:
        anchors = []
        for i, root in enumerate(roots):
            p = Path(tmp) / f"root{i}.pem"
            p.write_bytes(certificate_pem(root))
            anchors.append(p)
        if not anchors:
            report.fail(name, "geen basiscertificaat om de handtekeningen tegen te controleren")
            return
        try:
            result = verify_pdf(pdf, trust_roots=anchors)
        except PipelineError as e:
            report.fail(name, f"handtekening niet te controleren: {e.message}")
            return
        except Exception as e:  # one unreadable document is a finding; the bundle's other files are still checked
            report.fail(name, f"handtekening niet te controleren: het document is niet te lezen ({type(e).__name__})")
            return
    reports = result.signatures
    # the manifest counts every signature field that is filled, document timestamps included (`pdf_signature_counts`)
    counted = len(reports) + len(result.document_timestamps)
    expected = entry.get("handtekeningen")
    if expected is not None and counted != expected:
        report.fail(name, f"{len(reports)} handtekening(en) en {len(result.document_timestamps)} "
                          f"archieftijdstempel(s), samen {counted}; volgens het manifest {expected}")
    stamps = entry.get("archieftijdstempels")
    if stamps is not None and len(result.document_timestamps) != stamps:
        report.fail(name, f"{len(result.document_timestamps)} archieftijdstempel(s), volgens het manifest {stamps}")
    for r in reports:
        if not r.ok:
            why = r.reason or "niet geldig"
            if r.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND" and not r.trusted:
                why = "ondertekenaar niet vertrouwd: " + why
            report.fail(name, f"handtekening '{r.field_name}' van {r.signer_naam}: {why} ({r.indication}"
                              f"{' / ' + r.sub_indication if r.sub_indication else ''})")
        else:
            report.checked.append(f"{name}: handtekening van {r.signer_naam} klopt")
    for t in result.document_timestamps:
        if not t.ok:
            report.fail(name, f"archieftijdstempel '{t.field_name}' van {t.tsa_naam}: {t.reason} ({t.indication}"
                              f"{' / ' + t.sub_indication if t.sub_indication else ''})")
        else:
            report.checked.append(f"{name}: archieftijdstempel van {t.tsa_naam} klopt")


def _verify_audit(data: bytes, manifest: dict, report: BundleReport) -> None:
    try:
        records = [AuditRecord.from_dict(r) for r in json.loads(data)["records"]]
    except (ValueError, KeyError, TypeError) as e:
        report.fail(AUDIT, f"geen geldig logboek ({e})")
        return
    for p in trail.verify_records(records):
        report.fail(AUDIT, p.message)
    kenmerk = manifest.get("kenmerk")
    if kenmerk and any(r.kenmerk != kenmerk for r in records):
        report.fail(AUDIT, f"bevat records van een andere zaak dan {kenmerk}")
    expected = (manifest.get("audit") or {}).get("records")
    if expected is not None and expected != len(records):
        report.fail(AUDIT, f"{len(records)} records, volgens het manifest {expected}")
    if not any(p.bestand == AUDIT for p in report.problems):
        report.checked.append(f"{AUDIT}: {len(records)} records, ieder klopt met zijn hash")


def check_anchor(report: BundleReport, audit: Audit) -> None:
    """The chain head sealed into the bundle must still be in this root's audit trail, unchanged."""
    head = ((report.manifest or {}).get("audit") or {}).get("keten_kop") or {}
    if not head.get("id"):
        return
    found = {r.id: r.hash for r in audit.records() if r.id == head["id"]}
    if found.get(head["id"]) != head.get("hash"):
        report.fail("audit-trail", f"record {head['id']} met hash {head.get('hash')} (kop van de keten bij de export) "
                                   "staat niet (meer) ongewijzigd in de audit-trail van deze root")
    else:
        report.checked.append(f"audit-trail: record {head['id']} (kop bij de export) staat ongewijzigd in de root")


@dataclass(frozen=True)
class TrailCheck:
    """The state of the whole audit chain (`sopipe audit --verify`, the FG's page)."""
    problems: tuple[trail.ChainProblem, ...]
    missing_triggers: tuple[str, ...]
    """Triggers that should refuse UPDATE and DELETE of audit records but are gone."""
    records: int
    head_id: int
    head_hash: str

    @property
    def ok(self) -> bool:
        return not (self.problems or self.missing_triggers)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "records": self.records, "kop": {"id": self.head_id, "hash": self.head_hash},
                "problemen": [p.__dict__ for p in self.problems],
                "ontbrekende_triggers": list(self.missing_triggers)}


def check_trail(store: Store, audit: Audit) -> TrailCheck:
    """Check the whole chain and the append-only triggers, and record that check (outcome mislukt when broken)."""
    problems = audit.verify()
    present = store.triggers_on("audit")
    missing = tuple(t for t in ("audit_no_update", "audit_no_delete") if t not in present)
    count, (head_id, head_hash) = audit.count(), audit.head()  # counted, not loaded: a million records
    result = TrailCheck(tuple(problems), missing, count, head_id, head_hash)
    audit.record(Gebeurtenis.VERIFICATIE, kenmerk=None, actie=Actie.EXECUTE,
                 uitkomst=Uitkomst.GESLAAGD if result.ok else Uitkomst.MISLUKT,
                 wat="audit-keten", aantal=count, problemen=len(problems) + len(missing))
    return result


@contextmanager
def _quiet(*loggers: str) -> Iterator[None]:
    """pyHanko logs a traceback for every signature it cannot validate; the report already says why."""
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in loggers]
    for logger, _ in saved:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)
