"""Reading a signed PDF that came back into the inbox: its /Keywords, its signatures, what each page shows.

The adapter behind `pipeline.shell.returns.ReturnReader`; the checks on what it reads are pure
(`pipeline.shell.returns`). pypdf reads the document, pyHanko (`pipeline.adapters.validation`) the signatures.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Sequence

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

    def page_fingerprints(self, pdf: bytes) -> list[str]:
        """Per page a hash of what is shown: content streams, resources, boxes and the non-signature annotations.
        ValueError when the pages cannot be read."""
        from pypdf import PdfReader
        try:
            reader = PdfReader(io.BytesIO(pdf), strict=False)
            out = []
            for page in reader.pages:
                contents = page.get_contents()
                annots = [a.get_object() for a in (page.get("/Annots") or [])]
                shown = [a for a in annots if not (a.get("/Subtype") == "/Widget" and _is_signature_widget(a))]
                parts = [contents.get_data() if contents is not None else b"", _canonical(page.get("/Resources")),
                         repr([float(x) for x in page.mediabox]).encode(), _canonical(shown)]
                out.append(hashlib.sha256(b"\x00".join(parts)).hexdigest())
            return out
        except Exception as e:
            raise ValueError(str(e)) from e


def _is_signature_widget(annot) -> bool:
    field = annot if "/FT" in annot else (annot.get("/Parent").get_object() if annot.get("/Parent") else annot)
    return field.get("/FT") == "/Sig"


def _canonical(obj, depth: int = 0) -> bytes:
    """A stable byte form of a PDF object graph (streams by their decoded data); back-references skipped."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject
    if depth > 40:
        return b"..."
    if isinstance(obj, IndirectObject):
        obj = obj.get_object()
    if isinstance(obj, StreamObject):
        head = {k: v for k, v in obj.items() if k not in ("/Length", "/Filter", "/DecodeParms")}
        return b"S" + _canonical(DictionaryObject(head), depth + 1) + hashlib.sha256(obj.get_data()).digest()
    if isinstance(obj, DictionaryObject):
        return b"{" + b",".join(k.encode() + b":" + _canonical(v, depth + 1) for k, v in sorted(obj.items())
                                if k not in ("/P", "/Parent")) + b"}"
    if isinstance(obj, (ArrayObject, list)):
        return b"[" + b",".join(_canonical(v, depth + 1) for v in obj) + b"]"
    return repr(obj).encode()
