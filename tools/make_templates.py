"""Generate the Word templates in `pipeline/templates/` (the contract is `docs/templates.md`).

The .docx files are the product: a secretariat may open and adjust them in Word. This script is how they are
made reproducibly: it writes every template from code with python-docx, placing each Jinja placeholder in a
run of its own so docxtpl never sees a tag split over runs, and using docxtpl's `{%p ... %}` paragraph tags for
lists and conditions.

Usage:
    python tools/make_templates.py            # writes pipeline/templates/*.docx (package data)
    python tools/make_templates.py --out DIR  # writes them somewhere else (e.g. to compare)
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

REPO = Path(__file__).resolve().parent.parent

# --- house style ------------------------------------------------------------------------------------------
FONT = "Arial"  # LibreOffice substitutes the metric-compatible Liberation Sans
ACCENT = RGBColor(0x1F, 0x4E, 0x79)  # dark blue: titles, headings, letterhead
ACCENT_HEX = "1F4E79"
GREY = RGBColor(0x59, 0x59, 0x59)
RULE_HEX = "BFBFBF"
CONCEPT_RED = RGBColor(0xC0, 0x00, 0x00)
CONCEPT_RED_HEX = "C00000"

PAGE_W, PAGE_H = Cm(21.0), Cm(29.7)
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = Cm(2.5), Cm(2.0), Cm(2.0), Cm(2.2)
TEXT_W = PAGE_W - MARGIN_L - MARGIN_R  # 16.5 cm

# Neutral metadata: the rendered documents inherit it (and LibreOffice copies the title into the PDF).
# Titles of templates that go to an employer therefore never mention the second opinion where the
# procedure keeps it confidential.
META_AUTHOR = "sopipe"
META_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

VERTROUWELIJK = "Vertrouwelijk"
VERTROUWELIJK_MEDISCH = "Vertrouwelijk – bevat medische gegevens (medisch beroepsgeheim)"


# --- low-level XML helpers -------------------------------------------------------------------------------
def _el(tag: str, **attrs: str) -> OxmlElement:
    el = OxmlElement(tag)
    for key, value in attrs.items():
        el.set(qn(f"w:{key}"), value)
    return el


def _set_fonts(rpr, name: str = FONT) -> None:
    """Set every script slot to `name` and drop theme fonts, which would otherwise win over w:ascii."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = _el("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr in ("ascii", "hAnsi", "eastAsia", "cs"):
        fonts.set(qn(f"w:{attr}"), name)


def _set_lang(rpr, lang: str = "nl-NL") -> None:
    el = rpr.find(qn("w:lang"))
    if el is None:
        el = _el("w:lang")
        rpr.append(el)
    el.set(qn("w:val"), lang)
    el.set(qn("w:eastAsia"), "zh-CN")
    el.set(qn("w:bidi"), "ar-SA")


# Word validates the order of property elements; these are the schema sequences (ECMA-376) we insert into.
_ORDER = {
    "pPr": ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "framePr", "widowControl", "numPr",
            "suppressLineNumbers", "pBdr", "shd", "tabs", "suppressAutoHyphens", "kinsoku", "wordWrap",
            "overflowPunct", "topLinePunct", "autoSpaceDE", "autoSpaceDN", "bidi", "adjustRightInd", "snapToGrid",
            "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc", "textDirection",
            "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange"],
    "rPr": ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline",
            "shadow", "emboss", "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing", "w",
            "kern", "position", "sz", "szCs", "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign",
            "rtl", "cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath"],
    "tblPr": ["tblStyle", "tblpPr", "tblOverlap", "bidiVisual", "tblStyleRowBandSize", "tblStyleColBandSize",
              "tblW", "jc", "tblCellSpacing", "tblInd", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook"],
    "tcPr": ["cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar",
             "textDirection", "tcFitText", "vAlign", "hideMark"],
}


def _put(parent, child) -> None:
    """Insert `child` into a w:pPr/w:rPr/w:tblPr/w:tcPr at its schema position (replacing a same-named one)."""
    order = _ORDER[parent.tag.split("}")[1]]
    name = child.tag.split("}")[1]
    for old in parent.findall(child.tag):
        parent.remove(old)
    rank = order.index(name)
    for existing in parent:
        other = existing.tag.split("}")[1]
        if other in order and order.index(other) > rank:
            existing.addprevious(child)
            return
    parent.append(child)


def _border(props, container_tag: str, sides: Iterable[str], *, sz: int = 4, color: str = RULE_HEX,
            space: int = 1) -> None:
    box = _el(container_tag)
    for side in sides:
        box.append(_el(f"w:{side}", val="single", sz=str(sz), space=str(space), color=color))
    _put(props, box)


def _paragraph_border(paragraph, sides: Iterable[str], **kw) -> None:
    _border(paragraph._p.get_or_add_pPr(), "w:pBdr", sides, **kw)


def _shade(props, fill: str) -> None:
    _put(props, _el("w:shd", val="clear", color="auto", fill=fill))


# --- runs: every placeholder in a run of its own ------------------------------------------------------------
@dataclass(frozen=True)
class R:
    """One run written exactly as given (use it for inline `{% if %}…{% endif %}` constructs)."""

    text: str
    bold: bool = False
    italic: bool = False
    size: float | None = None
    color: RGBColor | None = None


_TAG = re.compile(r"(\{\{.*?\}\}|\{%.*?%\})")


def add_runs(paragraph, *pieces: str | R, bold: bool = False, size: float | None = None,
             color: RGBColor | None = None) -> None:
    """Write text into runs. `**x**` marks bold; every `{{ … }}` / `{% … %}` gets a run of its own."""
    for piece in pieces:
        if isinstance(piece, R):
            _run(paragraph, piece.text, bold=piece.bold or bold, italic=piece.italic,
                 size=piece.size or size, color=piece.color or color)
            continue
        for i, chunk in enumerate(piece.split("**")):
            chunk_bold = bold or (i % 2 == 1)
            for part in _TAG.split(chunk):
                if part:
                    _run(paragraph, part, bold=chunk_bold, size=size, color=color)


def _run(paragraph, text: str, *, bold: bool = False, italic: bool = False, size: float | None = None,
         color: RGBColor | None = None):
    run = paragraph.add_run(text)
    if bold:
        run.bold = True
    if italic:
        run.italic = True
    if size:
        run.font.size = Pt(size)
    if color is not None:
        run.font.color.rgb = color
    return run


def add_field(paragraph, instr: str, placeholder: str, *, size: float, color: RGBColor) -> None:
    """A Word field (PAGE, NUMPAGES) as begin/instr/separate/result/end runs."""

    def run_with(child):
        run = _run(paragraph, "", size=size, color=color)
        run._r.append(child)
        return run

    run_with(_el("w:fldChar", fldCharType="begin"))
    instr_el = OxmlElement("w:instrText")
    instr_el.set(qn("xml:space"), "preserve")
    instr_el.text = f" {instr} "
    run_with(instr_el)
    run_with(_el("w:fldChar", fldCharType="separate"))
    _run(paragraph, placeholder, size=size, color=color)
    run_with(_el("w:fldChar", fldCharType="end"))


# --- document skeleton ---------------------------------------------------------------------------------------
def _style_document(doc) -> None:
    styles = doc.styles
    # defaults for everything (also what Word uses for new text the user types)
    rpr_default = styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr_default)
    _set_lang(rpr_default)
    for tag in ("w:sz", "w:szCs"):
        rpr_default.find(qn(tag)).set(qn("w:val"), "20")
    ppr_default = styles.element.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr_default.find(qn("w:spacing"))
    spacing.set(qn("w:after"), "120")
    spacing.set(qn("w:line"), "264")

    normal = styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10)
    _set_fonts(normal.element.get_or_add_rPr())
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.1
    normal.paragraph_format.widow_control = True

    def restyle(style, *, size: float, bold: bool = True, color: RGBColor = ACCENT, before: float = 0,
                after: float = 4, keep_next: bool = True):
        rpr = style.element.get_or_add_rPr()
        for tag in ("w:color", "w:rFonts", "w:i", "w:iCs", "w:caps", "w:spacing", "w:kern"):
            for el in rpr.findall(qn(tag)):
                rpr.remove(el)
        _set_fonts(rpr)
        style.font.size = Pt(size)
        style.font.bold = bold
        style.font.color.rgb = color
        pf = style.paragraph_format
        pf.space_before = Pt(before)
        pf.space_after = Pt(after)
        pf.keep_with_next = keep_next
        pf.keep_together = True
        pf.line_spacing = 1.0
        ppr = style.element.get_or_add_pPr()
        for el in ppr.findall(qn("w:pBdr")):
            ppr.remove(el)
        return style

    h1 = restyle(styles["Heading 1"], size=11, before=14, after=5)
    _border(h1.element.get_or_add_pPr(), "w:pBdr", ["bottom"], sz=4, color=RULE_HEX, space=2)
    restyle(styles["Heading 2"], size=10, before=8, after=2)
    restyle(styles["Title"], size=17, before=0, after=2)

    def new_style(name: str, *, base: str = "Normal", size: float = 10, bold: bool = False,
                  color: RGBColor | None = None, after: float = 0, before: float = 0, line: float = 1.1):
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = styles[base]
        style.font.size = Pt(size)
        style.font.bold = bold
        if color is not None:
            style.font.color.rgb = color
        style.paragraph_format.space_after = Pt(after)
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.line_spacing = line
        style.quick_style = True
        return style

    new_style("SO Briefhoofd", size=14, bold=True, color=ACCENT)
    new_style("SO Briefhoofd adres", size=8.5, color=GREY)
    new_style("SO Ondertitel", size=9.5, color=GREY, after=10)
    new_style("SO Adres", size=10, line=1.15)
    new_style("SO Label", size=8.5, color=GREY, before=1)
    new_style("SO Tabel", size=10, line=1.1)
    new_style("SO Kader", size=9.5, before=2, after=8, line=1.15)
    new_style("SO Klein", size=8, color=GREY)
    new_style("SO Logica", size=7, color=GREY)


