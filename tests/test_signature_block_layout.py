"""Issue 14, finding 7 (typography, with the real LibreOffice): the signature block is never alone on its page.

The block is one table row that may not split, and the paragraphs before it carry keep-with-next, so when the
body grows the preceding paragraph moves onto the new page with it. Each document is built by the core
(`decide` over the example case, with one free text made longer), filled by the real templates and converted by
the real LibreOffice; the page where the document grows a page is found by bisection over the length of that
free text, and the last page of every length at and just after that boundary is read with pdftotext.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.adapters.converter import PdfMetadata
from pipeline.adapters.renderer import DocxRenderer
from pipeline.core import model
from pipeline.core.organisaties import Facts
from pipeline.core.procedure import decide
from pipeline.settings import load_settings
from pipeline.shell.layout import TEMPLATES, init_root
from tests.casefactory import full_case
from tests.pdfs import pdftotext

pytestmark = pytest.mark.libreoffice

FILLER = ("De werknemer geeft aan dat de belasting op de bouwplaats wisselt en dat de opbouw in overleg met de "
          "leidinggevende per week wordt bekeken. ")


@pytest.fixture(scope="module")
def facts(tmp_path_factory) -> Facts:
    root = tmp_path_factory.mktemp("layout") / "root"
    init_root(root, pki=False)
    return Facts(organisaties=load_settings(root).organisaties)


def order_for(kind: str, facts: Facts, overrides: dict):
    state, found = None, None
    for data in full_case(kenmerk="SO-2026-0642", overrides=overrides):
        decision = decide(state, model.parse_event(data), facts=facts)
        state = decision.state
        for order in decision.orders:
            if order.kind == kind:
                found = order
    assert found is not None, kind
    return found


def pages(pdf: Path) -> list[str]:
    text = pdftotext(pdf)
    return [p for p in text.split("\f") if p.strip()]


# (document kind, the step and field whose free text grows, what the signature block starts with, the paragraph
# that comes before the block and must stay with it)
CASES = [
    ("advies", "definitief_advies", "werkadvies", "Ondertekening", "maakt deel uit van het medisch dossier"),
    ("aanvraagformulier", "aanvraag", "werkgegevens", "Ondertekening", "Aanvullende informatie bij"),
    ("machtiging-extra-informatie", "extra_informatie", "vraag", "Ondertekening", "onder vermelding van kenmerk"),
    ("reactie-bedrijfsarts", "beoordeling_advies", "motivering", "Met vriendelijke groet", "Klachten."),
]


@pytest.mark.parametrize("kind, stap, field, block, before", CASES, ids=[c[0] for c in CASES])
def test_signature_block_moves_to_the_next_page_with_the_paragraph_before_it(kind, stap, field, block, before,
                                                                             facts, converter, tmp_path):
    renderer = DocxRenderer(TEMPLATES)

    def last_pages(n: int) -> tuple[int, str]:
        base = full_case(kenmerk="SO-2026-0642")[[e["stap"] for e in full_case()].index(stap)][field]
        order = order_for(kind, facts, {stap: {field: base + " " + FILLER * n}})
        docx = renderer.render(order.row.template, order.context)
        pdf = tmp_path / f"{kind}-{n}.pdf"
        pdf.write_bytes(converter.convert(docx, metadata=PdfMetadata(title=order.title, author=order.author)))
        found = pages(pdf)
        return len(found), found[-1]

    # the smallest filler that makes the document one page longer than it is with none
    start = last_pages(0)[0]
    lo, hi = 0, 1
    while last_pages(hi)[0] == start:
        lo, hi = hi, hi * 2
        assert hi <= 64, "the document never grew a page"
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if last_pages(mid)[0] == start else (lo, mid)
    checked = 0
    for n in (hi, hi + 1, hi + 2):
        count, last = last_pages(n)
        if count == start:
            continue
        checked += 1
        assert block in last, (n, last)
        assert before in last, f"filler {n}: the block sits alone on page {count}:\n{last}"
        body_before_block = last[:last.index(block)]
        assert before in body_before_block, (n, last)
    assert checked >= 1


def test_no_line_break_inside_a_name_a_date_or_an_amount(facts, converter, tmp_path):
    """Forty copies of one sentence behind paddings of 1 to 7 letters: in a left-aligned paragraph the names,
    dates and amounts land at every position of the line, also at its end; the line breaks before them, never
    inside."""
    sentence = "Dr. P. Bakker schreef op 7 november 2026 over € 485,00 aan M.A. Jansen te 3811 HR Amersfoort."
    motivering = " ".join(f"{'x' * (i % 7 + 1)} {sentence}" for i in range(40))
    order = order_for("reactie-bedrijfsarts", facts, {"beoordeling_advies": {"motivering": motivering}})
    docx = DocxRenderer(TEMPLATES).render(order.row.template, order.context)
    pdf = tmp_path / "reactie.pdf"
    pdf.write_bytes(converter.convert(docx, metadata=PdfMetadata(title=order.title, author=order.author)))
    text = "\n".join(pages(pdf))
    section = text[text.index("Motivering"):text.index("Gevolgen voor mijn advies")]
    lines = [line.strip() for line in section.splitlines()[1:] if line.strip()]
    assert len(lines) > 40
    broken = [(a, b) for a, b in zip(lines, lines[1:])
              if re.search(r"(?:\bDr\.|\bP\.|\bM\.A\.|\b\d{1,2}|november|€|\b\d{4})$", a)
              and re.match(r"(?:P\.|Bakker|Jansen|november|2026|485|HR)\b", b)]
    assert broken == []
    # and the sentence did wrap: the paragraph has lines that start with a name or a date, and do not end one
    assert any(re.match(r"(?:Dr\.|7 november|€ 485|M\.A\.|3811)", line) for line in lines)
