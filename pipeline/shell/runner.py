"""The shell around the core: one file in, every document made, checked, delivered — or nothing at all.

One skeleton for every inbox file, a case file (`.json`) and a signed PDF coming back (`.pdf`):
stage (taken out of the inbox, read, hashed and parsed once: `pipeline.shell.intake`) → journal (by SHA-256:
done already? a duplicate) → read (a returned PDF only: read once as a PDF, `read_returned`) → decide
(`decide()` on the case's state for an event; the pure checks of `pipeline.core.returns` for a returned PDF) →
make every document (render, convert, sign) → privacy guard on each finished file → deliver (consent checked at
that moment) → record in one transaction → move the file to `processed/`. The kinds differ only in their
`decide` and `record` (`CaseFileWork`, `ReturnedPdfWork`, `ConsentFormWork`). A bad file moves to `failed/`
with a report; an outage of the pipeline itself (disk full, read-only outbox) leaves the file in the inbox so it
is picked up again once fixed. No file stops the others: an error nobody foresaw sets that one file aside in
`failed/` with a report saying so (`InternalError`), and a file the process keeps dying on is resumed at most
`MAX_RESUMES` times, then set aside the same way.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping, Protocol, Sequence

from pydantic import ValidationError

from pipeline.adapters import safefs
from pipeline.adapters.audit import Audit, CaseFileAudit, NullAudit
from pipeline.adapters.clock import SYSTEM_CLOCK, Clock, utc_iso
from pipeline.adapters.converter import Converter, PdfMetadata
from pipeline.adapters.mailbox import Mailboxes
from pipeline.adapters.returned_pdf import PdfReturnReader
from pipeline.adapters.store import DeliveryRecord, Store
from pipeline.core import model
from pipeline.core.organisaties import Facts, Organisatie, issuer
from pipeline.core.procedure import Decision, DocumentOrder, decide
from pipeline.core import returns as checks
from pipeline.core.returns import ReturnedDocument
from pipeline.core.requester import letter_to_requester
from pipeline.core.trail import TZ as DUTCH_TIME
from pipeline.core.routing import Party, file_name, form_kind, recipient_code
from pipeline.core.signatures import SIGNED_BY, hold_for_signature, returned_signed, signer_party
from pipeline.core.state import CaseState
from pipeline.core.summary import waiting as summarise_waiting
from pipeline.errors import (ConverterUnavailable, DeliveryError, InternalError, PipelineError,
                             TrustServiceOutage)
from pipeline.settings import STAGING
from pipeline.shell import report, returns
from pipeline.shell.status import summary_row
from pipeline.shell.intake import (Intake, IntakeAccess, Stage, kept_name, not_utf8_name, read_intake,
                                   shown_name)

log = logging.getLogger("sopipe")

_OUTAGES = {
    DeliveryError: ("delivery failed", "bezorging"),
    ConverterUnavailable: ("LibreOffice unavailable", "libreoffice"),
    TrustServiceOutage: ("trust service unreachable", "vertrouwensdienst"),
}
"""Errors of the pipeline's surroundings: the case file stays in the inbox and is tried again (log text, audit rule)."""

MAX_RESUMES = 8
"""A file in progress when the process stopped is resumed at most this many times in a row; interrupted once more,
it is set aside in `inbox/failed/` with a report (`Pipeline.resume`). Not fewer: a kill -9 or a power cut during
a long file is no fault of the file, and every file in progress at a stop is counted, not only the one that caused
it (the crash test kills the watcher four times in a row while the same file was being resumed). A file that really
kills the process costs nine restarts, at systemd's `RestartSec=10s` a minute and a half, then waits no more."""


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
    def check(self, pdf: bytes, *, order: DocumentOrder, party: Party, state: CaseState, path: str,
              sha256: str | None = None, consent_checked: bool = False) -> list[Finding]: ...


@dataclass
class Outcome:
    file_name: str
    status: str
    """`processed`, `duplicate`, `failed`, `retry` (back in the inbox: the pipeline itself failed) or `gone`
    (no longer in the inbox when it was to be taken)."""
    kenmerk: str | None = None
    detail: str = ""
    delivered: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    """What `decide` found for one inbox file: the documents to deliver and how the outcome is recorded."""
    kenmerk: str
    decision: Decision
    """The case's state after this file and the orders to carry out (consent checked per delivery)."""
    audit: CaseFileAudit
    ready: tuple[bytes, ...] = ()
    """Documents that exist already, for the first orders (a returned signed PDF is delivered as it came)."""
    held: tuple[DocumentOrder, ...] = ()
    """Orders that wait, unsigned, for a doctor's personal signature (`te-ondertekenen/`)."""
    before: CaseState | None = None
    """The case's state before this file."""
    kind: str | None = None
    """A returned PDF: the document kind it signs."""
    names: tuple[str, ...] | None = None
    """File names of the documents when not `<kenmerk>_<kind>.pdf` (a signed consent form in the archive)."""
    event: model.MachtigingOntvangen | None = None
    """A signed consent form: the pipeline's own record of it, stored among the case's events."""
    validations: tuple = ()
    """What was established about the signatures of each ready document, when exactly those bytes were validated
    (`pipeline.adapters.validation.Validation`, or None): the archive's validation report reuses it."""


