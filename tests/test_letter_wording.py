"""Issue 14, item 5 (findings 4, 5, 6): the letters say what the seeds say, read from the finished PDFs."""

from __future__ import annotations

import pytest

from tests.casefactory import event, full_case
from tests.processed_roots import processed_root, read as read_pdf, run_all

pytestmark = pytest.mark.libreoffice

K = "SO-2026-0042"


@pytest.fixture(scope="module")
def letters_root(tmp_path_factory, converter, shared_pki):
    root = processed_root(tmp_path_factory, "w14-letters", full_case(), converter=converter, shared_pki=shared_pki)
    yield root
    root.close()


def read(root, party, kind, kenmerk=K) -> str:
    return read_pdf(root, party, kind, kenmerk)


def test_so_doctor_address_and_phone_on_invitation_and_information_request(letters_root):
    invitation = read(letters_root, "werknemer", "uitnodiging")
    assert "Stadsring 88" in invitation and "3811 HR Amersfoort" in invitation
    assert "telefonisch op 033 765 43 21" in invitation
    request = read(letters_root, "so-bedrijfsarts", "informatieverzoek")
    assert "per post aan Arbopraktijk Visser, Stadsring 88, 3811 HR Amersfoort" in request


def test_draft_advice_has_a_reply_deadline_in_the_second_person(letters_root):
    draft = read(letters_root, "werknemer", "conceptadvies")
    assert "U ontvangt dit conceptadvies als enige" in draft
    assert "geef die dan uiterlijk 26 november 2026 door aan Dr. E. Visser" in draft  # 19 Nov + 5 working days
    assert "aan de werknemer voorgelegd" not in draft


def test_final_advice_allows_handing_over_and_names_the_complaints_route(letters_root):
    advice = read(letters_root, "werknemer", "advies")
    # issue 20: the signed advice also goes to both doctors, so it speaks of the employee in the third person
    assert "De werknemer kan dit advies ook zelf aan de eigen bedrijfsarts geven" in advice
    assert "Klachten. Een klacht over de second opinion kunt u schriftelijk indienen bij Arbopraktijk Visser" in advice
    reaction = read(letters_root, "werknemer", "reactie-bedrijfsarts")
    assert "Klachten. Een klacht kunt u schriftelijk indienen bij de klachtenfunctionaris van ArboNoord" in reaction


def test_request_form_sends_no_bsn_or_personnel_number(letters_root):
    for party in ("so-bedrijfsarts", "werknemer", "bedrijfsarts"):
        form = read(letters_root, party, "aanvraagformulier")
        assert "111222333" not in form and "P-20417" not in form and "BSN" not in form
        assert "M.A. Jansen" in form and "17 maart 1984" in form  # enough to identify at the consultation


def test_vitaal_notice_carries_no_free_text_and_promises_only_what_happens(make_root):
    root = make_root()
    secret = "Hernia L5-S1 met uitstraling; gebruikt zware pijnstillers."
    # issue 20: Vitaal! tells the employer once the SO doctor is chosen (its step 4), so the case runs to the selection
    events = full_case(kenmerk="VT-1", profiel="vitaal", upto="selectie",
                       overrides={"verzoek": {"via": "casemanager", "betwist_advies": secret}})
    run_all(root, events)
    notice = read(root, "werkgever", "melding-werkgever", kenmerk="VT-1")
    assert "Hernia" not in notice and "pijnstillers" not in notice
    assert "28 oktober 2026" in notice and "verzuimbegeleiding" in notice
    assert "informeer ik u en uw werknemer over de uitkomst" not in notice
    assert "Blijft mijn advies ongewijzigd, dan blijven de gemaakte afspraken gelden" in notice


def test_preventix_medical_form_is_dated_as_the_request(make_root):
    root = make_root()
    events = full_case(kenmerk="PX-1", profiel="preventix", upto="conceptadvies",
                       overrides={"verzoek": {"via": None}})
    events = [e for e in events if e["stap"] != "extra_informatie"]
    run_all(root, events)
    form = read(root, "so-bedrijfsarts", "medische-gegevens", kenmerk="PX-1")
    assert "7 november 2026" in form and "19 november 2026" not in form
