"""Everything a finished PDF shows or carries, as plain text: the adapter between PDF bytes and the privacy core.

`inspect_pdf(data)` returns every place a reader (or a tool) can get text from, each with a Dutch label:
the text of each page, the document info dictionary, the XMP packets, attachments (their names and contents,
attached PDFs and zip containers such as .docx opened in turn), annotations and links, form fields, bookmarks,
and what earlier revisions left behind: a signed PDF is written by incremental update, so an info dictionary or
XMP packet replaced later is still in the bytes, readable by anyone who opens the file with a text editor.

Text is cleaned for matching (`clean_text`): ligatures (ﬁ, ﬂ, ĳ) become letters, soft hyphens and zero-width
characters go, odd spaces and dashes become plain ones. Every failure of pypdf comes out as
`PdfInspectionError`; the guard treats an unreadable file as not proven clean.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

from pipeline.errors import PdfInspectionError

MAX_DEPTH = 2
"""Attachments inside attachments are opened this deep."""
MAX_ATTACHMENT_BYTES = 8_000_000
MAX_ZIP_MEMBERS = 200
MAX_ZIP_TOTAL = 32_000_000
TEXT_MEMBER = re.compile(r"\.(xml|rels|txt|csv|json|html?|md|rtf|vcf|ics|eml|tsv)$", re.I)


@dataclass(frozen=True)
class PdfContent:
    pages: tuple[str, ...]
    """Cleaned text of each page, in order."""
    parts: tuple[tuple[str, str], ...]
    """Every other text, as (where, text): metadata, XMP, attachments, annotations, fields, bookmarks."""
    problems: tuple[tuple[str, str], ...] = ()
    """(where, what) of things that could not be read; the guard does not pass a file with problems."""

    def texts(self) -> list[tuple[str, str]]:
        """All texts as (where, text), the pages first."""
        return [(f"tekst pagina {n}", t) for n, t in enumerate(self.pages, 1)] + list(self.parts)


# --- text cleaning ------------------------------------------------------------------------------------------

_DROP = {ord(c): None for c in "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e\x00"}
_DROP |= {ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"}
_CONTROL = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """Ligatures to letters (NFKC: ﬁ→fi, ĳ→ij, non-breaking space→space), soft hyphens and zero-width
    characters removed, dashes unified, control characters to spaces."""
    return _CONTROL.sub(" ", unicodedata.normalize("NFKC", text).translate(_DROP))


def decode_bytes(data: bytes) -> str:
    """Best-effort text of a file: UTF-8/UTF-16 with or without BOM, cp1252, or printable runs of a binary."""
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(enc, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if data[:200].count(b"\x00") > 40:  # UTF-16 without BOM
        even, odd = data[0::2].count(b"\x00"), data[1::2].count(b"\x00")
        return data.decode("utf-16-be" if even > odd else "utf-16-le", errors="replace")
    text = data.decode("cp1252", errors="replace")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    if printable >= 0.9 * max(1, len(text)):
        return text
    # a binary: what `strings` would show
    return "\n".join(m.decode("latin-1") for m in re.findall(rb"[\x20-\x7e\xa0-\xff]{4,}", data))


def _pdf_string(raw: bytes) -> str:
    """A PDF literal `(...)` or hex `<...>` string as text (UTF-16BE with BOM, else PDFDocEncoding ≈ latin-1)."""
    if raw.startswith(b"<"):
        hexdigits = re.sub(rb"[^0-9A-Fa-f]", b"", raw[1:-1])
        body = bytes.fromhex((hexdigits + b"0" * (len(hexdigits) % 2)).decode())
    else:
        out, i, s = bytearray(), 0, raw[1:-1]
        escapes = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
        while i < len(s):
            c = s[i]
            if c == 0x5C and i + 1 < len(s):  # backslash
                nxt = s[i + 1]
                m = re.match(rb"[0-7]{1,3}", s[i + 1:i + 4])
                if m:
                    out.append(int(m.group(), 8) & 0xFF)
                    i += 1 + len(m.group())
                    continue
                if nxt in (0x0A, 0x0D):
                    i += 2
                    continue
                out += escapes.get(nxt, bytes([nxt]))
                i += 2
                continue
            out.append(c)
            i += 1
        body = bytes(out)
    if body.startswith(b"\xfe\xff"):
        return body[2:].decode("utf-16-be", errors="replace")
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace")
    return body.decode("latin-1")


def _text(value) -> str | None:
    """A PDF object as text, if it is a string or name."""
    try:
        value = value.get_object() if isinstance(value, IndirectObject) else value
    except Exception:
        return None
    if isinstance(value, bytes):
        return decode_bytes(value)
    if isinstance(value, str):
        return str(value)
    return None


# --- XMP ----------------------------------------------------------------------------------------------------

XMP_PREFIXES = {
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/pdf/1.3/": "pdf",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://www.aiim.org/pdfa/ns/id/": "pdfaid",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/xap/1.0/rights/": "xmpRights",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
    "adobe:ns:meta/": "x",
    "http://www.w3.org/XML/1998/namespace": "xml",
    "http://www.aiim.org/pdfa/ns/extension/": "pdfaExtension",
    "http://www.aiim.org/pdfa/ns/schema#": "pdfaSchema",
    "http://www.aiim.org/pdfa/ns/property#": "pdfaProperty",
}
_XMP_PACKET = re.compile(rb"<x:xmpmeta\b.*?</x:xmpmeta\s*>|<rdf:RDF\b.*?</rdf:RDF\s*>", re.S)


def _qname(tag: str) -> str:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return f"{XMP_PREFIXES.get(uri, uri.rstrip('/#').rsplit('/', 1)[-1])}:{local}"
    return tag


def xmp_texts(packet: bytes) -> list[tuple[str, str]]:
    """(property, text) of an XMP packet; `rdf:li` values are named after their property (`dc:creator`)."""
    text = decode_bytes(packet)
    try:
        root = ET.fromstring(re.sub(r"<\?xpacket[^>]*\?>", "", text).strip())
    except ET.ParseError:
        plain = html.unescape(re.sub(r"<[^>]+>", " ", text))
        return [("XMP", plain)] if plain.strip() else []
    out: list[tuple[str, str]] = []

    def walk(el, prop: str) -> None:
        name = _qname(el.tag)
        if not name.startswith(("rdf:", "x:")):
            prop = name
        for attr, value in el.attrib.items():
            aname = _qname(attr)
            if not aname.startswith(("rdf:", "xml:")) and value.strip():
                out.append((f"XMP {aname}", value))
        if el.text and el.text.strip():
            out.append((f"XMP {prop}", el.text))
        for child in el:
            walk(child, prop)

    walk(root, "XMP")
    return out


# --- the file -----------------------------------------------------------------------------------------------

@dataclass
class _Collector:
    prefix: str
    parts: list[tuple[str, str]] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, text: str | None) -> None:
        if text and text.strip():
            self.parts.append((self.prefix + where, clean_text(text)))

    def problem(self, where: str, what: str) -> None:
        self.problems.append((self.prefix + where, what))


def inspect_pdf(data: bytes, *, _depth: int = 0, _prefix: str = "") -> PdfContent:
    """Every text the PDF holds (see the module docstring); raises PdfInspectionError if it cannot be read."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise PdfInspectionError("Het PDF-bestand is versleuteld en kan niet worden gecontroleerd.")
        pages = list(reader.pages)
    except PdfInspectionError:
        raise
    except Exception as e:
        raise PdfInspectionError(f"Het PDF-bestand kan niet worden gelezen: {e}") from e
    out = _Collector(_prefix)
    texts = []
    for n, page in enumerate(pages, 1):
        try:
            texts.append(clean_text(page.extract_text() or ""))
        except Exception as e:
            texts.append("")
            out.problem(f"tekst pagina {n}", f"tekst niet leesbaar ({type(e).__name__})")
        _annotations(reader, page, n, out, _depth)
    _info(reader, out)
    _xmp(reader, data, out)
    _attachments(reader, out, _depth)
    _fields(reader, out)
    _outline(reader, out)
    _old_revisions(reader, data, out)  # last: only what none of the above showed
    if _prefix:  # an attached PDF: its pages are just more parts of the outer file
        out.parts[:0] = [(f"{_prefix}tekst pagina {n}", t) for n, t in enumerate(texts, 1)]
        return PdfContent((), tuple(out.parts), tuple(out.problems))
    return PdfContent(tuple(texts), tuple(out.parts), tuple(out.problems))


