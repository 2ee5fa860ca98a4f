"""The shell around the core: one case file in, every document made, checked, delivered — or nothing at all.

Order of work for one file: read and validate → rebuild the case state from the store → `decide` (pure core) →
make every document (render, convert, sign) → privacy guard on each finished file → deliver (consent re-checked
at that moment) → record the event and its deliveries in one transaction → move the file to `processed/`.
A bad file moves to `failed/` with a report; an outage of the pipeline itself (disk full, read-only outbox)
leaves the file in the inbox so it is picked up again once fixed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Protocol, Sequence

from pydantic import ValidationError

from pipeline.adapters import safefs
from pipeline.adapters.audit import Audit, NullAudit
from pipeline.adapters.converter import Converter, PdfMetadata
from pipeline.adapters.mailbox import Mailboxes
from pipeline.adapters.store import DeliveryRecord, Store
from pipeline.core import model
from pipeline.core import redaction
from pipeline.core.organisaties import Facts, Organisatie, issuer
from pipeline.core.procedure import Decision, DocumentOrder, decide, fold
from pipeline.core.requester import letter_to_requester
from pipeline.core.routing import Party, file_name, recipient_code
from pipeline.core.signatures import hold_for_signature
from pipeline.core.state import CaseState
from pipeline.errors import (CaseFileError, ConverterUnavailable, DeliveryError, PipelineError,
                             TrustServiceOutage)
from pipeline.shell import report, returns
from pipeline.shell.status import summary_row
from pipeline.shell.intake import Intake, IntakeAccess, Stage

log = logging.getLogger("sopipe")

_OUTAGES = {
    DeliveryError: ("delivery failed", "bezorging"),
    ConverterUnavailable: ("LibreOffice unavailable", "libreoffice"),
    TrustServiceOutage: ("trust service unreachable", "vertrouwensdienst"),
}
"""Errors of the pipeline's surroundings: the case file stays in the inbox and is tried again (log text, audit rule)."""

MAX_JSON_DEPTH = 20


class Renderer(Protocol):
    def render(self, template: str, context) -> bytes: ...


class DocumentSigner(Protocol):
    def sign(self, pdf: bytes, order: DocumentOrder) -> bytes: ...


@dataclass(frozen=True)
class Finding:
    """One thing the privacy guard found on a finished file."""
    what: str
    where: str


class Guard(Protocol):
    def check(self, pdf: bytes, *, order: DocumentOrder, party: Party, state: CaseState,
              path: str) -> list[Finding]: ...


@dataclass
class Outcome:
    file_name: str
    status: str
    """`processed`, `duplicate`, `failed`, `retry` (back in the inbox: the pipeline itself failed) or `gone`
    (no longer in the inbox when it was to be taken)."""
    kenmerk: str | None = None
    detail: str = ""
    delivered: list[Path] = field(default_factory=list)


