"""The documents read again as the doctors, the employee and the employer read them: each finding of the second
reading (the smaller ones, and the Vitaal! notice) shown closed in the finished PDF (FakeConverter: the real
templates and renderer; the layout itself is read with LibreOffice in test_document_page_breaks.py).
"""

from __future__ import annotations

import re

import pytest

from tests.casefactory import event, full_case, intrekking
from tests.processed_roots import run_all
from tests.pdfs import pdf_text
from tests.mailbox_paths import mailbox_file

FULL, EARLY, BARE, NOMACHT = "WD-FULL", "WD-EARLY", "WD-BARE", "WD-NOMACHT"
VSD, PX, VT_OK, VT_REF = "WD-VSD", "WD-PX", "WD-VT-OK", "WD-VT-REF"


def _bare(kenmerk: str) -> list[dict]:
    """A case file without master-data codes (the contract allows it): no practice address, no configured
    complaints procedure."""
    events = full_case(kenmerk=kenmerk, upto="beoordeling_advies")
    events[0]["arbodienst"].pop("code")
    for key in ("contactpersoon", "kostenplaats"):
        events[0]["werkgever"].pop(key)
    for key in ("so_bedrijfsarts", "tweede_keuze"):
        events[2][key].pop("praktijk")
    return events


@pytest.fixture(scope="module")
def root(tmp_path_factory, shared_fake_converter, shared_pki):
    from tests.conftest import Root
    r = Root(tmp_path_factory.mktemp("wording") / "root", converter=shared_fake_converter, pki=shared_pki)
    werknemer = dict(event("verzoek")["werknemer"], adres={"straat": "Lindenlaan 12", "postcode": "3521ab",
                                                           "plaats": "Utrecht"})
    refused = {"machtiging_medische_gegevens": "geweigerd", "medische_gegevens": None, "bewijs": None}
    cases = {
        FULL: full_case(kenmerk=FULL, overrides={"verzoek": {"werknemer": werknemer}}) + [
            intrekking("extra_informatie", datum="2026-12-02", kenmerk=FULL, bron="behandelaar")],
        EARLY: full_case(kenmerk=EARLY, upto="extra_informatie", overrides={"extra_informatie": {"bewijs": {
            "wijze": "papier_gescand", "datum": "2026-11-17",
            "vastgelegd_door": "J. de Wit, secretariaat ArboNoord"}}}) + [
            intrekking("extra_informatie", datum="2026-11-18", kenmerk=EARLY, bron="behandelaar")],
        BARE: _bare(BARE),
        NOMACHT: full_case(kenmerk=NOMACHT, upto="aanvraag", overrides={"aanvraag": refused}),
        VSD: full_case(kenmerk=VSD, profiel="vsd", overrides={"verzoek": {"via": "servicedesk"}}),
        PX: [e for e in full_case(kenmerk=PX, profiel="preventix", overrides={"verzoek": {"via": None}})
             if e["stap"] != "extra_informatie"],
        VT_OK: full_case(kenmerk=VT_OK, profiel="vitaal", upto="selectie"),
        VT_REF: full_case(kenmerk=VT_REF, profiel="vitaal", upto="beoordeling", overrides={"beoordeling": {
            "uitkomst": "geweigerd", "zwaarwegende_reden": "Over ditzelfde advies is al een second opinion "
                                                          "uitgevoerd; er zijn geen nieuwe feiten."}}),
    }
    run_all(r, [e for events in cases.values() for e in events])
    yield r
    r.close()


def read(root, party: str, kenmerk: str, kind: str) -> str:
    return pdf_text(mailbox_file(root, party, kenmerk, kind))


# --- Vitaal!: the employer hears at step 4, never of a refused request -----------------------------------------

def test_vitaal_employer_is_told_when_the_so_doctor_is_chosen(root):
    notice = read(root, "werkgever", VT_OK, "melding-werkgever")
    assert "4 november 2026" in notice  # dated the choice of the SO doctor, not the request (2 november)
    assert "Samen met uw werknemer heb ik een second opinion-bedrijfsarts gekozen" in notice
    assert "Ik heb deze procedure in gang gezet" not in notice
    assert {r.kind for r in root.store.deliveries(VT_OK)} == {"melding-werkgever"}


def test_vitaal_employer_hears_nothing_of_a_refused_request(root):
    assert {(r.kind, r.party) for r in root.store.deliveries(VT_REF)} == {
        ("weigering", "werknemer"), ("weigering", "bedrijfsarts"), ("weigering", "archief")}
    assert not (root.settings.outbox / "werkgever").joinpath("devries-bouw", VT_REF).exists()


# --- complaints route, the advice's audience, the draft ---------------------------------------------------------

def test_complaints_route_is_named_also_where_the_practice_has_not_configured_one(root):
    advice = read(root, "werknemer", BARE, "advies")
    assert "Klachten. Heeft u een klacht, dan kunt u die indienen volgens de klachtenregeling van Arbopraktijk " \
           "Visser." in advice
    reaction = read(root, "werknemer", BARE, "reactie-bedrijfsarts")
    assert "Klachten. Heeft u een klacht, dan kunt u die indienen volgens de klachtenregeling van ArboNoord." \
        in reaction
    configured = read(root, "werknemer", FULL, "advies")
    assert "Klachten. Een klacht over de second opinion kunt u schriftelijk indienen bij Arbopraktijk Visser" \
        in configured