def _guarded(section: str):
    """A broken part of the file is recorded as a problem of that section, not silently skipped."""
    def wrap(fn):
        def run(reader, *args):
            out = next(a for a in args if isinstance(a, _Collector))
            try:
                fn(reader, *args)
            except PdfInspectionError:
                raise
            except Exception as e:
                out.problem(section, f"niet leesbaar ({type(e).__name__}: {e})")
        return run
    return wrap


@_guarded("PDF-metadata")
def _info(reader: PdfReader, out: _Collector) -> None:
    info = reader.trailer.get("/Info")
    info = info.get_object() if info is not None else None
    if isinstance(info, DictionaryObject):
        for key, value in info.items():
            out.add(f"PDF-metadata {key}", _text(value))


@_guarded("XMP")
def _xmp(reader: PdfReader, data: bytes, out: _Collector) -> None:
    packets = []
    streams = [reader.trailer["/Root"].get_object().get("/Metadata")]
    streams += [page.get("/Metadata") for page in reader.pages]
    for ref in streams:
        obj = ref.get_object() if ref is not None else None
        if isinstance(obj, StreamObject):
            packets.append(obj.get_data())
    # uncompressed packets anywhere in the bytes: earlier revisions, images, attachments' own metadata
    packets += _XMP_PACKET.findall(data)
    seen = set()
    for packet in packets:
        for where, text in xmp_texts(packet):
            if (where, text) not in seen:
                seen.add((where, text))
                out.add(where, text)


