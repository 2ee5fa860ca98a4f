"""PDFs for tests and what is read back from them: a minimal PDF to sign, the text of a made document (poppler's
`pdftotext`, pypdf's) and its metadata (their signatures: `tests/pdf_signatures.py`)."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest

ANCHOR_Y = 400
"""Where the last page of `DOCUMENT_PAGES` says `Ondertekening` (the signature block goes below it)."""


needs_pdftotext = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def minimal_pdf(pages: list[list[tuple[float, float, str]]], *, size: tuple[int, int] = (595, 842)) -> bytes:
    """A small, uncompressed PDF: each page a list of (x, y, text) lines in Helvetica 11."""
    objects: list[bytes] = []  # object n is objects[n - 1]

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    for lines in pages:
        ops = b"".join(b"BT /F1 11 Tf %g %g Td (%s) Tj ET\n" % (x, y, text.encode("cp1252")) for x, y, text in lines)
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops))
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Contents %d 0 R "
                        b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (pages_obj, *size, content, font)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (n, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % off for off in offsets))
    out.write(b"trailer\n<< /Size %d /Root %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, catalog, b"ab" * 16, b"ab" * 16, xref))
    return out.getvalue()


DOCUMENT_PAGES = [
    [(72, 770, "Definitief advies SO-2026-0042"), (72, 740, "Eerste pagina met de vraagstelling."),
     (72, 720, "Eerste regel van het advies.")],
    [(72, 770, "Conclusie en advies."), (72, ANCHOR_Y, "Ondertekening"), (72, 30, "Pagina 2 van 2")],
]
"""The tests' document to sign (the `document` fixture): two pages; the last one ends with `Ondertekening` and
empty space, then a footer."""


def pdftotext(pdf: Path | bytes, *, layout: bool = True) -> str:
    """poppler's text of a PDF (a file or its bytes), pages separated by form feeds; `layout`: as laid out."""
    source = "-" if isinstance(pdf, bytes) else str(pdf)
    return subprocess.run(["pdftotext", *(["-layout"] if layout else []), source, "-"], check=True,
                          capture_output=True, input=pdf if isinstance(pdf, bytes) else None).stdout.decode()


def flat(text: str) -> str:
    """PDF text as one line: runs of white space (line breaks, non-breaking spaces) as one space."""
    return " ".join(text.replace("\u00a0", " ").split())


def pdf_text(pdf: Path | bytes) -> str:
    """The text of a PDF as one line of words (`pdftotext`, then `flat`)."""
    return flat(pdftotext(pdf))


def xmp(pdf: bytes) -> str:
    """The PDF's XMP metadata packet."""
    root = pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    return root["/Metadata"].get_object().get_data().decode("utf-8")


def leaks(pdf: bytes, secret: str) -> bool:
    """Is `secret` anywhere in the PDF? /Info strings are UTF-16BE hex (<FEFF00...>), so a plain byte search
    alone would miss them; check the parsed /Info, the XMP and both raw encodings."""
    info = pypdf.PdfReader(io.BytesIO(pdf)).metadata or {}
    utf16_hex = secret.encode("utf-16-be").hex().upper().encode()
    return (any(secret in str(value) for value in info.values()) or secret in xmp(pdf)
            or secret.encode() in pdf or utf16_hex in pdf.upper())


def pypdf_text(path: Path) -> str:
    """The text pypdf extracts (what the privacy guard reads), page by page: it keeps no-break spaces, which
    poppler shows as spaces."""
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(path.read_bytes())).pages)