class ReturnReader(Protocol):
    """Reads a returned PDF once (`pipeline.adapters.returned_pdf.PdfReturnReader`)."""

    def read(self, raw: bytes, *, named: checks.ReturnedName, sha256: str,
             trust_roots: Sequence[Path] | None) -> ReturnedDocument: ...


class Work(Protocol):
    """What differs between a case file and a returned signed PDF; the runner's skeleton does the rest."""

    def report(self, intake: Intake, e: PipelineError) -> str: ...

    def decide(self, intake: Intake) -> Plan: ...

    def record(self, intake: Intake, plan: Plan, records: list[DeliveryRecord]) -> None: ...


class Pipeline:
    def __init__(self, *, inbox: Path, outbox: Path, quarantine: Path, store: Store, renderer: Renderer,
                 converter: Converter, signer: DocumentSigner, guard: Guard | None = None,
                 max_file_bytes: int = 1_048_576, parallel: int = 2, staging: Path | None = None,
                 audit: Audit | None = None, returns: returns.ReturnPolicy | None = None,
                 mailboxes: Mailboxes | None = None, intake_access: IntakeAccess | None = None,
                 organisaties: Mapping[str, Organisatie] | None = None, clock: Clock | None = None,
                 return_reader: ReturnReader | None = None) -> None:
        self.organisaties = MappingProxyType(dict(organisaties or {}))
        """Configured master data (`Settings.organisaties`), passed to the core with every decision."""
        self.clock = clock or SYSTEM_CLOCK
        """The one clock (`pipeline.adapters.clock`): delivery records are stamped with it."""
        self._issuers: dict[str, str] = {}
        self._invoice_lock = threading.Lock()
        self._states: dict[str, tuple[str, CaseState]] = {}
        """Per case the folded state and the SHA-256 of the last event it includes (`case_state`)."""
        self._states_lock = threading.Lock()
        self.audit = audit if audit is not None else NullAudit()
        self.inbox = Path(inbox)
        self.mailboxes = mailboxes or Mailboxes(outbox)
        self.returns = returns
        """What signed PDFs coming back into the inbox are checked against (`pipeline.core.returns`); None:
        refused."""
        self.return_reader = return_reader or PdfReturnReader()
        self.quarantine = Path(quarantine)
        self.store = store
        self.renderer = renderer
        self.converter = converter
        self.signer = signer
        self.guard = guard
        self.max_file_bytes = max_file_bytes
        self.staging = Path(staging) if staging else self.inbox.parent.joinpath(*STAGING)
        self.root = self.inbox.parent
        """The trusted anchor: below it no link is followed (`pipeline.adapters.safefs`)."""
        self._staging_parts = _below(self.root, self.staging)
        self.stage = Stage(self.root, inbox=self.inbox.name, access=intake_access)
        self._pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="sopipe-doc")
        self._case_files = CaseFileWork(self)
        self._returned = ReturnedPdfWork(self)
        self._consent_forms = ConsentFormWork(self)

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    # --- one file: stage → journal → decide → make → deliver → record → move ------------------------------

    def take(self, path: Path) -> Intake | Outcome:
        """Take `path` (a file in the inbox) into the stage and read it once; an Outcome when it cannot be."""
        shown = kept_name(path.name)
        try:
            stage_id = self.stage.take(path.name, as_name=shown)
        except (OSError, PipelineError) as e:
            why = e.message if isinstance(e, PipelineError) else e.strerror or str(e)
            log.error("%s: cannot take it out of the inbox: %s", shown, why)
            return Outcome(shown, "retry", detail=f"kan het bestand niet uit de inbox nemen: {why}")
        if stage_id is None:
            return Outcome(shown, "gone", detail="niet meer in de inbox")
        intake = self._intake(stage_id, shown)
        if shown_name(path.name) != path.name:  # kept under an escaped name, and refused: the share's character
            intake = replace(intake, event=None, data=None,  # set needs fixing
                             error=not_utf8_name(shown))
        return intake

    def process(self, path: Path) -> Outcome:
        """Take `path` (a file in the inbox) into the stage and process exactly those bytes."""
        taken = self.take(path)
        return taken if isinstance(taken, Outcome) else self.process_intake(taken)

    def resume(self) -> list[Outcome]:
        """Files a crash (kill -9) left in the stage, processed again; the journal by SHA-256 decides what is done.

        The journal counts each start of processing that never ended (`Store.journal_start`, in the write it
        makes anyway; a file only waiting in the stage is not counted): a file the process stopped on more than
        `MAX_RESUMES` times in a row is set aside in `inbox/failed/` with a report instead of being tried again,
        so one file can never keep the pipeline in a restart loop."""
        intakes, outcomes = [], []
        for intake in self.leftovers():
            interrupted = self.store.journal_interrupted(intake.sha256) if intake.sha256 else 0
            if interrupted > MAX_RESUMES:
                outcomes.append(self._internal_error(intake, InternalError(
                    f"De verwerking is {interrupted} keer onderbroken.", cause="onderbroken",
                    interruptions=interrupted, kenmerk=_kenmerk_or_none(intake))))
            else:
                intakes.append(intake)
        return outcomes + process_in_case_order(self, intakes, workers=1)

    def leftovers(self) -> list[Intake]:
        """Files a crash left in the stage, each read once."""
        try:
            leftovers = self.stage.leftovers()
        except (OSError, PipelineError) as e:  # e.g. state/intake replaced by a link: refused, reported
            log.error("the stage state/intake cannot be opened: %s",
                      e.message if isinstance(e, PipelineError) else e.strerror or e)
            return []
        return [self._intake(stage_id, name) for stage_id, name in leftovers]

    def process_staged(self, stage_id: str, name: str) -> Outcome:
        return self.process_intake(self._intake(stage_id, name))

    def put_back(self, intake: Intake, detail: str) -> Outcome:
        """Not processed now (an earlier file of its case waits for a retry): back into the inbox."""
        try:
            name = self.stage.move_on(intake.stage_id, intake.name, None)
        except (OSError, PipelineError) as err:  # stays in the stage: resumed at the next start
            log.error("%s: cannot put it back into the inbox: %s", intake.name,
                      err.message if isinstance(err, PipelineError) else err.strerror or err)
            name = intake.name
        return Outcome(name, "retry", kenmerk=intake.kenmerk, detail=detail)

    def process_intake(self, intake: Intake) -> Outcome:
        """The skeleton every inbox file goes through, read once into `intake`. Never raises for one file's sake:
        an error nobody foresaw sets the file aside in `inbox/failed/` with a report (`_internal_error`)."""
        try:
            return self._process_intake(intake)
        except Exception as e:
            log.error("%s: internal error (%s); the file is set aside in inbox/failed/", intake.name,
                      type(e).__name__, exc_info=True)
            return self._internal_error(intake, InternalError(
                f"Interne fout bij het verwerken ({type(e).__name__}).", cause=type(e).__name__,
                kenmerk=_kenmerk_or_none(intake)))

    def _internal_error(self, intake: Intake, e: InternalError) -> Outcome:
        """Set the file aside unchanged with the report for an internal error; each step on its own, since the
        failure may be in any of them (the audit, the journal, the report folder)."""
        try:
            return self._fail(intake, intake.sha256, report.internal_error_report(intake.name, e), e.message,
                              kenmerk=e.kenmerk, rule=e.rule, error=e.cause)
        except Exception:
            log.error("%s: could not be set aside in inbox/failed/; it stays in state/intake/%s", intake.name,
                      intake.stage_id, exc_info=True)
            return Outcome(intake.name, "failed", kenmerk=e.kenmerk, detail=e.message)

    def _process_intake(self, intake: Intake) -> Outcome:
        work: Work = self._case_files if not intake.returned else \
            self._consent_forms if intake.named.form is not None else self._returned
        name, digest = intake.name, intake.sha256
        if isinstance(intake.error, InternalError):
            return self._internal_error(intake, intake.error)
        if digest is None:
            return self._fail(intake, None, work.report(intake, intake.error), intake.error.message)
        if self.store.journal_status(digest) == "done":
            # Either dropped twice, or we crashed between recording and moving: in both cases done already.
            same = not intake.returned and self.store.journal_file_name(digest) == name
            self._move(intake, "processed", suffix="" if same else ".duplicaat")
            log.info("%s: same content already processed, not again", name)
            if not intake.returned:
                self.audit.intake_duplicate(kenmerk=intake.kenmerk, bestand=name, sha256=digest)
            return Outcome(name, "duplicate", detail="al eerder verwerkt")
        self.store.journal_start(digest, name)
        if isinstance(intake.error, ValidationError):
            problems = report.describe_validation(intake.error)
            kenmerk = intake.kenmerk
            return self._fail(intake, digest, report.failure_report(
                name, problems=problems, kenmerk=kenmerk, rule="schema"), "; ".join(f"{f}: {p}" for f, p in problems),
                kenmerk=kenmerk, rule="schema", error="ValidationError")
        if intake.error is not None:
            return self._fail(intake, digest, work.report(intake, intake.error), intake.error.message)
        if intake.returned:
            intake = replace(intake, document=self.read_returned(intake))
        # the uniqueness of an invoice number is checked and recorded as one step
        invoice = intake.event is not None and intake.event.stap == "facturatie"
        with self._invoice_lock if invoice else nullcontext():
            return self._carry_out(intake, work)

    def _carry_out(self, intake: Intake, work: Work) -> Outcome:
        name, digest = intake.name, intake.sha256
        kenmerk = intake.kenmerk
        namens = intake.event.ingediend_door if intake.event is not None else None
        plan = None
        try:
            plan = work.decide(intake)
            kenmerk = plan.kenmerk
            made, unsigned = self._staged(digest, plan.decision.orders[len(plan.ready):], plan.held)
            # each finished PDF is hashed once, here (a returned one was hashed when it was read)
            digests = [digest if pdf is intake.raw else hashlib.sha256(pdf).hexdigest() for pdf in plan.ready] + \
                [hashlib.sha256(pdf).hexdigest() for pdf in made]
            if made:  # what was made here (a returned PDF itself was made and recorded before)
                ready = len(plan.ready)
                plan.audit.made(plan.decision.orders[ready:], made, digests=digests[ready:])
            delivered, records = self._deliver(plan.decision, [*plan.ready, *made], digests=digests,
                                               names=plan.names, validations=plan.validations)
            delivered += self._park(list(zip(plan.held, unsigned)), state=plan.decision.state)
            plan.audit.delivered(records)
        except PipelineError as e:
            outage = next(((what, rule) for kind, (what, rule) in _OUTAGES.items() if isinstance(e, kind)), None)
            if outage:  # an outage around us, not a bad file: retried, not failed
                what, rule = outage
                if plan is not None or not intake.returned:
                    (plan.audit if plan is not None else self._case_files.audit_of(intake)).failed(
                        regel=e.rule or rule, fout=type(e).__name__)
                return self._retry(intake, e, kenmerk=kenmerk, what=what)
            if e.kenmerk is None:
                e.kenmerk = kenmerk
            kenmerk = kenmerk or e.kenmerk  # a refused returned PDF: the case its name gives (journal, destroy)
            letter = (self._letter_to_requester(intake, intake.event, e)
                      if intake.event is not None and not intake.returned else None)
            text = report.report_for_error(name, e, letter=letter) if letter else work.report(intake, e)
            return self._fail(intake, digest, text, e.message, kenmerk=kenmerk,
                              rule=e.rule, error=type(e).__name__, namens=namens)
        work.record(intake, plan, records)
        self._move(intake, "processed")
        self._unstage(digest)
        waits = summarise_waiting(plan.decision.state) if plan.decision.state is not None else ()
        return Outcome(name, "processed", kenmerk=kenmerk, delivered=delivered, detail="; ".join(waits))

    def _letter_to_requester(self, intake: Intake, event, e: PipelineError) -> report.LetterNote | None:
        """A request refused outright (from the employer, about an aanstellingskeuring): the ready letter to the
        requester, made as every document is and checked by the guard, beside the report in `inbox/failed/`.
        None when no letter applies or it could not be made (the report then says to write one)."""
        today = self.clock.now().astimezone(DUTCH_TIME).date()  # the letter's date as a Dutch reader's calendar shows it
        letter = letter_to_requester(event, rule=e.rule, datum=today, organisaties=self.organisaties)
        if letter is None:
            return None
        target = self.stage.free_name("failed", intake.name) + report.LETTER_SUFFIX
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
        policy = self.returns
        return read_intake(self.stage, stage_id, name, max_case_file=self.max_file_bytes,
                           max_pdf=policy.max_bytes if policy else returns.MAX_PDF_BYTES)

    def read_returned(self, intake: Intake) -> ReturnedDocument:
        """A returned PDF read once as a PDF (its /Keywords, its signatures validated, its revisions), after the
        journal recorded that its processing started: a PDF that kills the process while it is read is resumed at
        most `MAX_RESUMES` times, as any file (read in the stage, before the journal, it would be read again at
        every restart)."""
        return self.return_reader.read(intake.raw, named=intake.named, sha256=intake.sha256,
                                       trust_roots=self.returns.trust_roots if self.returns else None)

    def case_state(self, kenmerk: str) -> CaseState | None:
        """The case's state: folded from its stored events once, then carried forward with each accepted event
        (a cheap look at the last stored event tells whether someone else changed the case meanwhile)."""
        last = self.store.last_event_sha256(kenmerk)
        if last is None:
            return None
        with self._states_lock:
            kept = self._states.get(kenmerk)
        if kept is not None and kept[0] == last:
            return kept[1]
        state = self.store.case_state(kenmerk)
        self._remember(kenmerk, last, state)
        return state

    def _remember(self, kenmerk: str, last_sha256: str, state: CaseState | None) -> None:
        if state is None:
            return
        # as `fold` makes it: without the configured master data, which `decide` adds for each new event
        state = replace(state, organisaties=MappingProxyType({}))
        with self._states_lock:
            self._states[kenmerk] = (last_sha256, state)

    def _facts(self, event) -> Facts:
        """Master data, and for an invoice every (issuer, number) already stored, for the core's decision."""
        if event.stap != "facturatie":
            return Facts(organisaties=self.organisaties)
        used = {}
        for kenmerk, payload in self.store.events_of_step("facturatie"):
            if kenmerk not in self._issuers:  # an invoiced case's SO doctor never changes: fold it once
                so = self.case_state(kenmerk).so_arts
                self._issuers[kenmerk] = issuer(so.praktijk or payload.get("praktijk"), so.organisatie)
            used[(self._issuers[kenmerk], payload["factuurnummer"])] = kenmerk
        return Facts(organisaties=self.organisaties, factuurnummers=MappingProxyType(used))

    # --- steps --------------------------------------------------------------------------------------------------

    def _staged(self, digest: str, orders: Sequence[DocumentOrder],
                held: Sequence[DocumentOrder] = ()) -> tuple[list[bytes], list[bytes]]:
        """(the finished documents of this file, made once; the held documents, unsigned).

        The finished ones are kept in `state/staging/<sha256>/` until the event is recorded, so that after a crash
        the same bytes are delivered again (idempotent), not a second, differently signed copy. Making is two
        phases: render and convert every document (over the document pool), then sign those to be signed.
        """
        names = [f"{i:02d}_{o.kind}.pdf" for i, o in enumerate(orders)]
        kept = self._kept(digest, names) if orders else []
        pdfs = list(self._pool.map(self._convert, [*([] if kept else orders), *held]))
        if kept:
            return kept, pdfs
        # one after the other (the signer also serialises signatures across cases: `OrderSigner`)
        documents = [self._sign(order, pdf) for order, pdf in zip(orders, pdfs)]
        if orders:
            try:
                with safefs.folder(self.root, (*self._staging_parts, digest), create=safefs.PRIVATE_DIR) as fd:
                    for n, pdf in zip(names, documents):
                        safefs.write_at(fd, n, pdf)
                    safefs.write_at(fd, "COMPLETE", b"")
            except OSError as e:
                raise DeliveryError(f"Kan de documenten niet tijdelijk opslaan: {e.strerror or e}") from e
        return documents, pdfs[len(orders):]

    def _kept(self, digest: str, names: Sequence[str]) -> list[bytes]:
        """The documents a crashed run of this file left complete in the staging folder, or []."""
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
        return []

    def _unstage(self, digest: str) -> None:
        try:
            with safefs.folder(self.root, self._staging_parts) as top:
                safefs.remove_tree_at(top, digest)
        except OSError as e:  # a leftover is harmless (removed by the next run of this file or by destroy)
            log.warning("staging of %s not removed: %s", digest[:12], e.strerror or e)

    def _make_one(self, order: DocumentOrder) -> bytes:
        return self._sign(order, self._convert(order))

    def _convert(self, order: DocumentOrder) -> bytes:
        """Render the document's template and convert it to PDF/A (unsigned)."""
        docx = self.renderer.render(order.row.template, order.context)
        return self.converter.convert(docx, metadata=PdfMetadata(title=order.title, author=order.author,
                                                                 subject=order.row.titel, keywords=order.reference))

    def _sign(self, order: DocumentOrder, pdf: bytes) -> bytes:
        return self.signer.sign(pdf, order) if order.sign is not None else pdf

    def _park(self, unsigned: Sequence[tuple[DocumentOrder, bytes]], *, state: CaseState) -> list[Path]:
        """Put each unsigned document in its signer's `te-ondertekenen/` folder and record it as pending."""
        parked = []
        for order, pdf in unsigned:
            name = file_name(order.kenmerk, order.kind)
            party = signer_party(order.kind)
            big = order.sign.big_nummer if order.sign else None
            code = big or recipient_code(party, state)
            try:
                target = self.mailboxes.deliver(party, order.kenmerk, name, pdf, code=code,
                                                sub=(returns.TE_ONDERTEKENEN,))
            except DeliveryError as e:
                raise DeliveryError(f"Kan {name} niet klaarzetten om te ondertekenen: {e.message}",
                                    kenmerk=order.kenmerk) from e
            self.store.add_pending(kenmerk=order.kenmerk, kind=order.kind, sha256=hashlib.sha256(pdf).hexdigest(),
                                   size=len(pdf), path=str(target.relative_to(self.mailboxes.outbox.parent)),
                                   signer_big=big)
            log.info("%s: %s waits for the signature of %s in %s", order.kenmerk, name,
                     order.sign.naam if order.sign else "?", target.parent)
            parked.append(target)
        return parked

    def _deliver(self, decision: Decision, documents: list[bytes], *, digests: Sequence[str] | None = None,
                 names: Sequence[str] | None = None, validations: Sequence = ()
                 ) -> tuple[list[Path], list[DeliveryRecord]]:
        """`validations`: what is known of the signatures of the first documents (`Plan.validations`)."""
        state = decision.state
        delivered: list[Path] = []
        records: list[DeliveryRecord] = []
        now = utc_iso(self.clock)
        # Check everything first, then write: a guard hit must not leave half the mailboxes filled.
        plan = []
        if digests is None:
            digests = [hashlib.sha256(pdf).hexdigest() for pdf in documents]
        for i, (order, pdf, digest) in enumerate(zip(decision.orders, documents, digests)):
            for d in order.deliveries:
                name = names[i] if names else order.file_name(d.party)
                code = recipient_code(d.party, state)
                folder = order.folder_key(d.party)  # the kenmerk, or the employer's invoice folder
                target = self.mailboxes.path(d.party, folder, name, code=code)
                rel = str(target.relative_to(self.mailboxes.outbox.parent))
                # consent is checked here, once, at the moment of delivery (the guard checks only the content)
                if not state.heeft_toestemming(d.consent):
                    records.append(DeliveryRecord(order.kenmerk, order.kind, d.party.value, rel, None, "withheld",
                                                  f"geen toestemming '{d.consent}'", now))
                    continue
                findings = self.guard.check(pdf, order=order, party=d.party, state=state, path=rel,
                                            sha256=digest, consent_checked=True) if self.guard else []
                # where the file really lands: a folder on the way that is a link is refused before anything is written
                self.mailboxes.check(d.party, folder, code=code)
                known = validations[i] if i < len(validations) else None
                plan.append((order, d.party, code, folder, name, pdf, digest, rel, findings, known))
        for order, party, code, folder, name, pdf, digest, rel, findings, known in plan:
            if findings:
                qpath = self._quarantine(order, party, name, pdf, findings)
                records.append(DeliveryRecord(order.kenmerk, order.kind, party.value, str(qpath), digest,
                                              "quarantined", "; ".join(f"{f.what} in {f.where}" for f in findings),
                                              now))
                log.warning("%s: %s for %s quarantined by the privacy guard", order.kenmerk, name, party.value)
                continue
            delivered.append(self.mailboxes.deliver(party, folder, name, pdf, code=code, sha256=digest,
                                                    validation=known))
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
        try:
            self.audit.intake_refused(kenmerk=kenmerk, bestand=name, sha256=digest, regel=rule, fout=error,
                                      namens=namens)
        except Exception:  # the file is still set aside with its report; the operator sees why in the log
            log.error("%s: refusal not recorded in the audit trail", name, exc_info=True)
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


