"""The operator commands: `templates check`, `doctor`, JSON logs without a BSN, progress bars, README pictures."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import re
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document

from pipeline.cli import cli
from pipeline.core.kinds import ROWS
from pipeline.settings import load_settings
from pipeline.settings.models import KEYS
from pipeline.shell import doctor
from pipeline.shell.layout import TEMPLATES, init_root
from pipeline.shell.logs import JsonLines, RedactBsn, redact, setup_logging
from pipeline.shell.progress import batch_progress
from pipeline.shell.template_check import Severity, check_templates, example_orders
from tests.conversion_samples import libreoffice

REPO = Path(__file__).resolve().parents[1]
BSN = "111222333"  # fictional, passes the elfproef


# --- templates check ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def orders():
    return example_orders()


@pytest.fixture
def templates(tmp_path) -> Path:
    """A copy of the shipped templates to break."""
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    return folder


def edit_xml(docx: Path, old: str, new: str) -> None:
    """Replace `old` by `new` once in word/document.xml, as Word would have saved it."""
    data = {}
    with zipfile.ZipFile(docx) as zin:
        infos = zin.infolist()
        for info in infos:
            data[info.filename] = zin.read(info.filename)
    xml = data["word/document.xml"].decode("utf-8")
    assert old in xml, f"{old!r} not in {docx.name}"
    data["word/document.xml"] = xml.replace(old, new, 1).encode("utf-8")
    with zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in infos:
            zout.writestr(info, data[info.filename])


def test_example_case_and_variants_make_every_document_of_the_routing_table(orders):
    assert {o.kind for o in orders} == set(ROWS)


def test_shipped_templates_pass(orders):
    report = check_templates(TEMPLATES, orders=orders)
    assert report.problems == []
    assert set(report.templates) == {row.template for row in ROWS.values()}


def test_cli_check_of_the_shipped_templates_exits_0():
    result = CliRunner().invoke(cli, ["templates", "check"])
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output


def test_unknown_placeholder_names_template_placeholder_paragraph_and_suggests(templates, orders):
    edit_xml(templates / "brief_weigering.docx", "{{ aan.naam }}", "{{ aan.nam }}")
    report = check_templates(templates, orders=orders)
    [problem] = report.problems
    assert (problem.template, problem.severity, problem.placeholder) == ("brief_weigering.docx", Severity.ERROR,
                                                                         "aan.nam")
    assert problem.paragraph == "{{ aan.nam }}"
    assert "did you mean 'aan.naam'" in problem.message


def test_placeholder_of_another_audience_is_unknown_and_the_paragraph_is_shown(templates, orders):
    """A template built in python-docx, as someone might retype it: the refusal letter has no BSN in its context."""
    document = Document()
    document.add_paragraph("Besluit op uw verzoek, {{ kenmerk }}")
    document.add_paragraph("Geachte heer/mevrouw, uw BSN is {{ werknemer.bsn }} en uw verzoek van "
                           "{{ datum_betwist_advies }} is afgewezen om deze reden die heel lang is.")
    document.save(templates / "brief_weigering.docx")
    result = CliRunner().invoke(cli, ["templates", "check", str(templates)])
    assert result.exit_code == 1
    assert "brief_weigering.docx: unknown placeholder 'werknemer.bsn'" in result.output
    # the paragraph, cut at 60 characters
    assert 'paragraph: "Geachte heer/mevrouw, uw BSN is {{ werknemer.bsn }} en uw v…"' in result.output


def test_unclosed_placeholder(templates, orders):
    edit_xml(templates / "brief_uitnodiging.docx", "{{ aan.naam }}", "{{ aan.naam }")
    [problem] = check_templates(templates, orders=orders).of("brief_uitnodiging.docx")
    assert problem.severity is Severity.ERROR
    assert "'{{ aan.naam }' is not closed: '}}' is missing" in problem.message
    assert problem.paragraph == "{{ aan.naam }"


def test_unclosed_block_names_the_opening_paragraph(templates, orders):
    edit_xml(templates / "factuur.docx", "{%p endfor %}", "")
    [problem] = check_templates(templates, orders=orders).of("factuur.docx")
    assert "is never closed: '{% endfor %}' is missing" in problem.message
    assert problem.paragraph.startswith("{%p for regel in ")


def test_block_closed_by_the_wrong_tag(templates, orders):
    edit_xml(templates / "factuur.docx", "{%p endfor %}", "{%p endif %}")
    problems = check_templates(templates, orders=orders).of("factuur.docx")
    assert any("{%p endif %} closes {%p for regel in" in p.message for p in problems)


def test_placeholder_split_into_a_hyperlink_is_an_error(templates, orders):
    """docxtpl renders this without complaint but drops the rest of the document: the check must catch it."""
    edit_xml(templates / "brief_reactie.docx", "<w:r><w:t>{{ aan.naam }}</w:t></w:r>",
             '<w:r><w:t>{{ aan.</w:t></w:r><w:hyperlink w:anchor="x"><w:r><w:t>naam }}</w:t></w:r></w:hyperlink>')
    [problem] = check_templates(templates, orders=orders).of("brief_reactie.docx")
    assert problem.severity is Severity.ERROR
    assert problem.placeholder == "{{ aan.naam }}" and problem.paragraph == "{{ aan.naam }}"
    assert "split across Word runs" in problem.message and "hyperlink" in problem.message


def test_split_with_different_formatting_is_a_warning_and_strict_fails(templates, orders):
    edit_xml(templates / "brief_reactie.docx", "<w:r><w:t>{{ aan.naam }}</w:t></w:r>",
             "<w:r><w:t>{{ aan.</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>naam }}</w:t></w:r>")
    [problem] = check_templates(templates, orders=orders).of("brief_reactie.docx")
    assert problem.severity is Severity.WARNING and "formatted differently" in problem.message
    assert CliRunner().invoke(cli, ["templates", "check", str(templates)]).exit_code == 0
    assert CliRunner().invoke(cli, ["templates", "check", str(templates), "--strict"]).exit_code == 1


def test_split_that_docxtpl_joins_is_not_reported(templates, orders):
    """Word's spell checker splits runs around unknown words; docxtpl joins those, so that is no problem."""
    edit_xml(templates / "brief_reactie.docx", "<w:r><w:t>{{ aan.naam }}</w:t></w:r>",
             '<w:r><w:t>{{ aan.</w:t></w:r><w:proofErr w:type="spellStart"/><w:r><w:t>naam }}</w:t></w:r>')
    assert check_templates(templates, orders=orders).problems == []