def _page_setup(section) -> None:
    section.page_width, section.page_height = PAGE_W, PAGE_H
    section.left_margin, section.right_margin = MARGIN_L, MARGIN_R
    section.top_margin, section.bottom_margin = MARGIN_T, MARGIN_B
    section.header_distance = Cm(1.0)
    section.footer_distance = Cm(1.0)
    section.start_type = WD_SECTION.NEW_PAGE


def _tab_right(paragraph) -> None:
    paragraph.paragraph_format.tab_stops.add_tab_stop(TEXT_W, WD_TAB_ALIGNMENT.RIGHT)


def _concept_header(container) -> None:
    """A large CONCEPT on top of every page, present only when `concept` is true."""
    first = container.paragraphs[0]
    add_runs(first, "{%p if concept %}")
    p = container.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.space_after = Pt(2)
    run = _run(p, "CONCEPT", bold=True, size=30, color=CONCEPT_RED)
    rpr = run._r.get_or_add_rPr()
    _put(rpr, _el("w:spacing", val="120"))  # letter spacing 6 pt
    _paragraph_border(p, ["top", "bottom"], sz=12, color=CONCEPT_RED_HEX, space=1)
    end = container.add_paragraph()
    add_runs(end, "{%p endif %}")


def _setup_header_footer(doc, *, confidentiality: str | None, concept_header: bool,
                         footer_reference: str = "Kenmerk {{ kenmerk }}") -> None:
    section = doc.sections[0]
    section.different_first_page_header_footer = True

    # first page: the letterhead is in the body, so the header only carries CONCEPT (when applicable)
    first_header = section.first_page_header
    if concept_header:
        _concept_header(first_header)
        first_header.add_paragraph()  # a header must keep one paragraph after the tags are removed
    else:
        first_header.paragraphs[0].paragraph_format.space_after = Pt(0)

    # following pages: a discreet running head
    header = section.header
    if concept_header:
        _concept_header(header)
        running = header.add_paragraph()
    else:
        running = header.paragraphs[0]
    _tab_right(running)
    running.style = doc.styles["SO Klein"]
    running.paragraph_format.space_after = Pt(14)
    add_runs(running, "{{ organisatie.naam }}", " · ", "{{ titel }}", "\t", footer_reference)
    _paragraph_border(running, ["bottom"], sz=4, color=RULE_HEX, space=3)

    for footer in (section.first_page_footer, section.footer):
        p = footer.paragraphs[0]
        p.style = doc.styles["SO Klein"]
        p.paragraph_format.space_before = Pt(0)
        _tab_right(p)
        _paragraph_border(p, ["top"], sz=4, color=RULE_HEX, space=3)
        add_runs(p, footer_reference)
        if confidentiality:
            add_runs(p, "  ·  ")
            add_runs(p, R(confidentiality) if "{%" in confidentiality else confidentiality)
        add_runs(p, "\tPagina ")
        add_field(p, "PAGE", "1", size=8, color=GREY)
        add_runs(p, " van ")
        add_field(p, "NUMPAGES", "1", size=8, color=GREY)


def _set_metadata(doc, *, title: str, subject: str) -> None:
    cp = doc.core_properties
    cp.title = title
    cp.subject = subject
    cp.author = META_AUTHOR
    cp.last_modified_by = META_AUTHOR
    cp.comments = "Sjabloon voor sopipe; gegenereerd door tools/make_templates.py. Velden: docs/templates.md."
    cp.keywords = "sjabloon"
    cp.category = "Sjabloon"
    cp.language = "nl-NL"
    cp.created = META_DATE
    cp.modified = META_DATE
    cp.revision = 1
    cp.identifier = ""
    cp.content_status = ""
    cp.version = ""


