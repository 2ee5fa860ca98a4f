"""Issue 14, item 4: the defects found re-reading every document kind of the example case and of the profiles,
one test each, on the finished PDF text.

Three cases go through the production wiring (FakeConverter: the real templates filled by docxtpl, text read back
with poppler's pdftotext): the whole example case followed by a withdrawal of the consent for extra information;
the same case with sharing the advice refused (the own doctor gets the "no copy" letter); and a request refused for
a zwaarwegende reden; and two cases with the SO doctor outside the arbocontract (the employer pays, the employee
pays; the employee refused the medical data).
"""

from __future__ import annotations

import re

import pytest

from tests.casefactory import event, full_case, intrekking
from tests.pdfs import pdftotext
from tests.mailbox_paths import mailbox_file

FULL, NO_COPY, REFUSED = "SO-2026-0742", "SO-2026-0743", "SO-2026-0744"
EMPLOYER_PAYS, EMPLOYEE_PAYS = "SO-2026-0745", "SO-2026-0746"
OUTSIDE_CONTRACT = dict(event("selectie")["so_bedrijfsarts"], in_arbocontract=False)


@pytest.fixture(scope="module")
def root(tmp_path_factory, shared_fake_converter, shared_pki):
    from tests.conftest import Root
    r = Root(tmp_path_factory.mktemp("readthrough") / "root", converter=shared_fake_converter, pki=shared_pki)
    cases = {
        FULL: full_case(kenmerk=FULL) + [intrekking("extra_informatie", datum="2026-12-01", kenmerk=FULL,
                                                    bron="behandelaar")],
        NO_COPY: full_case(kenmerk=NO_COPY, upto="definitief_advies", overrides={
            "definitief_advies": {"machtiging_advies_delen_bedrijfsarts": "geweigerd"}}),
        REFUSED: full_case(kenmerk=REFUSED, upto="beoordeling", overrides={"beoordeling": {
            "uitkomst": "geweigerd",
            "zwaarwegende_reden": "Binnen een jaar het derde verzoek over hetzelfde advies, zonder nieuwe feiten."}}),
        EMPLOYER_PAYS: full_case(kenmerk=EMPLOYER_PAYS, overrides={"selectie": {
            "so_bedrijfsarts": OUTSIDE_CONTRACT, "werkgever_vergoedt": True}}),
        EMPLOYEE_PAYS: full_case(kenmerk=EMPLOYEE_PAYS, overrides={
            "selectie": {"so_bedrijfsarts": OUTSIDE_CONTRACT, "werkgever_vergoedt": False},
            "aanvraag": {"machtiging_medische_gegevens": "geweigerd", "medische_gegevens": None}}),
    }
    for kenmerk, events in cases.items():
        for i, ev in enumerate(events, start=1):
            r.drop(f"{kenmerk}-{i:02d}.json", ev)
    outcomes = r.run()
    assert [o.status for o in outcomes] == ["processed"] * len(outcomes), [(o.file_name, o.detail) for o in outcomes]
    yield r
    r.close()


def text(root, party: str, kenmerk: str, kind: str) -> str:
    """The document's text as one line of words (pdftotext -layout, whitespace folded)."""
    return " ".join(pdftotext(mailbox_file(root, party, kenmerk, kind)).split())


def raw(root, party: str, kenmerk: str, kind: str) -> str:
    return pdftotext(mailbox_file(root, party, kenmerk, kind))


@pytest.mark.parametrize("kenmerk, kind", [
    (FULL, "uitnodiging"), (FULL, "reactie-bedrijfsarts"), (FULL, "intrekking-extra-informatie-behandelaar"),
    (REFUSED, "weigering")])
def test_a_letter_to_the_employee_greets_without_initials(root, kenmerk, kind):
    t = text(root, "werknemer", kenmerk, kind)
    assert "Geachte heer/mevrouw Jansen," in t
    assert "Geachte M.A." not in t and "Geachte M.A.\u00a0Jansen" not in t


def addressee_block(page: str) -> str:
    """The lines between the addressee label and the reference block of a letter."""
    start = page.index("Vertrouwelijk") if "Persoonlijk en vertrouwelijk" not in page else \
        page.index("Persoonlijk en vertrouwelijk")
    return page[start:page.index("Datum", start)]


