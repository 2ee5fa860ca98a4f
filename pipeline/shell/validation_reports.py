"""Archive mailbox with validation reports: next to each signed PDF an ETSI TS 119 102-2 report (`.validatie.xml`).

The archive keeps the dossier 20 years; the report records what was established about each signature on the
day it was archived (who signed, when, which level, trusted or not), in the standard's XML, so a later reader
does not depend on today's software to know what was checked.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Sequence

from pipeline.adapters.mailbox import MailboxAccess, Mailboxes, atomic_write
from pipeline.adapters.validation import etsi_validation_report, verify_pdf
from pipeline.core.routing import Party
from pipeline.errors import DeliveryError, SigningError

log = logging.getLogger("sopipe")

REPORT_SUFFIX = ".validatie.xml"


def looks_signed(pdf: bytes) -> bool:
    return b"/ByteRange" in pdf


class ValidatingMailboxes(Mailboxes):
    """Mailboxes that write `<name>.validatie.xml` beside every signed PDF delivered to the archive."""

    def __init__(self, outbox: Path, *, trust_roots: Sequence[Path], access: MailboxAccess | None = None) -> None:
        super().__init__(outbox, access=access)
        self.trust_roots = tuple(trust_roots)

    def deliver(self, party: Party, kenmerk: str, file_name: str, data: bytes, *, code: str | None = None,
                sub: tuple[str, ...] = ()) -> Path:
        target = super().deliver(party, kenmerk, file_name, data, code=code, sub=sub)
        if party is Party.ARCHIEF and looks_signed(data):
            xml = validation_report(file_name, data, trust_roots=self.trust_roots)
            if xml is not None:
                super().deliver(party, kenmerk, file_name + REPORT_SUFFIX, xml, code=code, sub=sub)
        return target


def validation_report(name: str, pdf: bytes, *, trust_roots: Sequence[Path]) -> bytes | None:
    """The ETSI report of `pdf` (stored as `name`); None when the signature cannot be read at all."""
    try:
        result = verify_pdf(pdf, trust_roots=list(trust_roots))
        return etsi_validation_report(result, document_name=name, document_sha256=hashlib.sha256(pdf).hexdigest())
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
