"""The operations behind the desk's role pages: doctors, records officer, FG and IT, as plain functions.

Each takes the root's wiring (`RoleRoot`, opened once by the caller: the gateway, or a CLI command) and the `Actor`
asking, checks the actor's scope (`pipeline.core.role_scope`), writes the NEN 7513 record naming that person
(`Audit.acting`) and only then returns data: no record, no data. What is returned is plain data (frozen dataclasses
with `as_dict()`, or dicts) that any transport can carry; the socket protocol is the gateway's business.

A refusal (a role without the task, another doctor's document, an unknown case) is one `BuitenBereik` error, the
same for "not yours" and "not there" (a guessed kenmerk learns nothing), and it is recorded (outcome geweigerd).

  doctors     te_ondertekenen, download_te_ondertekenen, lever_ondertekend_in, inlevering_uitslag, postbus,
              download_postbus (and signing on the card without the document leaving the server:
              `pipeline.shell.remote_signing.bereid_voor` / `voltooi`)
  archivaris  te_vernietigen, exporteer, controleer_bundel, vernietig, blokkeer
  fg          toegang_per_zaak, toegang_per_werknemer, avg_inzage_export, keten_status
  beheer      systeemcontrole
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Iterator

from pipeline.adapters import safefs
from pipeline.adapters.audit import Audit
from pipeline.adapters.clock import SYSTEM_CLOCK, Clock
from pipeline.adapters.store import Store
from pipeline.core import trail
from pipeline.core.actor import Actor, persoon
from pipeline.core.role_scope import Taak, doctor_folder, in_own_folder, may, waits_for
from pipeline.core.kinds import ROWS
from pipeline.core.routing import file_name
from pipeline.core.trail import Actie, Gebeurtenis, Uitkomst
from pipeline.errors import BuitenBereik, OngeldigeInvoer, PipelineError  # noqa: F401  (role_ops imports them from here)
from pipeline.settings import Settings, load_settings

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""A signed PDF or a bundle sent in through the desk (the pipeline's own limit for returned PDFs)."""
NOT_FOUND = "Niet gevonden, of niet voor u bestemd."


@dataclass(frozen=True)
class RoleRoot:
    """What the role operations need of one root, opened once by the caller."""
    settings: Settings
    store: Store
    audit: Audit
    """The trail as the pipeline's account; each operation records through `audit.acting(actor)`."""
    clock: Clock = SYSTEM_CLOCK

    @cached_property
    def outbox_name(self) -> str:
        """The first part of the stored delivery paths (`outbox/...`)."""
        return self.settings.outbox.relative_to(self.settings.root).as_posix() \
            if self.settings.outbox.is_relative_to(self.settings.root) else self.settings.outbox.name


@contextmanager
def open_role_root(root: Path, *, clock: Clock | None = None) -> Iterator[RoleRoot]:
    """The wiring of an initialised root (the store closed on the way out)."""
    settings = load_settings(root)
    if not settings.database.exists():
        raise PipelineError(f"Er is geen statusdatabase in {settings.root}; voer eerst `sopipe init` uit.")
    clock = clock or SYSTEM_CLOCK
    store = Store(settings.database, clock=clock)
    try:
        yield RoleRoot(settings, store, Audit(store, clock=clock), clock)
    finally:
        store.close()


@dataclass(frozen=True)
class Download:
    """A file handed out: its bytes go to the person only after the access was recorded."""
    naam: str
    data: bytes
    sha256: str
    media_type: str = "application/pdf"

    def as_dict(self) -> dict[str, Any]:
        """Without the bytes (for a listing or a log)."""
        return {"naam": self.naam, "sha256": self.sha256, "media_type": self.media_type, "grootte": len(self.data)}


def _as(r: RoleRoot, actor: Actor) -> Audit:
    return r.audit.acting(actor)


def _refuse(r: RoleRoot, actor: Actor, *, kenmerk: str | None, wat: str, regel: str = "buiten-bereik",
            gebeurtenis: Gebeurtenis = Gebeurtenis.INZAGE) -> BuitenBereik:
    """Record the refusal (the trail also shows who tried what) and return the one error for it."""
    _as(r, actor).record(gebeurtenis, kenmerk=kenmerk, actie=Actie.READ, uitkomst=Uitkomst.GEWEIGERD, wat=wat,
                         regel=regel)
    return BuitenBereik(NOT_FOUND, kenmerk=kenmerk, rule=regel)


