"""A Converter without LibreOffice, for fast tests: the filled .docx becomes a small, real PDF made with fpdf2.

`FakeConverter` implements the `Converter` protocol of `pipeline.adapters.converter` and keeps its contract, so
signing, the privacy guard, delivery and the archive work on its output unchanged:

- the document's text — body paragraphs in order, table cells, text boxes, the header (the first page's own when
  the section has one, e.g. CONCEPT) and the footer on every page — is text that pypdf and pdftotext extract;
  hidden text (`w:vanish`) is left out as LibreOffice leaves it out;
- the metadata is exactly the given `PdfMetadata` in /Info and XMP (PDF/A-2b identification), nothing of the
  template's own core properties;
- every Word bookmark becomes a named destination (/XYZ at the start of its paragraph), as LibreOffice's
  `ExportBookmarksToPDFDestination` does: the signer places the visible block under the "Ondertekening" one;
- it fails the way `UnoConverterPool` does: bytes that are no .docx and documents it cannot open are refused
  at once (not retried); a simulated hang or crash (`fail(Fault.HANG | Fault.CRASH, times=n)`) takes one attempt
  each, and the job fails with `ConversionError` only when all `1 + retries` attempts failed; an outage
  (`Fault.OUTAGE`: LibreOffice cannot start) fails every job until `recover()`; a closed converter refuses.

It is not a renderer of Word layout: fonts, sizes, columns and images are not reproduced. Tests of how a
document looks or of text LibreOffice itself lays out keep the real converter (mark `libreoffice`).
"""

from __future__ import annotations

import atexit
import enum
import functools
import io
import os
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.oxml.ns import qn
from fontTools import subset
from fontTools.ttLib import TTFont
from fpdf import FPDF

from pipeline.adapters.converter import PdfMetadata
from pipeline.errors import ConversionError

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
)
PRODUCER = "sopipe FakeConverter (fpdf2)"
"""/Producer of its PDFs: a fake's output is never mistaken for LibreOffice's."""

_P, _T, _TAB, _BR, _CR = qn("w:p"), qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
_R, _RPR, _VANISH, _BOOKMARK = qn("w:r"), qn("w:rPr"), qn("w:vanish"), qn("w:bookmarkStart")
_NAME = qn("w:name")
_FONT_SIZE = 9
_LINE_MM = 4.5
_LEFT_MM, _HEADER_MM, _TOP_MM, _BOTTOM_MM, _FOOTER_MM = 20.0, 8.0, 25.0, 25.0, 10.0
_CHARS_PER_LINE = 85
"""At 9 pt DejaVu Sans averages ~1.75 mm a character: 85 fit the 170 mm between the margins."""


class Fault(enum.Enum):
    """What the next conversions run into, as the real pool would meet it."""

    HANG = "hang"
    """The worker does not answer within the timeout: killed, the job retried on a fresh one."""
    CRASH = "crash"
    """The worker (its soffice) dies mid-job: replaced, the job retried."""
    OUTAGE = "outage"
    """LibreOffice cannot start at all: every job fails until `recover()`."""


@dataclass(frozen=True)
class _Paragraph:
    text: str
    bookmarks: tuple[str, ...]


class FakeConverter:
    """A thread-safe Converter that writes a text PDF with fpdf2. `conversions` counts the PDFs it made,
    `attempts` every try (failed ones included); `fail()` and `recover()` steer its faults."""

    def __init__(self, *, retries: int = 2, timeout: float = 0.05, font: Path | None = None) -> None:
        if retries < 0 or timeout < 0:
            raise ValueError("retries and timeout must not be negative")
        self._retries = retries
        self._timeout = timeout
        """How long a simulated hang lasts (the real pool's per-conversion timeout)."""
        self._font = _small_font(font or next((p for p in FONT_CANDIDATES if p.exists()), None))
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._outage = False
        self._closed = False
        self.conversions = 0
        self.attempts = 0

    # --- the pool's lifecycle, so it stands in wherever UnoConverterPool does -------------------------------------

    def start(self) -> None:
        if self._closed:
            raise ConversionError("The converter pool is closed.")

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> FakeConverter:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- faults -----------------------------------------------------------------------------------------------------

    def fail(self, fault: Fault, *, times: int = 1) -> None:
        """The next `times` attempts meet `fault` (HANG, CRASH); OUTAGE lasts until `recover()`."""
        with self._lock:
            if fault is Fault.OUTAGE:
                self._outage = True
            else:
                self._faults.extend([fault] * times)

    def recover(self) -> None:
        """Clear every pending fault and end an outage."""
        with self._lock:
            self._faults.clear()
            self._outage = False

    # --- converting -------------------------------------------------------------------------------------------------

    def convert(self, docx: bytes, *, metadata: PdfMetadata) -> bytes:
        if not docx.startswith(b"PK\x03\x04"):  # the same guard as UnoConverterPool.convert
            raise ConversionError("Not a Word document (.docx is a zip file; these bytes are not).")
        self.start()
        problems = []
        for _attempt in range(1 + self._retries):
            with self._lock:
                self.attempts += 1
                if self._outage:
                    raise ConversionError("LibreOffice not found at 'soffice' (simulated outage).")
                fault = self._faults.pop(0) if self._faults else None
            if fault is Fault.HANG:
                time.sleep(self._timeout)
                problems.append(f"no answer within {self._timeout:g}s")
                continue
            if fault is Fault.CRASH:
                problems.append("worker exited with code -9; (simulated crash)")
                continue
            pdf = _make_pdf(_read_docx(docx), metadata, font=self._font)
            with self._lock:
                self.conversions += 1
            return pdf
        raise ConversionError(f"LibreOffice failed {len(problems)} times on this document: " + "; ".join(problems))