class Pipeline:
    def __init__(self, *, inbox: Path, outbox: Path, quarantine: Path, store: Store, renderer: Renderer,
                 converter: Converter, signer: DocumentSigner, guard: Guard | None = None,
                 max_file_bytes: int = 1_048_576, parallel: int = 2, staging: Path | None = None,
                 audit: Audit | None = None, returns: returns.ReturnPolicy | None = None,
                 mailboxes: Mailboxes | None = None, intake_access: IntakeAccess | None = None,
                 organisaties: Mapping[str, Organisatie] | None = None) -> None:
        self.organisaties = MappingProxyType(dict(organisaties or {}))
        """Configured master data (`Settings.organisaties`), passed to the core with every decision."""
        self._issuers: dict[str, str] = {}
        self._invoice_lock = threading.Lock()
        self.audit = audit if audit is not None else NullAudit()
        self.inbox = Path(inbox)
        self.mailboxes = mailboxes or Mailboxes(outbox)
        self.returns = returns
        """How signed PDFs coming back into the inbox are checked (`pipeline.shell.returns`); None: refused."""
        self.quarantine = Path(quarantine)
        self.store = store
        self.renderer = renderer
        self.converter = converter
        self.signer = signer
        self.guard = guard
        self.max_file_bytes = max_file_bytes
        self.staging = Path(staging) if staging else self.inbox.parent / "state" / "staging"
        self.root = self.inbox.parent
        """The trusted anchor: below it no link is followed (`pipeline.adapters.safefs`)."""
        self._staging_parts = _below(self.root, self.staging)
        self.stage = Stage(self.root, inbox=self.inbox.name, access=intake_access)
        self._pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="sopipe-doc")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    # --- one file -----------------------------------------------------------------------------------------------

    def process(self, path: Path) -> Outcome:
        """Take `path` (a file in the inbox) into the stage and process exactly those bytes."""
        try:
            stage_id = self.stage.take(path.name)
        except (OSError, PipelineError) as e:
            why = e.message if isinstance(e, PipelineError) else e.strerror or str(e)
            log.error("%s: cannot take it out of the inbox: %s", path.name, why)
            return Outcome(path.name, "retry", detail=f"kan het bestand niet uit de inbox nemen: {why}")
        if stage_id is None:
            return Outcome(path.name, "gone", detail="niet meer in de inbox")
        return self.process_staged(stage_id, path.name)

    def resume(self) -> list[Outcome]:
        """Files a crash (kill -9) left in the stage, processed again; the journal by SHA-256 decides what is done."""
        try:
            leftovers = self.stage.leftovers()
        except (OSError, PipelineError) as e:  # e.g. state/intake replaced by a link: refused, reported
            log.error("the stage state/intake cannot be opened: %s",
                      e.message if isinstance(e, PipelineError) else e.strerror or e)
            return []
        return [self.process_staged(stage_id, name) for stage_id, name in leftovers]

    def process_staged(self, stage_id: str, name: str) -> Outcome:
        intake = self._intake(stage_id, name)
        if name.lower().endswith(".pdf"):  # a signed document coming back (pipeline.shell.returns)
            return returns.process_returned_pdf(self, intake)
        if intake.sha256 is None:
            return self._fail(intake, None, report.report_for_error(name, intake.error), intake.error.message)
        digest = intake.sha256
        if self.store.journal_status(digest) == "done":
            # Either dropped twice, or we crashed between recording and moving: in both cases done already.
            self._move(intake, "processed",
                       suffix="" if self.store.journal_file_name(digest) == name else ".duplicaat")
            log.info("%s: same content already processed, not again", name)
            self.audit.intake_duplicate(kenmerk=_peek_kenmerk(intake.raw), bestand=name, sha256=digest)
            return Outcome(name, "duplicate", detail="al eerder verwerkt")
        self.store.journal_start(digest, name)
        if isinstance(intake.error, ValidationError):
            problems = report.describe_validation(intake.error)
            kenmerk = _peek_kenmerk(intake.raw)
            return self._fail(intake, digest, report.failure_report(
                name, problems=problems, kenmerk=kenmerk, rule="schema"), "; ".join(f"{f}: {p}" for f, p in problems),
                kenmerk=kenmerk, rule="schema", error="ValidationError")
        if intake.error is not None:
            return self._fail(intake, digest, report.report_for_error(name, intake.error), intake.error.message)
        if intake.event.stap == "facturatie":  # the uniqueness of an invoice number is checked and recorded as one step
            with self._invoice_lock:
                return self._apply(intake)
        return self._apply(intake)

    def _apply(self, intake: Intake) -> Outcome:
        name, digest, event, data = intake.name, intake.sha256, intake.event, intake.data
        case_audit = self.audit.case_file(kenmerk=event.kenmerk, namens=event.ingediend_door, datum=event.datum,
                                          bestand=name, sha256=digest)
        try:
            state = self.case_state(event.kenmerk)
            # documents awaiting a personal signature the pipeline cannot make go unsigned to the signer instead
            decision, held = hold_for_signature(decide(state, event, facts=self._facts(event)),
                                                signable=getattr(self.signer, "can_sign", None))
            documents = self._staged(digest, decision.orders)
            unsigned = returns.prepare_unsigned(self, held)
            case_audit.made(decision.orders, documents)
            delivered, records = self._deliver(decision, documents)
            delivered += returns.park_for_signature(self, unsigned, state=decision.state)
            case_audit.delivered(records)
        except PipelineError as e:
            outage = next(((what, rule) for kind, (what, rule) in _OUTAGES.items() if isinstance(e, kind)), None)
            if outage:  # an outage around us, not a bad case file: retried, not failed
                what, rule = outage
                case_audit.failed(regel=e.rule or rule, fout=type(e).__name__)
                return self._retry(intake, e, kenmerk=event.kenmerk, what=what)
            if e.kenmerk is None:
                e.kenmerk = event.kenmerk
            letter = self._letter_to_requester(intake, event, e)
            return self._fail(intake, digest, report.report_for_error(name, e, letter=letter), e.message,
                              kenmerk=event.kenmerk, rule=e.rule, error=type(e).__name__,
                              namens=event.ingediend_door)
        self.store.accept(kenmerk=event.kenmerk, stap=event.stap, datum=event.datum.isoformat(), payload=data,
                          sha256=digest, file_name=name, ingediend_door=event.ingediend_door, deliveries=records,
                          summary=summary_row(decision.state))
        case_audit.accepted(event.stap, before=state.consents if state else {}, after=decision.state.consents)
        self._move(intake, "processed")
        self._unstage(digest)
        log.info("%s: %s %s processed, %d file(s) delivered", name, event.kenmerk, event.stap, len(delivered))
        return Outcome(name, "processed", kenmerk=event.kenmerk, delivered=delivered)

    def _letter_to_requester(self, intake: Intake, event, e: PipelineError) -> report.LetterNote | None:
        """A request refused outright (from the employer, about an aanstellingskeuring): the ready letter to the
        requester, made as every document is and checked by the guard, beside the report in `inbox/failed/`.
        None when no letter applies or it could not be made (the report then says to write one)."""
        letter = letter_to_requester(event, rule=e.rule, datum=dt.date.today(), organisaties=self.organisaties)
        if letter is None:
            return None
        target = self.stage.free_name("failed", intake.name) + ".brief-aan-aanvrager.pdf"
        try:
            pdf = self._make_one(letter.order)
            findings = self.guard.check(pdf, order=letter.order, party=letter.party, state=letter.state,
                                        path=f"{self.stage.inbox}/failed/{target}") if self.guard else []
            if findings:  # never a letter the requester may not read: the secretariat writes one instead
                log.warning("%s: letter to the requester withheld by the privacy guard", intake.name)
                return None
            with safefs.folder(self.root, (self.stage.inbox, "failed"), create=self.stage.access.done) as fd:
                safefs.write_at(fd, target, pdf, access=self.stage.access.case_file)
        except (PipelineError, OSError) as err:
            log.error("%s: letter to the requester not made: %s", intake.name,
                      err.message if isinstance(err, PipelineError) else err.strerror or err)
            return None
        return report.LetterNote(target, letter.aan)

    def _intake(self, stage_id: str, name: str) -> Intake:
        """Read the staged file once: its bytes, SHA-256 and (case files) the parsed event or the error."""
        pdf = name.lower().endswith(".pdf")
        limit = returns.max_bytes(self) if pdf else self.max_file_bytes
        try:
            raw, size = self.stage.read(stage_id, name, limit=limit)
        except OSError:
            return Intake(name, stage_id, b"", None, error=returns.not_a_file() if pdf else CaseFileError(
                "Dit is geen gewoon bestand (een snelkoppeling of map); zet het bestand zelf in de inbox."))
        if pdf:
            if size == 0 or size > limit:
                return Intake(name, stage_id, b"", None, error=returns.wrong_size(size, limit))
            return Intake(name, stage_id, raw, hashlib.sha256(raw).hexdigest())
        if size == 0:
            return Intake(name, stage_id, b"", None, error=CaseFileError("Het bestand is leeg."))
        if size > limit:
            return Intake(name, stage_id, b"", None, error=CaseFileError(
                f"Het bestand is te groot ({size} bytes; de grens is {limit})."))
        digest = hashlib.sha256(raw).hexdigest()
        try:
            event, data = self._parse(raw, name)
        except (ValidationError, CaseFileError) as e:
            return Intake(name, stage_id, raw, digest, error=e)
        return Intake(name, stage_id, raw, digest, event=event, data=data)

    def case_state(self, kenmerk: str) -> CaseState | None:
        return fold(model.parse_event(e.payload) for e in self.store.events(kenmerk))

    def _facts(self, event) -> Facts:
        """Master data, and for an invoice every (issuer, number) already stored, for the core's decision."""
        if event.stap != "facturatie":
            return Facts(organisaties=self.organisaties)
        used = {}
        for kenmerk, payload in self.store.events_of_step("facturatie"):
            if kenmerk not in self._issuers:  # an invoiced case's SO doctor never changes: fold it once
                so = self.case_state(kenmerk).so_arts
                self._issuers[kenmerk] = issuer(so.praktijk, so.organisatie)
            used[(self._issuers[kenmerk], payload["factuurnummer"])] = kenmerk
        return Facts(organisaties=self.organisaties, factuurnummers=MappingProxyType(used))

    # --- steps --------------------------------------------------------------------------------------------------

    def _parse(self, raw: bytes, name: str):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise CaseFileError(f"Het bestand is geen UTF-8-tekst (ongeldige byte op positie {e.start}). "
                                "Sla het op als UTF-8.") from e
        if _depth_exceeds(text, MAX_JSON_DEPTH):
            raise CaseFileError(f"Het bestand is te diep genest (meer dan {MAX_JSON_DEPTH} niveaus).")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise CaseFileError(f"Het bestand is geen geldige JSON: {e.msg} op regel {e.lineno}, kolom {e.colno}.") \
                from e
        if not isinstance(data, dict):
            raise CaseFileError("Het bestand moet één JSON-object zijn ({ ... }).")
        return model.parse_event(data), data

    def _staged(self, digest: str, orders: Sequence[DocumentOrder]) -> list[bytes]:
        """The finished documents of this case file, made once.

        They are kept in `state/staging/<sha256>/` until the event is recorded, so that after a crash the same
        bytes are delivered again (idempotent), not a second, differently signed copy.
        """
        names = [f"{i:02d}_{o.kind}.pdf" for i, o in enumerate(orders)]
        try:
            with safefs.folder(self.root, self._staging_parts, create=safefs.PRIVATE_DIR) as top:
                kept = safefs.entry(top, digest)
                if kept is not None and stat.S_ISDIR(kept.st_mode):
                    fd = safefs.open_dir(top, [digest])
                    try:
                        if safefs.entry(fd, "COMPLETE") is not None and all(safefs.entry(fd, n) for n in names):
                            return [safefs.read_at(fd, n, limit=1 << 31)[0] for n in names]
                    finally:
                        os.close(fd)
        except OSError as e:
            raise DeliveryError(f"Kan de tijdelijke documenten niet lezen: {e.strerror or e}") from e
        documents = list(self._pool.map(self._make_one, orders))
        try:
            with safefs.folder(self.root, (*self._staging_parts, digest), create=safefs.PRIVATE_DIR) as fd:
                for n, pdf in zip(names, documents):
                    safefs.write_at(fd, n, pdf)
                safefs.write_at(fd, "COMPLETE", b"")
        except OSError as e:
            raise DeliveryError(f"Kan de documenten niet tijdelijk opslaan: {e.strerror or e}") from e
        return documents

    def _unstage(self, digest: str) -> None:
        try:
            with safefs.folder(self.root, self._staging_parts) as top:
                safefs.remove_tree_at(top, digest)
        except OSError as e:  # a leftover is harmless (removed by the next run of this file or by destroy)
            log.warning("staging of %s not removed: %s", digest[:12], e.strerror or e)

    def _make_one(self, order: DocumentOrder) -> bytes:
        docx = self.renderer.render(order.row.template, order.context)
        pdf = self.converter.convert(docx, metadata=PdfMetadata(title=order.title, author=order.author,
                                                                subject=order.row.titel, keywords=order.kenmerk))
        if order.sign is not None:
            pdf = self.signer.sign(pdf, order)
        return pdf

    def _deliver(self, decision: Decision, documents: list[bytes]) -> tuple[list[Path], list[DeliveryRecord]]:
        state = decision.state
        delivered: list[Path] = []
        records: list[DeliveryRecord] = []
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        # Check everything first, then write: a guard hit must not leave half the mailboxes filled.
        plan = []
        for order, pdf in zip(decision.orders, documents):
            name = file_name(order.kenmerk, order.kind)
            digest = hashlib.sha256(pdf).hexdigest()
            for d in order.deliveries:
                code = recipient_code(d.party, state)
                target = self.mailboxes.path(d.party, order.kenmerk, name, code=code)
                rel = str(target.relative_to(self.mailboxes.outbox.parent))
                if not state.heeft_toestemming(d.consent):
                    records.append(DeliveryRecord(order.kenmerk, order.kind, d.party.value, rel, None, "withheld",
                                                  f"geen toestemming '{d.consent}'", now))
                    continue
                findings = self.guard.check(pdf, order=order, party=d.party, state=state, path=rel) \
                    if self.guard else []
                # where the file really lands: a folder on the way that is a link is refused before anything is written
                self.mailboxes.check(d.party, order.kenmerk, code=code)
                plan.append((order, d.party, code, name, pdf, digest, rel, findings))
        for order, party, code, name, pdf, digest, rel, findings in plan:
            if findings:
                qpath = self._quarantine(order, party, name, pdf, findings)
                records.append(DeliveryRecord(order.kenmerk, order.kind, party.value, str(qpath), digest,
                                              "quarantined", "; ".join(f"{f.what} in {f.where}" for f in findings),
                                              now))
                log.warning("%s: %s for %s quarantined by the privacy guard", order.kenmerk, name, party.value)
                continue
            delivered.append(self.mailboxes.deliver(party, order.kenmerk, name, pdf, code=code))
            records.append(DeliveryRecord(order.kenmerk, order.kind, party.value, rel, digest, "delivered", None,
                                          now))
        return delivered, records

    def _quarantine(self, order: DocumentOrder, party: Party, name: str, pdf: bytes,
                    findings: list[Finding]) -> Path:
        target = self.quarantine / order.kenmerk / f"{party.value}_{name}"
        try:
            with safefs.folder(self.root, (*_below(self.root, self.quarantine), order.kenmerk),
                               create=safefs.PRIVATE_DIR) as fd:
                safefs.write_at(fd, target.name, pdf)
                safefs.write_at(fd, f"{target.name}.report.txt",
                                _quarantine_report(order, party, findings).encode("utf-8"))
        except OSError as e:
            raise DeliveryError(f"Kan niet naar quarantaine schrijven: {e}", kenmerk=order.kenmerk) from e
        return target

    def _fail(self, intake: Intake, digest: str | None, text: str, detail: str, *, kenmerk: str | None = None,
              rule: str | None = None, error: str | None = None, namens: str | None = None) -> Outcome:
        name = intake.name
        # the audit keeps the rule, never `detail` (which may quote the file's values)
        self.audit.intake_refused(kenmerk=kenmerk, bestand=name, sha256=digest, regel=rule, fout=error,
                                  namens=namens)
        # the report first: a crash in between leaves a report (and the file in the stage, resumed at start-up)
        try:
            self.stage.write_report("failed", self.stage.free_name("failed", name) + ".error.txt", text)
        except (OSError, PipelineError) as e:
            log.error("%s: report not written to inbox/failed/: %s", name,
                      e.message if isinstance(e, PipelineError) else e.strerror or e)
        self._move(intake, "failed")
        if digest is not None:
            self.store.journal_failed(digest, kenmerk=kenmerk, detail=detail)
        # `detail` may quote the file's own values (medical text, a BSN): the log names the file and case only
        log.warning("%s: not processed (%s); report in inbox/failed/", name, kenmerk or "kenmerk unknown")
        return Outcome(name, "failed", kenmerk=kenmerk, detail=detail)

    def _retry(self, intake: Intake, e: PipelineError, *, kenmerk: str | None, what: str = "delivery failed") -> Outcome:
        """The pipeline itself or its surroundings failed (disk, a refused mailbox folder, LibreOffice, a trust
        service): the file goes back into the inbox."""
        if intake.sha256 is not None:
            self.store.journal_failed(intake.sha256, kenmerk=kenmerk, detail=f"retry: {e.message}")
        try:
            name = self.stage.move_on(intake.stage_id, intake.name, None)
        except OSError as err:  # stays in the stage: resumed at the next start
            log.error("%s: cannot put it back into the inbox: %s", intake.name, err.strerror or err)
            name = intake.name
        log.error("%s: %s, file stays in the inbox: %s", name, what, e.message)
        return Outcome(name, "retry", kenmerk=kenmerk, detail=e.message)

    def _move(self, intake: Intake, folder: str, *, suffix: str = "") -> str | None:
        """Move exactly the staged file on to `inbox/<folder>/`; the name it got there.

        When that folder is refused (a link) or unwritable, the file stays in the stage and is moved on when the
        stage is resumed (the journal then knows it is done or failed); None."""
        try:
            return self.stage.move_on(intake.stage_id, intake.name, folder, suffix=suffix)
        except (OSError, PipelineError) as e:
            why = e.message if isinstance(e, PipelineError) else e.strerror or str(e)
            log.error("%s: cannot move it to inbox/%s/, it stays in state/intake/%s: %s", intake.name, folder,
                      intake.stage_id, why)
            return None