def _require(r: RoleRoot, actor: Actor, taak: Taak, *, kenmerk: str | None = None, wat: str) -> Audit:
    if not may(actor, taak):
        raise _refuse(r, actor, kenmerk=kenmerk, wat=wat, regel="rol")
    return _as(r, actor)


def _read(r: RoleRoot, rel: str, *, sha256: str | None) -> bytes:
    """A file below the root by its stored relative path, never through a link; its hash must match the store's."""
    *dirs, name = safefs.parts_of(rel)
    try:
        with safefs.folder(r.settings.root, dirs) as fd:
            data, _ = safefs.read_at(fd, name, limit=MAX_UPLOAD_BYTES)
    except OSError as e:  # gone, or a link or another kind of file planted in its place: never followed
        raise PipelineError(f"Het bestand {name} kan niet worden gelezen ({e.strerror or e}); meld dit aan beheer.",
                            rule="bestand") from e
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise PipelineError(f"Het bestand {name} is niet meer het bestand dat de pijplijn heeft gemaakt (andere "
                            "SHA-256); meld dit aan beheer.", rule="hash")
    return data


def _titel(kind: str) -> str:
    row = ROWS.get(kind)
    return row.titel if row else kind


# --- doctors: te ondertekenen ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Wachtend:
    """A document waiting for this doctor's personal signature."""
    kenmerk: str
    document: str
    """The document kind (`advies`, `aanvraagformulier`)."""
    titel: str
    bestand: str
    """The name to save it under; the signed file goes back under the same name."""
    sha256: str
    """Of the unsigned PDF: the signed return must start with exactly these bytes."""
    sinds: str
    """When it was put ready (UTC ISO 8601)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def te_ondertekenen(r: RoleRoot, actor: Actor) -> list[Wachtend]:
    """The documents waiting for this doctor's signature, oldest first (one listing record, no case opened)."""
    audit = _require(r, actor, Taak.ONDERTEKENEN, wat="te-ondertekenen")
    mine = [p for p in r.store.open_pending()
            if waits_for(actor, path=p.path, signer_big=p.signer_big, outbox=r.outbox_name)]
    audit.listed(wat="te-ondertekenen", aantal=len(mine))
    return [Wachtend(p.kenmerk, p.kind, _titel(p.kind), file_name(p.kenmerk, p.kind), p.sha256, p.created_at)
            for p in mine]


def _own_pending(r: RoleRoot, actor: Actor, kenmerk: str, kind: str, *, wat: str):
    _require(r, actor, Taak.ONDERTEKENEN, kenmerk=kenmerk, wat=wat)
    pending = r.store.pending(kenmerk, kind) if kind in ROWS else None
    if pending is None or pending.done_at is not None or not waits_for(
            actor, path=pending.path, signer_big=pending.signer_big, outbox=r.outbox_name):
        raise _refuse(r, actor, kenmerk=kenmerk, wat=wat)
    return pending


def download_te_ondertekenen(r: RoleRoot, actor: Actor, kenmerk: str, kind: str) -> Download:
    """The unsigned PDF waiting for this doctor, recorded as his download before it is handed out."""
    pending = _own_pending(r, actor, kenmerk, kind, wat="te-ondertekenen")
    data = _read(r, pending.path, sha256=pending.sha256)
    _as(r, actor).record(Gebeurtenis.INZAGE, kenmerk=kenmerk, actie=Actie.READ, uitkomst=Uitkomst.GESLAAGD,
                         wat="te-ondertekenen", document=kind, sha256=pending.sha256)
    return Download(file_name(kenmerk, kind), data, pending.sha256)