def _kenmerk_or_none(intake: Intake) -> str | None:
    try:
        return intake.kenmerk
    except Exception:  # the internal error may be in the very value that names the case
        return None


def _below(root: Path, path: Path) -> tuple[str, ...]:
    """`path` as components below the root (the pipeline's own folders all live there)."""
    return Path(path).relative_to(root).parts


def _quarantine_report(order: DocumentOrder, party: Party, findings: list[Finding]) -> str:
    lines = [f"QUARANTAINE: {order.file_name(party)} is NIET bezorgd bij {party.value}.", "",
             "De privacycontrole vond in het afgemaakte bestand gegevens die deze ontvanger niet mag zien:"]
    lines += [f"  - {f.what} (in {f.where})" for f in findings]
    lines += ["", "Wat nu: controleer het sjabloon en de gegevens van de zaak; de andere ontvangers hebben hun "
              "exemplaar wel gekregen.", ""]
    return "\n".join(lines)


# --- what differs between the two kinds of inbox file ---------------------------------------------------------

class CaseFileWork:
    """A case file: `decide()` on the case's state; recorded as an accepted event."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.p = pipeline

    def report(self, intake: Intake, e: PipelineError) -> str:
        return report.report_for_error(intake.name, e)

    def audit_of(self, intake: Intake) -> CaseFileAudit:
        event = intake.event
        return self.p.audit.case_file(kenmerk=event.kenmerk, namens=event.ingediend_door, datum=event.datum,
                                      bestand=intake.name, sha256=intake.sha256)

    def decide(self, intake: Intake) -> Plan:
        p, event = self.p, intake.event
        audit = self.audit_of(intake)
        state = p.case_state(event.kenmerk)
        # documents awaiting a personal signature the pipeline cannot make go unsigned to the signer instead
        decision, held = hold_for_signature(decide(state, event, facts=p._facts(event)),
                                            signable=getattr(p.signer, "can_sign", None))
        return Plan(event.kenmerk, decision, audit, held=held, before=state)

    def record(self, intake: Intake, plan: Plan, records: list[DeliveryRecord]) -> None:
        p, event, state = self.p, intake.event, plan.decision.state
        p.store.accept(kenmerk=event.kenmerk, stap=event.stap, datum=event.datum.isoformat(), payload=intake.data,
                       sha256=intake.sha256, file_name=intake.name, ingediend_door=event.ingediend_door,
                       deliveries=records, summary=summary_row(state))
        p._remember(event.kenmerk, intake.sha256, state)
        plan.audit.accepted(event.stap, before=plan.before.consents if plan.before else {}, after=state.consents)
        log.info("%s: %s %s processed, %d file(s) delivered", intake.name, event.kenmerk, event.stap,
                 sum(r.status == "delivered" for r in records))
        for waiting in summarise_waiting(state):  # the form to sign went to the employee; the data wait for it
            log.info("%s: %s", event.kenmerk, waiting)


class ReturnedPdfWork:
    """A signed PDF coming back: the pure checks of `pipeline.core.returns` on the document read once; recorded
    by closing its pending signature."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.p = pipeline

    def report(self, intake: Intake, e: PipelineError) -> str:
        return returns.report(intake.name, e, kind=intake.named.kind)

    def decide(self, intake: Intake) -> Plan:
        p, raw, doc, policy = self.p, intake.raw, intake.document, self.p.returns
        if policy is None:
            raise checks.not_configured()
        kenmerk, kind = checks.identify(intake.named, doc)
        state = p.case_state(kenmerk)
        pending = p.store.pending(kenmerk, kind) if state is not None else None
        arts = checks.expected_signer(kenmerk, kind, state=state, pending=pending)
        result = checks.check_return(raw, doc, kenmerk=kenmerk, kind=kind, arts=arts, pending=pending,
                                     artsen=policy.artsen)
        audit = p.audit.case_file(kenmerk=kenmerk, namens=None, datum=state.laatste_datum, bestand=intake.name,
                                  sha256=intake.sha256)
        audit.verified(document=kind, sha256=intake.sha256, ondertekenaar=arts.naam if arts else None)
        decision = returned_signed(state, kind)
        # accepted: validation data and an archive timestamp as configured for that signer (renewed later by
        # `archive renew`); an outage of the trust services is a retry, as for any signature. Delivered as it
        # came, the validation made on arrival is the archive's report; upgraded, those are other bytes, whose
        # added timestamp and validation data only a validation of them can report
        extend = getattr(p.signer, "extend", None)
        final = extend(raw, SIGNED_BY[kind], current=result.signatures[0].level) if extend else raw
        return Plan(kenmerk, decision, audit, ready=(final,), before=state, kind=kind,
                    validations=(doc.validation if final is raw else None,))

    def record(self, intake: Intake, plan: Plan, records: list[DeliveryRecord]) -> None:
        self.p.store.complete_pending(kenmerk=plan.kenmerk, kind=plan.kind, signed_sha256=intake.sha256,
                                      deliveries=records)
        log.info("%s: signed %s returned and delivered (%d files)", plan.kenmerk, intake.name,
                 sum(r.status == "delivered" for r in records))


