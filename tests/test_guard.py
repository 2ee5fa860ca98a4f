"""The privacy guard on real PDF files: an identifier planted in the text, the info dictionary, the XMP, an
attachment, a link, an earlier revision or the file and folder names is caught; a clean anonymous invoice passes;
medical content never reaches the employer; a withdrawn consent blocks at the moment of delivery.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.annotations import Link
from pypdf.generic import DictionaryObject, NameObject, StreamObject

from pipeline.adapters import pdfinspect
from pipeline.core import privacy
from pipeline.core.model import parse_event
from pipeline.core.procedure import decide, fold
from pipeline.core.routing import Party
from pipeline.package_data import EXAMPLE_CASE
from pipeline.shell.guard import PrivacyGuard
from pipeline.shell.runner import Finding
from tests.conversion_samples import libreoffice

EXAMPLES = EXAMPLE_CASE
KENMERK = "SO-2026-0042"
PATH_WG = f"outbox/werkgever/{KENMERK}/{KENMERK}_factuur.pdf"
PATH_AD = f"outbox/arbodienst/{KENMERK}/{KENMERK}_factuur.pdf"


# --- the case -----------------------------------------------------------------------------------------------

def events() -> list:
    return [parse_event(json.loads(p.read_text(encoding="utf-8"))) for p in sorted(EXAMPLES.glob("*.json"))]


@pytest.fixture(scope="module")
def invoice():
    """(state, the `factuur` order to arbodienst + archive) from the example case."""
    evs = events()
    decision = decide(fold(evs[:-1]), evs[-1])
    order = decision.orders[0]
    assert order.kind == "factuur" and order.row.invoice
    return decision.state, order


@pytest.fixture(scope="module")
def changed_advice():
    """(state, the `gewijzigd-advies` letter to the employer) from step 9 of the example case."""
    evs = events()
    decision = decide(fold(evs[:9]), evs[9])
    (order,) = [o for o in decision.orders if o.kind == "gewijzigd-advies"]
    return decision.state, order


def invoice_lines(state, order) -> list[str]:
    """What the factuur template shows for this order (all context values), as lines of a page."""
    f, so, b, a = order.context["factuur"], state.so_arts, state.verzoek.bedrijfsarts, state.verzoek.arbodienst
    return [
        f"{so.organisatie} - {so.email}", "", f"Aan: {a.naam}", a.adres.straat, f"{a.adres.postcode} {a.adres.plaats}",
        "", "FACTUUR SECOND OPINION", f"Kenmerk: {order.kenmerk}    Kostenplaats: {f['kostenplaats']}",
        f"Factuurnummer: {f['nummer']}    Datum: {f['datum']}    Vervaldatum: {f['vervaldatum']}", "",
        f"Uitvoerder: {so.naam}, {so.organisatie} (BIG {so.big_nummer})",
        f"Aanvrager: {b.naam}, {b.organisatie} (BIG {b.big_nummer})", "",
        f"Omschrijving: {f['omschrijving']}", f"Uren: {f['uren']}    Bedrag: {f['bedrag']}", f["btw"]["tekst"], "",
        "De second opinion-bedrijfsarts valt onder het arbocontract. Deze factuur is anoniem, zodat de",
        "werknemer niet herleidbaar is; de kosten kunnen worden doorbelast aan de werkgever.",
    ]


# --- building PDFs ------------------------------------------------------------------------------------------

def _escape(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]], *, footer: str = "", info: dict | None = None, xmp: bytes | None = None,
             compress_xmp: bool = False, attachments: dict[str, bytes] | None = None, link: str = "") -> bytes:
    """A plain PDF with text lines (Helvetica, WinAnsi) per page, and whatever else a test plants in it."""
    w = PdfWriter()
    font = w._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"), NameObject("/Encoding"): NameObject("/WinAnsiEncoding")}))
    for lines in pages:
        page = w.add_blank_page(595, 842)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        ops = ["BT /F1 10 Tf 14 TL 50 800 Td"] + [f"({_escape(line)}) Tj T*" for line in lines] + ["ET"]
        if footer:
            ops.append(f"BT /F1 7 Tf 50 30 Td ({_escape(footer)}) Tj ET")
        content = StreamObject()
        content.set_data("\n".join(ops).encode("cp1252"))
        page[NameObject("/Contents")] = w._add_object(content)
        if link:
            w.add_annotation(len(w.pages) - 1, Link(rect=(50, 700, 200, 720), url=link))
    w.add_metadata(info or {"/Title": f"Factuur second opinion {KENMERK}", "/Author": "Arbopraktijk Visser",
                            "/Subject": "Factuur second opinion", "/Keywords": KENMERK})
    if xmp is not None:
        w.xmp_metadata = xmp
        if compress_xmp:
            stream = w._root_object["/Metadata"].get_object()
            w._root_object[NameObject("/Metadata")] = w._add_object(stream.flate_encode())
    for name, data in (attachments or {}).items():
        w.add_attachment(name, data)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def xmp_packet(*, title: str = f"Factuur second opinion {KENMERK}", creator: str = "Arbopraktijk Visser",
               description: str = "Factuur second opinion") -> bytes:
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
  pdf:Keywords="{KENMERK}" pdf:Producer="LibreOffice">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>{creator}</rdf:li></rdf:Seq></dc:creator>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{description}</rdf:li></rdf:Alt></dc:description>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>""".encode("utf-8")


