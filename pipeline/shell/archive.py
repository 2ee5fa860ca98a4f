"""The records officer's side: sealed dossier bundles, their offline check, retention and destruction.

A bundle (`sopipe archive export`) is one zip that proves itself without the pipeline:

    manifest.json         what is in the bundle: SHA-256 and size of every other file, signature counts,
                          the case's retention date and the audit-chain head at export time
    manifest.json.p7s     the arbodienst's seal over manifest.json: detached CMS, CAdES signed attributes
    zegel-keten.pem       the seal certificate and its chain (the root is NOT a trust anchor: see verify)
    audit.json            the case's audit records, each with its chain hash
    LEESMIJ.txt           how to check the bundle by hand
    documenten/...        every file of outbox/archief/<kenmerk>/ (PDFs and any validation reports beside them)

`verify_bundle` checks every hash, every PDF signature (`pipeline.adapters.validation.verify_pdf`), the
manifest seal, the audit records, and that nothing was added or removed; it names each failure.

Retention (art. 7:454 BW): a dossier is kept 20 years from its last change (`planning.retention_end`; the last
change is the day its newest case event was accepted). `destroy_dossier` removes, irreversibly, what the
arbodienst keeps of a case: the archive copy, the quarantine copies, the case files in inbox/, inbox/processed and
inbox/failed with their reports (found by the journal and by content, also when the kenmerk could not be read
from a broken file), the staged documents in state/staging/, converter scratch left by a killed pipeline, and every
row of the case in the state database, and the case's folders in the parties' mailboxes on this server
(`outbox/<party>/[<code>/]<kenmerk>/`, removed relative to folder descriptors, never through a link): after the
retention the server keeps no copy of the case either. The parties' own copies elsewhere (downloaded, in the own
doctor's file) fall under their own retention. Only when `[mailboxes] emptied_by_recipients = true` documents that
the recipients empty these mailboxes themselves are they left alone (and listed). The audit trail is kept: it
holds no content, and it records the destruction itself (kenmerk, date, who, reason, hash of what was removed).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
import shutil
import stat
import sqlite3
import tempfile
import time
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from asn1crypto import cms, pem
from asn1crypto import x509 as asn1_x509

from pipeline.adapters.audit import Audit
from pipeline.adapters import safefs
from pipeline.adapters.signing import SigningIdentity
from pipeline.adapters.store import Store
from pipeline.adapters.converter import stale_scratch
from pipeline.core import trail
from pipeline.adapters.clock import SYSTEM_CLOCK, Clock, utc_iso
from pipeline.core.planning import retention_end
from pipeline.core.redaction import personal_data_in
from pipeline.core.routing import PER_RECIPIENT, Party
from pipeline.core.trail import Actie, AuditRecord, Gebeurtenis, Uitkomst
from pipeline.errors import ArchiveError, PipelineError, UnsafePathError
from pipeline.settings import ARCHIVE, Settings
from pipeline.shell.report import LETTER_SUFFIX

FORMAT = "sopipe-archiefbundel/v1"
MANIFEST = "manifest.json"
SEAL = "manifest.json.p7s"
CHAIN = "zegel-keten.pem"
AUDIT = "audit.json"
README = "LEESMIJ.txt"
DOCS = "documenten/"

LEESMIJ = """\
Verzegelde dossierbundel {kenmerk} (sopipe)
==========================================

manifest.json      lijst van alle bestanden in deze bundel met hun SHA-256; de bewaartermijn
manifest.json.p7s  het elektronisch zegel van de arbodienst over manifest.json (CMS/CAdES, losgekoppeld)
zegel-keten.pem    het zegelcertificaat en de keten erboven
audit.json         het logboek van de zaak (NEN 7513), ieder record met zijn keten-hash
documenten/        de archiefexemplaren (PDF/A, ondertekende stukken met hun PAdES-handtekening)