class ConsentFormWork:
    """A consent form signed by the employee coming back (a scan or PAdES-signed): checked (`pipeline.core.returns`;
    signed electronically: over exactly the form we made), archived beside the sealed record of the consent and
    sent to no one. Recorded among the case's events as the pipeline's own `machtiging_ontvangen`, so that the fold
    knows the written consent is in the dossier; what waited for it (the sealed record, the medical data, an
    information request) is made and delivered with it (`procedure.decide`)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.p = pipeline

    def report(self, intake: Intake, e: PipelineError) -> str:
        return returns.consent_form_report(intake.name, e)

    def decide(self, intake: Intake) -> Plan:
        form = intake.named.form
        try:
            return self._decide(intake, form)
        except PipelineError as e:  # the journal row and `archive destroy` find a refused form by its case
            e.kenmerk = e.kenmerk or form.kenmerk
            raise

    def _decide(self, intake: Intake, form: checks.ConsentForm) -> Plan:
        p, raw, doc = self.p, intake.raw, intake.document
        checks.check_form_contents(form, doc)
        state = p.case_state(form.kenmerk)
        signatures = ()
        if state is not None:
            if doc.validation_error is not None:  # pyHanko's own words stay in the log, the report says it in Dutch
                log.info("%s: signatures of the consent form not readable: %s", form.kenmerk, doc.validation_error)
            signatures, _stamps = checks.form_signatures(form, doc)
        archived = [r for r in p.store.deliveries(form.kenmerk) if r.kind == form.kind
                    and r.status == "delivered"] if state is not None else []
        replacing = bool(archived) and checks.replacement_granted(
            p.audit.trail(form.kenmerk), kind=form.kind, sha256=intake.sha256)
        checks.check_consent_form(form, state=state, signatures=signatures, archived=bool(archived),
                                  replacing=replacing)
        # a replacement (allowed in the audit trail) is only archived: the consent it signs was signed before
        today = p.clock.now().astimezone(DUTCH_TIME).date()
        event = None if replacing else checks.received_event(form, state, sha256=intake.sha256, today=today,
                                                             scanned=not signatures)
        if signatures and event is not None:  # PAdES over exactly the form we made for it, when we made one
            checks.check_signed_over_form(raw, kenmerk=form.kenmerk, forms=[
                r.sha256 for r in p.store.deliveries(form.kenmerk)
                if r.kind == form_kind(event.machtiging) and r.status == "delivered" and r.sha256])
        audit = p.audit.case_file(kenmerk=form.kenmerk, namens=None, datum=state.laatste_datum, bestand=intake.name,
                                  sha256=intake.sha256)
        if signatures:  # each signature intact and nothing changed after our seal; who signed is the form's to show
            audit.verified(document=form.kind, sha256=intake.sha256,
                           ondertekenaar=f"{len(signatures)} handtekening(en) intact; ondertekenaar niet vastgesteld")
        order = checks.archive_order(form)
        archive_name = checks.archive_name(form, earlier=len(archived))
        validations = (doc.validation,)  # archived as it came: its validation is the archive's report
        if event is None:
            return Plan(form.kenmerk, Decision(state, (order,)), audit, ready=(raw,), before=state, kind=form.kind,
                        names=(archive_name,), validations=validations)
        # what waited for this form goes now (made now, staged by this file's SHA-256 like any event's documents)
        released, held = hold_for_signature(decide(state, event, facts=p._facts(event)),
                                            signable=getattr(p.signer, "can_sign", None))
        names = (archive_name, *(file_name(o.kenmerk, o.kind) for o in released.orders))
        return Plan(form.kenmerk, Decision(released.state, (order, *released.orders)), audit, ready=(raw,),
                    held=held, before=state, kind=form.kind, names=names, event=event, validations=validations)

    def record(self, intake: Intake, plan: Plan, records: list[DeliveryRecord]) -> None:
        p, event = self.p, plan.event
        if event is None:  # a replacement of an archived form, as the records officer allowed
            p.store.record_document(kenmerk=plan.kenmerk, sha256=intake.sha256, deliveries=records)
            plan.audit.accepted("machtiging_vervangen", before=plan.before.consents, after=plan.before.consents)
            log.info("%s: signed consent form %s archived (replaces the earlier one, as allowed in the audit trail)",
                     plan.kenmerk, intake.name)
            return
        state = plan.decision.state
        p.store.accept(kenmerk=plan.kenmerk, stap=event.stap, datum=event.datum.isoformat(),
                       payload=event.model_dump(mode="json", by_alias=True), sha256=intake.sha256,
                       file_name=intake.name, ingediend_door=None, deliveries=records, summary=summary_row(state))
        p._remember(plan.kenmerk, intake.sha256, state)
        plan.audit.accepted("machtiging_ondertekend", before=plan.before.consents, after=state.consents)
        log.info("%s: signed consent form %s archived, %d document(s) released", plan.kenmerk, intake.name,
                 len(plan.decision.orders) - 1)


def process_in_case_order(pipeline: "Pipeline", intakes: Sequence[Intake], *, workers: int = 4,
                    on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Files already read into the stage: cases in parallel, the files of one case in procedure order; once a
    file of a case is left for retry, its later files go back to the inbox to wait for it."""
    chains: dict[str, list[Intake]] = {}
    for intake in sorted(intakes, key=lambda i: i.order):
        chains.setdefault(intake.chain, []).append(intake)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def run_chain(chain: list[Intake]) -> None:
        waiting = None  # once a file of this case is left for retry, its later files wait for it (same order)
        for intake in chain:
            outcome = pipeline.put_back(intake, f"wacht op {waiting}") if waiting \
                else pipeline.process_intake(intake)
            if outcome.status == "retry" and waiting is None:
                waiting = intake.name
            with lock:
                outcomes.append(outcome)
                if on_outcome:
                    on_outcome(outcome)

    if workers <= 1 or len(chains) <= 1:
        for chain in chains.values():
            run_chain(chain)
        return outcomes
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sopipe-case") as pool:
        for future in [pool.submit(run_chain, chain) for chain in chains.values()]:
            future.result()
    return outcomes
