"""Archive mailbox with validation reports: next to each signed PDF an ETSI TS 119 102-2 report (`.validatie.xml`).

The archive keeps the dossier 20 years; the report records what was established about each signature on the
day it was archived (who signed, when, which level, trusted or not), in the standard's XML, so a later reader
does not depend on today's software to know what was checked. A signed PDF validated already on its way in (a
returned document, read once: `pipeline.adapters.returned_pdf`) brings that validation along, and its report is
made from it rather than from a second validation of the same bytes.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import multiprocessing
import os
import queue
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Protocol, Sequence

from pipeline.adapters.child_env import secrets_hidden
from pipeline.adapters.mailbox import MailboxAccess, Mailboxes, atomic_write
from pipeline.adapters.store import ReportDue
from pipeline.adapters.validation import Validation, etsi_validation_report, verify_pdf
from pipeline.core.routing import Party
from pipeline.errors import DeliveryError, SigningError

log = logging.getLogger("sopipe")

REPORT_SUFFIX = ".validatie.xml"


def looks_signed(pdf: bytes) -> bool:
    return b"/ByteRange" in pdf


class ReportLedger(Protocol):
    """Where owed validation reports are kept across a crash (`Store` in production, a list in tests)."""

    def report_due(self, due: ReportDue) -> None: ...

    def reports_due(self) -> list[ReportDue]: ...

    def report_made(self, due: ReportDue) -> None: ...


class ValidatingMailboxes(Mailboxes):
    """Mailboxes that write `<name>.validatie.xml` beside every signed PDF delivered to the archive.

    `processes`: validate in that many child processes instead of this one. Validating a PAdES B-LTA document
    (its signature, timestamps and the changes of every revision) costs ~0.25 s of pure Python, which in the
    pipeline's process would hold the interpreter lock that rendering, signing and the privacy check share; in a
    child it runs on another core meanwhile. The children start on first use and stop with `close()`.

    `ledger`: make the reports in the background, after delivery. The delivery records the report as owed in the
    ledger (before the PDF is written) and returns at once; a writer thread writes each report when its child is
    done and strikes it from the ledger. The children run at the lowest CPU priority, so while a batch is being
    processed they take only the time LibreOffice, rendering and signing leave over, and catch up when it is done.
    A crash leaves the owed reports in the ledger; `resume()` makes them at the next start (the PDF is read back
    and must still have the digest it was delivered with). `drain()` waits until every report is written
    (`watch --once` does before it returns). Without a ledger, each delivery waits for its report.

    `pool`: children started elsewhere (`validation_pool`), used instead of starting its own; whoever passes it
    in shuts it down (the tests share one over the session: starting two interpreters per root costs more than
    the validations they make).
    """

    def __init__(self, outbox: Path, *, trust_roots: Sequence[Path], processes: int = 0,
                 access: MailboxAccess | None = None, ledger: ReportLedger | None = None,
                 pool: ProcessPoolExecutor | None = None) -> None:
        super().__init__(outbox, access=access)
        self.trust_roots = tuple(trust_roots)
        self._processes = processes
        self._pool = pool
        self._executor = None
        self._lock = threading.Lock()
        self._ledger = ledger
        self._jobs: "queue.Queue[tuple[ReportDue, Callable[[], bytes | None]] | None]" = queue.Queue()
        self._writer: threading.Thread | None = None

    def deliver(self, party: Party, kenmerk: str, file_name: str, data: bytes, *, code: str | None = None,
                sub: tuple[str, ...] = (), sha256: str | None = None, validation: Validation | None = None) -> Path:
        """`validation`: the validation of exactly `data` against these trust roots, when made already: the report
        is made from it (any other is ignored, and `data` validated here)."""
        signed = party is Party.ARCHIEF and looks_signed(data)
        digest = sha256 or (hashlib.sha256(data).hexdigest() if signed else None)
        known = validation if validation is not None and validation.sha256 == digest and \
            tuple(validation.trust_roots) == self.trust_roots else None
        if signed and self._ledger is not None:
            due = ReportDue(kenmerk, file_name, code, tuple(sub), digest)
            self._ledger.report_due(due)  # owed before the PDF exists: a crash in between is resumed
            target = super().deliver(party, kenmerk, file_name, data, code=code, sub=sub)
            self._later(due, data, known=known)
            return target
        target = super().deliver(party, kenmerk, file_name, data, code=code, sub=sub)
        if signed:
            validate = functools.partial(self._validate, sha256=sha256) if known is None else \
                (lambda *_: known_xml(known, file_name))
            xml = validation_report(file_name, data, trust_roots=self.trust_roots, validate=validate)
            if xml is not None:  # written like the PDF itself: through the same descriptors, never a link
                super().deliver(party, kenmerk, file_name + REPORT_SUFFIX, xml, code=code, sub=sub)
        return target

    # --- in the background ------------------------------------------------------------------------------------

    def resume(self) -> int:
        """Queue the reports a crash left owed; returns how many. A PDF that is gone or changed is struck off."""
        if self._ledger is None:
            return 0
        queued = 0
        for due in self._ledger.reports_due():
            path = self.path(Party.ARCHIEF, due.kenmerk, due.file_name, code=due.code, sub=due.sub)
            try:
                self.check(Party.ARCHIEF, due.kenmerk, code=due.code)
                data = path.read_bytes()
            except (OSError, DeliveryError):
                data = None
            if data is None or hashlib.sha256(data).hexdigest() != due.sha256:
                self._ledger.report_made(due)
                continue
            self._later(due, data)
            queued += 1
        return queued

    def drain(self) -> None:
        """Wait until every owed report of this process is written."""
        if self._writer is not None:
            self._jobs.join()

    def _later(self, due: ReportDue, data: bytes, *, known: Validation | None = None) -> None:
        """Make the report in the background: from `known` when given, else from a validation started now."""
        future = self._submit(data, due.file_name, due.sha256) if known is None else \
            (lambda: known_xml(known, due.file_name))
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_reports, name="sopipe-validation-reports",
                                                daemon=True)
                self._writer.start()
        self._jobs.put((due, future))

    def _submit(self, pdf: bytes, name: str, sha256: str) -> Callable[[], bytes | None]:
        """Start validating now (in a child when there are any); the result, or None when unreadable, later."""
        def result(get: Callable[[], bytes]) -> bytes | None:
            return validation_report(name, pdf, trust_roots=self.trust_roots, validate=lambda *_: get())
        future = self._start(pdf, name, self.trust_roots, sha256)
        if future is None:
            return lambda: result(lambda: validation_xml(pdf, name, self.trust_roots, sha256=sha256))
        return lambda: result(future.result)

    def _write_reports(self) -> None:
        while (job := self._jobs.get()) is not None:
            due, report = job
            try:
                xml = report()
                if xml is not None:  # beside its PDF, after the file's own walk (not a delivery of it)
                    self.write(Party.ARCHIEF, due.kenmerk, due.file_name + REPORT_SUFFIX, xml, code=due.code,
                               sub=due.sub)
                self._ledger.report_made(due)
            except Exception:  # the report stays owed; the next start makes it
                log.exception("%s: validation report of %s not written", due.kenmerk, due.file_name)
            finally:
                self._jobs.task_done()
        self._jobs.task_done()

    # --- the child processes ------------------------------------------------------------------------------------

    def _start(self, pdf: bytes, name: str, trust_roots: tuple[Path, ...], sha256: str | None):
        """Validation of `pdf` started in a child (a future), or None when there are no children."""
        if not self._processes and self._pool is None:
            return None
        # a spawned child (and multiprocessing's resource tracker, started with the executor's queues) copies the
        # environment as it is: made and fed while the secrets are out of it
        with self._lock, secrets_hidden():
            if self._pool is not None:
                return self._pool.submit(validation_xml, pdf, name, trust_roots, sha256=sha256)
            if self._executor is None:
                self._executor = validation_pool(self._processes, background=self._ledger is not None)
            return self._executor.submit(validation_xml, pdf, name, trust_roots, sha256=sha256)

    def _validate(self, pdf: bytes, name: str, trust_roots: tuple[Path, ...], *, sha256: str | None = None) -> bytes:
        future = self._start(pdf, name, trust_roots, sha256)
        if future is None:
            return validation_xml(pdf, name, trust_roots, sha256=sha256)
        return future.result()

    def close(self) -> None:
        """Write the owed reports, then stop the writer and the children."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            self._jobs.put(None)
            writer.join()
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


