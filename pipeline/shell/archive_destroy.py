"""`sopipe archive destroy`: the irreversible removal of a dossier past its retention (or earlier, on request).

`destroy_dossier` removes, irreversibly, what the arbodienst keeps of a case: the archive copy, the quarantine
copies, the case files in inbox/, inbox/processed and inbox/failed with their reports (found by the journal and by
content, also when the kenmerk could not be read from a broken file), the staged documents in state/staging/,
converter scratch left by a killed pipeline, and every row of the case in the state database, and the case's
folders in the parties' mailboxes on this server (`outbox/<party>/[<code>/]<kenmerk>/`, removed relative to folder
descriptors, never through a link): after the retention the server keeps no copy of the case either. The parties'
own copies elsewhere (downloaded, in the own doctor's file) fall under their own retention. Only when
`[mailboxes] emptied_by_recipients = true` documents that the recipients empty these mailboxes themselves are they
left alone (and listed). The audit trail is kept: it holds no content, and it records the destruction itself
(kenmerk, date, who, reason, hash of what was removed). When a dossier is due and what stops its destruction (a
legal hold): `pipeline.shell.archive_retention`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from pipeline.adapters import safefs
from pipeline.adapters.audit import Audit
from pipeline.adapters.converter import stale_scratch
from pipeline.adapters.store import Store
from pipeline.core import trail
from pipeline.core.routing import PER_RECIPIENT, Party
from pipeline.core.trail import Actie, AuditRecord, Gebeurtenis, Uitkomst
from pipeline.errors import ArchiveError, UnsafePathError
from pipeline.settings import Settings
from pipeline.shell.archive_bundle import sha256
from pipeline.shell.archive_retention import (Retention, check_reden, legal_hold, record_refusal, retention,
                                              werknemers_named)
from pipeline.shell.report import LETTER_SUFFIX


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
    name or bytes hold the kenmerk or their bytes the employee's BSN. Raises ArchiveError, before anything is
    removed, for a plain file or a link where a folder of the case belongs.
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
    bsns = {str(w["bsn"]).encode("ascii", "ignore") for w in werknemers_named(events) if w.get("bsn")}
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
            out.append((f"{shown}/{name}", sha256(safefs.read_at(fd, name, limit=1 << 62)[0])))
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
        record_refusal(audit, kenmerk, "juridische-blokkade")
        raise ArchiveError(f"Op het dossier {kenmerk} rust een juridische blokkade (geplaatst {hold.at[:10]}, reden: "
                           f"{hold.details.get('reden') or 'niet opgegeven'}). Zolang die er is, wordt niets "
                           f"vernietigd; hef haar op met `sopipe archive release {kenmerk} --reden \"...\"` als de "
                           "grond is vervallen.", kenmerk=kenmerk, rule="juridische-blokkade")
    if reden and pending is None:
        check_reden(audit, store, kenmerk, reden)
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
        record_refusal(audit, kenmerk, "reden-ontbreekt")
        raise ArchiveError("--force vraagt een --reden, bijvoorbeeld \"verzoek werknemer tot vernietiging "
                           "(art. 7:455 BW)\"; die reden wordt vastgelegd.", kenmerk=kenmerk, rule="reden")
    if plan.retention is not None and not plan.retention.due(today):
        if not force:
            record_refusal(audit, kenmerk, "bewaartermijn")
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
    store.delete_case(kenmerk, journal=plan.manifest["journaal"])
    audit.record(Gebeurtenis.VERNIETIGING, kenmerk=kenmerk, actie=Actie.DELETE, uitkomst=Uitkomst.GESLAAGD,
                 wat=approved.wat, reden=approved.reden, manifest_sha256=approved.manifest_sha256)
    return plan


def destroy_dossier(settings: Settings, store: Store, audit: Audit, kenmerk: str, *, today: dt.date,
                    force: bool = False, reden: str | None = None) -> DestroyPlan:
    """Irreversibly remove the arbodienst's dossier of `kenmerk` (see the module docstring for what goes): every
    check first (`approve_destruction`), then the removal (`carry_out_destruction`)."""
    approved = approve_destruction(settings, store, audit, kenmerk, today=today, force=force, reden=reden)
    return carry_out_destruction(settings, store, audit, approved)


def _pending_destruction(audit: Audit, kenmerk: str) -> AuditRecord | None:
    last = None
    for r in audit.trail(kenmerk):
        if r.gebeurtenis == Gebeurtenis.VERNIETIGING:
            last = r
    return last if last is not None and last.uitkomst == Uitkomst.GESTART else None


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
