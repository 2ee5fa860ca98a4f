"""Issue 15, part 5: `templates check` and the renderer on what a new user meets in Word.

Word's curly quotes inside tags (docxtpl straightens them), a `&` in a tag's string literal under autoescape,
placeholders in headers, footers and footnotes, and the CLI's labels. Tested on real .docx files: made with
python-docx here, and docxtpl's own test templates (tests/data/docxtpl/, with docxtpl's LICENSE.txt).
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document

from pipeline.adapters.converter import PdfMetadata
from pipeline.adapters.renderer import DocxRenderer
from pipeline.cli import cli
from pipeline.shell.template_check import Severity, check_templates
from tests.pdfs import pdftotext

DOCXTPL = Path(__file__).parent / "data" / "docxtpl"


def _docx(path: Path, *paragraphs: str) -> Path:
    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(path)
    return path


def _problems(report, name: str):
    return [p for p in report.problems if p.template == name and "not used by the pipeline" not in p.message]


def _rewrite(source: Path, target: Path, part: str, old: str, new: str) -> Path:
    """`source` with `old` replaced by `new` in one XML part (a broken tag where Word users put one)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == part:
                text = data.decode("utf-8")
                assert old in text, f"{old!r} not in {part}"
                data = text.replace(old, new, 1).encode("utf-8")
            zout.writestr(item, data)
    return target


def _text(docx: bytes, part: str = "word/document.xml") -> str:
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        return z.read(part).decode("utf-8")


def test_curly_quotes_inside_tags_are_accepted_as_docxtpl_straightens_them(tmp_path):
    _docx(tmp_path / "curly.docx", "Aan: {{ firma|default(“Jansen & Zn”) }}",
          "{% if soort == ‘werkgever’ %}Geachte werkgever,{% endif %}")
    report = check_templates(tmp_path)
    assert _problems(report, "curly.docx") == []
    rendered = DocxRenderer(tmp_path).render("curly.docx", {"soort": "werkgever"})
    text = _text(rendered)
    assert "Geachte werkgever," in text and "‘" not in text and "“" not in text


def test_a_broken_tag_is_still_an_error_with_curly_quotes(tmp_path):
    _docx(tmp_path / "broken.docx", "{{ firma|default(“Jansen & Zn”) ) }}")
    [problem] = _problems(check_templates(tmp_path), "broken.docx")
    assert problem.severity is Severity.ERROR and "not a valid placeholder" in problem.message


def test_an_ampersand_in_a_string_literal_is_not_doubled_under_autoescape(tmp_path):
    _docx(tmp_path / "amp.docx", "Aan: {{ firma|default(\"Jansen & Zn\") }} en {{ naam }}")
    rendered = DocxRenderer(tmp_path).render("amp.docx", {"naam": "Bakker & Co <BV>"})
    xml = _text(rendered)
    assert "Jansen &amp; Zn" in xml and "&amp;amp;" not in xml  # one escape in the XML: '&' on the page
    assert "Bakker &amp; Co &lt;BV&gt;" in xml  # values are still escaped


@pytest.mark.libreoffice
def test_the_ampersand_comes_out_once_in_the_pdf(tmp_path, converter):
    _docx(tmp_path / "amp.docx", "Aan: {{ firma|default(\"Jansen & Zn\") }}")
    pdf = converter.convert(DocxRenderer(tmp_path).render("amp.docx", {}),
                            metadata=PdfMetadata(title="Test", author="Test"))
    (tmp_path / "amp.pdf").write_bytes(pdf)
    text = pdftotext(tmp_path / "amp.pdf", layout=False)
    assert "Aan: Jansen & Zn" in text and "&amp;" not in text


def test_docxtpls_own_templates_pass_the_tag_checks(tmp_path):
    report = check_templates(DOCXTPL)
    names = {p.name for p in DOCXTPL.glob("*.docx")}
    assert set(report.templates) == names
    errors = [p for p in report.problems if p.template in names and p.severity is Severity.ERROR]
    assert errors == []


def test_docxtpl_fills_footnotes_headers_and_footers_through_the_renderer(tmp_path):
    renderer = DocxRenderer(DOCXTPL)
    footnotes = renderer.render("footnotes_tpl.docx", {"a_jinja_variable": "Voetnoot van SO-2026-0042"})
    assert "Voetnoot van SO-2026-0042" in _text(footnotes, "word/footnotes.xml")
    headers = renderer.render("header_footer_tpl.docx", {"title": "Titel", "company_name": "Jansen & Zn",
                                                         "date": "25-11-2026", "mysubdoc": ""})
    assert "Jansen &amp; Zn" in _text(headers, "word/footer2.xml")
    assert "25-11-2026" in _text(headers, "word/header2.xml")


@pytest.mark.parametrize("source, part, old, new, where", [
    ("footnotes_tpl.docx", "word/footnotes.xml", "> }}", "> }", "footnote"),
    ("header_footer_tpl.docx", "word/footer2.xml", "<w:t>}}</w:t>", "<w:t>}</w:t>", "footer"),
    ("header_footer_tpl.docx", "word/header2.xml", "{{date}}", "{{date}", "header"),
])
def test_a_problem_in_a_header_footer_or_footnote_is_named_as_such(tmp_path, source, part, old, new, where):
    folder = tmp_path / "t"
    folder.mkdir()
    _rewrite(DOCXTPL / source, folder / source, part, old, new)
    problems = [p for p in _problems(check_templates(folder), source) if p.severity is Severity.ERROR]
    assert problems and all(p.part == where for p in problems), problems
    assert f"in {where} paragraph" in str(problems[0])
    result = CliRunner().invoke(cli, ["templates", "check", str(folder)])
    assert f"{where} paragraph:" in result.output


def test_a_tag_in_an_endnote_is_an_error_because_docxtpl_leaves_it(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    target = folder / "endnote.docx"
    with zipfile.ZipFile(DOCXTPL / "footnotes_tpl.docx") as zin, zipfile.ZipFile(target, "w") as zout:
        footnotes = zin.read("word/footnotes.xml")
        for item in zin.infolist():  # the footnote with its tag, as an endnote
            data = footnotes.replace(b"w:footnote", b"w:endnote") if item.filename == "word/endnotes.xml" \
                else zin.read(item.filename)
            zout.writestr(item, data)
    problems = [p for p in _problems(check_templates(folder), "endnote.docx") if p.part == "endnote"]
    assert problems and problems[0].severity is Severity.ERROR and "endnote" in problems[0].message


def test_every_label_of_the_cli_is_followed_by_a_space(tmp_path):
    shutil.copy(DOCXTPL / "cellbg_tpl.docx", tmp_path)
    result = CliRunner().invoke(cli, ["templates", "check", str(tmp_path)])
    assert "WARNING cellbg_tpl.docx" in result.output and "WARNINGcellbg" not in result.output
    assert "ERROR   " in result.output  # the missing pipeline templates
