"""Reading a signed PDF that came back into the inbox: its /Keywords, its signatures, what each revision adds.

The adapter behind `pipeline.shell.returns.ReturnReader`; the checks on what it reads are pure
(`pipeline.shell.returns`, `pipeline.core.revisions`). pypdf reads /Keywords, pyHanko the signatures
(`pipeline.adapters.validation`) and the revisions (`pipeline.adapters.pdf_revisions`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Mapping, Sequence

from pipeline.adapters.pdf_revisions import revision_changes
from pipeline.core.revisions import RevisionChanges
from pipeline.errors import ReturnRefused


class PdfReturnReader:
    """Implements `ReturnReader` with pypdf and pyHanko."""

    def keywords(self, pdf: bytes) -> str | None:
        """The document's /Keywords (the converter writes the kenmerk there), or None."""
        try:
            from pypdf import PdfReader
            meta = PdfReader(io.BytesIO(pdf)).metadata
            return (meta.get("/Keywords") or "").strip() if meta else None
        except Exception:
            raise ReturnRefused("Het bestand is geen leesbare PDF.", rule="geen-pdf") from None

    def signatures(self, pdf: bytes, *, trust_roots: Sequence[Path]):
        """The validation of every signature (`pipeline.adapters.validation.VerifyResult`); SigningError when
        they cannot be read."""
        from pipeline.adapters.validation import verify_pdf
        return verify_pdf(pdf, trust_roots=list(trust_roots))

    def certificate_holder(self, der: bytes):
        """See `pipeline.adapters.keys.certificate_holder`."""
        from pipeline.adapters.keys import certificate_holder
        return certificate_holder(der)

    def revisions(self, pdf: bytes, *, prepared_size: int, signed: Mapping[str, tuple[str, int | None]],
                  known: Sequence[RevisionChanges] = ()) -> tuple[RevisionChanges, ...]:
        """See `revision_changes`."""
        return revision_changes(pdf, prepared_size=prepared_size, signed=signed, known=known)
