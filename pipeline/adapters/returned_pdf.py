"""Reading a PDF that came back into the inbox, once, into a `pipeline.core.returns.ReturnedDocument`.

A document out for a personal signature: pypdf reads its /Keywords; pyHanko parses it once, and from that one
parse come the validation of its signatures (`pipeline.adapters.validation`), what the signers' certificates say
(`pipeline.adapters.keys.certificate_holder`) and its revisions (`pipeline.adapters.pdf_revisions`). A consent form
is parsed by pypdf for its signature dictionaries and active content (`pipeline.adapters.consent_form_pdf`) and,
when it carries signatures, validated by pyHanko. The checks on what is read are pure
(`pipeline.core.returns`, `pipeline.core.revisions`); what reading found wrong is carried in the value for them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

from pipeline.core.returns import ReturnedDocument, ReturnedName, unreadable_pdf
from pipeline.errors import ReturnRefused, SigningError


class PdfReturnReader:
    """Reads a returned PDF with pypdf and pyHanko (the runner's `ReturnReader`)."""

    def read(self, raw: bytes, *, named: ReturnedName, sha256: str,
             trust_roots: Sequence[Path] | None) -> ReturnedDocument:
        """Everything the checks need, read once. `trust_roots` None: this installation takes no documents
        signed elsewhere, so a signed document is not read at all (it is refused as such); a consent form is
        then validated against no trust roots (whether its signatures are intact is what counts for it)."""
        if named.form is not None:
            return self._consent_form(raw, sha256=sha256, trust_roots=tuple(trust_roots or ()))
        if trust_roots is None:
            return ReturnedDocument()
        try:
            keywords = self.keywords(raw)
        except ReturnRefused as e:
            return ReturnedDocument(unreadable=e)
        return self._validated(raw, ReturnedDocument(keywords=keywords), sha256=sha256,
                               trust_roots=tuple(trust_roots))

    @staticmethod
    def keywords(pdf: bytes) -> str | None:
        """The document's /Keywords (the converter writes the kenmerk there), or None; ReturnRefused (geen-pdf)
        when it is no readable PDF."""
        try:
            from pypdf import PdfReader
            meta = PdfReader(io.BytesIO(pdf)).metadata
            return (meta.get("/Keywords") or "").strip() if meta else None
        except Exception:
            raise unreadable_pdf() from None

    def _consent_form(self, raw: bytes, *, sha256: str, trust_roots: tuple[Path, ...]) -> ReturnedDocument:
        from pipeline.adapters.consent_form_pdf import read_consent_form
        try:
            contents = read_consent_form(raw)  # parsed as a PDF: what a viewer acts on, never a byte search
        except ReturnRefused as e:
            return ReturnedDocument(unreadable=e)
        doc = ReturnedDocument(keywords=contents.keywords, signature_dictionaries=contents.signature_dictionaries,
                               active=contents.active)
        if not contents.signature_dictionaries:  # a scan: nothing to validate
            return doc
        return self._validated(raw, doc, sha256=sha256, trust_roots=trust_roots, revisions=False)

    @staticmethod
    def _validated(raw: bytes, doc: ReturnedDocument, *, sha256: str, trust_roots: tuple[Path, ...],
                   revisions: bool = True) -> ReturnedDocument:
        """`doc` with the validation of `raw`'s signatures, their certificates' holders and (`revisions`) its
        revisions, all from one pyHanko parse."""
        import dataclasses

        from pipeline.adapters.pdf_revisions import pdf_revisions
        from pipeline.adapters.validation import Validation, verify_and_read
        try:
            report, reader = verify_and_read(raw, trust_roots=list(trust_roots))
        except SigningError as e:
            return dataclasses.replace(doc, validation_error=e.message)
        found = None
        if revisions:
            try:
                found = pdf_revisions(reader, signed=report.signed_fields,
                                      known=report.revisions if report.revisions else None)
            except Exception as e:  # where the revisions start cannot be read: the revisions' check says so
                from pipeline.adapters.pdf_revisions import structure_problem
                from pipeline.core.revisions import PdfRevisions
                found = PdfRevisions((), problems=((0, structure_problem(e)),))
        return dataclasses.replace(doc, validation=Validation(report, trust_roots, sha256),
                                   signers=tuple(_holder(s.signer_cert_der) for s in report.signatures),
                                   revisions=found)


def _holder(der: bytes):
    """What a signer's certificate says about its holder; None when there is none to read (a signature whose
    structure failed: refused for that before its signer is looked at)."""
    from pipeline.adapters.keys import certificate_holder
    try:
        return certificate_holder(der) if der else None
    except Exception:
        return None
