"""DocxRenderer and the Word templates: every template renders from its contract context, strictly and literally.

The last test converts with a real LibreOffice to check where `Ondertekening` lands (deselect with
`-m "not libreoffice"`).
"""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from lxml import etree

from pipeline.adapters.renderer import DocxRenderer
from pipeline.core import samples as fx
from pipeline.core.kinds import sample_contexts
from pipeline.errors import TemplateError
from pipeline.package_data import TEMPLATES
from tests.conversion_samples import libreoffice
from tests.pdfs import needs_pdftotext

REPO = Path(__file__).resolve().parents[1]
W_T = qn("w:t")
W_P = qn("w:p")
CONTEXTS = sample_contexts()
"""Template file name → sample context (default variant), from the registry of document kinds."""

SPECIAL = "Tom & Jerry <b>vet</b> \"dubbel\" 'enkel' {{ x }} {% if %} {#c#} مرحبا שלום 😀🩺 你好世界"


@pytest.fixture(scope="module")
def renderer() -> DocxRenderer:
    return DocxRenderer(TEMPLATES)


# --- helpers -------------------------------------------------------------------------------------------------
def shown(text: str) -> str:
    """Text as a reader sees it: the renderer sets names, dates and numbers with no-break spaces (issue 14),
    which show, and which pdftotext extracts, as spaces."""
    return text.replace("\u00a0", " ")


def paragraphs(data: bytes) -> list[str]:
    """Text of every paragraph of the body (tables included), in document order, read with python-docx."""
    document = docx.Document(io.BytesIO(data))
    return [shown("".join(t.text or "" for t in p.iter(W_T))) for p in document.element.body.iter(W_P)]


def header_footer_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    out = []
    for section in document.sections:
        for part in (section.header, section.first_page_header, section.footer, section.first_page_footer):
            out.extend(shown("".join(t.text or "" for t in p.iter(W_T))) for p in part._element.iter(W_P))
    return "\n".join(out)


def all_text(data: bytes) -> str:
    return "\n".join(paragraphs(data)) + "\n" + header_footer_text(data)


def xml_texts(data: bytes) -> str:
    """The w:t text of every part (body, headers, footers) straight from the zip: what Word will show."""
    texts = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if re.fullmatch(r"word/(document|header\d+|footer\d+)\.xml", name):
                root = etree.fromstring(zf.read(name))
                texts.append(shown("".join(t.text or "" for t in root.iter(W_T))))
    return "\n".join(texts)


def last_text(data: bytes) -> str:
    return [t for t in paragraphs(data) if t.strip()][-1]


VARIANTS = {
    **{name: (name, build) for name, build in CONTEXTS.items()},
    "advies concept": ("advies.docx", lambda: fx.advies(concept=True)),
    "factuur op naam": ("factuur.docx", lambda: fx.factuur(anoniem=False)),
    "machtiging geweigerd": ("machtiging.docx", lambda: fx.machtiging(verleend=False)),
    "aanvraag zonder medische gegevens": ("aanvraagformulier.docx", lambda: fx.aanvraagformulier(
        medisch_opgenomen=False)),
    "reactie advies niet aangepast": ("brief_reactie.docx", lambda: fx.brief_reactie(advies_aangepast=False)),
    "afronding zonder werkadvies": ("brief_afronding_werkgever.docx", lambda: fx.brief_afronding_werkgever(
        werkadvies_gedeeld=False)),
}


# --- every template renders with its contract context ---------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_template_renders_its_sample_context(renderer, variant):
    template, build = VARIANTS[variant]
    context = build()
    data = renderer.render(template, context)

    text = all_text(data)
    assert context["kenmerk"] in text
    assert context["titel"] in text
    assert context["organisatie"]["naam"] in text
    names = [context[k]["naam"] for k in ("werknemer", "aan") if k in context]
    assert any(name in text for name in names)
    # no tag survived and nothing was left to fill
    raw = xml_texts(data)
    assert "{{" not in raw and "{%" not in raw and "}}" not in raw
    assert "None" not in raw