def _neutral_package(doc) -> None:
    """Drop python-docx's sample thumbnail and its 'Microsoft Macintosh Word' app properties."""
    pkg = doc.part.package
    for rel_id, rel in list(pkg.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del pkg.rels[rel_id]
    for rel_id, rel in list(doc.part.rels.items()):
        # Word 2010's copy of the *unstyled* defaults; newer Word ignores it, older Word would prefer it
        if rel.reltype.endswith("/stylesWithEffects"):
            del doc.part.rels[rel_id]
    for part in pkg.iter_parts():
        if str(part.partname) == "/docProps/app.xml":
            part._blob = (
                b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
                b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
                b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
                b"<Template>Normal.dotm</Template><Application>sopipe</Application><DocSecurity>0</DocSecurity>"
                b"<ScaleCrop>false</ScaleCrop><Company></Company><LinksUpToDate>false</LinksUpToDate>"
                b"<SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged></Properties>"
            )
    settings = doc.settings.element
    lang = settings.find(qn("w:themeFontLang"))
    if lang is not None:
        lang.set(qn("w:val"), "nl-NL")
    rsids = settings.find(qn("w:rsids"))
    if rsids is not None:
        settings.remove(rsids)


class Doc:
    """A template under construction: a python-docx Document plus house-style building blocks."""

    def __init__(self, *, title: str, subject: str, confidentiality: str | None,
                 concept_header: bool = False, footer_reference: str = "Kenmerk {{ kenmerk }}") -> None:
        self.doc = Document()
        _style_document(self.doc)
        _page_setup(self.doc.sections[0])
        _setup_header_footer(self.doc, confidentiality=confidentiality, concept_header=concept_header,
                             footer_reference=footer_reference)
        _set_metadata(self.doc, title=title, subject=subject)
        _neutral_package(self.doc)

    # paragraphs -----------------------------------------------------------------------------------------
    def p(self, *pieces: str | R, style: str | None = None, after: float | None = None,
          before: float | None = None, keep_next: bool = False, align=None, size: float | None = None,
          color: RGBColor | None = None, bold: bool = False, into=None):
        """A paragraph in the body, or in `into` (a table cell)."""
        para = (into if into is not None else self.doc).add_paragraph(style=style)
        add_runs(para, *pieces, size=size, color=color, bold=bold)
        pf = para.paragraph_format
        if after is not None:
            pf.space_after = Pt(after)
        if before is not None:
            pf.space_before = Pt(before)
        if keep_next:
            pf.keep_with_next = True
        if align is not None:
            para.alignment = align
        return para

    def tag(self, tag: str, *, into=None):
        """A docxtpl paragraph tag (`{%p … %}`): the whole paragraph is replaced by the Jinja tag."""
        return self.p(tag, style="SO Logica", after=0, into=into)

    def heading(self, text: str, level: int = 1, *, into=None):
        if into is not None:
            return self.p(text, style=f"Heading {level}", into=into)
        return self.doc.add_heading(text, level=level)

    def unsplit_cell(self):
        """A borderless one-cell table row that may not split: what is written into it moves to the next page as
        one block (LibreOffice does not reliably keep a chain of keep-with-next paragraphs together, but it never
        splits such a row)."""
        table = self.table([TEXT_W], borders=False, side_margin=0)
        row = table.add_row()
        row._tr.get_or_add_trPr().append(_el("w:cantSplit"))
        cell = row.cells[0]
        cell.width = TEXT_W
        return cell

    def closing_into(self, cell, greeting: str = "Met vriendelijke groet,") -> None:
        """The closing inside `cell` (see `unsplit_cell`): it never stands on a page without what precedes it."""
        self.p(greeting, before=6, after=24, keep_next=True, into=cell)
        self.sender_lines(into=cell)
        cell._tc.remove(cell.paragraphs[0]._p)  # the cell's own empty first paragraph

    def spacer(self, pt: float, *, into=None):
        para = (into if into is not None else self.doc).add_paragraph()
        pf = para.paragraph_format
        pf.space_before = Pt(0)
        pf.space_after = Pt(0)
        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(pt)
        return para

    def box(self, *pieces: str | R, color: str = ACCENT_HEX, fill: str = "EEF3F8", bold: bool = False):
        """A framed note (no suspensive effect, anonymity, concept status …)."""
        para = self.p(*pieces, style="SO Kader", bold=bold)
        _paragraph_border(para, ["top", "left", "bottom", "right"], sz=6, color=color, space=4)
        _shade(para._p.get_or_add_pPr(), fill)
        pf = para.paragraph_format
        pf.left_indent = Cm(0.15)
        pf.right_indent = Cm(0.15)
        pf.keep_together = True  # a frame split over two pages reads as two notes
        return para

    # blocks ---------------------------------------------------------------------------------------------
    def letterhead(self) -> None:
        self.tag("{%p if organisatie.logo %}")
        self.p("{{ organisatie.logo }}", style="SO Briefhoofd", align=WD_ALIGN_PARAGRAPH.RIGHT, after=4)
        self.tag("{%p endif %}")
        self.p("{{ organisatie.naam }}", style="SO Briefhoofd", align=WD_ALIGN_PARAGRAPH.RIGHT)
        self.tag("{%p for regel in organisatie.adresregels %}")
        self.p("{{ regel }}", style="SO Briefhoofd adres", align=WD_ALIGN_PARAGRAPH.RIGHT)
        self.tag("{%p endfor %}")
        rule = self.spacer(4)
        _paragraph_border(rule, ["bottom"], sz=8, color=ACCENT_HEX, space=1)
        self.spacer(14)

    def title(self, subtitle: str | None = None) -> None:
        self.p("{{ titel }}", style="Title", keep_next=True)
        if subtitle:
            self.p(subtitle, style="SO Ondertitel", keep_next=True)

    def addressee(self, *, label: str | None = None) -> None:
        if label:
            self.p(label, style="SO Adres", bold=True, size=8.5, color=GREY, after=2)
        self.p("{{ aan.naam }}", style="SO Adres")
        self.tag("{%p for regel in aan.adresregels %}")
        self.p("{{ regel }}", style="SO Adres")
        self.tag("{%p endfor %}")

    def table(self, widths: list, *, borders: bool = True, side_margin: int = 85):
        table = self.doc.add_table(rows=0, cols=len(widths))
        table.alignment = WD_TABLE_ALIGNMENT.LEFT
        table.autofit = False
        tbl = table._tbl
        tblpr = tbl.tblPr
        _put(tblpr, _el("w:tblW", w=str(int(sum(widths) / 635)), type="dxa"))  # EMU -> twips
        _put(tblpr, _el("w:tblLayout", type="fixed"))
        mar = _el("w:tblCellMar")
        for side, val in (("top", "45"), ("left", str(side_margin)), ("bottom", "45"),
                          ("right", str(side_margin))):
            mar.append(_el(f"w:{side}", w=val, type="dxa"))
        _put(tblpr, mar)
        bdr = _el("w:tblBorders")
        ruled = ("top", "bottom", "insideH") if borders else ()
        for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
            if side in ruled:
                bdr.append(_el(f"w:{side}", val="single", sz="4", space="0", color=RULE_HEX))
            else:
                bdr.append(_el(f"w:{side}", val="nil"))
        _put(tblpr, bdr)
        grid = tbl.tblGrid
        for col, width in zip(grid.findall(qn("w:gridCol")), widths):
            col.set(qn("w:w"), str(int(width / 635)))
        table._widths = widths  # remembered for add_row
        return table

    def row(self, table, *cells: "str | R | Callable | None", label_first: bool = True, shade: str | None = None,
            bold: bool = False, keep_next: bool = False, right: tuple[int, ...] = ()):
        row = table.add_row()
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(_el("w:cantSplit"))
        for i, (cell, content) in enumerate(zip(row.cells, cells)):
            cell.width = table._widths[i]
            if shade:
                _shade(cell._tc.get_or_add_tcPr(), shade)
            para = cell.paragraphs[0]
            is_label = label_first and i == 0
            para.style = self.doc.styles["SO Label" if is_label else "SO Tabel"]
            if callable(content):
                content(self, cell)
            elif content is not None:
                pieces = content if isinstance(content, (list, tuple)) else [content]
                add_runs(para, *pieces, bold=bold)
            if i in right:
                for cp in cell.paragraphs:
                    cp.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if keep_next:
                for cp in cell.paragraphs:
                    cp.paragraph_format.keep_with_next = True
        return row

    def kv_table(self, rows: list[tuple], *, label_w=Cm(4.6), keep_together: bool = True,
                 keep_with_next: bool = False):
        """Label/value rows; a row `(label, value, condition)` is shown only when the Jinja `condition` holds (no
        row with a dash for what is not there). `keep_with_next`: the table stays with what follows it."""
        table = self.table([label_w, TEXT_W - label_w])
        for n, (label, value, *cond) in enumerate(rows):
            keep = keep_with_next or (keep_together and n < len(rows) - 1)
            if cond:
                self.row(table, f"{{%tr if {cond[0]} %}}", "", label_first=False)
            self.row(table, label, value, keep_next=keep)
            if cond:
                self.row(table, "{%tr endif %}", "", label_first=False)
        spacer = self.spacer(6)
        spacer.paragraph_format.keep_with_next = keep_with_next
        return table

    def ref_block(self, pairs: list[tuple[str, str]]) -> None:
        """Kenmerk / Datum as a row of small labels over values (letter and form heads)."""
        n = len(pairs)
        widths = [TEXT_W // n] * n
        table = self.table(widths, borders=False)
        labels = self.row(table, *[label for label, _ in pairs], label_first=False, keep_next=True)
        for cell in labels.cells:
            cell.paragraphs[0].style = self.doc.styles["SO Label"]
        self.row(table, *[value for _, value in pairs], label_first=False)
        self.spacer(10)

    def keep_with_what_follows(self) -> None:
        """Keep-with-next on the body's last paragraph (every branch of a trailing `{%p if %}` block, whose
        tag paragraphs docxtpl removes), or on the last row of a trailing table: what comes next (the closing
        or the signature block) then never starts a page on its own. Called inside the `{%p else %}` branch of
        an `{%p if %}`, the other branch is skipped: it is never rendered together with what follows."""
        depth, skipping = 0, None  # skipping: the depth at which the skipped `if` branch ends
        for el in reversed(list(self.doc.element.body)):
            if el.tag not in (qn("w:p"), qn("w:tbl")):
                continue
            text = "".join(t.text or "" for t in el.iter(qn("w:t"))).strip() if el.tag == qn("w:p") else ""
            if text.startswith("{%p"):
                if re.match(r"\{%p\s*end(if|for)", text):
                    depth += 1
                elif re.match(r"\{%p\s*(if|for)\b", text):
                    depth -= 1
                    if skipping is not None and depth < skipping:
                        skipping = None
                elif re.match(r"\{%p\s*(else|elif)\b", text) and skipping is None:
                    skipping = depth
                continue
            if skipping is not None:
                continue
            if el.tag == qn("w:tbl"):
                rows = el.findall(qn("w:tr"))
                for p in (rows[-1].iter(qn("w:p")) if rows else ()):
                    _put(p.get_or_add_pPr(), _el("w:keepNext"))
                if depth <= 0:
                    return
                continue
            _put(el.get_or_add_pPr(), _el("w:keepNext"))  # not keepLines: free text may be longer than a page
            if depth <= 0 and text:
                return

    def closing(self, greeting: str = "Met vriendelijke groet,") -> None:
        self.keep_with_what_follows()
        self.p(greeting, before=6, after=24, keep_next=True)
        self.sender_lines()

    def sender_lines(self, *, keep_last: bool = False, into=None) -> None:
        self.p("{{ afzender.naam }}", after=0, keep_next=True, bold=True, into=into)
        self.tag("{%p if afzender.functie %}", into=into)
        self.p("{{ afzender.functie }}", after=0, keep_next=True, into=into)
        self.tag("{%p endif %}", into=into)
        self.tag("{%p if afzender.big_nummer != '—' %}", into=into)
        self.p("BIG-nummer\u00a0", "{{ afzender.big_nummer }}", after=0, keep_next=True, into=into)
        self.tag("{%p endif %}", into=into)
        self.tag("{%p if afzender.organisatie != afzender.naam %}", into=into)
        self.p("{{ afzender.organisatie }}", after=0, keep_next=keep_last, into=into)
        self.tag("{%p endif %}", into=into)

    def signed_closing(self, label: str, *, compact: bool = False) -> None:
        """Signer details, then `Ondertekening` and 4 cm of empty space: the signer draws below that word.

        All of it sits in one borderless table row that may not split: LibreOffice does not reliably keep a
        chain of keep-with-next paragraphs together at the end of a document, but it never splits such a row.
        """
        self.keep_with_what_follows()
        cell = self.unsplit_cell()
        empty = cell.paragraphs[0]._p
        if compact:
            self.p(f"{label}: ", "**{{ afzender.naam }}**", " (", "{{ afzender.functie }}", ")",
                   R("{% if afzender.organisatie != afzender.naam %}, {{ afzender.organisatie }}{% endif %}"),
                   R("{% if afzender.big_nummer != '—' %}, BIG-nummer\u00a0{{ afzender.big_nummer }}{% endif %}"),
                   ".", keep_next=True, before=6, into=cell)
        else:
            self.p(label, style="Heading 1", into=cell)
            self.sender_lines(keep_last=True, into=cell)
        head = self.p("Ondertekening", style="Heading 1", keep_next=True, into=cell)
        head.paragraph_format.keep_together = True
        # A bookmark on the word: LibreOffice exports it as a named PDF destination, so the signer finds the
        # spot without parsing the page's text (which costs more than the signature itself).
        start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
        start.set(qn("w:id"), "900")
        start.set(qn("w:name"), "Ondertekening")
        end.set(qn("w:id"), "900")
        ppr = head._p.pPr
        (ppr.addnext if ppr is not None else (lambda el: head._p.insert(0, el)))(start)
        head._p.append(end)
        for _ in range(4):
            para = self.spacer(28.35, into=cell)  # 1 cm each, exact height
            para.paragraph_format.keep_with_next = True
            para.paragraph_format.keep_together = True
        cell._tc.remove(empty)

    def save(self, path: Path) -> None:
        # A body must end with a paragraph (not a table); 1 pt high so it never spills onto an extra page.
        self.spacer(1)
        self.doc.save(path)


# --- cell fillers --------------------------------------------------------------------------------------------
def lines(expr: str, *, lead: str | None = None) -> Callable:
    """A table cell with one paragraph per list item (docxtpl `{%p for %}`), `—` when the list is empty."""

    def fill(d: Doc, cell) -> None:
        first = cell.paragraphs[0]
        style = d.doc.styles["SO Tabel"]
        if lead:
            add_runs(first, lead)
            first = cell.add_paragraph(style=style)
        add_runs(first, f"{{%p for regel in {expr} %}}")
        for text in ("{{ regel }}", "{%p endfor %}", f"{{%p if not {expr} %}}", "—", "{%p endif %}"):
            para = cell.add_paragraph(style=style)
            add_runs(para, text)

    return fill


def paras(*texts: "str | tuple") -> Callable:
    """A table cell with several paragraphs; a tuple is the pieces of one paragraph."""

    def fill(d: Doc, cell) -> None:
        para = cell.paragraphs[0]
        for i, text in enumerate(texts):
            if i:
                para = cell.add_paragraph(style=d.doc.styles["SO Tabel"])
            pieces = text if isinstance(text, tuple) else (text,)
            add_runs(para, *pieces)

    return fill


def person(prefix: str, *, email: bool = False) -> Callable:
    """Doctor block: name in bold, then organisation and BIG number (and e-mail)."""
    texts: list = [(f"**{{{{ {prefix}.naam }}}}**",), (f"{{{{ {prefix}.organisatie }}}}",),
                   ("BIG-nummer\u00a0", f"{{{{ {prefix}.big_nummer }}}}")]
    if email:
        texts.append((f"{{{{ {prefix}.email }}}}",))
    return paras(*texts)


def CHECK(condition: str) -> R:
    """☒ when `condition` holds, else ☐ (one run, so Word shows it as one unit)."""
    return R(f"{{% if {condition} %}}☒{{% else %}}☐{{% endif %}}", size=11)


# --- the templates ---------------------------------------------------------------------------------------------
GEEN_OPSCHORTING = (
    "**Geen opschortende werking.** De second opinion heeft geen opschortende werking: het advies van de eigen "
    "bedrijfsarts blijft van kracht totdat de eigen bedrijfsarts het second opinion-advies heeft beoordeeld. "
    "Werknemer en werkgever maken in de tussentijd afspraken op basis van dat advies; de re-integratie wordt "
    "niet uitgesteld tot na de second opinion."
)


def aanvraagformulier() -> Doc:
    d = Doc(title="Aanvraagformulier second opinion", subject="Sjabloon: aanvraag bij de second opinion-bedrijfsarts",
            confidentiality="{% if medisch_opgenomen %}" + VERTROUWELIJK_MEDISCH + "{% else %}"
            + VERTROUWELIJK + "{% endif %}")
    d.letterhead()
    d.title("Second opinion-bedrijfsarts · artikel 2.14d Arbeidsomstandighedenbesluit")
    d.ref_block([("Kenmerk", "{{ kenmerk }}"), ("Datum aanvraag", "{{ datum }}"), ("Betreft", "{{ betreft }}")])
    d.p("De eigen bedrijfsarts vraagt, op verzoek van de werknemer, een second opinion aan. ", "{{ keuze_so }}")

    d.heading("1. Werknemer")
    d.kv_table([
        ("Naam", "**{{ werknemer.naam }}**"),
        ("Geboortedatum", "{{ werknemer.geboortedatum }}"),
        ("Adres", lines("werknemer.adresregels")),
        ("E-mail", "{{ werknemer.email }}"),
        ("Telefoon", "{{ werknemer.telefoon }}"),
    ])

    d.heading("2. Werkgever")
    d.kv_table([
        ("Naam", "{{ werkgever.naam }}"),
        ("Adres", lines("werkgever.adresregels")),
        ("Contactpersoon", "{{ werkgever.contactpersoon }}", "werkgever.contactpersoon != '—'"),
        ("Kostenplaats", "{{ werkgever.kostenplaats }}", "werkgever.kostenplaats != '—'"),
    ])

    d.heading("3. Aanvragende en uitvoerende bedrijfsarts")
    d.kv_table([
        ("Eigen bedrijfsarts (aanvrager)", person("bedrijfsarts", email=True)),
        ("Second opinion-bedrijfsarts", person("so_bedrijfsarts", email=True)),
    ])

    d.heading("4. Het betwiste advies")
    d.kv_table([
        ("Advies in het kader van", "{{ betreft }}"),
        ("Datum van het advies", "{{ datum_betwist_advies }}"),
        ("Inhoud van het advies", "{{ betwist_advies }}"),
    ])

    d.heading("5. Vraagstelling")
    d.p("{{ vraag_door }}", style="SO Klein", after=4, keep_next=True)
    d.p("{{ vraagstelling }}")

    d.heading("6. Werkgegevens")
    d.p("{{ werkgegevens }}")
    d.p("Voor het verstrekken van relevante gegevens over het werk en de werkomstandigheden is geen machtiging "
        "van de werknemer nodig.", style="SO Klein", after=6)

    d.heading("7. Medische gegevens")
    d.p("{{ medisch_toelichting }}")
    d.tag("{%p if medisch_opgenomen %}")
    d.p("{{ medische_gegevens }}")
    d.p("Uitsluitend bestemd voor de second opinion-bedrijfsarts; valt onder het medisch beroepsgeheim.",
        style="SO Klein", after=6)
    d.tag("{%p endif %}")

    d.heading("8. Kosten")
    d.p("{{ kosten }}")

    d.heading("9. Afspraken over de uitvoering")
    d.box(GEEN_OPSCHORTING)
    d.p("U heeft laten weten dat u de second opinion binnen redelijke tijd kunt uitvoeren; wij vragen u de "
        "ontvangst van deze aanvraag te bevestigen. U legt uw conceptadvies eerst aan de "
        "werknemer voor, zodat deze feitelijke onjuistheden kan doorgeven. De eigen bedrijfsarts ontvangt het "
        "definitieve advies alleen met uitdrukkelijke toestemming van de werknemer. Aanvullende informatie bij "
        "derden vraagt u alleen op met toestemming van de werknemer.")

    d.signed_closing("Aanvrager")
    return d


def machtiging() -> Doc:
    d = Doc(title="Machtiging", subject="Sjabloon: vastlegging van de toestemming van de werknemer",
            confidentiality=VERTROUWELIJK)
    d.letterhead()
    d.title("Toestemming van de werknemer · second opinion-bedrijfsarts")
    d.ref_block([("Kenmerk", "{{ kenmerk }}"), ("Datum", "{{ datum }}"), ("", "")])

    d.heading("{{ machtiging.onderwerp }}")
    d.p("Verklaring van de werknemer:", style="SO Label", after=2, keep_next=True)
    d.box("{{ machtiging.omschrijving }}")
    col = TEXT_W // 3
    table = d.table([col, col, TEXT_W - 2 * col])
    labels = d.row(table, "Werknemer", "Eigen bedrijfsarts", "Second opinion-bedrijfsarts", label_first=False,
                   keep_next=True)
    for cell in labels.cells:
        cell.paragraphs[0].style = d.doc.styles["SO Label"]
    d.row(table, paras(("**{{ werknemer.naam }}**",), ("geboren ", "{{ werknemer.geboortedatum }}")),
          person("bedrijfsarts"), person("so_bedrijfsarts"), label_first=False)
    d.spacer(6)

    d.heading("Waar de beslissing over gaat")
    d.kv_table([
        ("Welke gegevens", "{{ machtiging.wat }}"),
        ("Van", "{{ machtiging.van }}"),
        ("Aan", "{{ machtiging.aan }}"),
        ("Doel", "{{ machtiging.doel }}"),
        ("Geldig", "{{ machtiging.geldig_tot }}", "machtiging.verleend"),
        ("Als u weigert", "{{ machtiging.weigeren }}"),
    ], keep_together=False)
    d.p("De werkgever ontvangt nooit medische gegevens.", style="SO Klein", after=6)

    d.heading("Beslissing van de werknemer")
    table = d.table([Cm(0.9), TEXT_W - Cm(0.9)], borders=False)
    d.row(table, CHECK("machtiging.verleend"), "**Toestemming verleend** – de hierboven omschreven gegevens "
          "mogen worden verstrekt.", label_first=False, keep_next=True)
    d.row(table, CHECK("not machtiging.verleend"), "**Toestemming geweigerd** – de gegevens worden niet "
          "verstrekt.", label_first=False, keep_next=True)
    d.spacer(4).paragraph_format.keep_with_next = True
    d.kv_table([
        ("Beslist op", "{{ machtiging.datum }}"),
        ("Hoe", "{{ machtiging.wijze }}"),
        ("Vastgelegd door", "{{ machtiging.vastgelegd_door }}"),
    ])

    d.heading("{% if machtiging.verleend %}Intrekken{% else %}Alsnog toestemming geven{% endif %}")
    d.p("{% if machtiging.verleend %}Deze toestemming kan op elk moment en zonder opgave van redenen worden "
        "ingetrokken. Vanaf dat moment worden op grond van deze machtiging geen gegevens meer verstrekt; wat al is "
        "verstrekt, wordt niet teruggehaald, maar wie gegevens op grond van deze machtiging heeft ontvangen, krijgt "
        "bericht van de intrekking.{% else %}Een geweigerde toestemming kan later alsnog worden verleend.{% endif %}")
    d.p("{{ machtiging.intrekken }}")

    d.signed_closing("Gezegeld door", compact=True)
    return d


def advies() -> Doc:
    d = Doc(title="Advies second opinion", subject="Sjabloon: (concept)advies van de second opinion-bedrijfsarts",
            confidentiality=VERTROUWELIJK_MEDISCH, concept_header=True)
    d.letterhead()
    d.title("Second opinion-bedrijfsarts · artikel 2.14d Arbeidsomstandighedenbesluit")
    d.tag("{%p if concept %}")
    d.box("**Concept ter controle op feitelijke onjuistheden — niet ondertekend**", color=CONCEPT_RED_HEX,
          fill="FBEAEA")
    d.tag("{%p endif %}")
    d.ref_block([("Kenmerk", "{{ kenmerk }}"), ("Datum", "{{ datum }}"), ("", "")])

    d.kv_table([
        ("Werknemer", paras(("**{{ werknemer.naam }}**",), ("geboren ", "{{ werknemer.geboortedatum }}"))),
        ("Eigen bedrijfsarts (aanvrager)", person("bedrijfsarts")),
        ("Second opinion-bedrijfsarts", person("so_bedrijfsarts")),
        ("Spreekuur", "{{ spreekuur }}"),
    ])

    d.tag("{%p if concept %}")
    d.box("**Aan u voorgelegd.** U ontvangt dit conceptadvies als enige, zodat u kennis kunt nemen van het advies. "
          "Staan er feitelijke onjuistheden in, geef die dan uiterlijk ", "**{{ reactie_uiterlijk }}**",
          " door aan ", "{{ so_bedrijfsarts.naam }}", " (", "{{ so_bedrijfsarts.email }}", "). Ik verwerk uw "
          "opmerkingen naar eigen inzicht in het definitieve advies. Ontvang ik vóór die datum geen reactie, dan "
          "stel ik het advies daarna definitief vast. Dit concept gaat niet naar uw bedrijfsarts en niet naar uw "
          "werkgever.")
    d.tag("{%p endif %}")

    d.heading("1. Vraagstelling")
    d.p("{{ vraagstelling }}")
    d.heading("2. Bevindingen")
    d.p("{{ bevindingen }}")
    d.heading("3. Conclusie")
    d.p("{{ conclusie }}")
    d.heading("4. Onderbouwing")
    d.p("{{ onderbouwing }}")
    d.heading("5. Werkadvies")
    d.p("{{ werkadvies }}")
    d.tag("{%p if opmerkingen_werknemer %}")
    d.heading("6. Opmerkingen van de werknemer")
    d.p("{{ opmerkingen_werknemer }}")
    d.tag("{%p endif %}")

    d.tag("{%p if concept %}")
    d.heading("Status van dit concept")
    d.p("Dit is een concept dat alleen aan u is voorgelegd. Het definitieve advies is mijn zelfstandige, "
        "onderbouwde oordeel als second opinion-bedrijfsarts en is niet bindend: uw bedrijfsarts beoordeelt binnen "
        "een redelijke termijn of hij of zij het advies geheel, gedeeltelijk of niet overneemt, en licht die keuze "
        "aan u toe. Het advies wordt alleen met uw uitdrukkelijke toestemming met anderen gedeeld.")
    d.tag("{%p else %}")
    d.heading("Status van dit advies")
    d.p("Dit advies is het zelfstandige, onderbouwde oordeel van de second opinion-bedrijfsarts en is niet "
        "bindend. De eigen bedrijfsarts beoordeelt binnen een redelijke termijn of het advies geheel, gedeeltelijk "
        "of niet wordt overgenomen en licht die keuze toe aan de werknemer. Het advies wordt alleen met "
        "uitdrukkelijke toestemming van de werknemer met anderen gedeeld.")
    d.tag("{%p endif %}")
    d.box(GEEN_OPSCHORTING)
    d.tag("{%p if not concept %}")
    d.p("De werknemer kan dit advies ook zelf aan de eigen bedrijfsarts geven, bijvoorbeeld zonder toestemming om "
        "het te delen; de eigen bedrijfsarts kan het dan alsnog beoordelen.")
    d.tag("{%p endif %}")
    d.p("**Klachten.** ", "{{ klachten }}")
    d.tag("{%p if not concept %}")
    d.p("Dit advies maakt deel uit van het medisch dossier van de second opinion-bedrijfsarts en wordt twintig "
        "jaar bewaard (WGBO).", style="SO Klein", after=6)
    d.tag("{%p endif %}")

    d.tag("{%p if concept %}")
    d.heading("Opgesteld door")
    d.sender_lines()
    d.p("Concept – wordt definitief na verwerking van uw opmerkingen, of na ", "{{ reactie_uiterlijk }}",
        " als u niet reageert.", style="SO Klein", before=6)
    d.tag("{%p else %}")
    d.signed_closing("Opgesteld door")
    d.tag("{%p endif %}")
    return d


def factuur() -> Doc:
    d = Doc(title="Factuur", subject="Sjabloon: factuur second opinion (zonder gegevens van de werknemer)",
            confidentiality=None,
            footer_reference="{% if factuur.betaalbaar %}Factuur{% else %}Specificatie bij factuur{% endif %} "
                             "{{ factuur.nummer }}{% if factuur.kenmerk_tonen %}  ·  Kenmerk {{ kenmerk }}"
                             "{% endif %}")
    d.letterhead()
    d.addressee()
    d.spacer(40)
    d.title()
    d.tag("{%p if not factuur.betaalbaar %}")
    d.box("**Dit is geen factuur.** U hoeft op grond van dit document niets te betalen.", color=CONCEPT_RED_HEX,
          fill="FBEAEA")
    d.tag("{%p endif %}")
    d.ref_block([("{% if factuur.betaalbaar %}Factuurnummer{% else %}Bij factuur{% endif %}",
                  "**{{ factuur.nummer }}**"),
                 ("{% if factuur.betaalbaar %}Factuurdatum{% else %}Datum{% endif %}", "{{ factuur.datum }}"),
                 ("{% if factuur.betaalbaar %}Vervaldatum{% else %}Datum dienst{% endif %}",
                  "{% if factuur.betaalbaar %}{{ factuur.vervaldatum }}{% else %}{{ factuur.datum_dienst }}"
                  "{% endif %}")])
    d.ref_block([("{% if factuur.kenmerk_tonen %}Kenmerk opdracht{% endif %}",
                  "{% if factuur.kenmerk_tonen %}{{ kenmerk }}{% endif %}"),
                 # the employer's cost centre means nothing to the employee: only on the anonymous documents
                 ("{% if factuur.anoniem %}Kostenplaats{% endif %}",
                  "{% if factuur.anoniem %}{{ factuur.kostenplaats }}{% endif %}"),
                 ("{% if factuur.betaalbaar %}Datum dienst{% endif %}",
                  "{% if factuur.betaalbaar %}{{ factuur.datum_dienst }}{% endif %}")])

    w_amount, w_hours = Cm(3.2), Cm(2.2)
    table = d.table([TEXT_W - w_hours - w_amount, w_hours, w_amount])
    d.row(table, "**Omschrijving**", "**Uren**", "**Bedrag**", label_first=False, shade="EEF3F8",
          keep_next=True, right=(1, 2))
    d.row(table, "{{ factuur.omschrijving }}", "{{ factuur.uren }}", "{{ factuur.bedrag }}", label_first=False,
          keep_next=True, right=(1, 2))
    d.row(table, R("{% if factuur.btw.belast %}Btw {{ factuur.btw.tarief }}{% endif %}"), "",
          R("{% if factuur.btw.belast %}{{ factuur.btw.bedrag_btw }}{% endif %}"), label_first=False,
          keep_next=True, right=(1, 2))
    d.row(table, R("{% if factuur.betaalbaar %}Totaal te betalen{% else %}Totaal (ter informatie){% endif %}",
                   bold=True), "", "**{{ factuur.btw.totaal }}**", label_first=False, shade="F2F2F2", right=(1, 2))
    d.tag("{%p if factuur.btw.tekst %}")
    d.p("{{ factuur.btw.tekst }}", style="SO Klein", before=4, after=10)
    d.tag("{%p endif %}")
    d.spacer(6)

    d.kv_table([
        ("Uitgevoerd door", person("so_bedrijfsarts")),
        ("Aangevraagd door", person("bedrijfsarts")),
    ])

    d.tag("{%p if factuur.anoniem %}")
    d.box("**Anoniem.** Dit document is anoniem, zodat de werknemer niet herleidbaar is. Het bevat geen "
          "persoonsgegevens van de werknemer; de opdracht is herkenbaar aan ",
          R("{% if factuur.kenmerk_tonen %}het kenmerk{% else %}het factuurnummer{% endif %}"),
          " en de kostenplaats.")
    d.tag("{%p endif %}")
    d.p("{{ factuur.toelichting }}")

    d.tag("{%p if factuur.betaalbaar %}")
    d.heading("Betaling")
    d.kv_table([
        ("Te betalen", "**{{ factuur.btw.totaal }}**"),
        ("Uiterlijk", "{{ factuur.vervaldatum }}"),
        ("Op rekening (IBAN)", "**{{ factuur.uitgever.iban_nbsp }}**"),
        ("Ten name van", "{{ factuur.uitgever.naam }}"),
        ("Onder vermelding van", ("factuurnummer ", "{{ factuur.nummer }}",
                                  R("{% if factuur.kenmerk_tonen %} en kenmerk {{ kenmerk }}{% endif %}"))),
    ])
    d.p("Het bedrag is verschuldigd ongeacht de uitkomst van de second opinion.")
    d.tag("{%p endif %}")
    return d


# --- letters ---------------------------------------------------------------------------------------------------
def letter(*, title: str, subject: str, confidentiality: str = VERTROUWELIJK,
           addressee_label: str | None = "Persoonlijk en vertrouwelijk") -> Doc:
    d = Doc(title=title, subject=subject, confidentiality=confidentiality)
    d.letterhead()
    d.addressee(label=addressee_label)
    d.spacer(28)
    d.ref_block([("Datum", "{{ datum }}"), ("Ons kenmerk", "{{ kenmerk }}"), ("", "")])
    d.p("**{{ titel }}**", after=12, keep_next=True, size=11)
    return d


def brief_weigering() -> Doc:
    d = letter(title="Brief: besluit over het verzoek om een second opinion",
               subject="Sjabloon: gemotiveerde weigering (stap 2)")
    d.p("{{ aan.aanhef }}", ",")
    d.p("U heeft gevraagd om een second opinion over het advies van uw bedrijfsarts, ", "{{ bedrijfsarts.naam }}",
        " (", "{{ bedrijfsarts.organisatie }}", "), van ", "{{ datum_betwist_advies }}", ". Dat advies luidt:")
    d.box("{{ betwist_advies }}")
    d.p("Iedere werknemer die twijfelt aan het advies van zijn of haar bedrijfsarts, heeft het recht om een "
        "second opinion te vragen. Een bedrijfsarts honoreert zo’n verzoek in principe altijd en mag het alleen "
        "weigeren als daarvoor een zwaarwegende reden is. Na zorgvuldige afweging is die reden er in uw situatie. "
        "Uw verzoek wordt daarom afgewezen.")
    d.heading("Motivering", level=2)
    d.p("{{ zwaarwegende_reden }}")
    d.p("Dit besluit en de motivering zijn vastgelegd in uw dossier.")
    # the last section and the closing move to a page together: never one paragraph and a closing on their own
    last = d.unsplit_cell()
    d.heading("Wat betekent dit voor u?", level=2, into=last)
    d.p("Het advies van ", "{{ datum_betwist_advies }}", " blijft van kracht. U maakt met uw werkgever afspraken "
        "op basis van dit advies.", into=last)
    d.p("Bent u het niet eens met dit besluit, bespreek het dan met uw bedrijfsarts. Gaat het om een "
        "meningsverschil over uw arbeids(on)geschiktheid, passende arbeid of de re-integratie-inspanningen, dan "
        "kunnen u en uw werkgever bij UWV een deskundigenoordeel aanvragen (www.uwv.nl).", into=last)
    d.tag("{%p if organisatie.klachten != '—' %}", into=last)
    d.p("**Klachten.** ", "{{ organisatie.klachten }}", into=last)
    d.tag("{%p else %}", into=last)
    d.p("**Klachten.** U kunt een klacht indienen volgens de klachtenregeling van ", "{{ bedrijfsarts.organisatie }}",
        ".", into=last)
    d.tag("{%p endif %}", into=last)
    d.closing_into(last)
    return d


def brief_uitnodiging() -> Doc:
    d = letter(title="Uitnodiging spreekuur", subject="Sjabloon: uitnodiging voor het spreekuur (stap 5)")
    d.p("{{ aan.aanhef }}", ",")
    d.p("Op uw verzoek heeft uw bedrijfsarts mij gevraagd een second opinion uit te voeren. Graag nodig ik u uit "
        "voor een spreekuur.")
    d.kv_table([
        ("Datum en tijd", "**{{ spreekuur }}**"),
        ("Locatie", "{{ locatie }}"),
        ("Second opinion-bedrijfsarts", paras(("{{ so_bedrijfsarts.naam }}",),
                                              ("{{ so_bedrijfsarts.organisatie }}",))),
        ("Postadres", "{{ so_contact.postadres }}", "so_contact.postadres"),
        ("Telefoon", "{{ so_contact.telefoon }}", "so_contact.telefoon"),
    ], label_w=Cm(5.2))
    d.p("Het spreekuur bestaat uit een gesprek en zo nodig een lichamelijk onderzoek. **Neem een geldig "
        "legitimatiebewijs mee** (paspoort, identiteitskaart of rijbewijs).")
    d.p("Als ik voor mijn advies aanvullende informatie nodig heb van uw bedrijfsarts, uw behandelaar(s) of uw "
        "werkgever, bespreek ik dat eerst met u. Zonder uw toestemming vraag ik geen informatie op.")
    d.p("Na het spreekuur stel ik een conceptadvies op. Dat ontvangt u eerst zelf, zodat u eventuele feitelijke "
        "onjuistheden kunt doorgeven. Daarna volgt het definitieve advies. Uw bedrijfsarts ontvangt het advies "
        "alleen als u daarvoor toestemming geeft.")
    d.box(GEEN_OPSCHORTING)
    d.p("Bent u verhinderd? Laat het mij dan zo snel mogelijk weten via ", "{{ so_bedrijfsarts.email }}",
        R("{% if so_contact.telefoon %} of telefonisch op {{ so_contact.telefoon }}{% endif %}"),
        ", dan maken we een nieuwe afspraak.")
    d.closing()
    return d


def brief_informatieverzoek() -> Doc:
    d = letter(title="Verzoek om informatie", subject="Sjabloon: verzoek om aanvullende informatie (stap 6)",
               addressee_label="Vertrouwelijk")
    d.p("{{ aan.aanhef }}", ",")
    d.p("Op verzoek van de hieronder genoemde werknemer voer ik als bedrijfsarts een second opinion uit "
        "(artikel 2.14d Arbeidsomstandighedenbesluit). Voor mijn advies heb ik aanvullende informatie nodig "
        "van ", "{{ bron_naam_zin }}")
    d.kv_table([
        ("Werknemer", "**{{ werknemer.naam }}**"),
        ("Geboortedatum", "{{ werknemer.geboortedatum }}"),
        ("Toestemming werknemer", ("Verleend op ", "{{ toestemming_datum }}", R("{% if toestemming_schriftelijk %}; "
                                   "schriftelijk, de vastlegging van de machtiging is bijgevoegd{% else %}; de "
                                   "vastlegging van de toestemming is bijgevoegd{% endif %}"))),
    ])
    d.heading("Mijn vraag", level=2)
    d.box("{{ vraag }}")
    d.p(R("{% if toestemming_schriftelijk %}De werknemer heeft schriftelijk toestemming gegeven om deze informatie "
          "bij u op te vragen; het door de werknemer ondertekende formulier maakt deel uit van het dossier en de "
          "machtiging van de werknemer (kenmerk {{ kenmerk }}) is als bijlage bij deze brief gevoegd.{% else %}"
          "De werknemer heeft op {{ toestemming_datum }} toestemming gegeven om deze informatie bij u op te vragen; "
          "hoe en door wie die toestemming is vastgelegd, staat in de bijgevoegde vastlegging van de machtiging "
          "(kenmerk {{ kenmerk }}).{% endif %}"),
        " De toestemming is beperkt tot de vraag hierboven; ik verzoek u daarom alleen informatie te verstrekken "
        "die voor de beantwoording ervan nodig is. De werknemer ontvangt een kopie van deze brief.")
    d.p("Graag ontvang ik uw antwoord zo spoedig mogelijk, bij voorkeur binnen tien werkdagen, via beveiligde "
        "e-mail aan ", "{{ so_bedrijfsarts.email }}",
        R("{% if so_contact.postadres %} of per post aan {{ so_contact.postadres }}{% endif %}"),
        ", onder vermelding van ‘vertrouwelijk’ en het kenmerk ", "{{ kenmerk }}", ".")
    d.p("Bij voorbaat dank voor uw medewerking.")
    d.closing()
    return d


def brief_geen_kopie() -> Doc:
    d = letter(title="Bericht: geen kopie van het advies",
               subject="Sjabloon: bericht aan de eigen bedrijfsarts zonder kopie van het advies (stap 8)",
               addressee_label="Vertrouwelijk")
    d.p("Geachte collega,")
    d.p("Op uw verzoek heb ik een second opinion uitgevoerd voor ", "**{{ werknemer.naam }}**", ". De second "
        "opinion is afgerond en het definitieve advies is aan de werknemer uitgebracht.")
    d.p("De werknemer heeft geen toestemming gegeven om het advies met u te delen. U ontvangt daarom geen kopie "
        "van het advies, en ik kan u ook geen inhoudelijke informatie over de uitkomst geven. De werknemer kan er "
        "zelf voor kiezen de uitkomst met u te bespreken of het advies aan u te overhandigen.")
    d.p("Uw eigen advies blijft ongewijzigd van kracht; de begeleiding door u loopt gewoon door.")
    d.kv_table([
        ("Eigen bedrijfsarts", person("bedrijfsarts")),
        ("Second opinion-bedrijfsarts", person("so_bedrijfsarts")),
    ])
    d.closing()
    return d


def brief_reactie() -> Doc:
    d = letter(title="Beoordeling van het second opinion-advies",
               subject="Sjabloon: besluit van de eigen bedrijfsarts over het advies (stap 9)",
               confidentiality=VERTROUWELIJK_MEDISCH)
    d.p("{{ aan.aanhef }}", ",")
    d.p("{% if advies_overhandigd %}U heeft mij het advies van de second opinion-bedrijfsarts, {% else %}Met uw "
        "toestemming heb ik het advies van de second opinion-bedrijfsarts, {% endif %}", "{{ so_bedrijfsarts.naam }}",
        " (", "{{ so_bedrijfsarts.organisatie }}", "{% if advies_overhandigd %}), zelf overhandigd. Ik heb het "
        "beoordeeld.{% else %}), ontvangen en beoordeeld.{% endif %}", " Dat advies is niet bindend: ik heb "
        "afgewogen of ik het geheel, gedeeltelijk of niet overneem. Hieronder leest u mijn besluit en de redenen "
        "daarvoor.")
    d.heading("Mijn besluit", level=2)
    table = d.table([Cm(0.9), TEXT_W - Cm(0.9)], borders=False)
    for value, text in (("geheel", "Ik neem het advies **geheel** over."),
                        ("gedeeltelijk", "Ik neem het advies **gedeeltelijk** over."),
                        ("niet", "Ik neem het advies **niet** over.")):
        d.row(table, CHECK(f"overname == '{value}'"), text, label_first=False, keep_next=value != "niet")
    d.spacer(6)  # the ticked box says it; no sentence repeating it
    d.heading("Motivering", level=2)
    d.p("{{ motivering }}")
    d.heading("Gevolgen voor mijn advies", level=2)
    d.tag("{%p if advies_aangepast %}")
    d.p("Ik pas mijn advies aan. Uw werkgever ontvangt van mij het aangepaste werkadvies; medische gegevens en het "
        "advies van de second opinion-bedrijfsarts ontvangt uw werkgever niet. U maakt met uw werkgever nieuwe "
        "afspraken op basis van het aangepaste advies.")
    d.tag("{%p else %}")
    d.p("Mijn eerdere advies blijft ongewijzigd van kracht. De afspraken die u met uw werkgever op basis van dat "
        "advies heeft gemaakt, blijven gelden.")
    d.tag("{%p endif %}")
    d.heading("Vervolg van de begeleiding", level=2)
    d.tag("{%p if vervolgspreekuur %}")
    # Preventix: a follow-up consultation; on request a colleague, with a neutral handover of facts
    d.p("Ik nodig u uit voor een vervolgspreekuur. Daarin licht ik mijn besluit aan u toe en bepalen wij samen of "
        "de begeleiding door mij kan worden voortgezet. Wilt u dat liever niet, dan draag ik uw dossier over aan "
        "een collega-bedrijfsarts van ", "{{ arbodienst }}", ". Ik draag dan alleen de feiten over, neutraal en "
        "zonder mijn eigen mening over uw dossier.")
    d.tag("{%p elif eigen_arts_blijft %}")
    # VSD: the own doctor remains the employee's doctor
    d.p("Ik blijf uw bedrijfsarts en de begeleiding loopt gewoon door. U kunt een afspraak met mij maken om het "
        "advies en mijn besluit te bespreken; dat is niet verplicht. In dat gesprek bepalen wij samen wat ik "
        "hierover aan uw werkgever terugkoppel.")
    d.tag("{%p else %}")
    d.p("Ik blijf uw bedrijfsarts en de begeleiding loopt gewoon door. Vindt u dat ik onvoldoende rekening houd "
        "met het advies van de second opinion-bedrijfsarts, dan kunt u dat bij mij aangeven en vragen om de "
        "verdere begeleiding over te dragen aan een andere bedrijfsarts. Ik zal dat verzoek, met inachtneming van "
        "het second opinion-advies, zorgvuldig overwegen.")
    d.tag("{%p if andere_arts_binnen_arbodienst %}")
    d.p("{{ arbodienst }}", " doet dan haar best om dat te regelen. Die andere bedrijfsarts werkt wel altijd voor ",
        "{{ arbodienst }}", ".")
    d.tag("{%p endif %}")
    d.tag("{%p endif %}")
    d.p("**Klachten.** ", "{{ klachten }}")
    d.closing()
    return d


def brief_gewijzigd_advies() -> Doc:
    # Goes to the employer: no medical data, and no mention of the second opinion (the request is confidential).
    d = letter(title="Brief: aangepast werkadvies", subject="Sjabloon: aangepast werkadvies aan de werkgever",
               addressee_label="Vertrouwelijk")
    d.p("{{ aan.aanhef }}", ",")
    d.p("Hierbij informeer ik u dat ik mijn advies over de werkzaamheden van uw werknemer ",
        "**{{ werknemer.naam }}**", " heb aangepast. Het aangepaste werkadvies luidt:")
    d.box("{{ aangepast_werkadvies }}")
    d.p("Dit advies vervangt mijn eerdere advies op dit punt. Ik verzoek u met uw werknemer afspraken te maken op "
        "basis van het aangepaste advies en deze vast te leggen, bijvoorbeeld in het plan van aanpak.")
    d.p("Deze brief bevat bewust geen medische gegevens; die vallen onder mijn medisch beroepsgeheim. Heeft u "
        "vragen over de uitvoering van het advies, neem dan gerust contact met mij op.")
    d.closing()
    return d


def brief_melding_werkgever() -> Doc:
    d = letter(title="Brief: advies bedrijfsarts en melding aanvraag second opinion",
               subject="Sjabloon: melding aan de werkgever dat een second opinion wordt aangevraagd (Vitaal!)",
               addressee_label="Vertrouwelijk")
    d.p("{{ aan.aanhef }}", ",")
    d.p("Op ", "{{ datum_betwist_advies }}", " heb ik een advies gegeven over uw werknemer ",
        "**{{ werknemer.naam }}**", " (", "{{ betreft }}", "). Uw werknemer twijfelt aan dat advies en heeft mij "
        "gevraagd om een second opinion door een andere bedrijfsarts. Samen met uw werknemer heb ik een second "
        "opinion-bedrijfsarts gekozen die niet werkzaam is binnen onze organisatie; ik vraag de second opinion nu "
        "bij die bedrijfsarts aan. Ik informeer u hierover omdat de kosten van een second opinion in de regel voor "
        "rekening van de werkgever komen.")
    d.heading("Mijn advies blijft van kracht", level=2)
    d.p("Een second opinion heeft geen opschortende werking. Mijn advies van ", "{{ datum_betwist_advies }}",
        " blijft van kracht. Ik verzoek u met uw werknemer afspraken te maken op basis van dat advies; de "
        "re-integratie wordt niet uitgesteld tot na de second opinion.")
    d.p("Pas ik mijn advies na de second opinion aan, dan ontvangt u van mij het aangepaste werkadvies. Blijft mijn "
        "advies ongewijzigd, dan blijven de gemaakte afspraken gelden en ontvangt u geen nieuw bericht. De inhoud van "
        "de second opinion en medische gegevens ontvangt u niet; die vallen onder het medisch beroepsgeheim.")
    d.closing()
    return d


def brief_nieuwe_beoordeling() -> Doc:
    d = letter(title="Brief: verzoek om een second opinion – nieuwe beoordeling",
               subject="Sjabloon: nieuwe beoordeling door de eigen bedrijfsarts (Preventix)")
    d.p("{{ aan.aanhef }}", ",")
    d.p("U heeft gevraagd om een second opinion over het advies van uw bedrijfsarts, ", "{{ bedrijfsarts.naam }}",
        ", van ", "{{ datum_betwist_advies }}", ".")
    d.p("Een verzoek om een second opinion nemen wij direct in behandeling als het binnen twee weken na de "
        "beslissing van de bedrijfsarts wordt gedaan. Het advies waarover u een second opinion vraagt, is ouder "
        "dan twee weken. Uw situatie kan sindsdien veranderd zijn. Daarom plannen wij eerst een nieuwe beoordeling "
        "door uw bedrijfsarts, ", "{{ bedrijfsarts.naam }}", ". U ontvangt hiervoor een afzonderlijke uitnodiging.")
    d.p("Dit betekent niet dat uw verzoek is afgewezen. Twijfelt u na de nieuwe beoordeling nog aan het advies van "
        "uw bedrijfsarts, dan kunt u opnieuw om een second opinion vragen.")
    d.p("Tot die tijd blijft het huidige advies van kracht; de afspraken die u met uw werkgever heeft gemaakt, "
        "blijven gelden.")
    d.closing()
    return d


def brief_afronding_werkgever() -> Doc:
    # VSD: the employer hears of the completion together with the own doctor; the work advice only with consent.
    d = letter(title="Brief: afronding second opinion",
               subject="Sjabloon: bericht van afronding aan de werkgever (VerzuimService Desk)",
               addressee_label="Vertrouwelijk")
    d.p("{{ aan.aanhef }}", ",")
    d.p("De second opinion die uw werknemer ", "**{{ werknemer.naam }}**", " heeft aangevraagd, is afgerond. Ik heb "
        "mijn advies aan uw werknemer uitgebracht. De eigen bedrijfsarts, ", "{{ bedrijfsarts.naam }}", " (",
        "{{ bedrijfsarts.organisatie }}", "), ontvangt tegelijk met u bericht van de afronding.")
    d.tag("{%p if werkadvies_gedeeld %}")
    d.p("Uw werknemer heeft toestemming gegeven om het werkadvies uit de second opinion met u te delen. Het "
        "werkadvies luidt:")
    d.box("{{ werkadvies }}")
    d.p("Dit werkadvies is niet bindend. De eigen bedrijfsarts beoordeelt of het eigen advies wordt aangepast en "
        "informeert u daarover.")
    d.tag("{%p else %}")
    d.p("Uw werknemer heeft geen toestemming gegeven om de inhoud van het advies met u te delen. U ontvangt daarom "
        "alleen dit bericht van afronding.")
    d.tag("{%p endif %}")
    d.p("Zolang de eigen bedrijfsarts het second opinion-advies niet heeft beoordeeld, blijft het advies van de "
        "eigen bedrijfsarts van kracht en blijven de afspraken met uw werknemer gelden. De eigen bedrijfsarts blijft "
        "de bedrijfsarts van uw werknemer.")
    d.p("Deze brief bevat geen medische gegevens; die vallen onder het medisch beroepsgeheim.")
    d.closing()
    return d


def brief_intrekking() -> Doc:
    # To the employee: confirmation. To the SO doctor or own doctor holding data under that consent: the notice.
    d = letter(title="Brief: intrekking toestemming", subject="Sjabloon: bevestiging en melding van een ingetrokken "
               "toestemming (AVG art. 7 lid 3)", confidentiality=VERTROUWELIJK)
    d.p("{{ aanhef }}", ",")
    d.tag("{%p if melding %}")
    d.p("De werknemer ", "**{{ werknemer.naam }}**", " heeft op ", "{{ intrekking.datum }}", " de toestemming "
        "ingetrokken voor ", "{{ intrekking.onderwerp }}", ". ", "{{ intrekking.ontvangen }}")
    d.box("**Vanaf ", "{{ intrekking.datum }}", "** mag u op grond van deze toestemming geen gegevens meer "
          "opvragen, ontvangen of verstrekken. Wat u al heeft ontvangen, blijft onder uw medisch beroepsgeheim in "
          "uw dossier en mag u niet verder delen.")
    d.p("De verwerking tot het moment van intrekken blijft rechtmatig (AVG artikel 7 lid 3). De werknemer heeft "
        "een bevestiging van de intrekking ontvangen.")
    d.tag("{%p else %}")
    d.p("Hierbij bevestigen wij dat u op ", "{{ intrekking.datum }}", " uw toestemming heeft ingetrokken voor ",
        "{{ intrekking.onderwerp }}", ".")
    d.box("Vanaf ", "{{ intrekking.datum }}", " worden op grond van deze toestemming geen gegevens meer verstrekt "
          "of opgevraagd.")
    d.p("{{ intrekking.gevolg }}")
    d.p("Wat vóór de intrekking is verstrekt, wordt niet teruggehaald; de verwerking tot dat moment blijft "
        "rechtmatig (AVG artikel 7 lid 3). ",
        R("{% if intrekking.so_loopt %}De second opinion zelf gaat door, op basis van de gegevens waarvoor u wel "
          "toestemming heeft gegeven.{% else %}De second opinion was al afgerond; aan het advies en wat daarna is "
          "gebeurd, verandert deze intrekking niets.{% endif %}"),
        " Wilt u de toestemming later toch weer geven, of wilt u uw dossier laten vernietigen, neem dan contact met "
        "ons op.")
    d.tag("{%p endif %}")
    d.closing()
    return d


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "pipeline" / "templates",
                        help="output folder (default: pipeline/templates/)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in builders().items():
        build().save(args.out / name)
        print(f"wrote {args.out / name}")
    return 0


# --- issue 14: the answer to a request that cannot be handled ---------------------------------------------------
def brief_aan_aanvrager() -> Doc:
    # A refused request opens no case: the secretariat sends this letter (it lies beside the report in
    # inbox/failed/). To an employer it names no employee and holds no medical data.
    d = letter(title="Brief: uw verzoek om een second opinion",
               subject="Sjabloon: antwoord aan een aanvrager die geen second opinion kan vragen (stap 1)",
               addressee_label="Vertrouwelijk")
    d.p("{{ aan.aanhef }}", ",")
    d.tag("{%p if aanvrager == 'werkgever' %}")
    d.p("Op ", "{{ verzoek_datum }}", " ontvingen wij van u een verzoek om een second opinion over het advies van "
        "de bedrijfsarts van ", "{{ datum_betwist_advies }}", " over een van uw werknemers (ons kenmerk ",
        "{{ kenmerk }}", "). Wij kunnen dit verzoek niet in behandeling nemen. Hieronder leest u waarom, en wat u "
        "wel kunt doen.")
    d.tag("{%p else %}")
    d.p("Op ", "{{ verzoek_datum }}", " ontvingen wij uw verzoek om een second opinion over het advies van ",
        "{{ datum_betwist_advies }}", " (ons kenmerk ", "{{ kenmerk }}", "). Wij kunnen dit verzoek niet in "
        "behandeling nemen. Hieronder leest u waarom, en wat u wel kunt doen.")
    d.tag("{%p endif %}")
    d.heading("Waarom wij uw verzoek niet in behandeling nemen", level=2)
    d.tag("{%p if niet_de_werknemer %}")
    d.p("**Alleen de werknemer kan om een second opinion vragen.** Het recht op een second opinion is een recht van "
        "de werknemer zelf (artikel 2.14d Arbeidsomstandighedenbesluit). Een werknemer die gegronde twijfel heeft "
        "over het advies van zijn of haar bedrijfsarts, vraagt de second opinion aan bij die eigen bedrijfsarts. "
        "Een werkgever of casemanager kan dat niet namens de werknemer doen, en ook een bedrijfsarts kan het niet "
        "uit eigen beweging aanvragen.")
    d.tag("{%p endif %}")
    d.tag("{%p if aanstellingskeuring %}")
    d.p("**Bij een aanstellingskeuring is een second opinion niet mogelijk.** De second opinion van artikel 2.14d "
        "Arbeidsomstandighedenbesluit geldt voor een advies van de bedrijfsarts over verzuimbegeleiding, over een "
        "arbeidsgezondheidskundig onderzoek (PAGO/PMO) of na een consultatie over gezondheid en werk. Zij is niet "
        "van toepassing op een advies dat betrekking heeft op een aanstellingskeuring.")
    d.tag("{%p endif %}")
    d.heading("Wat u wel kunt doen", level=2)
    d.tag("{%p if aanstellingskeuring and aanvrager == 'werknemer' %}")
    d.p("Voor een aanstellingskeuring geldt een eigen regeling (Wet op de medische keuringen en het Besluit "
        "aanstellingskeuringen). Bent u het niet eens met de uitslag van de keuring, dan kunt u de keurend arts of "
        "de instantie die de keuring heeft uitgevoerd om een herkeuring vragen. Doe dat zo snel mogelijk: de "
        "keurend arts kan u vertellen binnen welke termijn dat moet.")
    d.tag("{%p elif aanvrager == 'werkgever' %}")
    d.p("Heeft u vragen over het advies van de bedrijfsarts, bespreek die dan met de bedrijfsarts. Gaat het om "
        "arbeidsongeschiktheid, passende arbeid of de re-integratie-inspanningen, dan kunt u bij UWV een "
        "deskundigenoordeel aanvragen (www.uwv.nl); dat kan een werkgever wel zelf.")
    d.p("Twijfelt uw werknemer zelf aan het advies, dan kan hij of zij de eigen bedrijfsarts om een second opinion "
        "vragen. U kunt uw werknemer op die mogelijkheid wijzen; het verzoek moet van de werknemer zelf komen.")
    d.tag("{%p elif aanvrager == 'bedrijfsarts' %}")
    d.p("Vraagt de werknemer u zelf om een second opinion, dan kunt u de aanvraag namens de werknemer bij de second "
        "opinion-bedrijfsarts indienen; stuur ons dan een nieuw verzoek waarin de werknemer de aanvrager is.")
    d.tag("{%p else %}")
    d.p("Heeft u vragen over het advies, bespreek die dan met uw bedrijfsarts. Gaat het om arbeidsongeschiktheid, "
        "passende arbeid of de re-integratie-inspanningen, dan kunnen u en uw werkgever bij UWV een "
        "deskundigenoordeel aanvragen (www.uwv.nl).")
    d.tag("{%p endif %}")
    d.tag("{%p if not (aanstellingskeuring and aanvrager == 'werknemer') %}")
    d.p("Het advies van de bedrijfsarts blijft van kracht; afspraken die op basis van dat advies zijn gemaakt, "
        "blijven gelden.")
    d.tag("{%p endif %}")
    d.p("Er is geen second opinion-procedure gestart. Heeft u vragen over deze brief, neem dan contact met ons op "
        "onder vermelding van ons kenmerk.")
    d.closing()
    return d



# --- issue 20: the machtiging the employee is to sign (NVAB step 4, step 6) ----------------------------------------

def machtigingsformulier() -> Doc:
    # The form goes to the employee before any medical data or information request: what, from whom, to whom,
    # purpose, until when, what refusing means, how to withdraw, and where to send it signed. Signing = consent;
    # the signature block is one row that never splits from its heading.
    d = letter(title="Machtiging om te ondertekenen", subject="Sjabloon: machtiging die de werknemer ondertekent "
               "(stap 4 en 6)")
    d.p("{{ aan.aanhef }}", ",")
    d.p("U heeft gevraagd om een second opinion. Daarvoor is uw toestemming nodig om de hieronder genoemde gegevens "
        "te verstrekken. Lees dit formulier rustig door. Gaat u akkoord, onderteken het dan en stuur het terug. ",
        "{{ formulier.wacht }}")

    d.heading("{{ formulier.onderwerp }}")
    d.p("Verklaring van de werknemer:", style="SO Label", after=2, keep_next=True)
    d.box("{{ formulier.verklaring }}")
    d.kv_table([
        ("Werknemer", paras(("**{{ werknemer.naam }}**",), ("geboren ", "{{ werknemer.geboortedatum }}"))),
        ("Eigen bedrijfsarts", person("bedrijfsarts")),
        ("Second opinion-bedrijfsarts", person("so_bedrijfsarts")),
    ])

    d.heading("Waar uw toestemming over gaat")
    d.kv_table([
        ("Welke gegevens", "{{ formulier.wat }}"),
        ("Van", "{{ formulier.van }}"),
        ("Aan", "{{ formulier.aan }}"),
        ("Doel", "{{ formulier.doel }}"),
        ("Geldig", "{{ formulier.geldig_tot }}"),
        ("Als u niet tekent", "{{ formulier.weigeren }}"),
        ("Werkgever", "De werkgever ontvangt nooit medische gegevens."),
    ], keep_together=False)

    d.heading("Intrekken")
    d.p("U kunt deze toestemming op elk moment en zonder opgave van redenen intrekken. Vanaf dat moment worden op "
        "grond van deze machtiging geen gegevens meer verstrekt; wat al is verstrekt, wordt niet teruggehaald, maar "
        "wie gegevens op grond van deze machtiging heeft ontvangen, krijgt bericht van de intrekking.")
    d.p("{{ formulier.intrekken }}")

    d.heading("Terugsturen")
    d.p("{{ formulier.terugsturen }}")
    d.p("{{ formulier.elektronisch }}", style="SO Klein", after=6)

    d.keep_with_what_follows()
    table = d.table([TEXT_W], borders=False, side_margin=0)
    row = table.add_row()
    row._tr.get_or_add_trPr().append(_el("w:cantSplit"))
    cell = row.cells[0]
    empty = cell.paragraphs[0]._p
    d.p("Handtekening van de werknemer", style="Heading 1", into=cell)  # not "Ondertekening": our signature spot
    d.p("Ik heb dit formulier gelezen en geef de hierboven omschreven toestemming.", keep_next=True, into=cell)
    signing = d.table([Cm(4.6), TEXT_W - Cm(4.6)], side_margin=0)
    d.row(signing, "Naam", "{{ werknemer.naam }}", keep_next=True)
    for label in ("Datum", "Plaats"):
        d.row(signing, label, "", keep_next=True)
    d.row(signing, "Handtekening", lambda doc, into: [doc.spacer(28.35, into=into) for _ in range(2)])
    cell._tc.append(signing._tbl)
    cell._tc.remove(empty)
    cell.add_paragraph()
    return d



def builders() -> dict[str, Callable[[], Doc]]:
    """Every template a document kind names (`pipeline.core.kinds.templates`) → the function of this module that
    builds it, found by the template's name: `brief_reactie.docx` is built by `brief_reactie()`."""
    from pipeline.core.kinds import templates

    found = {name: globals().get(name.removesuffix(".docx")) for name in templates()}
    missing = sorted(name for name, build in found.items() if not callable(build))
    if missing:
        raise SystemExit(f"no builder in {Path(__file__).name} for {', '.join(missing)}: add a function named after "
                         "the template")
    return found


if __name__ == "__main__":
    raise SystemExit(main())