# --- docx → text ------------------------------------------------------------------------------------------------

def _read_docx(docx: bytes) -> dict[str, list[_Paragraph]]:
    """{'body', 'header_first', 'header', 'footer_first', 'footer'}: the paragraphs of each part, in order."""
    try:
        document = Document(io.BytesIO(docx))
        section = document.sections[0]
        first = section.different_first_page_header_footer
        parts = {"body": _paragraphs(document.element.body),
                 "header": _paragraphs(section.header._element) if not section.header.is_linked_to_previous else [],
                 "footer": _paragraphs(section.footer._element) if not section.footer.is_linked_to_previous else []}
        parts["header_first"] = _paragraphs(section.first_page_header._element) if first else parts["header"]
        parts["footer_first"] = _paragraphs(section.first_page_footer._element) if first else parts["footer"]
    except Exception as exc:  # noqa: BLE001 - whatever python-docx cannot open, LibreOffice refuses too
        raise ConversionError(f"LibreOffice could not convert the document: {exc}") from exc
    return parts


def _paragraphs(element) -> list[_Paragraph]:
    """Every w:p under `element` in document order (tables and text boxes included), each with its own text only:
    a text box's paragraphs follow the paragraph that anchors it instead of being glued into its text."""
    return [_Paragraph(_own_text(p), tuple(b.get(_NAME) for b in p.iter(_BOOKMARK) if b.get(_NAME)))
            for p in element.iter(_P)]


def _own_text(p) -> str:
    out: list[str] = []

    def walk(node) -> None:
        for child in node:
            if child.tag == _P:
                continue  # a nested paragraph (text box) is a paragraph of its own
            if child.tag == _R and _hidden(child):
                continue
            if child.tag == _T:
                out.append(child.text or "")
            elif child.tag == _TAB:
                out.append("\t")
            elif child.tag in (_BR, _CR):
                out.append("\n")
            walk(child)

    walk(p)
    return "".join(out)


def _hidden(run) -> bool:
    props = run.find(_RPR)
    if props is None:
        return False
    vanish = props.find(_VANISH)
    return vanish is not None and vanish.get(qn("w:val"), "true") not in ("0", "false")


# --- text → PDF -------------------------------------------------------------------------------------------------

FONT_UNICODES = (*range(0x20, 0x250), *range(0x370, 0x400), *range(0x1E00, 0x1F00), *range(0x2000, 0x2070), 0x20AC,
                 *range(0x2190, 0x2200), *range(0x25A0, 0x2800))
"""Latin (extended A/B and additional: Özdemir, Nguyễn), Greek, punctuation, the euro sign, arrows, shapes and
symbols (the forms' ☐ ☒ ✓); other scripts are left out (a text that needs them is a test for the real
converter)."""


@functools.lru_cache(maxsize=None)
def _small_font(source: Path | None) -> Path:
    """`source` cut down to FONT_UNICODES without glyph names, once per process: fpdf2 parses the font of every
    document anew, and a whole DejaVu Sans (6,000 glyphs) costs ~100 ms of each conversion."""
    if source is None:
        raise ConversionError("No TrueType font for the fake converter (fonts-dejavu-core).")
    font = TTFont(source)
    options = subset.Options()
    options.notdef_outline = True
    options.glyph_names = False
    options.hinting = False
    options.layout_features = []
    options.drop_tables += ["FFTM"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=FONT_UNICODES)
    subsetter.subset(font)
    handle, name = tempfile.mkstemp(prefix="sopipe-fake-font-", suffix=".ttf")
    with os.fdopen(handle, "wb") as out:
        font.save(out)
    atexit.register(os.unlink, name)
    return Path(name)