def check(pdf: bytes, state, order, *, party: Party = Party.WERKGEVER, path: str = PATH_WG,
          guard: PrivacyGuard | None = None) -> list[Finding]:
    return (guard or PrivacyGuard()).check(pdf, order=order, party=party, state=state, path=path)


def wheres(findings: list[Finding]) -> set[str]:
    return {f.where for f in findings}


@pytest.fixture(scope="module")
def clean_pdf(invoice):
    state, order = invoice
    return make_pdf([invoice_lines(state, order)], footer=f"{KENMERK} - pagina 1 van 1", xmp=xmp_packet())


# --- a clean invoice passes ---------------------------------------------------------------------------------

def test_clean_anonymous_invoice_passes(invoice, clean_pdf):
    state, order = invoice
    assert "Dr. E. Visser" in PdfReader(io.BytesIO(clean_pdf)).pages[0].extract_text()
    for party, path in ((Party.WERKGEVER, PATH_WG), (Party.ARBODIENST, PATH_AD)):
        assert check(clean_pdf, state, order, party=party, path=path) == []


def test_two_page_clean_invoice_passes(invoice):
    state, order = invoice
    lines = invoice_lines(state, order)
    pdf = make_pdf([lines, lines[::-1]], xmp=xmp_packet(), compress_xmp=True, link="https://arbopraktijkvisser.example")
    assert check(pdf, state, order) == []


# --- (a) text and footer ------------------------------------------------------------------------------------

def test_identifier_in_the_text_and_footer(invoice):
    state, order = invoice
    lines = invoice_lines(state, order) + ["Betreft: de heer M.A. Jansen, Lindenlaan 12, 3521 AB Utrecht"]
    pdf = make_pdf([lines], footer="Werknemer 1112.22.333 - geb. 17 maart 1984 - tel. +31 6 1234 5678")
    findings = check(pdf, state, order, party=Party.ARBODIENST, path=PATH_AD)
    assert wheres(findings) == {"tekst pagina 1"}
    what = " | ".join(f.what for f in findings)
    for label in ("naam", "BSN", "geboortedatum", "postcode", "adres", "telefoonnummer"):
        assert label in what


def test_identifier_on_the_second_page_says_so(invoice):
    state, order = invoice
    pdf = make_pdf([invoice_lines(state, order), ["Bijlage urenverantwoording", "Personeelsnummer P-20417"]])
    (finding,) = check(pdf, state, order)
    assert finding.where == "tekst pagina 2" and "personeelsnummer" in finding.what