_INFO_KEY = re.compile(rb"/(Title|Author|Subject|Keywords|Creator|Producer)\s*(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>)",
                       re.S)


@_guarded("eerdere versies")
def _old_revisions(reader: PdfReader, data: bytes, out: _Collector) -> None:
    """Info entries still in the bytes but no longer in the current info dictionary (incremental updates)."""
    current = {t for w, t in out.parts}
    for key, raw in _INFO_KEY.findall(data):
        text = clean_text(_pdf_string(raw))
        if text.strip() and text not in current:
            current.add(text)
            out.add(f"PDF-object /{key.decode()} (eerdere versie of los object)", text)


def _embedded(spec, where: str, out: _Collector, depth: int) -> None:
    """One file specification: its names and, through /EF, its content."""
    spec = spec.get_object()
    if not isinstance(spec, DictionaryObject):
        return
    names = [t for t in (_text(spec.get(k)) for k in ("/UF", "/F", "/Desc")) if t]
    name = names[0] if names else "zonder naam"
    out.add("naam van bijlage", " ".join(names))
    ef = spec.get("/EF")
    ef = ef.get_object() if ef is not None else None
    if not isinstance(ef, DictionaryObject):
        return
    stream = (ef.get("/UF") or ef.get("/F"))
    stream = stream.get_object() if stream is not None else None
    if isinstance(stream, StreamObject):
        _attachment_content(name, stream.get_data(), f"{where} {name}", out, depth)


def _attachment_content(name: str, content: bytes, where: str, out: _Collector, depth: int) -> None:
    content = content[:MAX_ATTACHMENT_BYTES]
    if content.lstrip()[:5] == b"%PDF-" and depth < MAX_DEPTH:
        try:
            inner = inspect_pdf(content, _depth=depth + 1, _prefix=f"{out.prefix}{where} › ")
        except PdfInspectionError as e:
            out.problem(where, e.message)
            return
        out.parts += inner.parts
        out.problems += inner.problems
    elif content[:4] == b"PK\x03\x04" and depth < MAX_DEPTH:
        _zip(content, where, out, depth)
    else:
        out.add(where, decode_bytes(content))


