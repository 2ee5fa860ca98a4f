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

from pipeline.adapters.mailbox import Mailboxes, atomic_write
from pipeline.adapters.validation import etsi_validation_report, verify_pdf
from pipeline.core.routing import Party
from pipeline.errors import DeliveryError, SigningError

log = logging.getLogger("sopipe")

REPORT_SUFFIX = ".validatie.xml"


def looks_signed(pdf: bytes) -> bool:
    return b"/ByteRange" in pdf


class ValidatingMailboxes(Mailboxes):
    """Mailboxes that write `<name>.validatie.xml` beside every signed PDF delivered to the archive."""

    def __init__(self, outbox: Path, *, trust_roots: Sequence[Path]) -> None:
        super().__init__(outbox)
        self.trust_roots = tuple(trust_roots)

    def deliver(self, party: Party, kenmerk: str, file_name: str, data: bytes) -> Path:
        target = super().deliver(party, kenmerk, file_name, data)
        if party is Party.ARCHIEF and looks_signed(data):
            write_validation_report(target, data, trust_roots=self.trust_roots)
        return target


def write_validation_report(target: Path, pdf: bytes, *, trust_roots: Sequence[Path]) -> Path:
    """Validate `pdf` (stored at `target`) and write the ETSI report beside it; returns the report's path."""
    report_path = target.with_name(target.name + REPORT_SUFFIX)
    try:
        result = verify_pdf(pdf, trust_roots=list(trust_roots))
        xml = etsi_validation_report(result, document_name=target.name,
                                     document_sha256=hashlib.sha256(pdf).hexdigest())
    except SigningError as e:  # an unreadable signature is itself worth recording; it never blocks delivery
        log.warning("%s: validation report failed: %s", target.name, e.message)
        return report_path
    try:
        atomic_write(report_path, xml)
    except OSError as e:
        raise DeliveryError(f"Kan het validatierapport {report_path.name} niet schrijven: {e.strerror or e}") from e
    return report_path
