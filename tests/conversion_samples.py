"""A Word document to convert whose own properties are secrets that must not reach the PDF, the metadata to give
the conversion instead, and the mark of a test that needs a real LibreOffice."""

from __future__ import annotations

import io
import shutil

import docx
import pytest

from pipeline.adapters.converter import PdfMetadata


def libreoffice(test):
    """Needs a real LibreOffice: marked (deselect with -m "not libreoffice") and skipped where it is absent."""
    test = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")(test)
    return pytest.mark.libreoffice(test)


TEMPLATE_SECRETS = {
    "title": "TEMPLATE-TITLE-SECRET",
    "author": "TEMPLATE-AUTHOR-SECRET",
    "subject": "TEMPLATE-SUBJECT-SECRET",
    "keywords": "TEMPLATE-KEYWORDS-SECRET",
    "comments": "TEMPLATE-DESCRIPTION-SECRET",
    "last_modified_by": "TEMPLATE-EDITOR-SECRET",
    "category": "TEMPLATE-CATEGORY-SECRET",
}

METADATA = PdfMetadata(title="Second opinion SO-2026-0042", author="Bedrijfsarts J. Müller-Özdemir",
                       subject="Deskundigenoordeel", keywords="second opinion, SO-2026-0042")


def make_docx(text: str) -> bytes:
    """A one-page docx whose own core properties are all 'secrets' that must not reach the PDF."""
    document = docx.Document()
    for name, value in TEMPLATE_SECRETS.items():
        setattr(document.core_properties, name, value)
    document.add_heading("Adviesrapport", level=1)
    for _ in range(12):
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
