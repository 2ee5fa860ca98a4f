"""Where LibreOffice breaks the pages of the finished documents: a closing never stands on a page with a single
paragraph, the machtiging's decision block stays together, the Preventix form's title fits one line, and the
refusal names UWV before the complaints route. Real LibreOffice: the layout is what is tested.
"""

from __future__ import annotations


import pytest

from tests.casefactory import full_case
from tests.processed_roots import processed_root
from tests.pdfs import flat, pdftotext
from tests.mailbox_paths import mailbox_file

pytestmark = pytest.mark.libreoffice

REFUSED, NOMACHT = "PB-REF", "PB-NOMACHT"
LONG_REASON = (
    "Over ditzelfde advies van 28 oktober 2026 is op uw verzoek in september al een second opinion uitgevoerd door "
    "een bedrijfsarts van een andere arbodienst. Die second opinion is afgerond en ik heb het advies daarvan "
    "beoordeeld en gedeeltelijk overgenomen. Sindsdien zijn er geen nieuwe feiten of omstandigheden: uw klachten, "
    "uw behandeling en uw werkzaamheden zijn dezelfde gebleven, en u heeft ook geen nieuwe informatie van uw "
    "behandelaars ingebracht. Een tweede second opinion over hetzelfde advies voegt daarom niets toe aan het "
    "oordeel over uw belastbaarheid, en zou de afspraken over uw re-integratie opnieuw onzeker maken. ") * 2


@pytest.fixture(scope="module")
def root(tmp_path_factory, converter, shared_pki):
    events = (
        full_case(kenmerk=REFUSED, upto="beoordeling", overrides={"beoordeling": {
            "uitkomst": "geweigerd", "zwaarwegende_reden": LONG_REASON}})
        + full_case(kenmerk=NOMACHT, upto="aanvraag", overrides={"aanvraag": {
            "machtiging_medische_gegevens": "geweigerd", "medische_gegevens": None}}))
    r = processed_root(tmp_path_factory, "page-breaks", events, converter=converter, shared_pki=shared_pki)
    yield r
    r.close()


def pages(path) -> list[str]:
    """Each page's text, white space folded (pdftotext separates pages with a form feed)."""
    return [flat(p) for p in pdftotext(path).split("\f") if p.strip()]


def lines(path) -> list[str]:
    return [" ".join(line.split()) for line in pdftotext(path).splitlines() if line.strip()]


def test_the_refusal_keeps_its_last_section_with_the_closing(root):
    doc = pages(mailbox_file(root, "werknemer", REFUSED, "weigering"))
    last = next(p for p in doc if "Met vriendelijke groet" in p)
    assert "Wat betekent dit voor u?" in last  # never one paragraph and the closing on a page of their own
    body = " ".join(doc)
    assert body.index("deskundigenoordeel aanvragen") < body.index("Klachten.")


def test_the_machtiging_decision_block_stays_on_one_page(root):
    doc = pages(mailbox_file(root, "werknemer", NOMACHT, "machtiging-medische-gegevens"))
    (page,) = [p for p in doc if "Toestemming geweigerd" in p]
    assert "Beslist op" in page and "Vastgelegd door" in page and "Toestemming verleend" in page


def test_the_preventix_medical_data_form_title_is_one_line(tmp_path, converter, renderer):
    """The form sent on after the consultation has the longest form title: on one line."""
    from pipeline.adapters.converter import PdfMetadata
    from pipeline.core.procedure import decide
    from tests.casefactory import parse_all
    events = [e for e in full_case(kenmerk="PB-PX", profiel="preventix", upto="conceptadvies",
                                   overrides={"verzoek": {"via": None}}) if e["stap"] != "extra_informatie"]
    state, released = None, []
    for ev in parse_all(events):
        decision = decide(state, ev)
        state = decision.state
        released += [o for o in decision.orders if o.kind == "medische-gegevens"]
    (order,) = released
    pdf = tmp_path / "form.pdf"
    pdf.write_bytes(converter.convert(renderer.render(order.row.template, order.context),
                                      metadata=PdfMetadata(title=order.title, author=order.author)))
    form = lines(pdf)
    (i,) = [n for n, line in enumerate(form) if line.startswith("Aanvraagformulier")]
    assert form[i] == "Aanvraagformulier – medische gegevens" and not form[i + 1].startswith("gegevens")