Controleren zonder sopipe:
  openssl cms -verify -binary -inform DER -in manifest.json.p7s -content manifest.json \\
      -CAfile <basiscertificaat van de arbodienst> -purpose any > /dev/null
  sha256sum documenten/*   (vergelijk met manifest.json)
Met sopipe:  sopipe archive verify <bundel>.zip --trust <basiscertificaat van de arbodienst>
Gebruik als vertrouwensanker een basiscertificaat dat u langs een andere weg hebt gekregen, niet het
certificaat uit deze bundel.
"""

log = logging.getLogger("sopipe")


# --- retention --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Retention:
    kenmerk: str
    laatste_wijziging: dt.date
    """The day the newest case event of the dossier was accepted."""
    bewaren_tot: dt.date
    """Last day the dossier must be kept (last change + 20 years)."""

    def due(self, today: dt.date) -> bool:
        """Past its retention date: may (and should) be destroyed."""
        return today > self.bewaren_tot


def retention(store: Store, kenmerk: str) -> Retention | None:
    events = store.events(kenmerk)
    if not events:
        return None
    last = max(dt.date.fromisoformat(e.accepted_at[:10]) for e in events)
    return Retention(kenmerk, last, retention_end(last))


def dossiers_due(store: Store, *, today: dt.date) -> list[Retention]:
    """Every dossier past its retention date, oldest retention date first (one query for all cases)."""
    found = []
    for kenmerk, last in store.last_changes():
        day = dt.date.fromisoformat(last)
        r = Retention(kenmerk, day, retention_end(day))
        if r.due(today):
            found.append(r)
    return sorted(found, key=lambda r: (r.bewaren_tot, r.kenmerk))


# --- export -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportResult:
    path: Path
    manifest_sha256: str
    files: int
    """Files in the bundle besides manifest.json and its seal."""
    seconds: float
    chain_intact: bool
    """`audit --verify` found nothing at export time (recorded in the manifest either way)."""


def export_dossier(settings: Settings, store: Store, audit: Audit, kenmerk: str, out: Path, *,
                   seal: SigningIdentity, pki_dir: Path | None = None, clock: Clock | None = None) -> ExportResult:
    """Write the sealed bundle of one dossier to `out` (mode 0600: it holds medical data). `clock`: when the
    bundle is made (default: the store's clock)."""
    clock = clock or getattr(store, "clock", SYSTEM_CLOCK)
    start = time.perf_counter()
    folder = settings.archive / kenmerk
    ret = retention(store, kenmerk)
    if ret is None:
        raise ArchiveError(f"Er is geen dossier {kenmerk} in {settings.root} (geen zaak of geen archiefmap "
                           f"{folder}).", kenmerk=kenmerk)
    members = {DOCS + rel: data for rel, data in _read_archive_folder(settings, kenmerk).items()}
    chain_ok = not audit.verify()
    records = audit.trail(kenmerk)
    head_id, head_hash = audit.head()
    members[AUDIT] = json.dumps({"kenmerk": kenmerk, "records": [r.as_dict() for r in records]},
                                indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")
    members[CHAIN] = _chain_pem(seal, pki_dir)
    members[README] = LEESMIJ.format(kenmerk=kenmerk).encode("utf-8")
    manifest = {
        "formaat": FORMAT,
        "kenmerk": kenmerk,
        "gemaakt_op": utc_iso(clock),
        "gemaakt_door": audit.user,
        "laatste_wijziging": ret.laatste_wijziging.isoformat(),
        "bewaren_tot": ret.bewaren_tot.isoformat(),
        "zegel": {"handtekening": SEAL, "keten": CHAIN, "ondertekenaar": seal.naam},
        "audit": {"bestand": AUDIT, "records": len(records), "keten_kop": {"id": head_id, "hash": head_hash},
                  "keten_intact_bij_export": chain_ok},
        "bestanden": [{"naam": name, "sha256": _sha256(data), "bytes": len(data),
                       **(_count_signatures(data) if name.lower().endswith(".pdf") else {})}
                      for name, data in sorted(members.items())],
    }
    manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")
    signature = _seal(manifest_bytes, seal)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(MANIFEST, manifest_bytes)
                zf.writestr(SEAL, signature)
                for name, data in sorted(members.items()):
                    zf.writestr(name, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    digest = _sha256(manifest_bytes)
    audit.record(Gebeurtenis.EXPORT, kenmerk=kenmerk, actie=Actie.READ,
                 uitkomst=Uitkomst.GESLAAGD, bundel=trail.scrub(out.name), manifest_sha256=digest,
                 aantal=len(members))
    return ExportResult(out, digest, len(members), time.perf_counter() - start, chain_ok)


def _read_archive_folder(settings: Settings, kenmerk: str) -> dict[str, bytes]:
    """The files of `outbox/archief/<kenmerk>/`, read by descriptors from the root down: a symlink at any level
    (outbox/, archief/, the case folder or anything in it) refuses the export before a byte is read through it."""
    parts = (*ARCHIVE, kenmerk)
    shown = "/".join(parts)
    try:
        with safefs.folder(settings.root, parts) as fd:
            return safefs.read_tree(fd, shown=shown)
    except FileNotFoundError:
        raise ArchiveError(f"Er is geen dossier {kenmerk} in {settings.root} (geen zaak of geen archiefmap "
                           f"{shown}).", kenmerk=kenmerk) from None
    except UnsafePathError as e:
        raise ArchiveError(f"De archiefmap van {kenmerk} wordt niet geëxporteerd: {e.message} Er is geen export "
                           "gemaakt en niets door de koppeling gelezen; exporteer opnieuw zodra dit is opgelost.",
                           kenmerk=kenmerk, rule=e.rule or "symlink") from None


def _seal(data: bytes, identity: SigningIdentity) -> bytes:
    async def sign() -> cms.ContentInfo:
        return await identity.signer.async_sign_general_data(data, "sha256", detached=True, use_cades=True)
    try:
        with identity.lock:
            return asyncio.run(sign()).dump()
    except Exception as e:
        raise ArchiveError(f"Het manifest kan niet worden verzegeld: {e}") from e


def _chain_pem(identity: SigningIdentity, pki_dir: Path | None) -> bytes:
    certs = [identity.certificate, *identity.signer.cert_registry]
    if pki_dir is not None and (pki_dir / "ca.pem").exists():
        from pyhanko.keys import load_certs_from_pemder_data
        certs += list(load_certs_from_pemder_data((pki_dir / "ca.pem").read_bytes()))
    seen, out = set(), []
    for c in certs:
        der = c.dump()
        if der not in seen:
            seen.add(der)
            out.append(pem.armor("CERTIFICATE", der))
    return b"".join(out)


def _count_signatures(pdf: bytes) -> dict[str, int]:
    """The manifest's counts of a PDF: `handtekeningen`, every filled signature field (document timestamps
    included, as bundles always counted them), and `archieftijdstempels`, the document timestamps among them."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    try:
        fields = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        return {"handtekeningen": len(fields),
                "archieftijdstempels": sum(1 for f in fields if f.sig_object_type == "/DocTimeStamp")}
    except Exception:
        return {"handtekeningen": 0}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- verify -----------------------------------------------------------------------------------------------------

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
        chain = _load_chain(contents.get(CHAIN, b""))
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
            actual = _sha256(data)
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


def _trust_roots(trust: Sequence[Path], chain: list[asn1_x509.Certificate],
                 report: BundleReport) -> list[asn1_x509.Certificate]:
    from pyhanko.keys import load_certs_from_pemder_data
    if trust:
        roots = []
        for p in trust:
            try:
                roots += list(load_certs_from_pemder_data(Path(p).read_bytes()))
            except (OSError, ValueError) as e:
                raise ArchiveError(f"Vertrouwd basiscertificaat kan niet worden gelezen: {p} ({e})") from e
        return roots
    report.trust_from_bundle = True
    return [c for c in chain if c.self_signed]


def _load_chain(data: bytes) -> list[asn1_x509.Certificate]:
    certs = []
    try:
        for _type, _headers, der in pem.unarmor(data, multiple=True):
            certs.append(asn1_x509.Certificate.load(der))
    except (ValueError, TypeError):
        pass
    return certs


def _validation_context(roots, chain):
    from pyhanko_certvalidator import ValidationContext
    return ValidationContext(trust_roots=roots, other_certs=chain, allow_fetching=False, revocation_mode="soft-fail")


def _verify_seal(manifest_bytes: bytes, signature: bytes, *, roots, chain, report: BundleReport) -> None:
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    try:
        signed_data = cms.ContentInfo.load(signature)["content"]
        status = asyncio.run(async_validate_detached_cms(
            manifest_bytes, signed_data, signer_validation_context=_validation_context(roots, chain)))
    except Exception as e:
        report.fail(SEAL, f"zegel onleesbaar of ongeldig ({type(e).__name__}: {e})")
        return
    signer = status.signing_cert.subject.native.get("common_name", "?")
    if not status.intact:
        report.fail(MANIFEST, f"past niet bij het zegel in {SEAL} (van {signer}): het manifest of het zegel is na "
                              "het verzegelen gewijzigd")
    elif not status.valid:
        report.fail(SEAL, f"zegel cryptografisch ongeldig (zegel van {signer})")
    elif not status.trusted:
        report.fail(SEAL, f"zegelcertificaat van {signer} is niet vertrouwd (geen keten naar het basiscertificaat)")
    else:
        report.checked.append(f"{MANIFEST}: zegel van {signer} klopt ({status.summary()})")


def _verify_pdf(name: str, pdf: bytes, entry: dict, *, roots, report: BundleReport) -> None:
    """The same verdicts and reasons as `sopipe verify` (`verify_pdf`), document timestamps included."""
    from pipeline.adapters.validation import verify_pdf
    with tempfile.TemporaryDirectory() as tmp:
        anchors = []
        for i, root in enumerate(roots):
            p = Path(tmp) / f"root{i}.pem"
            p.write_bytes(pem.armor("CERTIFICATE", root.dump()))
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
    # the manifest counts every signature field that is filled, document timestamps included (`_count_signatures`)
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
    with store.transaction() as tx:
        present = {r[0] for r in tx.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND "
                                            "tbl_name='audit'")}
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


# --- destroy ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DestroyPlan:
    kenmerk: str
    retention: Retention | None
    files: tuple[Path, ...]
    """Every file that will be removed."""
    kept: tuple[Path, ...]
    """Party mailbox folders of this kenmerk that stay (only with `[mailboxes] emptied_by_recipients = true`)."""
    manifest: dict
    """What is removed (paths relative to the root, SHA-256 each): only its hash goes into the audit trail."""
    folders: tuple[Path, ...] = ()
    """Folders removed as a whole after the files (archive, quarantine, staging)."""
    scratch: tuple[Path, ...] = ()
    """Converter scratch of killed pipelines (any case's Word and PDF files), removed as a whole as well."""
    mailboxes: tuple[tuple[str, ...], ...] = ()
    """The case's folders in the parties' own mailboxes, as parts below outbox/ (`outbox/<party>/[<code>/]<kenmerk>`),
    removed through folder descriptors (never through a link) unless the recipients empty them themselves."""
    mailbox_files: tuple[Path, ...] = ()
    """The files in those folders (shown before confirming; their hashes are in the manifest)."""

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(trail.canonical_json(self.manifest)).hexdigest()


def plan_destruction(settings: Settings, store: Store, kenmerk: str) -> DestroyPlan:
    """Everything of `kenmerk` the arbodienst holds, found before anything is removed.

    Case files (and their reports) are the case's when the journal links their SHA-256 to it, when their JSON
    names it, or, for a file whose kenmerk cannot be read (a returned PDF, broken JSON, a wrong type), when their
    name or bytes hold the kenmerk or their bytes the employee's BSN. Raises ArchiveError, before anything is removed, for a plain file or a link
    where a folder of the case belongs.
    """
    archive = settings.archive / kenmerk
    quarantine = settings.quarantine / kenmerk
    for path in (archive, quarantine):
        _refuse_non_folder(settings, path)
    files: list[Path] = []
    folders: list[Path] = []
    for folder in (archive, quarantine):
        if folder.is_dir():
            files += sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())
            folders.append(folder)
    events = store.events(kenmerk)
    known = {e.sha256 for e in events} | set(store.journal_shas(kenmerk))
    bsns = {str(w["bsn"]).encode("ascii", "ignore") for w in _werknemers(events) if w.get("bsn")}
    intake_stage = settings.stage  # a file taken in by a run that was killed before it finished
    taken = sorted(d for d in intake_stage.iterdir() if d.is_dir() and not d.is_symlink()) \
        if intake_stage.is_dir() and not intake_stage.is_symlink() else []
    for folder in (settings.inbox, settings.processed, settings.failed, *taken):
        if not folder.is_dir() or folder.is_symlink():
            continue
        for p in sorted(folder.iterdir()):
            if p.name.endswith(".error.txt") or p.is_symlink() or not p.is_file():
                continue
            digest = _file_sha256(p)
            if digest in known or _belongs_to(p, kenmerk, bsns):
                known.add(digest)
                files.append(p)
        for report in sorted(folder.glob("*.error.txt")):  # also a report whose case file is gone
            base = report.with_name(report.name.removesuffix(".error.txt"))
            if base in files or (not base.exists() and _named(base.name, kenmerk)) or _report_names(report, kenmerk):
                files.append(report)
        for letter in sorted(folder.glob(f"*{LETTER_SUFFIX}")):  # the letter to the requester beside a refused file
            base = letter.with_name(letter.name.removesuffix(LETTER_SUFFIX))
            if letter not in files and (base in files or (not base.exists() and _named(base.name, kenmerk))):
                files.append(letter)
    staging = settings.staging
    for sha in sorted(known):  # documents staged for a case file whose processing never finished (runner._staged)
        staged = staging / sha
        if staged.is_dir() and not staged.is_symlink():
            files += sorted(p for p in staged.rglob("*") if p.is_file())
            folders.append(staged)
        elif staged.is_file() or staged.is_symlink():
            files.append(staged)
    # a pipeline killed while converting leaves the case's Word and PDF files behind
    scratch = (*stale_scratch(settings.scratch), *stale_scratch())
    boxes, box_files = _mailbox_folders(settings, kenmerk)
    kept = tuple(settings.outbox.joinpath(*parts) for parts in boxes) if settings.mailboxes.emptied_by_recipients \
        else ()
    if kept:
        boxes, box_files = [], []
    manifest = {"kenmerk": kenmerk,
                "bestanden": [{"pad": _shown_path(p, settings.root), "sha256": _file_sha256(p)} for p in files],
                "gebeurtenissen": [e.sha256 for e in events], "journaal": sorted(known),
                "kladmappen": [_shown_path(p, settings.root) for p in scratch]}
    if box_files:
        manifest["postbussen"] = [{"pad": pad, "sha256": digest} for pad, digest in box_files]
    return DestroyPlan(kenmerk, retention(store, kenmerk), tuple(files), kept, manifest, tuple(folders), scratch,
                       tuple(boxes), tuple(settings.root / pad for pad, _ in box_files))


def _mailbox_folders(settings: Settings, kenmerk: str) -> tuple[list[tuple[str, ...]], list[tuple[str, str | None]]]:
    """The case's folders in the parties' mailboxes (the archive apart) and their files with SHA-256, found by
    folder descriptors without following a link. A link or a plain file where a party's mailbox or the case's
    folder belongs stops the plan (ArchiveError) before anything is removed; a recipient folder that is a link is
    not looked into (`sopipe doctor` reports it)."""
    outbox = settings.outbox.name
    found: list[tuple[str, ...]] = []
    files: list[tuple[str, str | None]] = []
    anchor = safefs.open_anchor(settings.outbox.parent)
    try:
        top = safefs.open_dir(anchor, [outbox])
    except FileNotFoundError:
        return found, files
    except UnsafePathError as e:
        raise _in_the_way(e) from None
    finally:
        os.close(anchor)
    try:
        for party in Party:
            if party is Party.ARCHIEF or safefs.entry(top, party.value) is None:
                continue
            try:
                party_fd = safefs.open_dir(top, [party.value], shown=outbox)
            except UnsafePathError as e:
                raise _in_the_way(e) from None
            try:
                codes = [()] if party not in PER_RECIPIENT else [
                    (name,) for name in sorted(os.listdir(party_fd))
                    if (st := safefs.entry(party_fd, name)) is not None and stat.S_ISDIR(st.st_mode)]
                for code in codes:
                    parts = (party.value, *code, kenmerk)
                    try:
                        case_fd = safefs.open_dir(party_fd, [*code, kenmerk], shown=f"{outbox}/{party.value}")
                    except FileNotFoundError:
                        continue
                    except UnsafePathError as e:
                        raise _in_the_way(e) from None
                    try:
                        files += _hashed_files(case_fd, "/".join((outbox, *parts)))
                    finally:
                        os.close(case_fd)
                    found.append(parts)
            finally:
                os.close(party_fd)
    finally:
        os.close(top)
    return found, files


def _hashed_files(fd: int, shown: str) -> list[tuple[str, str | None]]:
    """(path, SHA-256) of every file below the folder, by descriptors; a link is listed (None), never followed."""
    out: list[tuple[str, str | None]] = []
    for name in sorted(os.listdir(fd)):
        st = safefs.entry(fd, name)
        if st is None:
            continue
        if stat.S_ISDIR(st.st_mode):
            child = safefs.open_dir(fd, [name], shown=shown)
            try:
                out += _hashed_files(child, f"{shown}/{name}")
            finally:
                os.close(child)
        elif stat.S_ISREG(st.st_mode):
            out.append((f"{shown}/{name}", _sha256(safefs.read_at(fd, name, limit=1 << 62)[0])))
        else:
            out.append((f"{shown}/{name}", None))
    return out


def _in_the_way(e: UnsafePathError) -> ArchiveError:
    return ArchiveError(f"{e.message} Er is niets vernietigd. Dit hoort niet bij de mappen die sopipe maakt: zet "
                        "het opzij en voer de opdracht opnieuw uit.", rule="geen-map")


def _remove_mailboxes(settings: Settings, plan: DestroyPlan) -> None:
    """Remove the case's mailbox folders, each relative to its parent's descriptor (a link is unlinked, never
    followed; a folder that became a link on the way stops with ArchiveError)."""
    outbox = settings.outbox.name
    for parts in plan.mailboxes:
        try:
            with safefs.folder(settings.outbox.parent, (outbox, *parts[:-1])) as fd:
                safefs.remove_tree_at(fd, parts[-1])
                os.fsync(fd)
        except FileNotFoundError:
            continue  # removed by an earlier, interrupted run
        except UnsafePathError as e:
            raise ArchiveError(f"Vernietiging van {plan.kenmerk} is niet afgemaakt: {e.message} Voer dezelfde "
                               "opdracht opnieuw uit zodra dat is opgelost: die maakt de vernietiging af.",
                               kenmerk=plan.kenmerk) from None


def _refuse_non_folder(settings: Settings, path: Path) -> None:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        what = "een snelkoppeling (symlink)" if path.is_symlink() else "een gewoon bestand"
        raise ArchiveError(f"{_shown_path(path, settings.root)} is geen map maar {what}; er is niets vernietigd. "
                           "Dit hoort niet bij de mappen die sopipe maakt: zet het opzij en voer de opdracht "
                           "opnieuw uit.", rule="geen-map")


def _shown_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:  # converter scratch outside the root (the system temp directory)
        return path.as_posix()


def _werknemers(events) -> list[dict]:
    return [e.payload["werknemer"] for e in events if isinstance(e.payload.get("werknemer"), dict)]


def _belongs_to(path: Path, kenmerk: str, bsns: set[bytes]) -> bool:
    """A file of `kenmerk`: its JSON names it, or its kenmerk is unreadable (a PDF, broken JSON) and its name or its
    bytes hold the kenmerk or its bytes the employee's BSN (a file of another case that names its own kenmerk
    never matches)."""
    named = _case_file_kenmerk(path)
    if named is not None:
        return named == kenmerk
    if _named(path.name, kenmerk):
        return True
    try:
        with path.open("rb") as f:
            raw = f.read(2_000_000)
    except OSError:
        return False
    if re.search(rb"(?<![\w-])" + re.escape(kenmerk.encode("utf-8")) + rb"(?![\w-])", raw):
        return True
    return any(re.search(rb"(?<!\d)" + re.escape(b) + rb"(?!\d)", raw) for b in bsns if b)


def _named(name: str, kenmerk: str) -> bool:
    """The file's name holds the kenmerk as a whole word (`SO-2026-0042_machtiging-….pdf`, a refused signed
    form whose content names no case, or whose journal row lost it), never as part of a longer kenmerk."""
    return re.search(r"(?<![A-Za-z0-9-])" + re.escape(kenmerk) + r"(?![A-Za-z0-9-])", name) is not None


def _report_names(report: Path, kenmerk: str) -> bool:
    try:
        text = report.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return f"Zaak (kenmerk): {kenmerk}\n" in text


@dataclass(frozen=True)
class ApprovedDestruction:
    """A destruction that passed every check (`approve_destruction`); `carry_out_destruction` does it."""
    plan: DestroyPlan
    wat: str | None
    """`bewaartermijn-verstreken` or `vervroegd` (recorded)."""
    reden: str | None
    """The recorded reason, checked for personal data."""
    resumes: bool = False
    """An earlier run recorded `gestart` and stopped half-way: this one finishes what that run recorded."""
    manifest_sha256: str = ""
    """The hash of what is removed, as it will be recorded."""


def approve_destruction(settings: Settings, store: Store, audit: Audit, kenmerk: str, *, today: dt.date,
                        force: bool = False, reden: str | None = None) -> ApprovedDestruction:
    """Every check of a destruction, before anyone is asked to confirm it; nothing is removed here.

    In this order: no legal hold (`place_hold`); the reason free of personal data (a BSN, a name of the case, a
    birth date) and short; the dossier exists and was not destroyed already; before the retention date only with
    `force` and a `reden` (e.g. the employee's request under art. 7:455 BW). Each refusal is an ArchiveError with
    its rule, recorded in the audit trail (outcome geweigerd).
    """
    reden = (reden or "").strip() or None
    pending = _pending_destruction(audit, kenmerk)
    hold = legal_hold(audit, kenmerk)
    if hold is not None:
        _refused(audit, kenmerk, "juridische-blokkade")
        raise ArchiveError(f"Op het dossier {kenmerk} rust een juridische blokkade (geplaatst {hold.at[:10]}, reden: "
                           f"{hold.details.get('reden') or 'niet opgegeven'}). Zolang die er is, wordt niets "
                           f"vernietigd; hef haar op met `sopipe archive release {kenmerk} --reden \"...\"` als de "
                           "grond is vervallen.", kenmerk=kenmerk, rule="juridische-blokkade")
    if reden and pending is None:
        _check_reden(audit, store, kenmerk, reden)
    plan = plan_destruction(settings, store, kenmerk)
    if plan.retention is None and not plan.files:
        done = [r for r in audit.trail(kenmerk) if r.gebeurtenis == Gebeurtenis.VERNIETIGING
                and r.uitkomst == Uitkomst.GESLAAGD]
        if done:
            raise ArchiveError(f"Het dossier {kenmerk} is al vernietigd ({done[-1].at[:10]}).", kenmerk=kenmerk)
        if pending is None:
            raise ArchiveError(f"Er is geen dossier {kenmerk} in {settings.root}.", kenmerk=kenmerk)
    if pending is not None:  # an earlier run stopped half-way: finish what it recorded
        return ApprovedDestruction(plan, pending.details.get("wat"), pending.details.get("reden"), resumes=True,
                                   manifest_sha256=pending.details.get("manifest_sha256") or plan.manifest_sha256)
    if force and not reden:
        _refused(audit, kenmerk, "reden-ontbreekt")
        raise ArchiveError("--force vraagt een --reden, bijvoorbeeld \"verzoek werknemer tot vernietiging "
                           "(art. 7:455 BW)\"; die reden wordt vastgelegd.", kenmerk=kenmerk, rule="reden")
    if plan.retention is not None and not plan.retention.due(today):
        if not force:
            _refused(audit, kenmerk, "bewaartermijn")
            raise ArchiveError(
                f"De bewaartermijn van {kenmerk} loopt tot en met {plan.retention.bewaren_tot.isoformat()} "
                f"(laatste wijziging {plan.retention.laatste_wijziging.isoformat()} + 20 jaar, art. 7:454 BW). "
                "Eerder vernietigen kan alleen met --force --reden \"...\" (bijvoorbeeld een verzoek van de "
                "werknemer, art. 7:455 BW).", kenmerk=kenmerk, rule="bewaartermijn")
        return ApprovedDestruction(plan, "vervroegd", reden, manifest_sha256=plan.manifest_sha256)
    return ApprovedDestruction(plan, "bewaartermijn-verstreken", reden or "bewaartermijn verstreken (art. 7:454 BW)",
                               manifest_sha256=plan.manifest_sha256)


def carry_out_destruction(settings: Settings, store: Store, audit: Audit,
                          approved: ApprovedDestruction) -> DestroyPlan:
    """Remove what `approve_destruction` allowed, irreversibly. Two audit records frame it: `gestart` (before
    anything is removed) and `geslaagd`; a run stopped in between is finished by the same command."""
    plan, kenmerk = approved.plan, approved.plan.kenmerk
    if not approved.resumes:
        audit.record(Gebeurtenis.VERNIETIGING, kenmerk=kenmerk, actie=Actie.DELETE, uitkomst=Uitkomst.GESTART,
                     wat=approved.wat, reden=approved.reden, manifest_sha256=approved.manifest_sha256)
    try:
        for path in plan.files:
            path.unlink(missing_ok=True)
        for folder in (*plan.folders, *plan.scratch):
            if folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder)
        _remove_mailboxes(settings, plan)
    except OSError as e:
        raise ArchiveError(f"Vernietiging van {kenmerk} is niet afgemaakt: {e.strerror or e} ({e.filename}). "
                           "Los dat op en voer dezelfde opdracht opnieuw uit: die maakt de vernietiging af.",
                           kenmerk=kenmerk) from e
    _delete_state(store, kenmerk, journal=plan.manifest["journaal"])
    audit.record(Gebeurtenis.VERNIETIGING, kenmerk=kenmerk, actie=Actie.DELETE, uitkomst=Uitkomst.GESLAAGD,
                 wat=approved.wat, reden=approved.reden, manifest_sha256=approved.manifest_sha256)
    return plan


def destroy_dossier(settings: Settings, store: Store, audit: Audit, kenmerk: str, *, today: dt.date,
                    force: bool = False, reden: str | None = None) -> DestroyPlan:
    """Irreversibly remove the arbodienst's dossier of `kenmerk` (see the module docstring for what goes): every
    check first (`approve_destruction`), then the removal (`carry_out_destruction`)."""
    approved = approve_destruction(settings, store, audit, kenmerk, today=today, force=force, reden=reden)
    return carry_out_destruction(settings, store, audit, approved)


# --- legal hold -------------------------------------------------------------------------------------------------

def legal_hold(audit: Audit, kenmerk: str) -> AuditRecord | None:
    """The record that placed the legal hold on `kenmerk` when one is in place now, else None. A hold lives in the
    audit trail (placed and lifted, each with who and why), which outlives the dossier."""
    last = None
    for r in audit.trail(kenmerk):
        if r.gebeurtenis == Gebeurtenis.BLOKKADE and r.uitkomst == Uitkomst.GESLAAGD:
            last = r
    return last if last is not None and last.details.get("wat") == "geplaatst" else None


def held_dossiers(audit: Audit) -> set[str]:
    """Every kenmerk under a legal hold now (for a list of many dossiers: one query, not one per dossier)."""
    state: dict[str, bool] = {}
    for r in audit.of_kind(Gebeurtenis.BLOKKADE):
        if r.uitkomst == Uitkomst.GESLAAGD and r.kenmerk:
            state[r.kenmerk] = r.details.get("wat") == "geplaatst"
    return {k for k, held in state.items() if held}


def place_hold(store: Store, audit: Audit, kenmerk: str, *, reden: str) -> AuditRecord:
    """Put a legal hold on a dossier (a dispute, a complaint, a request of the court): no destruction until it is
    lifted. The reason is recorded for good, so it must be free of personal data."""
    return _hold(store, audit, kenmerk, reden=reden, wat="geplaatst")


def lift_hold(store: Store, audit: Audit, kenmerk: str, *, reden: str) -> AuditRecord:
    """Lift the legal hold of a dossier (the reason it was placed has lapsed)."""
    return _hold(store, audit, kenmerk, reden=reden, wat="opgeheven")


def _hold(store: Store, audit: Audit, kenmerk: str, *, reden: str, wat: str) -> AuditRecord:
    reden = (reden or "").strip()
    regel = "blokkade"
    if not reden:
        _refused(audit, kenmerk, "reden-ontbreekt", gebeurtenis=Gebeurtenis.BLOKKADE)
        raise ArchiveError("Geef een reden op (--reden), bijvoorbeeld \"klacht in behandeling\"; die wordt "
                           "vastgelegd.", kenmerk=kenmerk, field="reden", rule="reden")
    if not store.events(kenmerk):
        raise ArchiveError(f"Er is geen dossier {kenmerk}.", kenmerk=kenmerk, rule=regel)
    placed = legal_hold(audit, kenmerk) is not None
    if placed == (wat == "geplaatst"):
        raise ArchiveError(f"Op het dossier {kenmerk} rust {'al' if placed else 'geen'} juridische blokkade.",
                           kenmerk=kenmerk, rule=regel)
    _check_reden(audit, store, kenmerk, reden, gebeurtenis=Gebeurtenis.BLOKKADE)
    return audit.record(Gebeurtenis.BLOKKADE, kenmerk=kenmerk, actie=Actie.UPDATE, uitkomst=Uitkomst.GESLAAGD,
                        wat=wat, reden=reden)


def _check_reden(audit: Audit, store: Store, kenmerk: str, reden: str, *,
                 gebeurtenis: Gebeurtenis = Gebeurtenis.VERNIETIGING) -> None:
    """The reason is kept in the audit trail for good: refuse personal data in it (a BSN, a name, a birth date)."""
    werknemers = _werknemers(store.events(kenmerk))
    names = [n for w in werknemers for n in (w.get("naam"), f"{w.get('voorletters', '')} {w.get('naam', '')}")
             if isinstance(n, str) and n.strip()]
    dates = []
    for w in werknemers:
        try:
            dates.append(dt.date.fromisoformat(str(w.get("geboortedatum"))))
        except ValueError:
            pass
    niets = "Er is niets vernietigd." if gebeurtenis is Gebeurtenis.VERNIETIGING else "Er is niets vastgelegd."
    if len(reden) > trail.MAX_DETAIL_TEXT:
        _refused(audit, kenmerk, "reden-te-lang", gebeurtenis=gebeurtenis)
        raise ArchiveError(f"De reden is te lang ({len(reden)} tekens, hooguit {trail.MAX_DETAIL_TEXT}): noem alleen "
                           f"de grond, bijvoorbeeld \"verzoek werknemer tot vernietiging (art. 7:455 BW)\". {niets}",
                           kenmerk=kenmerk, field="reden", rule="reden-te-lang")
    found = personal_data_in(reden, names=names, dates=dates)
    if found:
        _refused(audit, kenmerk, "reden-persoonsgegevens", gebeurtenis=gebeurtenis)
        raise ArchiveError(f"De reden bevat persoonsgegevens ({', '.join(found)}). De reden wordt blijvend in het "
                           "logboek bewaard en mag de werknemer niet aanwijzen: noem alleen de grond, bijvoorbeeld "
                           f"\"verzoek werknemer tot vernietiging (art. 7:455 BW)\". {niets}",
                           kenmerk=kenmerk, field="reden", rule="reden-persoonsgegevens")


def _refused(audit: Audit, kenmerk: str, regel: str, *, gebeurtenis: Gebeurtenis = Gebeurtenis.VERNIETIGING) -> None:
    audit.record(gebeurtenis, kenmerk=kenmerk, actie=Actie.DELETE if gebeurtenis is Gebeurtenis.VERNIETIGING
                 else Actie.UPDATE, uitkomst=Uitkomst.GEWEIGERD, regel=regel)


def _pending_destruction(audit: Audit, kenmerk: str) -> AuditRecord | None:
    last = None
    for r in audit.trail(kenmerk):
        if r.gebeurtenis == Gebeurtenis.VERNIETIGING:
            last = r
    return last if last is not None and last.uitkomst == Uitkomst.GESTART else None


def _delete_state(store: Store, kenmerk: str, *, journal: Sequence[str] = ()) -> None:
    """Every row of the case in every table with a `kenmerk` column except the audit trail, and the journal rows
    of `journal` (files of the case whose kenmerk was unreadable); deleted pages are overwritten (secure_delete)
    and the WAL is emptied so the content does not linger in the file."""
    with store.transaction() as tx:
        tx.execute("PRAGMA secure_delete=ON")
        tx.executemany("DELETE FROM journal WHERE sha256=?", [(sha,) for sha in journal])
        for (table,) in tx.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
            if table == "audit" or table.startswith("sqlite_"):
                continue
            if "kenmerk" in {r[1] for r in tx.execute(f'PRAGMA table_info("{table}")')}:
                tx.execute(f'DELETE FROM "{table}" WHERE kenmerk=?', (kenmerk,))
        conn = tx
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as e:  # another process holds the database: the pages are zeroed at its checkpoint
        log.warning("WAL checkpoint after destruction of %s postponed: %s", kenmerk, e)


def _case_file_kenmerk(path: Path) -> str | None:
    try:
        if path.stat().st_size > 2_000_000:
            return None
        value = json.loads(path.read_bytes()).get("kenmerk")
    except Exception:
        return None
    return value if isinstance(value, str) else None


def _file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