def test_rendered_document_is_a4_arial_with_page_numbers(renderer):
    data = renderer.render("advies.docx", fx.advies())
    document = docx.Document(io.BytesIO(data))
    section = document.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    assert document.styles["Normal"].font.name == "Arial"
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and "NUMPAGES" in footer_xml
    assert "Vertrouwelijk" in header_footer_text(data)


def test_values_land_in_the_right_places(renderer):
    context = fx.aanvraagformulier()
    text = all_text(renderer.render("aanvraagformulier.docx", context))
    for value in (context["vraagstelling"], context["werkgegevens"], context["medische_gegevens"],
                  context["werkgever"]["kostenplaats"], context["kosten"],
                  *context["werknemer"]["adresregels"], *context["organisatie"]["adresregels"]):
        assert value in text
    assert "geen opschortende werking" in text
    # data minimisation: the SO doctor does not need the BSN or the personnel number (README)
    assert context["werknemer"]["bsn"] not in text and context["werknemer"]["personeelsnummer"] not in text


def test_aanvraagformulier_without_medical_data_has_no_medical_text(renderer):
    with_medical = fx.aanvraagformulier()
    text = all_text(renderer.render("aanvraagformulier.docx", fx.aanvraagformulier(medisch_opgenomen=False)))
    assert with_medical["medische_gegevens"] not in text
    assert "geen toestemming" in text
    assert "bevat medische gegevens" not in header_footer_text(
        renderer.render("aanvraagformulier.docx", fx.aanvraagformulier(medisch_opgenomen=False)))


def test_empty_address_list_leaves_no_gap_marker_in_letters_but_a_dash_in_tables(renderer):
    context = fx.aanvraagformulier()
    context["werkgever"]["adresregels"] = []
    context["aan"]["adresregels"] = []
    data = renderer.render("aanvraagformulier.docx", context)
    assert "—" in paragraphs(data)
    letter = fx.brief_uitnodiging()
    letter["aan"]["adresregels"] = []
    assert letter["aan"]["naam"] in paragraphs(renderer.render("brief_uitnodiging.docx", letter))


# --- strictness ----------------------------------------------------------------------------------------------
def test_missing_top_level_key_raises_naming_it(renderer):
    context = fx.brief_uitnodiging()
    del context["locatie"]
    with pytest.raises(TemplateError) as err:
        renderer.render("brief_uitnodiging.docx", context)
    assert "locatie" in err.value.message
    assert "brief_uitnodiging.docx" in err.value.message
    assert err.value.template == "brief_uitnodiging.docx"
    assert err.value.field == "locatie"


def test_missing_nested_key_raises_naming_the_dotted_path(renderer):
    context = fx.advies()
    del context["so_bedrijfsarts"]["big_nummer"]
    with pytest.raises(TemplateError) as err:
        renderer.render("advies.docx", context)
    assert "so_bedrijfsarts.big_nummer" in err.value.message


def test_missing_bool_raises_instead_of_counting_as_false(renderer):
    context = fx.advies(concept=True)
    del context["concept"]
    with pytest.raises(TemplateError, match="concept"):
        renderer.render("advies.docx", context)


def test_none_value_raises_instead_of_printing_none(renderer):
    context = fx.brief_weigering()
    context["zwaarwegende_reden"] = None
    with pytest.raises(TemplateError, match="zwaarwegende_reden"):
        renderer.render("brief_weigering.docx", context)


def test_unknown_template_raises(renderer):
    with pytest.raises(TemplateError, match="bestaat_niet.docx"):
        renderer.render("bestaat_niet.docx", fx.brief_weigering())
    with pytest.raises(TemplateError):
        renderer.render("../pyproject.toml", {})


