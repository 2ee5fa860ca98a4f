"""Archive mailbox with validation reports: next to each signed PDF an ETSI TS 119 102-2 report (`.validatie.xml`).

The archive keeps the dossier 20 years; the report records what was established about each signature on the
day it was archived (who signed, when, which level, trusted or not), in the standard's XML, so a later reader
does not depend on today's software to know what was checked.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import multiprocessing
import os
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

from pipeline.adapters.child_env import secrets_hidden
from pipeline.adapters.mailbox import MailboxAccess, Mailboxes, atomic_write
from pipeline.adapters.validation import etsi_validation_report, verify_pdf
from pipeline.core.routing import Party
from pipeline.errors import DeliveryError, SigningError

log = logging.getLogger("sopipe")

REPORT_SUFFIX = ".validatie.xml"


def looks_signed(pdf: bytes) -> bool:
    return b"/ByteRange" in pdf


class ValidatingMailboxes(Mailboxes):
    """Mailboxes that write `<name>.validatie.xml` beside every signed PDF delivered to the archive.

    `processes`: validate in that many child processes instead of this one. Validating a PAdES B-LTA document
    (its signature, timestamps and the changes of every revision) costs ~0.25 s of pure Python, which in the
    pipeline's process would hold the interpreter lock that rendering, signing and the privacy check share; in a
    child it runs on another core meanwhile. The delivery still waits for its report (the same order and crash
    safety as before); the children start on first use and stop with `close()`.
    """

    def __init__(self, outbox: Path, *, trust_roots: Sequence[Path], processes: int = 0,
                 access: MailboxAccess | None = None) -> None:
        super().__init__(outbox, access=access)
        self.trust_roots = tuple(trust_roots)
        self._processes = processes
        self._executor = None
        self._lock = threading.Lock()

    def deliver(self, party: Party, kenmerk: str, file_name: str, data: bytes, *, code: str | None = None,
                sub: tuple[str, ...] = (), sha256: str | None = None) -> Path:
        target = super().deliver(party, kenmerk, file_name, data, code=code, sub=sub)
        if party is Party.ARCHIEF and looks_signed(data):
            xml = validation_report(file_name, data, trust_roots=self.trust_roots,
                                    validate=functools.partial(self._validate, sha256=sha256))
            if xml is not None:  # written like the PDF itself: through the same descriptors, never a link
                super().deliver(party, kenmerk, file_name + REPORT_SUFFIX, xml, code=code, sub=sub)
        return target

    def _validate(self, pdf: bytes, name: str, trust_roots: tuple[Path, ...], *, sha256: str | None = None) -> bytes:
        if not self._processes:
            return validation_xml(pdf, name, trust_roots, sha256=sha256)
        # a spawned child (and multiprocessing's resource tracker, started with the executor's queues) copies the
        # environment as it is: made and fed while the secrets are out of it
        with self._lock, secrets_hidden():
            if self._executor is None:
                from concurrent.futures import ProcessPoolExecutor
                self._executor = ProcessPoolExecutor(self._processes, mp_context=multiprocessing.get_context("spawn"),
                                                     initializer=_end_with_parent, initargs=(os.getpid(),))
            future = self._executor.submit(validation_xml, pdf, name, trust_roots, sha256=sha256)
        return future.result()

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)


def _end_with_parent(parent: int) -> None:
    """In a validation child: exit as soon as the pipeline's process is gone, also after a kill -9 (which closes
    no pipe the child waits on, so it would otherwise wait for ever)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="sopipe-validation-parent", daemon=True).start()


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
