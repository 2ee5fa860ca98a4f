"""End to end with the real things: LibreOffice, pyHanko signatures, poppler's pdfsig, SQLite."""

from __future__ import annotations

import re

import pytest
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko_certvalidator import ValidationContext
from pyhanko.keys import load_cert_from_pemder

from tests.casefactory import event, full_case
from tests.pdf_signatures import pdfsig
from tests.pdfs import pdftotext
from tests.mailbox_paths import mailbox, mailbox_file

pytestmark = pytest.mark.libreoffice

K = "SO-2026-0042"


def f(*kinds: str) -> set[str]:
    return {f"{K}_{k}.pdf" for k in kinds}


# PROCEDURE.md's routing table for the example case (NVAB, all consents granted, SO doctor in contract).
EXPECTED = {
    "werknemer": f("aanvraagformulier", "machtiging-medische-gegevens", "uitnodiging", "machtiging-extra-informatie",
                   "informatieverzoek", "conceptadvies", "advies", "machtiging-advies-delen", "reactie-bedrijfsarts"),
    "bedrijfsarts": f("aanvraagformulier", "machtiging-medische-gegevens", "advies", "machtiging-advies-delen",
                      "reactie-bedrijfsarts"),
    "so-bedrijfsarts": f("aanvraagformulier", "machtiging-medische-gegevens", "uitnodiging",
                         "machtiging-extra-informatie", "informatieverzoek", "conceptadvies", "advies",
                         "machtiging-advies-delen"),
    # the anonymous specification under its own reference in facturen/, never beside the named letter (issue 20)
    "werkgever": f("gewijzigd-advies") | {"arbopraktijk-visser_AV-2026-118_doorbelasting-werkgever.pdf"},
    "arbodienst": f("factuur"),
    "archief": f("aanvraagformulier", "machtiging-medische-gegevens", "uitnodiging", "machtiging-extra-informatie",
                 "informatieverzoek", "advies", "machtiging-advies-delen", "reactie-bedrijfsarts", "gewijzigd-advies",
                 "factuur", "doorbelasting-werkgever"),
}

SIGNED = ("machtiging-medische-gegevens", "machtiging-extra-informatie", "machtiging-advies-delen", "advies")