def _docx_with(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph().add_run(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_broken_tag_raises_template_error_naming_the_template(tmp_path):
    (tmp_path / "kapot.docx").write_bytes(_docx_with("Kenmerk {{ kenmerk } en {% if x %} zonder einde"))
    renderer = DocxRenderer(tmp_path)
    with pytest.raises(TemplateError) as err:
        renderer.render("kapot.docx", {"kenmerk": "SO-1", "x": True})
    assert "kapot.docx" in err.value.message
    assert err.value.template == "kapot.docx"
    with pytest.raises(TemplateError):
        renderer.placeholders("kapot.docx")


def test_not_a_docx_raises(tmp_path):
    (tmp_path / "leeg.docx").write_bytes(b"geen zip")
    with pytest.raises(TemplateError, match="leeg.docx"):
        DocxRenderer(tmp_path).render("leeg.docx", {})


# --- literal values ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("template,key", [
    ("advies.docx", "bevindingen"),
    ("brief_weigering.docx", "zwaarwegende_reden"),
    ("factuur.docx", "factuur.omschrijving"),
])
def test_special_characters_appear_literally(renderer, template, key):
    context = CONTEXTS[template]()
    target = context
    *parents, leaf = key.split(".")
    for parent in parents:
        target = target[parent]
    target[leaf] = SPECIAL
    data = renderer.render(template, context)
    assert SPECIAL in xml_texts(data)
    assert SPECIAL in all_text(data)


def test_special_characters_in_lists_and_headers(renderer):
    context = fx.brief_uitnodiging()
    context["aan"]["adresregels"] = ["Straat <1> & zo", "{{ kenmerk }}"]
    context["titel"] = "Titel {% endif %} & <x>"
    raw = xml_texts(renderer.render("brief_uitnodiging.docx", context))
    assert "Straat <1> & zo" in raw
    assert "{{ kenmerk }}" in raw
    assert "Titel {% endif %} & <x>" in raw


def test_newlines_become_line_breaks_and_control_characters_are_dropped(renderer):
    context = fx.advies()
    context["bevindingen"] = "eerste regel\ntweede regel\x00\x07\x0b klaar"
    data = renderer.render("advies.docx", context)
    document = docx.Document(io.BytesIO(data))
    para = next(p for p in document.paragraphs if "eerste regel" in p.text)
    assert para.text == "eerste regel\ntweede regel klaar"  # python-docx shows <w:br/> as \n


# --- concept, signature space ---------------------------------------------------------------------------------
def test_concept_advies_is_marked_concept_on_every_page_and_has_no_signature(renderer):
    data = renderer.render("advies.docx", fx.advies(concept=True))
    document = docx.Document(io.BytesIO(data))
    section = document.sections[0]
    for header in (section.first_page_header, section.header):
        assert "CONCEPT" in "".join(t.text or "" for t in header._element.iter(W_T))
    text = all_text(data)
    assert "Concept ter controle op feitelijke onjuistheden — niet ondertekend" in text
    assert "Ondertekening" not in xml_texts(data)


def test_final_advies_is_not_concept_and_ends_with_ondertekening(renderer):
    data = renderer.render("advies.docx", fx.advies(concept=False))
    raw = xml_texts(data)
    assert "CONCEPT" not in raw and "niet ondertekend" not in raw
    assert last_text(data) == "Ondertekening"
    assert raw.count("Ondertekening") == 1
    assert "Datum spreekuur gecorrigeerd." in raw  # the employee's remarks


def test_final_advies_without_remarks_drops_that_section(renderer):
    context = fx.advies()
    context["opmerkingen_werknemer"] = ""
    assert "Opmerkingen van de werknemer" not in all_text(renderer.render("advies.docx", context))


def test_signature_space_follows_ondertekening(renderer):
    data = renderer.render("advies.docx", fx.advies())
    document = docx.Document(io.BytesIO(data))
    body = list(document.element.body.iter(W_P))
    index = next(i for i, p in enumerate(body) if "".join(t.text or "" for t in p.iter(W_T)) == "Ondertekening")
    heading = docx.text.paragraph.Paragraph(body[index], document)
    assert heading.paragraph_format.keep_with_next or heading.style.paragraph_format.keep_with_next
    space = 0.0
    for p in body[index + 1:]:
        para = docx.text.paragraph.Paragraph(p, document)
        assert para.text == ""
        if para.paragraph_format.line_spacing is not None and para.paragraph_format.line_spacing_rule is not None:
            space += para.paragraph_format.line_spacing.cm
    assert 3.5 <= space <= 5