def test_printing_a_whole_block_and_a_broken_expression(templates, orders):
    edit_xml(templates / "brief_geen_kopie.docx", "{{ aan.naam }}", "{{ aan }}")
    edit_xml(templates / "brief_gewijzigd_advies.docx", "{{ aan.naam }}", "{{ aan.naam | hoofdletters }}")
    report = check_templates(templates, orders=orders)
    [block] = report.of("brief_geen_kopie.docx")
    assert "prints the whole block 'aan'" in block.message
    [expression] = report.of("brief_gewijzigd_advies.docx")
    assert "not a valid placeholder or tag" in expression.message and "hoofdletters" in expression.message


def test_missing_unreadable_and_unused_templates(templates, orders):
    (templates / "machtiging.docx").unlink()
    (templates / "advies.docx").write_bytes(b"not a zip")
    shutil.copy(TEMPLATES / "factuur.docx", templates / "factuur oud.docx")
    (templates / "~$ctuur.docx").write_bytes(b"Word's lock file")
    report = check_templates(templates, orders=orders)
    by_template = {p.template: p for p in report.problems}
    assert "is missing" in by_template["machtiging.docx"].message
    assert "cannot be opened" in by_template["advies.docx"].message
    assert by_template["factuur oud.docx"].severity is Severity.WARNING
    assert "~$ctuur.docx" not in by_template and "~$ctuur.docx" not in report.templates