@dataclass(frozen=True)
class Inlevering:
    """A signed document handed in: where it went and how to follow it."""
    kenmerk: str
    document: str
    bestand: str
    """Its name in inbox/."""
    sha256: str
    """Follow it with `inlevering_uitslag` (the pipeline's journal knows files by their SHA-256)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def lever_ondertekend_in(r: RoleRoot, actor: Actor, kenmerk: str, kind: str, data: bytes) -> Inlevering:
    """Hand in the signed document: written atomically into inbox/ under the name the pipeline expects
    (`<kenmerk>_<kind>-ondertekend.pdf`, numbered when taken), where the pipeline checks it like any return (the
    signer's certificate, the unchanged pages, the bytes it sent). Nothing else changes a document here."""
    _own_pending(r, actor, kenmerk, kind, wat="inlevering")
    if not data or len(data) > MAX_UPLOAD_BYTES:
        raise OngeldigeInvoer(f"Het bestand is leeg of te groot ({len(data)} bytes; de grens is {MAX_UPLOAD_BYTES}).",
                              kenmerk=kenmerk, rule="grootte")
    if not data.startswith(b"%PDF-"):
        raise OngeldigeInvoer("Dit is geen PDF-bestand. Lever het ondertekende PDF-document in dat u hebt "
                              "gedownload en ondertekend.", kenmerk=kenmerk, rule="geen-pdf")
    digest = hashlib.sha256(data).hexdigest()
    # recorded before it is written: the pipeline's own records of this file name its account, this one the person
    _as(r, actor).record(Gebeurtenis.INTAKE, kenmerk=kenmerk, actie=Actie.CREATE, uitkomst=Uitkomst.GESTART,
                         wat="ondertekend-ingeleverd", document=kind, bestand_sha256=digest)
    with safefs.folder(r.settings.root, _below_root(r.settings, r.settings.inbox)) as fd:
        name = safefs.free_name(fd, f"{kenmerk}_{kind}-ondertekend.pdf")
        safefs.write_at(fd, name, data)
    return Inlevering(kenmerk, kind, name, digest)


def _below_root(settings: Settings, path: Path) -> tuple[str, ...]:
    return path.relative_to(settings.root).parts


@dataclass(frozen=True)
class Uitslag:
    """What the pipeline made of a handed-in document."""
    status: str
    """`wacht` (in inbox/, not yet taken), `in-behandeling`, `aangenomen`, `geweigerd`, `opnieuw` (the pipeline
    could not finish, e.g. a service was down; it tries again by itself)."""
    reden: str | None
    """Why it was refused (or will be retried), in Dutch as the pipeline's report says it."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


STATUS = {None: "wacht", "processing": "in-behandeling", "done": "aangenomen", "failed": "geweigerd"}


def inlevering_uitslag(r: RoleRoot, actor: Actor, kenmerk: str, sha256: str) -> Uitslag:
    """The pipeline's verdict on a document this doctor handed in, followed by its SHA-256 in the journal.

    Only the person who handed it in may ask (his own upload record in the trail). Asking is not recorded: it
    returns nothing of the dossier, and the page asks every few seconds."""
    if not may(actor, Taak.ONDERTEKENEN):
        raise _refuse(r, actor, kenmerk=kenmerk, wat="inlevering", regel="rol")
    me = (actor.gebruikersnaam, actor.kanaal)
    mine = any(rec.gebeurtenis == Gebeurtenis.INTAKE and rec.uitkomst == Uitkomst.GESTART
               and rec.details.get("bestand_sha256") == sha256
               and ((who := persoon(rec.gebruiker)).gebruikersnaam, who.kanaal) == me
               for rec in r.audit.trail(kenmerk))
    if not mine:
        raise _refuse(r, actor, kenmerk=kenmerk, wat="inlevering")
    status, detail = r.store.journal_outcome(sha256)
    if status == "failed" and detail and detail.startswith("retry: "):
        return Uitslag("opnieuw", detail.removeprefix("retry: "))
    return Uitslag(STATUS[status], detail if status == "failed" else None)


# --- doctors: own mailbox ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PostbusDocument:
    document: str
    titel: str
    bestand: str
    sha256: str | None
    bezorgd: str
    """When it was delivered (UTC ISO 8601)."""


@dataclass(frozen=True)
class PostbusZaak:
    kenmerk: str
    documenten: tuple[PostbusDocument, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"kenmerk": self.kenmerk, "documenten": [asdict(d) for d in self.documenten]}


def postbus(r: RoleRoot, actor: Actor) -> list[PostbusZaak]:
    """The documents delivered to this doctor, per case (one listing record; each download is recorded itself)."""
    audit = _require(r, actor, Taak.POSTBUS, wat="postbus")
    folder = doctor_folder(actor, r.outbox_name)
    cases: dict[str, list[PostbusDocument]] = {}
    for d in r.store.deliveries_under(f"{folder}/"):
        if in_own_folder(actor, d.path, r.outbox_name):
            cases.setdefault(d.kenmerk, []).append(
                PostbusDocument(d.kind, _titel(d.kind), d.path.rsplit("/", 1)[-1], d.sha256, d.at))
    audit.listed(wat="postbus", aantal=sum(len(v) for v in cases.values()))
    return [PostbusZaak(k, tuple(v)) for k, v in cases.items()]


def download_postbus(r: RoleRoot, actor: Actor, kenmerk: str, bestand: str) -> Download:
    """One document from this doctor's own mailbox, recorded as his download before it is handed out."""
    _require(r, actor, Taak.POSTBUS, kenmerk=kenmerk, wat="document")
    folder = doctor_folder(actor, r.outbox_name)
    found = [d for d in r.store.deliveries_under(f"{folder}/{kenmerk}/")
             if d.kenmerk == kenmerk and d.path.rsplit("/", 1)[-1] == bestand
             and in_own_folder(actor, d.path, r.outbox_name)]
    if not found:
        raise _refuse(r, actor, kenmerk=kenmerk, wat="document")
    d = found[-1]
    data = _read(r, d.path, sha256=d.sha256)
    _as(r, actor).record(Gebeurtenis.INZAGE, kenmerk=kenmerk, actie=Actie.READ, uitkomst=Uitkomst.GESLAAGD,
                         wat="document", document=d.kind, partij=d.party, sha256=d.sha256)
    return Download(bestand, data, d.sha256 or hashlib.sha256(data).hexdigest())


# --- records officer ---------------------------------------------------------------------------------------------

def te_vernietigen(r: RoleRoot, actor: Actor, *, today: dt.date) -> list[dict[str, Any]]:
    """The dossiers past their retention date, oldest first, each with whether a legal hold keeps it."""
    from pipeline.shell.archive_retention import dossiers_due, held_dossiers

    audit = _require(r, actor, Taak.ARCHIEF, wat="archief-te-vernietigen")
    due = dossiers_due(r.store, today=today)
    held = held_dossiers(r.audit)
    audit.listed(wat="archief-te-vernietigen", aantal=len(due))
    return [{"kenmerk": d.kenmerk, "laatste_wijziging": d.laatste_wijziging.isoformat(),
             "bewaren_tot": d.bewaren_tot.isoformat(), "blokkade": d.kenmerk in held} for d in due]


def exporteer(r: RoleRoot, actor: Actor, kenmerk: str) -> Download:
    """The sealed bundle of one dossier (zip) for download; the export is recorded before it is handed out."""
    from pipeline.shell.app import make_keyring
    from pipeline.shell.archive_export import export_dossier

    audit = _require(r, actor, Taak.ARCHIEF, kenmerk=kenmerk, wat="export")
    if not r.store.events(kenmerk):
        raise _refuse(r, actor, kenmerk=kenmerk, wat="export", gebeurtenis=Gebeurtenis.EXPORT)
    seal = make_keyring(r.settings, doctors=False).seal()
    with tempfile.TemporaryDirectory(dir=r.settings.state, prefix=".export-") as tmp:
        out = Path(tmp) / f"{kenmerk}.zip"
        export_dossier(r.settings, r.store, audit, kenmerk, out, seal=seal, pki_dir=r.settings.pki_dir, clock=r.clock)
        data = out.read_bytes()
    return Download(out.name, data, hashlib.sha256(data).hexdigest(), "application/zip")


def controleer_bundel(r: RoleRoot, actor: Actor, data: bytes, *, naam: str = "bundel.zip") -> dict[str, Any]:
    """Check an uploaded bundle offline against this root's trust roots (never the bundle's own root) and this
    root's audit trail (the chain head sealed into it must still be there); the report as data."""
    from pipeline.shell.archive_verify import check_anchor, verify_bundle

    audit = _require(r, actor, Taak.ARCHIEF, wat="archiefbundel")
    if not data or len(data) > MAX_UPLOAD_BYTES:
        raise OngeldigeInvoer(f"De bundel is leeg of te groot ({len(data)} bytes).", rule="grootte")
    trust = [p for p in r.settings.trust_roots if p.exists()]
    fd, tmp = tempfile.mkstemp(dir=r.settings.state, prefix=".bundel-", suffix=".zip")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        report = verify_bundle(Path(tmp), trust=trust)
    finally:
        Path(tmp).unlink(missing_ok=True)
    check_anchor(report, audit)
    audit.record(Gebeurtenis.VERIFICATIE, kenmerk=report.kenmerk if report.kenmerk and r.store.events(report.kenmerk)
                 else None, actie=Actie.EXECUTE, uitkomst=Uitkomst.GESLAAGD if report.ok else Uitkomst.MISLUKT,
                 wat="archiefbundel", bundel=trail.scrub(naam[:100]), problemen=len(report.problems))
    return {"ok": report.ok, "kenmerk": report.kenmerk, "vertrouwen_uit_bundel": report.trust_from_bundle,
            "problemen": [str(p) for p in report.problems], "gecontroleerd": list(report.checked)}


def vernietig(r: RoleRoot, actor: Actor, kenmerk: str, *, reden: str | None, today: dt.date,
              vervroegd: bool = False, bevestigd: bool = False) -> dict[str, Any]:
    """Destroy a dossier: every check first (legal hold, the reason free of personal data, the retention date;
    before it only `vervroegd` with a reason). Without `bevestigd` nothing is removed and the answer says what
    would go (`status: bevestiging-nodig`); the caller then asks for the confirmation (the desk: a fresh TOTP
    code) and calls again with `bevestigd=True`, when the checks run again before anything is removed."""
    from pipeline.shell.archive_destroy import approve_destruction, carry_out_destruction

    audit = _require(r, actor, Taak.ARCHIEF, kenmerk=kenmerk, wat="vernietiging")
    approved = approve_destruction(r.settings, r.store, audit, kenmerk, today=today, force=vervroegd, reden=reden)
    plan = approved.plan
    answer = {"kenmerk": kenmerk, "wat": approved.wat, "reden": approved.reden,
              "bestanden": len(plan.files) + len(plan.mailbox_files), "manifest_sha256": approved.manifest_sha256}
    if not bevestigd:
        return answer | {"status": "bevestiging-nodig"}
    carry_out_destruction(r.settings, r.store, audit, approved)
    return answer | {"status": "vernietigd"}


def blokkeer(r: RoleRoot, actor: Actor, kenmerk: str, *, reden: str, opheffen: bool = False) -> dict[str, Any]:
    """Place (or lift, `opheffen`) a legal hold: no destruction while it is placed."""
    from pipeline.shell.archive_retention import lift_hold, place_hold

    audit = _require(r, actor, Taak.ARCHIEF, kenmerk=kenmerk, wat="blokkade")
    rec = (lift_hold if opheffen else place_hold)(r.store, audit, kenmerk, reden=reden)
    return {"kenmerk": kenmerk, "blokkade": not opheffen, "reden": rec.details.get("reden"), "moment": rec.at}


# --- FG ----------------------------------------------------------------------------------------------------------

def toegang_per_zaak(r: RoleRoot, actor: Actor, kenmerk: str) -> dict[str, Any]:
    """Who looked at what of one case and when, on whose behalf (NEN 7513), oldest first."""
    audit = _require(r, actor, Taak.TOEZICHT, kenmerk=kenmerk, wat="inzage-overzicht")
    records = r.audit.trail(kenmerk)
    if not records:
        raise _refuse(r, actor, kenmerk=kenmerk, wat="inzage-overzicht")
    rows = trail.toegang(records)
    audit.viewed(kenmerk, wat="inzage-overzicht")
    return {"kenmerk": kenmerk, "toegang": [t.as_dict() for t in rows]}


def _cases_of(r: RoleRoot, bsn: str) -> list[str]:
    """The cases of one employee, by the BSN in their request (never written to the trail)."""
    return r.store.kenmerken_of_werknemer(bsn)


def toegang_per_werknemer(r: RoleRoot, actor: Actor, bsn: str) -> dict[str, Any]:
    """Every access to every case of one employee (found by BSN), per case. The BSN is not recorded: each case
    looked at gets its own record, and a search that finds nothing one listing record."""
    audit = _require(r, actor, Taak.TOEZICHT, wat="inzage-overzicht")
    cases = _cases_of(r, bsn)
    found = {k: trail.toegang(r.audit.trail(k)) for k in cases}
    with audit.batch():
        for k in cases:
            audit.viewed(k, wat="inzage-overzicht")
        if not cases:
            audit.listed(wat="inzage-overzicht-werknemer", aantal=0)
    return {"zaken": [{"kenmerk": k, "toegang": [t.as_dict() for t in rows]} for k, rows in found.items()]}


def avg_inzage_export(r: RoleRoot, actor: Actor, bsn: str) -> Download:
    """The overview for an employee's request under art. 15 AVG: per case the log in plain Dutch (who looked, in
    which role) and every access as a row, as one JSON document to hand over."""
    audit = _require(r, actor, Taak.TOEZICHT, wat="avg-inzage")
    cases = _cases_of(r, bsn)
    if not cases:
        raise _refuse(r, actor, kenmerk=None, wat="avg-inzage")
    zaken = []
    for k in cases:
        records = r.audit.trail(k)
        zaken.append({"kenmerk": k, "logboek": [{"datum": line.datum.isoformat(), "tekst": line.tekst}
                                                for line in trail.werknemer_view(records)],
                      "toegang": [_toegang_nl(t) for t in trail.toegang(records)]})
    made = r.clock.now().astimezone(dt.timezone.utc).isoformat(timespec="seconds")
    document = {"titel": "Overzicht van de toegang tot uw dossier (art. 15 AVG, NEN 7513)", "opgesteld": made,
                "toelichting": "Per zaak: de stappen in uw dossier en wie het inzag, wanneer, in welke rol en namens "
                               "wie. Uw werkgever ziet dit overzicht niet.", "zaken": zaken}
    data = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    with audit.batch():
        for k in cases:
            audit.record(Gebeurtenis.INZAGE, kenmerk=k, actie=Actie.READ, uitkomst=Uitkomst.GESLAAGD,
                         wat="avg-inzage", sha256=digest)
    return Download("inzage-overzicht.json", data, digest, "application/json")


def _toegang_nl(t: trail.Toegang) -> dict[str, Any]:
    moment = dt.datetime.fromisoformat(t.at).astimezone(trail.TZ)
    return {"moment": moment.strftime("%Y-%m-%d %H:%M"), "wie": t.naam, "rol": t.rol or "onbekend",
            "wat": " ".join(x for x in (t.gebeurtenis, t.wat, t.document) if x), "namens": t.namens,
            "uitkomst": t.uitkomst}


def keten_status(r: RoleRoot, actor: Actor) -> dict[str, Any]:
    """The state of the whole audit chain (every record's hash and link, the append-only triggers); the check
    itself is recorded."""
    from pipeline.shell.archive_verify import check_trail

    audit = _require(r, actor, Taak.TOEZICHT, wat="audit-keten")
    return check_trail(r.store, audit).as_dict()


# --- IT ----------------------------------------------------------------------------------------------------------

def systeemcontrole(r: RoleRoot, actor: Actor, *, convert: bool = False) -> dict[str, Any]:
    """`sopipe doctor` as data: every check with its status, what it saw and what to do."""
    from pipeline.shell.doctor import Status, run_checks

    audit = _require(r, actor, Taak.BEHEER, wat="systeemcontrole")
    checks = run_checks(r.settings.root, convert=convert)
    ok = not any(c.status is Status.FAIL for c in checks)
    audit.record(Gebeurtenis.VERIFICATIE, kenmerk=None, actie=Actie.EXECUTE,
                 uitkomst=Uitkomst.GESLAAGD if ok else Uitkomst.MISLUKT, wat="systeemcontrole",
                 aantal=len(checks), problemen=sum(c.status is Status.FAIL for c in checks))
    return {"ok": ok, "checks": [asdict(c) | {"status": c.status.value} for c in checks]}