# --- (b) info dictionary ------------------------------------------------------------------------------------

@pytest.mark.parametrize("key, value", [("/Title", f"Factuur {KENMERK} M.A. Jansen"), ("/Author", "Jansen"),
                                        ("/Subject", "BSN 111222333"), ("/Keywords", "m.jansen@voorbeeld.nl")])
def test_identifier_in_the_info_dictionary(invoice, key, value):
    state, order = invoice
    info = {"/Title": f"Factuur second opinion {KENMERK}", "/Author": "Arbopraktijk Visser", key: value}
    pdf = make_pdf([invoice_lines(state, order)], info=info)
    assert wheres(check(pdf, state, order)) == {f"PDF-metadata {key}"}


def test_identifier_in_an_earlier_revision(invoice):
    """Signing appends an incremental update: a replaced /Title is still in the file's bytes."""
    state, order = invoice
    pdf = make_pdf([invoice_lines(state, order)], info={"/Title": "Factuur M.A. Jansen"})
    writer = PdfWriter(PdfReader(io.BytesIO(pdf)), incremental=True)
    writer.add_metadata({"/Title": f"Factuur second opinion {KENMERK}"})
    out = io.BytesIO()
    writer.write(out)
    signed_like = out.getvalue()
    assert PdfReader(io.BytesIO(signed_like)).metadata["/Title"] == f"Factuur second opinion {KENMERK}"
    assert wheres(check(signed_like, state, order)) == {"PDF-object /Title (eerdere versie of los object)"}


# --- (c) XMP ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True])
def test_identifier_in_the_xmp(invoice, compress):
    state, order = invoice
    pdf = make_pdf([invoice_lines(state, order)], xmp=xmp_packet(creator="M.A. Jansen"), compress_xmp=compress)
    findings = check(pdf, state, order)
    assert wheres(findings) == {"XMP dc:creator"}, findings


def test_identifier_in_an_xmp_attribute(invoice):
    state, order = invoice
    packet = xmp_packet().replace(f'pdf:Keywords="{KENMERK}"'.encode(), b'pdf:Keywords="17-03-1984"')
    pdf = make_pdf([invoice_lines(state, order)], xmp=packet)
    assert wheres(check(pdf, state, order)) == {"XMP pdf:Keywords"}


# --- (d) attachments ----------------------------------------------------------------------------------------

def test_identifier_in_an_embedded_file(invoice):
    state, order = invoice
    pdf = make_pdf([invoice_lines(state, order)], attachments={"urenstaat.csv": b"medewerker;uren\nP-20417;3,5\n"})
    (finding,) = check(pdf, state, order)
    assert finding.where == "bijlage urenstaat.csv" and "personeelsnummer" in finding.what


def test_identifier_in_the_name_of_an_embedded_file(invoice):
    state, order = invoice
    pdf = make_pdf([invoice_lines(state, order)], attachments={"urenstaat M.A. Jansen.csv": b"uren;3,5\n"})
    assert wheres(check(pdf, state, order)) == {"naam van bijlage"}


def test_identifier_in_an_embedded_utf16_text(invoice):
    state, order = invoice
    pdf = make_pdf([invoice_lines(state, order)],
                   attachments={"notitie.txt": "Geboren 17-03-1984".encode("utf-16")})
    assert wheres(check(pdf, state, order)) == {"bijlage notitie.txt"}


def test_identifier_in_an_embedded_pdf(invoice):
    state, order = invoice
    inner = make_pdf([["Specificatie", "Werknemer: M.A. Jansen"]])
    pdf = make_pdf([invoice_lines(state, order)], attachments={"specificatie.pdf": inner})
    assert wheres(check(pdf, state, order)) == {"bijlage specificatie.pdf › tekst pagina 1"}


