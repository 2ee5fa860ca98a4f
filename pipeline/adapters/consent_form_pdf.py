"""Reading a consent form the employee sends back: parsed as a PDF, never searched as bytes.

What a viewer would act on is found in the parsed object graph (pypdf resolves names, so `/Byte#52ange` is
`/ByteRange` and `/Java#53cript` is `/JavaScript`, as a viewer reads them): every object the cross-reference
table lists and every object reachable from the trailer. The pure decision on what is found is
`pipeline.core.returns.check_form_contents`; the signatures themselves are validated by pyHanko
(`pipeline.adapters.validation`), and the number pyHanko validates is compared with the number found here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from pipeline.errors import ReturnRefused

MAX_OBJECTS = 200_000
"""More objects than a scanned or signed one-page form ever has: the walk stops there (refused, never hangs)."""

_SAFE_ACTIONS = frozenset({"/GoTo", "/URI", "/Named"})
"""Actions that only move within the document or show a link; anything else runs, opens or sends something."""
_ACTIONS = {"/JavaScript": "JavaScript", "/Launch": "een opdracht die een programma start (Launch)",
            "/SubmitForm": "een actie die formuliergegevens verstuurt (SubmitForm)",
            "/ImportData": "een actie die gegevens inleest (ImportData)",
            "/GoToE": "een actie die een ingesloten document opent (GoToE)",
            "/GoToR": "een actie die een ander bestand opent (GoToR)",
            "/RichMediaExecute": "multimedia die wordt uitgevoerd (RichMediaExecute)"}
_EMBEDDED = "een ingesloten bestand"
_MEDIA = {"/RichMedia", "/Screen", "/Movie", "/Sound", "/3D", "/FileAttachment"}


@dataclass(frozen=True)
class FormContents:
    """What a returned consent form holds, as a PDF reader sees it."""

    keywords: str | None
    """The document's /Keywords (our converter writes the kenmerk there), or None."""
    signature_dictionaries: int
    """Signature and document-timestamp dictionaries found in the parsed objects (however their names are
    spelled in the file)."""
    active: tuple[str, ...]
    """Active content found, each said in Dutch (JavaScript, an action on opening, an embedded file …); sorted."""


def read_consent_form(raw: bytes, *, max_objects: int = MAX_OBJECTS) -> FormContents:
    """Parse `raw` as a PDF and list its signature dictionaries and active content; ReturnRefused (geen-pdf)
    when it is no readable, unencrypted PDF."""
    from pypdf import PdfReader
    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if reader.is_encrypted:
            raise ReturnRefused("Het formulier is versleuteld (beveiligd met een wachtwoord); stuur een "
                                "onversleuteld exemplaar.", rule="geen-pdf")
        meta = reader.metadata
        keywords = str(meta.get("/Keywords") or "").strip() if meta else None
        walk = _Walk(reader, max_objects)
        walk.run()
    except ReturnRefused:
        raise
    except Exception:
        raise ReturnRefused("Het bestand is geen leesbare PDF.", rule="geen-pdf") from None
    return FormContents(keywords or None, walk.signatures, tuple(sorted(walk.active)))


class _Walk:
    """Every object of the document once: the cross-reference table's and those reachable from the trailer."""

    def __init__(self, reader, max_objects: int) -> None:
        self.reader = reader
        self.max_objects = max_objects
        self.signatures = 0
        self.active: set[str] = set()
        self._seen_refs: set[tuple[int, int]] = set()
        self._seen_direct: set[int] = set()
        self._visited = 0

    def run(self) -> None:
        from pypdf.generic import IndirectObject
        todo: list = [self.reader.trailer]
        for generation, table in self.reader.xref.items():
            todo.extend(IndirectObject(num, generation, self.reader) for num in table)
        todo.extend(IndirectObject(num, 0, self.reader) for num in getattr(self.reader, "xref_objStm", {}))
        while todo:
            self._visit(todo.pop(), todo)
        if any(a.startswith(_EMBEDDED + " (") for a in self.active):  # the named one says it all
            self.active.discard(_EMBEDDED)

    def _visit(self, obj, todo: list) -> None:
        from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in self._seen_refs:
                return
            self._seen_refs.add(ref)
            try:
                obj = obj.get_object()
            except Exception:  # an object pypdf cannot read is no object a viewer acts on either
                return
        elif isinstance(obj, (DictionaryObject, ArrayObject)):
            if id(obj) in self._seen_direct:
                return
            self._seen_direct.add(id(obj))
        self._visited += 1
        if self._visited > self.max_objects:
            raise ReturnRefused(f"Het formulier bevat meer dan {self.max_objects} PDF-objecten; zo'n bestand "
                                "wordt niet gearchiveerd.", rule="geen-pdf")
        if isinstance(obj, DictionaryObject):
            self._inspect(obj)
            todo.extend(v for k, v in obj.items() if k not in ("/Parent", "/P"))
        elif isinstance(obj, ArrayObject):
            todo.extend(obj)

    def _inspect(self, d) -> None:
        kind, subtype, action = d.get("/Type"), d.get("/Subtype"), d.get("/S")
        if "/ByteRange" in d or (kind in ("/Sig", "/DocTimeStamp") and "/Contents" in d):
            self.signatures += 1
        if "/JS" in d or action == "/JavaScript" or "/JavaScript" in d:
            self.active.add("JavaScript")
        if action in _ACTIONS:
            self.active.add(_ACTIONS[action])
        opening = d.get("/OpenAction")
        if opening is not None:
            opening = opening.get_object()
            if hasattr(opening, "get") and opening.get("/S") not in _SAFE_ACTIONS:
                self.active.add("een actie die bij het openen wordt uitgevoerd (/OpenAction)")
        if "/AA" in d:
            self.active.add("automatische acties (/AA)")
        if "/EmbeddedFiles" in d or kind == "/EmbeddedFile" or "/EF" in d:
            self.active.add(_embedded(d))
        if subtype in _MEDIA:
            self.active.add(f"een ingesloten bijlage of multimedia ({str(subtype).lstrip('/')})")
        if "/XFA" in d:
            self.active.add("een XFA-formulier (kan scripts bevatten)")


def _embedded(d) -> str:
    """'een ingesloten bestand (scan.exe)': the file name as a printable, short text."""
    name = d.get("/UF") or d.get("/F") if "/EF" in d else None
    try:
        shown = "".join(c for c in str(name.get_object()) if c.isprintable())[:60] if name is not None else ""
    except Exception:
        shown = ""
    return f"{_EMBEDDED} ({shown})" if shown else _EMBEDDED