def test_signed_template_without_its_anchor_paragraph_is_a_warning(templates, orders):
    edit_xml(templates / "machtiging.docx", ">Ondertekening<", ">Handtekening<")
    [problem] = check_templates(templates, orders=orders).of("machtiging.docx")
    assert problem.severity is Severity.WARNING and "Ondertekening" in problem.message


def test_check_json_output(templates):
    edit_xml(templates / "brief_weigering.docx", "{{ aan.naam }}", "{{ aan.nam }}")
    result = CliRunner().invoke(cli, ["templates", "check", str(templates), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False
    assert data["problems"][0]["placeholder"] == "aan.nam" and data["problems"][0]["severity"] == "error"


# --- doctor ------------------------------------------------------------------------------------------------------

@pytest.fixture
def root(tmp_path, shared_pki) -> Path:
    path = tmp_path / "root"
    settings = init_root(path, pki=False)
    shutil.copytree(shared_pki, settings.pki_dir, dirs_exist_ok=True)
    return path


@libreoffice
def test_doctor_on_this_machine_is_healthy(root):
    result = CliRunner().invoke(cli, ["doctor", "--root", str(root)])
    assert result.exit_code == 0, result.output
    for name in ("configuration", "LibreOffice", "test conversion", "font Liberation Sans", "font DejaVu Sans",
                 "poppler", "root folder", "certificate seal.p12", "permissions: keys", "permissions: mailboxes",
                 "permissions: state", "disk space"):
        assert re.search(rf"^\s+(ok|WARN)\s+{re.escape(name)}", result.output, re.M), name
    assert "FAIL" not in result.output
    assert "DEMO PKI" in result.output  # a warning, with what to do about it


def test_doctor_fails_on_a_readable_key_and_says_how_to_fix_it(root):
    key = root / "pki" / "seal.p12"
    key.chmod(0o644)
    result = CliRunner().invoke(cli, ["doctor", "--root", str(root), "--no-convert"])
    assert result.exit_code == 1
    assert re.search(r"FAIL\s+permissions: keys\s+.*open to others: pki/seal.p12 \(0644\)", result.output)
    assert f"fix: chmod 600 {key}" in result.output


def test_doctor_json_and_a_root_that_was_never_initialised(tmp_path):
    result = CliRunner().invoke(cli, ["doctor", "--root", str(tmp_path), "--no-convert", "--json"])
    assert result.exit_code == 1
    checks = {c["name"]: c for c in json.loads(result.output)["checks"]}
    assert checks["root folder"]["status"] == "fail" and "sopipe init" in checks["root folder"]["fix"]
    assert checks["PKI"]["status"] == "fail"


def test_doctor_certificate_expiry(root):
    settings = load_settings(root)
    seal = {c.name: c for c in doctor.check_pki(settings)}["certificate seal.p12"]
    until = dt.date.fromisoformat(re.search(r"valid until (\S+)", seal.detail).group(1))
    moment = dt.datetime.combine(until, dt.time(), dt.timezone.utc)
    soon = {c.name: c for c in doctor.check_pki(settings, now=moment - dt.timedelta(days=30))}
    assert soon["certificate seal.p12"].status is doctor.Status.WARN
    assert "in 29 days" in soon["certificate seal.p12"].detail or "in 30 days" in soon["certificate seal.p12"].detail
    late = {c.name: c for c in doctor.check_pki(settings, now=moment + dt.timedelta(days=2))}
    assert late["certificate seal.p12"].status is doctor.Status.FAIL


def test_doctor_fonts_missing():
    checks = {c.name: c for c in doctor.check_fonts(families={"DejaVu Sans"})}
    assert checks["font Liberation Sans"].status is doctor.Status.FAIL
    assert "fonts-liberation2" in checks["font Liberation Sans"].fix
    assert checks["font DejaVu Sans"].status is doctor.Status.OK


# --- logs ----------------------------------------------------------------------------------------------------------

@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    own = {name: logging.getLogger(name).level for name in ("sopipe", "pipeline")}
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
    root.setLevel(level)
    for name, lvl in own.items():
        logging.getLogger(name).setLevel(lvl)


def test_log_json_lines_without_a_bsn(tmp_path, restore_logging):
    """`--log-json`: one JSON object per line on stderr, and the BSN in a refused file's name is redacted."""
    assert CliRunner().invoke(cli, ["init", "--root", str(tmp_path)]).exit_code == 0
    (tmp_path / "inbox" / f"jansen-{BSN}.json").write_text('{"schema": "so-pipeline/v1", "kenmerk": '
                                                          f'"SO-2026-0099", "stap": "verzoek", "bsn": "{BSN}"}}')
    result = CliRunner().invoke(cli, ["--log-json", "watch", "--root", str(tmp_path), "--once"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    [warning] = [e for e in lines if e["level"] == "warning"]
    assert warning["logger"] == "sopipe" and warning["message"].startswith("jansen-[BSN].json: not processed")
    assert set(warning) == {"time", "level", "logger", "message"}
    assert BSN not in result.stderr


def test_redaction_filter_covers_arguments_written_forms_and_exceptions():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactBsn())
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("sopipe.test-redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("bsn %s and %s", BSN, "1112.22.333")
        try:
            raise ValueError(f"bad value {BSN}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert BSN not in out and "1112.22.333" not in out and out.count("[BSN]") == 3
    assert redact("SO-2026-0042 19012345601 123456789 2026-11-02") == "SO-2026-0042 19012345601 123456789 2026-11-02"


def test_human_logs_by_default(restore_logging):
    stream = io.StringIO()
    setup_logging(stream=stream)
    logging.getLogger("sopipe").info("x.json: processed")
    logging.getLogger("fontTools.subset").info("glyf pruned")  # libraries: warnings only
    assert re.fullmatch(r"\d\d:\d\d:\d\d INFO x.json: processed\n", stream.getvalue())


# --- progress --------------------------------------------------------------------------------------------------------

def test_progress_is_quiet_off_a_terminal(capsys):
    with batch_progress(3, description="Processing") as progress:
        progress.echo("[    ok] a.json")
        progress.advance(label="a.json")
    assert capsys.readouterr().out == "[    ok] a.json\n"
    assert progress.done == 1


def test_progress_draws_a_bar_on_a_terminal():
    from rich.console import Console
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with batch_progress(2, description="Processing", enabled=True, console=console) as progress:
        progress.echo("[    ok] a.json")
        progress.advance(label="a.json")
        progress.advance(label="b.json")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert "[    ok] a.json" in text and "2/2" in text and "Processing" in text


# --- README and configuration ------------------------------------------------------------------------------------------

PICTURES = ("aanvraagformulier", "machtiging-medische-gegevens", "conceptadvies", "advies", "factuur", "uitnodiging")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])


def test_readme_shows_pictures_of_the_documents_and_how_to_regenerate_them():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# sopipe") and readme.index("make run") < readme.index("## ")
    for name in PICTURES:
        assert f"docs/img/{name}.png" in readme
        width, height = png_size(REPO / "docs" / "img" / f"{name}.png")
        assert 500 < width < 700 and 1.3 < height / width < 1.5  # A4 at ~70 dpi
    assert "make docs" in readme and "schema/casefile.schema.json" in readme
    assert re.search(r"^docs: .*\n\t\$\(VENV\)/bin/python tools/make_docs.py$",
                     (REPO / "Makefile").read_text(), re.M)


def test_every_setting_is_documented_in_the_configuration_page():
    section = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for section_name, key in KEYS:
        assert re.search(rf"^\| `\[{section_name}\]` \| `{key}` \|", section, re.M), f"[{section_name}] {key}"


@libreoffice
@pytest.mark.timeout(300)
def test_make_docs_regenerates_the_pictures(tmp_path):
    done = subprocess.run([sys.executable, str(REPO / "tools" / "make_docs.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=280, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert sorted(p.stem for p in tmp_path.glob("*.png")) == sorted(PICTURES)
    for name in PICTURES:
        assert png_size(tmp_path / f"{name}.png") == png_size(REPO / "docs" / "img" / f"{name}.png")