@pytest.mark.parametrize("verleend", [True, False])
def test_machtiging_records_the_choice_and_ends_with_ondertekening(renderer, verleend):
    context = fx.machtiging(verleend=verleend)
    data = renderer.render("machtiging.docx", context)
    text = all_text(data)
    assert last_text(data) == "Ondertekening"
    assert context["machtiging"]["omschrijving"] in text
    assert context["machtiging"]["intrekken"] in text
    assert ("op elk moment" in text) is verleend  # a refusal is not something to withdraw
    lines = paragraphs(data)
    verleend_line = next(i for i, t in enumerate(lines) if t.startswith("Toestemming verleend"))
    geweigerd_line = next(i for i, t in enumerate(lines) if t.startswith("Toestemming geweigerd"))
    assert lines[verleend_line - 1] == ("☒" if verleend else "☐")
    assert lines[geweigerd_line - 1] == ("☐" if verleend else "☒")
    assert context["machtiging"]["wijze"] in text and context["machtiging"]["vastgelegd_door"] in text


@pytest.mark.parametrize("template", sorted(set(CONTEXTS) - {"machtiging.docx", "advies.docx",
                                                                 "aanvraagformulier.docx"}))
def test_unsigned_documents_have_no_signature_marker(renderer, template):
    assert "Ondertekening" not in xml_texts(renderer.render(template, CONTEXTS[template]()))


# --- privacy ---------------------------------------------------------------------------------------------------
def test_factuur_template_has_no_employee_placeholder(renderer):
    names = renderer.placeholders("factuur.docx")
    assert "factuur" in names and "kenmerk" in names
    assert not [n for n in names if n.startswith("werknemer")]
    assert not [p for p in renderer.placeholder_paths("factuur.docx") if p.startswith("werknemer")]


def test_anonymous_invoice_says_so_and_names_no_employee(renderer):
    data = renderer.render("factuur.docx", fx.factuur(anoniem=True))
    text = all_text(data)
    assert "Dit document is anoniem, zodat de werknemer niet herleidbaar is" in text
    for value in (fx.WERKNEMER["naam"], "Jansen", fx.WERKNEMER["geboortedatum"], fx.WERKNEMER["bsn"],
                  fx.WERKNEMER["email"], fx.WERKNEMER["telefoon"], fx.WERKNEMER["personeelsnummer"],
                  *fx.WERKNEMER["adresregels"]):
        assert value not in text
    named = all_text(renderer.render("factuur.docx", fx.factuur(anoniem=False)))
    assert "anoniem" not in named and fx.WERKNEMER["naam"] in named


def test_employer_letters_do_not_reveal_the_confidential_request_or_medical_data(renderer):
    context = fx.brief_gewijzigd_advies()
    data = renderer.render("brief_gewijzigd_advies.docx", context)
    text = all_text(data).lower()
    assert "second opinion" not in text
    assert "second opinion" not in (docx.Document(io.BytesIO(data)).core_properties.title or "").lower()
    assert context["aangepast_werkadvies"].lower() in text


def test_template_metadata_is_neutral(renderer):
    for template, build in CONTEXTS.items():
        props = docx.Document(io.BytesIO(renderer.render(template, build()))).core_properties
        assert props.author == "sopipe"
        for value in (props.title, props.subject, props.comments, props.keywords, props.last_modified_by):
            assert "Jansen" not in (value or "") and "{{" not in (value or "")