def test_the_final_advice_speaks_of_the_employee_not_to_them(root):
    for party in ("werknemer", "bedrijfsarts", "so-bedrijfsarts"):
        advice = read(root, party, FULL, "advies")
        assert "U mag dit advies ook zelf aan uw bedrijfsarts geven" not in advice
        assert "De werknemer kan dit advies ook zelf aan de eigen bedrijfsarts geven" in advice


def test_the_draft_advice_makes_one_promise_about_becoming_final(root):
    draft = read(root, "werknemer", FULL, "conceptadvies")
    assert "Reageert u niet, dan maak ik het advies na die datum definitief" not in draft
    assert "wordt pas definitief na verwerking van uw opmerkingen." not in draft
    deadline = re.search(r"uiterlijk (\d{1,2} \w+ 2026) door", draft)[1]
    assert "Ontvang ik vóór die datum geen reactie, dan stel ik het advies daarna definitief vast" in draft
    assert f"Concept – wordt definitief na verwerking van uw opmerkingen, of na {deadline} als u niet reageert" \
        in draft


# --- the request form per profile --------------------------------------------------------------------------------

def test_the_request_form_does_not_ask_for_availability_again(root):
    form = read(root, "so-bedrijfsarts", FULL, "aanvraagformulier")
    assert "binnen een week te laten weten" not in form
    assert "U heeft laten weten dat u de second opinion binnen redelijke tijd kunt uitvoeren" in form


@pytest.mark.parametrize("kenmerk, kind, says, never", [
    (FULL, "aanvraagformulier", "in overleg met de eigen bedrijfsarts gekozen", "vaste groep"),
    (VSD, "aanvraagformulier", "De backoffice heeft een of meer second opinion-bedrijfsartsen voorgesteld",
     "in overleg met de eigen bedrijfsarts"),
    (PX, "aanvraagformulier-zonder-medische-gegevens", "vaste groep second opinion-bedrijfsartsen van Preventix",
     "in overleg met de eigen bedrijfsarts"),
])
def test_the_request_form_says_how_this_profile_chose_the_so_doctor(root, kenmerk, kind, says, never):
    form = read(root, "so-bedrijfsarts", kenmerk, kind)
    assert says in form and never not in form


def test_the_preventix_form_says_the_employee_sets_the_question_with_the_so_doctor(root):
    form = read(root, "so-bedrijfsarts", PX, "aanvraagformulier-zonder-medische-gegevens")
    assert "De werknemer stelt de vraagstelling samen met de second opinion-bedrijfsarts vast" in form


# --- the machtiging ----------------------------------------------------------------------------------------------

def test_refusing_medical_data_carries_the_nvab_warning(root):
    for kenmerk in (FULL, NOMACHT):
        t = read(root, "werknemer", kenmerk, "machtiging-medische-gegevens")
        assert "mogelijk over onvoldoende informatie beschikt om de vraag goed te beantwoorden" in t


def test_a_refused_machtiging_prints_no_validity_dash(root):
    refused = read(root, "werknemer", NOMACHT, "machtiging-medische-gegevens")
    assert "Geldig" not in refused and "—" not in refused
    granted = read(root, "werknemer", FULL, "machtiging-medische-gegevens")
    assert "Geldig tot de afronding van de second opinion" in granted


def test_the_preventix_machtiging_says_the_data_go_only_after_the_first_consultation(root):
    t = read(root, "werknemer", PX, "machtiging-medische-gegevens")
    assert "De gegevens gaan pas naar de second opinion-bedrijfsarts na uw eerste spreekuur bij die arts" in t
    assert "na uw eerste spreekuur" not in read(root, "werknemer", FULL, "machtiging-medische-gegevens")


# --- empty values are left out, never printed as dashes ------------------------------------------------------------

def test_the_invitation_leaves_out_unknown_contact_details(root):
    bare = read(root, "werknemer", BARE, "uitnodiging")
    assert "Postadres" not in bare and "— —" not in bare and "telefonisch op" not in bare
    full = read(root, "werknemer", FULL, "uitnodiging")
    assert "Postadres Arbopraktijk Visser, Stadsring 88, 3811 HR Amersfoort" in full
    assert "Telefoon 033 765 43 21" in full


def test_the_request_form_leaves_out_what_the_employer_block_does_not_have(root):
    bare = read(root, "so-bedrijfsarts", BARE, "aanvraagformulier")
    assert "Contactpersoon" not in bare and "Kostenplaats" not in bare and "—" not in bare
    full = read(root, "so-bedrijfsarts", FULL, "aanvraagformulier")
    assert "Contactpersoon H. de Vries" in full and "Kostenplaats KP-310" in full