def _below(root: Path, path: Path) -> tuple[str, ...]:
    """`path` as components below the root (the pipeline's own folders all live there)."""
    return Path(path).relative_to(root).parts


def _quarantine_report(order: DocumentOrder, party: Party, findings: list[Finding]) -> str:
    lines = [f"QUARANTAINE: {file_name(order.kenmerk, order.kind)} is NIET bezorgd bij {party.value}.", "",
             "De privacycontrole vond in het afgemaakte bestand gegevens die deze ontvanger niet mag zien:"]
    lines += [f"  - {f.what} (in {f.where})" for f in findings]
    lines += ["", "Wat nu: controleer het sjabloon en de gegevens van de zaak; de andere ontvangers hebben hun "
              "exemplaar wel gekregen.", ""]
    return "\n".join(lines)


def _peek_kenmerk(raw: bytes) -> str | None:
    try:
        value = json.loads(raw).get("kenmerk")
    except Exception:
        return None
    # a "kenmerk" that is a BSN names no case: it must not reach the journal or the audit trail either
    return value if isinstance(value, str) and len(value) <= 40 and not redaction.contains_bsn(value) else None


def _depth_exceeds(text: str, limit: int) -> bool:
    """Cheap nesting check before json.loads (which would recurse deeply on hostile input)."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def inbox_files(inbox: Path) -> list[Path]:
    """Case files waiting in the inbox, oldest event first; temp, hidden and partial names are skipped."""
    out = []
    for p in inbox.iterdir():
        if p.name in ("processed", "failed") and p.is_dir() and not p.is_symlink():
            continue
        if is_ignored(p.name):
            continue
        out.append(p)
    return sorted(out, key=_event_order)


IGNORED_PREFIXES = (".", "~$", "~")
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".partial", ".swp", ".download", ".filepart")


def is_ignored(name: str) -> bool:
    lower = name.lower()
    return lower.startswith(IGNORED_PREFIXES) or lower.endswith(IGNORED_SUFFIXES)


def peek_event(path: Path) -> dict | None:
    """The decoded case file, for ordering a batch only (never trusted: `process` validates it properly)."""
    try:
        if path.is_file() and not path.is_symlink() and path.stat().st_size < 1_048_576:
            data = json.loads(path.read_bytes())
            return data if isinstance(data, dict) else None
    except Exception:
        pass
    return None


def _event_order(path: Path):
    """Within one batch, apply events of a case in procedure order even if the file names do not sort so."""
    data = peek_event(path)
    if data is None:
        return (1, "", 0, path.name)
    stap = data.get("stap")
    idx = model.STAPPEN.index(stap) if stap in model.STAPPEN and stap != "intrekking" else 99
    return (0, str(data.get("datum", "")), idx, path.name)