# --- contract ---------------------------------------------------------------------------------------------------
def _resolves(context: dict, path: str) -> bool:
    node = context
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_every_placeholder_of_every_branch_is_in_the_sample_context(renderer, template):
    """Rendering only checks the branches taken; this checks every placeholder the template contains."""
    context = CONTEXTS[template]()
    missing = sorted(p for p in renderer.placeholder_paths(template) if not _resolves(context, p))
    assert missing == []
    assert renderer.placeholders(template) <= set(context)


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_every_tag_sits_in_a_single_run(template):
    """Word may split text into runs anywhere; our templates never split a tag, so docxtpl sees each one whole."""
    with zipfile.ZipFile(TEMPLATES / template) as zf:
        for name in zf.namelist():
            if re.fullmatch(r"word/(document|header\d+|footer\d+)\.xml", name):
                for t in etree.fromstring(zf.read(name)).iter(W_T):
                    text = t.text or ""
                    assert text.count("{{") == text.count("}}"), (name, text)
                    assert text.count("{%") == text.count("%}"), (name, text)


def test_every_contract_template_exists():
    contract = (REPO / "docs" / "templates.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`([a-z_]+\.docx)`", contract))
    assert listed == set(CONTEXTS)
    for name in listed:
        assert (TEMPLATES / name).is_file(), name


# --- cache ------------------------------------------------------------------------------------------------------
def test_repeated_renders_are_identical_and_independent(renderer):
    first = paragraphs(renderer.render("advies.docx", fx.advies(concept=True)))
    renderer.render("advies.docx", fx.advies(concept=False))
    again = paragraphs(renderer.render("advies.docx", fx.advies(concept=True)))
    assert first == again


def test_a_changed_template_file_is_reloaded(tmp_path):
    (tmp_path / "t.docx").write_bytes(_docx_with("eerste {{ kenmerk }}"))
    renderer = DocxRenderer(tmp_path)
    assert "eerste SO-1" in paragraphs(renderer.render("t.docx", {"kenmerk": "SO-1"}))
    (tmp_path / "t.docx").write_bytes(_docx_with("tweede versie {{ kenmerk }}"))
    assert "tweede versie SO-1" in paragraphs(renderer.render("t.docx", {"kenmerk": "SO-1"}))


# --- layout with a real LibreOffice -----------------------------------------------------------------------------
def _pdf_pages(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return out.split("<page ")[1:]


@libreoffice
@needs_pdftotext
@pytest.mark.timeout(180)
def test_ondertekening_lands_on_the_last_page_with_room_below(renderer, tmp_path):
    """Whatever the text length, the signer finds `Ondertekening` on the last page with >= 4 cm free below it,
    together with the signer's name."""
    filler = " Aanvullende zin om de tekst te verlengen."
    cases = {}
    for n in (0, 6, 30, 62):
        m = fx.machtiging()
        m["machtiging"]["omschrijving"] += filler * n
        cases[f"m{n}"] = renderer.render("machtiging.docx", m)
        a = fx.advies()
        a["onderbouwing"] += filler * n * 2
        cases[f"a{n}"] = renderer.render("advies.docx", a)
    for name, data in cases.items():
        (tmp_path / f"{name}.docx").write_bytes(data)
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), *sorted(str(p) for p in tmp_path.glob("*.docx"))],
                   capture_output=True, check=True, timeout=170)
    for name in cases:
        pages = _pdf_pages(tmp_path / f"{name}.pdf")
        hits = [i for i, page in enumerate(pages) if ">Ondertekening<" in page]
        assert hits == [len(pages) - 1], name
        last = pages[-1]
        y_sig = float(re.search(r'yMax="([\d.]+)">Ondertekening<', last).group(1))
        below = [float(y) for y in re.findall(r'yMin="([\d.]+)"', last) if float(y) > y_sig]
        page_h = float(re.search(r'height="([\d.]+)"', last).group(1))
        free_cm = ((min(below) if below else page_h) - y_sig) / 72 * 2.54
        assert free_cm >= 4.0, (name, free_cm)
        signer = "Secretariaat" if name.startswith("m") else "Visser"
        assert re.search(rf">{signer}\b", last), name