def validation_pool(processes: int, *, background: bool) -> ProcessPoolExecutor:
    """`processes` children that validate (spawned on first use, so submit within `secrets_hidden()`), each ending
    with this process; `background`: at the lowest CPU priority."""
    return ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"), initializer=_child_start,
                               initargs=(os.getpid(), background))


def _child_start(parent: int, background: bool) -> None:
    """In a validation child: the lowest CPU priority when reports are made in the background (deliveries
    first), and an end as soon as the pipeline's process is gone."""
    if background:
        os.nice(19)
    _end_with_parent(parent)


def _end_with_parent(parent: int) -> None:
    """In a validation child: exit as soon as the pipeline's process is gone, also after a kill -9 (which closes
    no pipe the child waits on, so it would otherwise wait for ever)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="sopipe-validation-parent", daemon=True).start()


def known_xml(validation: Validation, name: str) -> bytes:
    """The ETSI validation report of a PDF (named `name`) from its validation made already."""
    return etsi_validation_report(validation.report, document_name=name, document_sha256=validation.sha256)


def validation_xml(pdf: bytes, name: str, trust_roots: Sequence[Path], *, sha256: str | None = None) -> bytes:
    """The ETSI validation report of `pdf` (named `name`, digest `sha256` when known), validated offline against
    `trust_roots`."""
    result = verify_pdf(pdf, trust_roots=list(trust_roots))
    return etsi_validation_report(result, document_name=name,
                                  document_sha256=sha256 or hashlib.sha256(pdf).hexdigest())


def validation_report(name: str, pdf: bytes, *, trust_roots: Sequence[Path],
                      validate: Callable[[bytes, str, tuple[Path, ...]], bytes] = validation_xml) -> bytes | None:
    """The ETSI report of `pdf` (stored as `name`); None when the signature cannot be read at all."""
    try:
        return validate(pdf, name, tuple(trust_roots))
    except SigningError as e:  # an unreadable signature is itself worth recording; it never blocks delivery
        log.warning("%s: validation report failed: %s", name, e.message)
        return None


def write_validation_report(target: Path, pdf: bytes, *, trust_roots: Sequence[Path]) -> Path:
    """Validate `pdf` (stored at `target`) and write the ETSI report beside it; returns the report's path."""
    report_path = target.with_name(target.name + REPORT_SUFFIX)
    xml = validation_report(target.name, pdf, trust_roots=trust_roots)
    if xml is None:
        return report_path
    try:
        atomic_write(report_path, xml)
    except OSError as e:
        raise DeliveryError(f"Kan het validatierapport {report_path.name} niet schrijven: {e.strerror or e}") from e
    return report_path
