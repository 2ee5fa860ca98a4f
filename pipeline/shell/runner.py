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
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Protocol, Sequence

from pydantic import ValidationError

from pipeline.adapters.audit import Audit, NullAudit
from pipeline.adapters.converter import Converter, PdfMetadata
from pipeline.adapters.mailbox import Mailboxes, atomic_write
from pipeline.adapters.store import DeliveryRecord, Store
from pipeline.core import model
from pipeline.core.organisaties import Facts, Organisatie, issuer
from pipeline.core.procedure import Decision, DocumentOrder, decide, fold
from pipeline.core.routing import Party, file_name
from pipeline.core.signatures import hold_for_signature
from pipeline.core.state import CaseState
from pipeline.errors import CaseFileError, DeliveryError, PipelineError
from pipeline.shell import report, returns

log = logging.getLogger("sopipe")

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
    """`processed`, `duplicate`, `failed` or `retry` (left in the inbox: the pipeline itself failed)."""
    kenmerk: str | None = None
    detail: str = ""
    delivered: list[Path] = field(default_factory=list)


class Pipeline:
    def __init__(self, *, inbox: Path, outbox: Path, quarantine: Path, store: Store, renderer: Renderer,
                 converter: Converter, signer: DocumentSigner, guard: Guard | None = None,
                 max_file_bytes: int = 1_048_576, parallel: int = 2, staging: Path | None = None,
                 audit: Audit | None = None, returns: returns.ReturnPolicy | None = None,
                 mailboxes: Mailboxes | None = None, organisaties: Mapping[str, Organisatie] | None = None) -> None:
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
        self._pool = ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="sopipe-doc")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    # --- one file -----------------------------------------------------------------------------------------------

    def process(self, path: Path) -> Outcome:
        if path.suffix.lower() == ".pdf":  # a signed document coming back (pipeline.shell.returns)
            return returns.process_returned_pdf(self, path)
        name = path.name
        try:
            raw = self._read(path)
        except CaseFileError as e:
            return self._fail(path, None, report.report_for_error(name, e), e.message)
        digest = hashlib.sha256(raw).hexdigest()
        if self.store.journal_status(digest) == "done":
            # Either dropped twice, or we crashed between recording and moving: in both cases done already.
            self._move(path, "processed", suffix="" if self.store.journal_file_name(digest) == name else ".duplicaat")
            log.info("%s: same content already processed, not again", name)
            self.audit.intake_duplicate(kenmerk=_peek_kenmerk(raw), bestand=name, sha256=digest)
            return Outcome(name, "duplicate", detail="al eerder verwerkt")
        self.store.journal_start(digest, name)
        try:
            event, data = self._parse(raw, name)
        except ValidationError as e:
            problems = report.describe_validation(e)
            kenmerk = _peek_kenmerk(raw)
            return self._fail(path, digest, report.failure_report(
                name, problems=problems, kenmerk=kenmerk, rule="schema"), "; ".join(f"{f}: {p}" for f, p in problems),
                kenmerk=kenmerk, rule="schema", error="ValidationError")
        except CaseFileError as e:
            return self._fail(path, digest, report.report_for_error(name, e), e.message)
        if event.stap == "facturatie":  # the uniqueness of an invoice number is checked and recorded as one step
            with self._invoice_lock:
                return self._apply(path, digest, event, data)
        return self._apply(path, digest, event, data)

    def _apply(self, path: Path, digest: str, event, data: dict) -> Outcome:
        name = path.name
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
            delivered += returns.park_for_signature(self, unsigned)
            case_audit.delivered(records)
        except PipelineError as e:
            if isinstance(e, DeliveryError):
                case_audit.failed(regel=e.rule or "bezorging", fout=type(e).__name__)
                self.store.journal_failed(digest, kenmerk=event.kenmerk, detail=f"retry: {e.message}")
                log.error("%s: delivery failed, file stays in the inbox: %s", name, e.message)
                return Outcome(name, "retry", kenmerk=event.kenmerk, detail=e.message)
            if e.kenmerk is None:
                e.kenmerk = event.kenmerk
            return self._fail(path, digest, report.report_for_error(name, e), e.message, kenmerk=event.kenmerk,
                              rule=e.rule, error=type(e).__name__, namens=event.ingediend_door)
        self.store.accept(kenmerk=event.kenmerk, stap=event.stap, datum=event.datum.isoformat(), payload=data,
                          sha256=digest, file_name=name, ingediend_door=event.ingediend_door, deliveries=records)
        case_audit.accepted(event.stap, before=state.consents if state else {}, after=decision.state.consents)
        self._move(path, "processed")
        self._unstage(digest)
        log.info("%s: %s %s processed, %d file(s) delivered", name, event.kenmerk, event.stap, len(delivered))
        return Outcome(name, "processed", kenmerk=event.kenmerk, delivered=delivered)

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

    def _read(self, path: Path) -> bytes:
        if path.is_symlink() or not path.is_file():
            raise CaseFileError("Dit is geen gewoon bestand (een snelkoppeling of map); zet het bestand zelf in "
                                "de inbox.")
        size = path.stat().st_size
        if size == 0:
            raise CaseFileError("Het bestand is leeg.")
        if size > self.max_file_bytes:
            raise CaseFileError(f"Het bestand is te groot ({size} bytes; de grens is {self.max_file_bytes}).")
        return path.read_bytes()

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
        folder = self.staging / digest
        names = [f"{i:02d}_{o.kind}.pdf" for i, o in enumerate(orders)]
        if (folder / "COMPLETE").exists() and all((folder / n).exists() for n in names):
            return [(folder / n).read_bytes() for n in names]
        documents = list(self._pool.map(self._make_one, orders))
        try:
            for n, pdf in zip(names, documents):
                atomic_write(folder / n, pdf, mode=0o600)
            atomic_write(folder / "COMPLETE", b"", mode=0o600)
        except OSError as e:
            raise DeliveryError(f"Kan de documenten niet tijdelijk opslaan: {e.strerror or e}") from e
        return documents

    def _unstage(self, digest: str) -> None:
        shutil.rmtree(self.staging / digest, ignore_errors=True)

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
                target = self.mailboxes.path(d.party, order.kenmerk, name)
                rel = str(target.relative_to(self.mailboxes.outbox.parent))
                if not state.heeft_toestemming(d.consent):
                    records.append(DeliveryRecord(order.kenmerk, order.kind, d.party.value, rel, None, "withheld",
                                                  f"geen toestemming '{d.consent}'", now))
                    continue
                findings = self.guard.check(pdf, order=order, party=d.party, state=state, path=rel) \
                    if self.guard else []
                plan.append((order, d.party, name, pdf, digest, rel, findings))
        for order, party, name, pdf, digest, rel, findings in plan:
            if findings:
                qpath = self._quarantine(order, party, name, pdf, findings)
                records.append(DeliveryRecord(order.kenmerk, order.kind, party.value, str(qpath), digest,
                                              "quarantined", "; ".join(f"{f.what} in {f.where}" for f in findings),
                                              now))
                log.warning("%s: %s for %s quarantined by the privacy guard", order.kenmerk, name, party.value)
                continue
            delivered.append(self.mailboxes.deliver(party, order.kenmerk, name, pdf))
            records.append(DeliveryRecord(order.kenmerk, order.kind, party.value, rel, digest, "delivered", None,
                                          now))
        return delivered, records

    def _quarantine(self, order: DocumentOrder, party: Party, name: str, pdf: bytes,
                    findings: list[Finding]) -> Path:
        folder = self.quarantine / order.kenmerk
        target = folder / f"{party.value}_{name}"
        try:
            atomic_write(target, pdf, mode=0o600)
            atomic_write(folder / f"{party.value}_{name}.report.txt", _quarantine_report(order, party, findings)
                         .encode("utf-8"), mode=0o600)
        except OSError as e:
            raise DeliveryError(f"Kan niet naar quarantaine schrijven: {e}", kenmerk=order.kenmerk) from e
        return target

    def _fail(self, path: Path, digest: str | None, text: str, detail: str, *, kenmerk: str | None = None,
              rule: str | None = None, error: str | None = None, namens: str | None = None) -> Outcome:
        # the audit keeps the rule, never `detail` (which may quote the file's values)
        self.audit.intake_refused(kenmerk=kenmerk, bestand=path.name, sha256=digest, regel=rule, fout=error,
                                  namens=namens)
        # the report first: a crash in between leaves a report without its file, which the retry overwrites
        target = self._free_target(path, "failed")
        atomic_write(target.with_name(target.name + ".error.txt"), text.encode("utf-8"))
        self._move(path, "failed")
        if digest is not None:
            self.store.journal_failed(digest, kenmerk=kenmerk, detail=detail)
        # `detail` may quote the file's own values (medical text, a BSN): the log names the file and case only
        log.warning("%s: not processed (%s); report in inbox/failed/", path.name, kenmerk or "kenmerk unknown")
        return Outcome(path.name, "failed", kenmerk=kenmerk, detail=detail)

    def _free_target(self, path: Path, folder: str, *, suffix: str = "") -> Path:
        dest_dir = self.inbox / folder
        dest_dir.mkdir(exist_ok=True)
        target = dest_dir / (path.name + suffix)
        n = 1
        while target.exists() or target.is_symlink():
            target = dest_dir / f"{path.stem}.{n}{path.suffix}{suffix}"
            n += 1
        return target

    def _move(self, path: Path, folder: str, *, suffix: str = "") -> Path:
        target = self._free_target(path, folder, suffix=suffix)
        if path.is_dir() and not path.is_symlink():
            shutil.move(str(path), target)
        else:
            os.replace(path, target)
        return target


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
    return value if isinstance(value, str) and len(value) <= 40 else None


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