def _zip(content: bytes, where: str, out: _Collector, depth: int) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()[:MAX_ZIP_MEMBERS]
    except (zipfile.BadZipFile, OSError) as e:
        out.problem(where, f"zip niet leesbaar ({e})")
        return
    out.add(f"{where} (inhoudsopgave)", "\n".join(m.filename for m in members))
    total = 0
    for m in members:
        if m.is_dir() or m.file_size > MAX_ATTACHMENT_BYTES or total + m.file_size > MAX_ZIP_TOTAL:
            continue
        total += m.file_size
        try:
            data = archive.read(m)
        except Exception as e:
            out.problem(f"{where} › {m.filename}", f"niet leesbaar ({type(e).__name__})")
            continue
        if TEXT_MEMBER.search(m.filename):
            text = decode_bytes(data)
            # Word splits words over runs (<w:t>Jan</w:t><w:t>sen</w:t>): tags go without a space,
            # paragraph and line ends become line breaks.
            text = re.sub(r"</(?:w:p|text:p|text:h|p|div|tr|li|a:p)>|<(?:w:br|w:tab|text:line-break|br)\b[^>]*>",
                          "\n", text)
            out.add(f"{where} › {m.filename}", html.unescape(re.sub(r"<[^>]+>", "", text)))
        else:
            _attachment_content(m.filename, data, f"{where} › {m.filename}", out, depth + 1)


@_guarded("bijlagen")
def _attachments(reader: PdfReader, out: _Collector, depth: int) -> None:
    root = reader.trailer["/Root"].get_object()
    names = root.get("/Names")
    names = names.get_object() if names is not None else None
    tree = names.get("/EmbeddedFiles") if isinstance(names, DictionaryObject) else None
    if tree is None:
        return
    stack, seen = [tree.get_object()], set()
    while stack:
        node = stack.pop()
        if id(node) in seen or not isinstance(node, DictionaryObject):
            continue
        seen.add(id(node))
        for kid in node.get("/Kids", ArrayObject()):
            stack.append(kid.get_object())
        entries = node.get("/Names", ArrayObject())
        for i in range(0, len(entries) - 1, 2):
            out.add("naam van bijlage", _text(entries[i]))
            _embedded(entries[i + 1], "bijlage", out, depth)


def _annotations(reader: PdfReader, page, n: int, out: _Collector, depth: int) -> None:
    try:
        annots = page.get("/Annots")
        annots = annots.get_object() if annots is not None else []
        for ref in annots or []:
            annot = ref.get_object()
            if not isinstance(annot, DictionaryObject):
                continue
            for key in ("/Contents", "/T", "/Subj", "/RC", "/TU", "/V"):
                out.add(f"annotatie pagina {n}", _text(annot.get(key)))
            action = annot.get("/A")
            action = action.get_object() if action is not None else None
            if isinstance(action, DictionaryObject):
                out.add(f"link pagina {n}", _text(action.get("/URI")) or _text(action.get("/F")))
            if annot.get("/Subtype") == "/FileAttachment" and annot.get("/FS") is not None:
                _embedded(annot["/FS"], f"bijlage (pagina {n})", out, depth)
    except PdfInspectionError:
        raise
    except Exception as e:
        out.problem(f"annotaties pagina {n}", f"niet leesbaar ({type(e).__name__})")


@_guarded("formuliervelden")
def _fields(reader: PdfReader, out: _Collector) -> None:
    for name, fld in (reader.get_fields() or {}).items():
        for key in ("/V", "/TU", "/DV"):
            out.add(f"formulierveld {name}", _text(fld.get(key)))
        out.add("naam van formulierveld", name)


@_guarded("bladwijzers")
def _outline(reader: PdfReader, out: _Collector) -> None:
    stack = [reader.outline]
    while stack:
        items = stack.pop()
        for item in items:
            if isinstance(item, list):
                stack.append(item)
            else:
                out.add("bladwijzer", _text(item.get("/Title")))