def test_identifier_in_an_embedded_docx(invoice):
    state, order = invoice
    document = io.BytesIO()
    with zipfile.ZipFile(document, "w") as z:
        z.writestr("word/document.xml", "<w:document><w:body><w:p><w:r><w:t>Werknemer Jan</w:t></w:r>"
                                        "<w:r><w:t>sen, BSN 111 222 333</w:t></w:r></w:p></w:body></w:document>")
    pdf = make_pdf([invoice_lines(state, order)], attachments={"brief.docx": document.getvalue()})
    findings = check(pdf, state, order)
    assert wheres(findings) == {"bijlage brief.docx › word/document.xml"}
    what = " | ".join(f.what for f in findings)
    assert "BSN van de werknemer" in what and "naam van de werknemer" in what  # "Jan" + "sen" over two runs


def test_identifier_in_a_link(invoice):
    state, order = invoice
    pdf = make_pdf([invoice_lines(state, order)], link="mailto:m.jansen@voorbeeld.nl")
    assert wheres(check(pdf, state, order)) == {"link pagina 1"}


# --- (e) file and folder names ------------------------------------------------------------------------------

@pytest.mark.parametrize("path, where", [
    (f"outbox/werkgever/{KENMERK}-Jansen/{KENMERK}_factuur.pdf", "mapnaam"),
    (f"outbox/werkgever/{KENMERK}/{KENMERK}_factuur_111222333.pdf", "bestandsnaam"),
    (f"outbox/werkgever/{KENMERK}/{KENMERK}_factuur_M.A.Jansen.pdf", "bestandsnaam"),
    (f"outbox\\werkgever\\{KENMERK}\\{KENMERK}_factuur_P20417.pdf", "bestandsnaam"),
])
def test_identifier_in_the_file_or_folder_name(invoice, clean_pdf, path, where):
    state, order = invoice
    assert wheres(check(clean_pdf, state, order, path=path)) == {where}


# --- scope --------------------------------------------------------------------------------------------------

def test_who_may_see_the_employee(invoice):
    """The archive keeps the named dossier; only anonymous copies are checked for identifiers."""
    state, order = invoice
    pdf = make_pdf([invoice_lines(state, order) + ["M.A. Jansen"]])
    assert check(pdf, state, order, party=Party.ARCHIEF, path=f"outbox/archief/{KENMERK}/x.pdf") == []
    assert check(pdf, state, order, party=Party.ARBODIENST, path=PATH_AD) != []


def test_employer_letter_may_name_the_employee_but_not_the_medical_content(changed_advice):
    state, order = changed_advice
    path = f"outbox/werkgever/{KENMERK}/{KENMERK}_gewijzigd-advies.pdf"
    lines = ["Gewijzigd advies bedrijfsarts", "Betreft: M.A. Jansen", state.beoordeling_advies.aangepast_werkadvies,
             f"Met vriendelijke groet, {state.verzoek.bedrijfsarts.naam}"]
    assert check(make_pdf([lines]), state, order, path=path) == []

    leaked = lines + ["Toelichting: beperkingen in langdurig staan en tillen", "boven 10 kg; verbeterende trend."]
    (finding,) = check(make_pdf([leaked]), state, order, path=path)
    assert finding.where == "tekst pagina 1" and finding.what.startswith("medische inhoud: bevindingen")
    assert "tillen" not in finding.what

    hidden = make_pdf([lines], xmp=xmp_packet(description=state.aanvraag.medische_gegevens))
    (finding,) = check(hidden, state, order, path=path)
    assert finding.where == "XMP dc:description" and "medische gegevens (aanvraag)" in finding.what


def test_medical_sentence_over_a_page_break(changed_advice):
    state, order = changed_advice
    pdf = make_pdf([["Gewijzigd advies", "Lumbosacraal radiculair"], ["syndroom rechts sinds augustus 2026"]])
    findings = check(pdf, state, order, path=f"outbox/werkgever/{KENMERK}/x.pdf")
    assert wheres(findings) == {"tekst pagina 1–2"}