# --- text → PDF (layout) -------------------------------------------------------------------------------------------------

class _Pdf(FPDF):
    """A4, one font, lines laid out by hand: fpdf2's own line breaking costs ~2 ms a line, `text()` ~0.05 ms."""

    def __init__(self, parts: dict[str, list[_Paragraph]], font: Path) -> None:
        super().__init__(format="A4")
        self._parts = parts
        self.add_font("body", fname=str(font))
        self.set_font("body", size=_FONT_SIZE)
        self.set_auto_page_break(False)
        self.y_pos = _TOP_MM

    def header(self) -> None:
        self.y_pos = _HEADER_MM
        for line in _lines(self._parts["header_first" if self.page_no() == 1 else "header"]):
            self._line(line)
        self.y_pos = max(self.y_pos + _LINE_MM, _TOP_MM)

    def footer(self) -> None:
        lines = _lines(self._parts["footer_first" if self.page_no() == 1 else "footer"])
        y = self.h - _FOOTER_MM - _LINE_MM * len(lines)
        for line in lines:
            y += _LINE_MM
            self.text(_LEFT_MM, y, line)

    def _line(self, line: str) -> None:
        self.y_pos += _LINE_MM
        if line:
            self.text(_LEFT_MM, self.y_pos, line)

    def paragraph(self, p: _Paragraph) -> None:
        lines = _lines([p])
        if lines and self.y_pos + _LINE_MM > self.h - _BOTTOM_MM:
            self.add_page()
        for name in p.bookmarks:  # /XYZ at the top of the paragraph's first line, as LibreOffice exports it
            self.set_link(name=name, y=self.y_pos + 1, x=_LEFT_MM)
        if not lines:  # an empty paragraph (the space kept free under "Ondertekening") never opens a page
            self.y_pos = min(self.y_pos + _LINE_MM, self.h - _BOTTOM_MM - _LINE_MM)
        for line in lines:
            if self.y_pos + _LINE_MM > self.h - _BOTTOM_MM:
                self.add_page()
            self._line(line)


def _lines(paragraphs: list[_Paragraph]) -> list[str]:
    out: list[str] = []
    for p in paragraphs:
        for part in p.text.replace("\t", "    ").split("\n"):
            out.extend(textwrap.wrap(part, _CHARS_PER_LINE, break_on_hyphens=False) if part.strip() else [])
    return out


def _make_pdf(parts: dict[str, list[_Paragraph]], metadata: PdfMetadata, *, font: Path) -> bytes:
    pdf = _Pdf(parts, font)
    pdf.set_title(metadata.title)
    pdf.set_author(metadata.author)
    pdf.set_subject(metadata.subject)
    pdf.set_keywords(metadata.keywords)
    pdf.set_creator("Writer")
    pdf.set_producer(PRODUCER)
    pdf.set_xmp_metadata(_xmp(metadata))
    pdf.add_page()
    for p in parts["body"]:
        pdf.paragraph(p)
    return bytes(pdf.output())


def _xmp(metadata: PdfMetadata) -> str:
    """The XMP LibreOffice writes for PDF/A-2b: the PDF/A identification and the given metadata, nothing else."""
    keywords = "".join(f"<rdf:li>{escape(k.strip())}</rdf:li>" for k in metadata.keywords.split(",") if k.strip())
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
        "<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description>"
        '<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        f"<pdf:Producer>{escape(PRODUCER)}</pdf:Producer><pdf:Keywords>{escape(metadata.keywords)}</pdf:Keywords>"
        '</rdf:Description><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(metadata.title)}</rdf:li></rdf:Alt></dc:title>'
        f"<dc:creator><rdf:Seq><rdf:li>{escape(metadata.author)}</rdf:li></rdf:Seq></dc:creator>"
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(metadata.subject)}</rdf:li></rdf:Alt>'
        f"</dc:description><dc:subject><rdf:Bag>{keywords}</rdf:Bag></dc:subject></rdf:Description>"
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/"><xmp:CreatorTool>Writer'
        "</xmp:CreatorTool></rdf:Description></rdf:RDF></x:xmpmeta>")