def test_the_no_copy_letter_reaches_the_own_doctor_at_a_postal_address(root):
    block = addressee_block(raw(root, "bedrijfsarts", NO_COPY, "geen-kopie"))
    assert "Dr. P. Bakker" in block and "Stationsplein 1" in block and "3511 ED Utrecht" in block
    assert "@" not in block


def test_the_withdrawal_notice_reaches_the_so_doctor_at_the_practice_address(root):
    block = addressee_block(raw(root, "so-bedrijfsarts", FULL, "intrekking-melding-extra-informatie-behandelaar"))
    assert "Dr. E. Visser" in block and "Stadsring 88" in block and "3811 HR Amersfoort" in block
    assert "@" not in block


def test_the_consented_question_ends_the_sentence_once(root):
    t = text(root, "werknemer", FULL, "machtiging-extra-informatie")
    assert "sinds september?" in t
    assert not re.search(r"[?!.]\.", t.replace("B.V.", "BV").replace("e.a.", "").replace("t.a.v.", "")), \
        re.findall(r".{30}[?!.]\.", t)


def test_the_machtiging_says_valid_until_once_and_the_seal_is_no_second_recorder(root):
    t = text(root, "werknemer", FULL, "machtiging-medische-gegevens")
    assert "Geldig tot de afronding van de second opinion" in t and "tot tot" not in t
    assert t.count("Vastgelegd door") == 1  # the named secretary who recorded the decision
    assert "Gezegeld door: ArboNoord (arbodienst)" in t


def test_the_draft_advice_speaks_to_the_employee_and_claims_no_archive(root):
    concept = text(root, "werknemer", FULL, "conceptadvies")
    assert "Status van dit concept" in concept and "licht die keuze aan u toe" in concept
    assert "met uw uitdrukkelijke toestemming" in concept
    assert "twintig jaar bewaard" not in concept  # the draft is not archived (PROCEDURE.md routing)
    final = text(root, "werknemer", FULL, "advies")
    assert "Status van dit advies" in final and "twintig jaar bewaard" in final


def test_withdrawal_letters_are_signed_by_the_secretariat_not_by_a_bare_organisation(root):
    for party, kind in (("werknemer", "intrekking-extra-informatie-behandelaar"),
                        ("so-bedrijfsarts", "intrekking-melding-extra-informatie-behandelaar")):
        page = raw(root, party, FULL, kind)
        closing = page[page.index("Met vriendelijke groet"):]
        lines = [line.strip() for line in closing.splitlines() if line.strip()]
        # issue 20: signed once, "Secretariaat bedrijfsgezondheidszorg / ArboNoord", not the organisation thrice
        assert lines[1:3] == ["Secretariaat bedrijfsgezondheidszorg", "ArboNoord"], lines
        assert "arbodienst" not in lines[:4], lines
        assert sum("ArboNoord" in line for line in lines[1:5]) == 1, lines


def test_a_refused_machtiging_does_not_speak_of_withdrawing(root):
    t = text(root, "werknemer", EMPLOYEE_PAYS, "machtiging-medische-gegevens")
    assert "Ik geef géén toestemming" in t
    assert "Alsnog toestemming geven Een geweigerde toestemming kan later alsnog worden verleend." in t
    assert "Intrekken" not in t
    granted = text(root, "werknemer", FULL, "machtiging-medische-gegevens")
    assert "Intrekken Deze toestemming kan op elk moment" in granted


@pytest.mark.parametrize("kenmerk, kind", [(EMPLOYEE_PAYS, "factuur-werknemer"),
                                           (EMPLOYER_PAYS, "kostenoverzicht-werknemer")])
def test_the_employee_is_not_shown_the_employers_cost_centre(root, kenmerk, kind):
    t = text(root, "werknemer", kenmerk, kind)
    assert "Kenmerk opdracht" in t and "Kostenplaats" not in t


def test_anonymous_invoices_keep_the_cost_centre(root):
    t = text(root, "werkgever", EMPLOYER_PAYS, "factuur-werkgever")
    assert "Kostenplaats" in t and "KP-310" in t


def test_the_refusal_names_the_configured_complaints_procedure(root):
    """The refusal letter prints the arbodienst's own complaints text from its master data, not only its name."""
    klachten = " ".join(root.settings.organisaties["arbonoord"].klachten.split())
    t = text(root, "werknemer", REFUSED, "weigering")
    assert "Klachten. " + klachten in t.replace("\u00a0", " ")
    assert "volgens de klachtenregeling van" not in t.split("Klachten.")[0]