# --- consent at the moment of delivery ----------------------------------------------------------------------

def test_withdrawn_consent_blocks_delivery():
    evs = events()
    decision = decide(fold(evs[:8]), evs[8])
    (advies,) = [o for o in decision.orders if o.kind == "advies"]
    pdf = make_pdf([["Advies second opinion"]])
    path = f"outbox/bedrijfsarts/{KENMERK}/{KENMERK}_advies.pdf"
    guard = PrivacyGuard()
    assert guard.check(pdf, order=advies, party=Party.BEDRIJFSARTS, state=decision.state, path=path) == []
    withdrawn = decide(decision.state, parse_event({
        "schema": "so-pipeline/v1", "kenmerk": KENMERK, "stap": "intrekking", "datum": "2026-11-25",
        "machtiging": "advies_delen_bedrijfsarts"})).state
    (finding,) = guard.check(pdf, order=advies, party=Party.BEDRIJFSARTS, state=withdrawn, path=path)
    assert finding.where == "bezorging" and "advies_delen_bedrijfsarts" in finding.what


# --- robustness and caching ---------------------------------------------------------------------------------

def test_unreadable_pdf_is_not_passed(invoice):
    state, order = invoice
    (finding,) = check(b"%PDF-1.7\n this is not a pdf", state, order)
    assert finding.where == "bestand" and "niet te controleren" in finding.what


def test_pdf_read_once_and_rules_built_once(invoice, clean_pdf, monkeypatch):
    state, order = invoice
    calls = {"inspect": 0, "rules": 0}
    real_inspect, real_rules = pdfinspect.inspect_pdf, privacy.case_rules

    def counting_inspect(data):
        calls["inspect"] += 1
        return real_inspect(data)

    def counting_rules(s):
        calls["rules"] += 1
        return real_rules(s)
    monkeypatch.setattr("pipeline.shell.guard.inspect_pdf", counting_inspect)
    monkeypatch.setattr(privacy, "case_rules", counting_rules)
    guard = PrivacyGuard()
    for party, path in ((Party.ARBODIENST, PATH_AD), (Party.WERKGEVER, PATH_WG), (Party.ARCHIEF, "a/b.pdf")):
        assert guard.check(clean_pdf, order=order, party=party, state=state, path=path) == []
    assert calls == {"inspect": 1, "rules": 1}


def test_clean_text_copes_with_ligatures_and_soft_hyphens():
    assert pdfinspect.clean_text("ofﬁce ﬂow Jan\u00adsen\u00a0IJ\u200bssel ĳs") == "office flow Jansen IJssel ijs"


# --- a real LibreOffice PDF ---------------------------------------------------------------------------------

@libreoffice
@pytest.mark.timeout(240)
def test_libreoffice_invoice_with_footer(invoice, tmp_path):
    """A Word document with the employee in the page footer, converted by LibreOffice, is caught; without, not."""
    docx = pytest.importorskip("docx")
    state, order = invoice
    for name, footer in (("schoon", f"{KENMERK} - Arbopraktijk Visser"),
                         ("lek", f"{KENMERK} - betreft M.A. Jansen, geb. 17-03-1984")):
        document = docx.Document()
        document.core_properties.title = f"Factuur second opinion {KENMERK}"
        document.core_properties.author = "Arbopraktijk Visser"
        for line in invoice_lines(state, order):
            document.add_paragraph(line)
        document.sections[0].footer.paragraphs[0].text = footer
        document.save(tmp_path / f"{name}.docx")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(tmp_path / "schoon.docx"), str(tmp_path / "lek.docx")],
                   check=True, capture_output=True, timeout=200)
    assert check((tmp_path / "schoon.pdf").read_bytes(), state, order) == []
    findings = check((tmp_path / "lek.pdf").read_bytes(), state, order)
    assert wheres(findings) == {"tekst pagina 1"}
    assert {"naam", "geboortedatum"} <= {f.what.split(" van ")[0] for f in findings}