def test_the_information_request_promises_no_post_without_an_address(root):
    bare = read(root, "so-bedrijfsarts", BARE, "informatieverzoek")
    assert "of per post" not in bare and "—" not in bare
    assert "of per post aan Arbopraktijk Visser, Stadsring 88" in read(root, "so-bedrijfsarts", FULL,
                                                                        "informatieverzoek")


def test_the_information_request_states_how_consent_was_recorded(root):
    """Only written consent in the dossier releases the request (the consent cycle), and the letter says so without
    claiming the signed form itself goes with it: the sealed record of the machtiging does."""
    signed = read(root, "so-bedrijfsarts", FULL, "informatieverzoek")  # the example: signed, where it is kept stated
    assert "De werknemer heeft schriftelijk toestemming gegeven" in signed
    assert "het door de werknemer ondertekende formulier maakt deel uit van het dossier en de machtiging van de " \
           "werknemer (kenmerk WD-FULL) is als bijlage bij deze brief gevoegd" in signed
    assert "uitdrukkelijk toestemming" not in signed
    # scanned by the case file's word only, the form itself neither returned nor its place named: no request goes
    early = root.settings.outbox / "so-bedrijfsarts"
    assert not list(early.rglob(f"{EARLY}_informatieverzoek.pdf"))


# --- the withdrawal letters ---------------------------------------------------------------------------------------

def test_withdrawal_after_the_advice_does_not_say_the_second_opinion_goes_on(root):
    late = read(root, "werknemer", FULL, "intrekking-extra-informatie-behandelaar")
    assert "gaat door" not in late and "De second opinion was al afgerond" in late
    early = read(root, "werknemer", EARLY, "intrekking-extra-informatie-behandelaar")
    assert "De second opinion zelf gaat door" in early


def test_withdrawal_letters_are_signed_once_by_the_secretariat(root):
    t = read(root, "werknemer", FULL, "intrekking-extra-informatie-behandelaar")
    closing = t[t.index("Met vriendelijke groet"):]
    assert closing.startswith("Met vriendelijke groet, Secretariaat bedrijfsgezondheidszorg ArboNoord")
    assert closing.count("ArboNoord") == 1 and "Secretariaat ArboNoord" not in closing


def test_the_notice_to_the_doctor_says_exactly_what_was_obtained(root):
    notice = read(root, "so-bedrijfsarts", FULL, "intrekking-melding-extra-informatie-behandelaar")
    assert "ontvangen of opgevraagd" not in notice
    assert "U heeft op grond van die toestemming aanvullende informatie opgevraagd bij de behandelaar." in notice
    confirmation = read(root, "werknemer", FULL, "intrekking-extra-informatie-behandelaar")
    assert "heeft op grond van deze toestemming aanvullende informatie opgevraagd bij uw behandelaar" in \
        confirmation


# --- the reaction --------------------------------------------------------------------------------------------------

def test_the_reaction_does_not_repeat_its_ticked_box_as_a_sentence(root):
    t = read(root, "werknemer", FULL, "reactie-bedrijfsarts")
    assert "☒ Ik neem het advies gedeeltelijk over." in t
    assert "Ik neem het advies van de second opinion-bedrijfsarts gedeeltelijk over." not in t


def test_the_vsd_reaction_offers_no_transfer(root):
    t = read(root, "werknemer", VSD, "reactie-bedrijfsarts")
    assert "Ik blijf uw bedrijfsarts" in t and "andere bedrijfsarts" not in t and "over te dragen" not in t


def test_the_preventix_reaction_has_a_follow_up_consultation_and_a_neutral_handover(root):
    t = read(root, "werknemer", PX, "reactie-bedrijfsarts")
    assert "Ik nodig u uit voor een vervolgspreekuur" in t
    assert "neutraal en zonder mijn eigen mening over uw dossier" in t
    assert "vervolgspreekuur" not in read(root, "werknemer", FULL, "reactie-bedrijfsarts")


# --- language --------------------------------------------------------------------------------------------------------

def test_the_specification_says_on_the_grounds_of_this_document(root):
    t = read(root, "werkgever", FULL, "doorbelasting-werkgever")
    assert "op dit document niets te betalen" not in t
    assert "u hoeft op grond van dit document niets te betalen" in t


def test_one_spelling_of_second_opinion_bedrijfsarts_in_every_document(root):
    """As PROCEDURE.md writes it: "second opinion-bedrijfsarts" (never without the hyphen, never "-opinion-")."""
    seen = 0
    for pdf in root.settings.outbox.rglob("*.pdf"):
        t = pdf_text(pdf)
        assert not re.search(r"second opinion bedrijfsarts|second-opinion-?bedrijfsarts", t, re.I), pdf.name
        seen += t.lower().count("second opinion-bedrijfsarts")
    assert seen > 50


def test_a_postcode_is_printed_as_postnl_writes_it(root):
    for kind in ("uitnodiging", "reactie-bedrijfsarts", "advies"):
        t = read(root, "werknemer", FULL, kind)
        assert "3521ab" not in t.lower().replace("3521 ab", "")
    assert "Lindenlaan 12 3521 AB Utrecht" in read(root, "werknemer", FULL, "uitnodiging")