@pytest.fixture(scope="module")
def example_root(tmp_path_factory, converter, shared_pki):
    from tests.conftest import Root
    root = Root(tmp_path_factory.mktemp("e2e") / "root", converter=converter, pki=shared_pki)
    for i, ev in enumerate(full_case(), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    yield root, outcomes
    root.close()


def test_example_case_lands_in_exactly_the_mailboxes_of_the_routing_table(example_root):
    root, outcomes = example_root
    assert [o.status for o in outcomes] == ["processed"] * 11, [(o.file_name, o.detail) for o in outcomes]
    assert root.mailboxes() == EXPECTED
    assert sorted(p.name for p in (root.settings.inbox / "processed").iterdir()) == sorted(
        o.file_name for o in outcomes)
    assert not list((root.settings.inbox / "failed").iterdir())
    assert not [p for p in root.settings.outbox.rglob(".*")], "no temp file left in any mailbox"


@pytest.mark.parametrize("kind", SIGNED)
def test_signed_pdfs_validate_with_pyhanko_and_pdfsig(example_root, kind):
    root, _ = example_root
    path = root.settings.outbox / "archief" / K / f"{K}_{kind}.pdf"
    trust = load_cert_from_pemder(str(root.settings.pki_dir / "ca.pem"))
    with path.open("rb") as fh:
        reader = PdfFileReader(fh)
        sigs = reader.embedded_signatures
        assert len(sigs) == 1
        status = validate_pdf_signature(sigs[0], ValidationContext(trust_roots=[trust]))
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert sigs[0].sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    out = pdfsig(path)
    assert "Signature is Valid" in out and "Total document signed" in out, out
    signer = re.search(r"Signer Certificate Common Name: (.*)", out).group(1)
    assert signer.startswith("Dr. E. Visser") if kind == "advies" else "DEMO zegel" in signer


def test_concept_is_marked_and_not_signed(example_root):
    root, _ = example_root
    path = root.settings.outbox / "werknemer" / K / f"{K}_conceptadvies.pdf"
    assert "CONCEPT" in pdftotext(path)
    assert "Signature" not in pdfsig(path) or "does not contain any signatures" in pdfsig(path)


def test_employer_side_invoice_has_no_employee_identifier(example_root):
    root, _ = example_root
    verzoek = event("verzoek")
    w = verzoek["werknemer"]
    for party, kind in (("werkgever", "doorbelasting-werkgever"), ("arbodienst", "factuur")):
        text = pdftotext(mailbox_file(root, party, K, kind))
        assert "AV-2026-118" in text and "485,00" in text and "Dr. E. Visser" in text
        for ident in ("Jansen", "M.A.", "111222333", "1984", "17 maart", "Lindenlaan", "3521", "06-12345678",
                      "m.jansen@voorbeeld.nl", "P-20417"):
            assert ident not in text, f"{ident} on the {party} invoice"
    assert w["naam"] == "Jansen"


def test_nothing_medical_in_the_employer_mailbox(example_root):
    root, _ = example_root
    medical = [event("aanvraag")["medische_gegevens"]] + [event("definitief_advies")[k] for k in
                                                           ("bevindingen", "conclusie", "onderbouwing")]
    for pdf in (root.settings.outbox / "werkgever").rglob("*.pdf"):
        text = " ".join(pdftotext(pdf).split())
        for m in medical:
            assert m[:40] not in text, pdf.name


def test_pdf_metadata_is_set_deliberately(example_root):
    from pypdf import PdfReader
    root, _ = example_root
    info = PdfReader(mailbox(root, "arbodienst", K) / f"{K}_factuur.pdf").metadata
    assert info.title == f"Factuur second opinion {K}"
    assert info.author == "Arbopraktijk Visser"


def test_state_and_deliveries_recorded(example_root):
    root, _ = example_root
    records = root.store.deliveries(K)
    assert sum(r.status == "delivered" for r in records) == sum(len(v) for v in EXPECTED.values())
    state = root.pipeline.case_state(K)
    assert state.afgerond


def test_medical_data_refused_sends_the_so_doctor_no_medical_data(make_root):
    root = make_root()
    events = full_case(kenmerk="SO-2026-0100", upto="aanvraag",
                       overrides={"aanvraag": {"machtiging_medische_gegevens": "geweigerd"}})
    for i, ev in enumerate(events, start=1):
        root.drop(f"{i:02d}.json", ev)
    assert [o.status for o in root.run()] == ["processed"] * 5
    form = mailbox(root, "so-bedrijfsarts", "SO-2026-0100") / "SO-2026-0100_aanvraagformulier.pdf"
    text = " ".join(pdftotext(form).split())
    assert "Lumbosacraal" not in text and "radiculair" not in text
    assert "geen toestemming" in text
    assert event("aanvraag")["vraagstelling"][:30] in text


def test_bad_file_goes_to_failed_with_a_report_and_the_case_is_unchanged(make_root):
    root = make_root()
    root.drop("01.json", event("verzoek"))
    root.drop("02.json", event("beoordeling", uitkomst="geweigerd"))
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed", "failed"]
    report = (root.settings.inbox / "failed" / "02.json.error.txt").read_text(encoding="utf-8")
    assert "02.json" in report and "zwaarwegende_reden" in report and "NIET verwerkt" in report
    assert (root.settings.inbox / "failed" / "02.json").exists()
    assert root.pipeline.case_state(K).beoordeling is None
    assert root.mailboxes() == {}


@pytest.mark.parametrize("kind", SIGNED)
def test_visible_signature_sits_just_below_ondertekening(example_root, kind):
    """Found via the template's bookmark (a named destination), it must agree with the page's text."""
    from pypdf import PdfReader

    from pipeline.adapters.appearance import named_anchor
    root, _ = example_root
    reader = PdfReader(root.settings.outbox / "archief" / K / f"{K}_{kind}.pdf")
    last = len(reader.pages) - 1
    assert "/Ondertekening" in reader.named_destinations
    named = named_anchor(reader, last, "Ondertekening")
    page = reader.pages[last]
    chunks = []
    page.extract_text(visitor_text=lambda t, cm, tm, f, s: chunks.append((t, tm[5] * cm[3] + cm[5]))
                      if t.strip() == "Ondertekening" else None)
    (text_y,) = [y for _, y in chunks]
    assert abs(named[1] - text_y) < 2.0, (named, text_y)
    widgets = [a.get_object() for a in page.get("/Annots", []) if a.get_object().get("/Subtype") == "/Widget"]
    (top,) = [max(float(v) for v in (w["/Rect"][1], w["/Rect"][3])) for w in widgets]
    assert text_y - 40 < top < text_y, "the signature box starts right below the word"


def test_permissions_of_mailboxes_files_and_state(example_root):
    import stat
    root, _ = example_root
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    for pdf in root.settings.outbox.rglob("*.pdf"):
        assert mode(pdf) == 0o640, pdf
        assert mode(pdf.parent) == 0o750, pdf.parent
    assert mode(root.settings.database) == 0o600
