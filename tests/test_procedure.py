"""The pure core: every row of the routing table, every refusal rule, every profile difference."""

from __future__ import annotations

import pytest

from pipeline.core import model
from pipeline.core.procedure import allowed_steps, decide, fold
from pipeline.core.kinds import ROWS
from pipeline.core.routing import Party
from pipeline.core.state import Consent
from pipeline.errors import ProcedureError
from tests.casefactory import event, full_case, intrekking, parse_all

W, B, SO, WG, AD, A = ("werknemer", "bedrijfsarts", "so-bedrijfsarts", "werkgever", "arbodienst", "archief")


def run(events: list[dict]):
    """Apply events; return (final state, {kind: {party: consent}}) over all orders."""
    state, routed = None, {}
    for ev in parse_all(events):
        decision = decide(state, ev)
        state = decision.state
        for order in decision.orders:
            assert order.kind not in routed, f"{order.kind} made twice"
            routed[order.kind] = {d.party.value: d.consent for d in order.deliveries}
    return state, routed


def orders_of(events: list[dict]):
    state = fold(parse_all(events[:-1]))
    return decide(state, model.parse_event(events[-1]))


def refused(events: list[dict]) -> ProcedureError:
    with pytest.raises(ProcedureError) as info:
        run(events)
    return info.value


def deep_values(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from deep_values(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from deep_values(v)
    else:
        yield obj


# --- routing table rows -------------------------------------------------------------------------------------------

def test_example_case_routes_exactly_as_the_table():
    state, routed = run(full_case())
    assert routed == {
        "aanvraagformulier": {W: None, B: None, SO: None, A: None},
        "machtiging-medische-gegevens": {W: None, B: None, SO: None, A: None},
        "uitnodiging": {W: None, SO: None, A: None},
        "machtiging-extra-informatie": {W: None, SO: None, A: None},
        "informatieverzoek": {W: "extra_informatie:behandelaar", SO: "extra_informatie:behandelaar", A: None},
        "conceptadvies": {W: None, SO: None},
        "advies": {W: None, B: "advies_delen_bedrijfsarts", SO: None, A: None},
        "machtiging-advies-delen": {W: None, B: None, SO: None, A: None},
        "reactie-bedrijfsarts": {W: None, B: None, A: None},
        "gewijzigd-advies": {WG: None, A: None},
        "factuur": {AD: None, A: None},
        "doorbelasting-werkgever": {WG: None, A: None},
    }
    assert state.afgerond and state.gesloten is None


def test_nothing_medical_or_concept_ever_routed_to_the_employer_and_concept_never_archived():
    for row in ROWS.values():
        parties = {p for p, _ in row.routes}
        if Party.WERKGEVER in parties:
            assert row.audience.value in ("werkgever", "anoniem"), row.kind
    assert {p for p, _ in ROWS["conceptadvies"].routes} == {Party.WERKNEMER, Party.SO_BEDRIJFSARTS}
    assert ROWS["conceptadvies"].sign is None


def test_signatures_machtigingen_sealed_final_advice_by_so_doctor():
    signed = {k: r.sign for k, r in ROWS.items() if r.sign}
    assert signed == {"machtiging-medische-gegevens": "zegel", "machtiging-extra-informatie": "zegel",
                      "machtiging-advies-delen": "zegel", "advies": "so_bedrijfsarts",
                      "aanvraagformulier": "bedrijfsarts", "aanvraagformulier-zonder-medische-gegevens": "bedrijfsarts",
                      "medische-gegevens": "bedrijfsarts"}
    d = orders_of(full_case(upto="definitief_advies"))
    advies = next(o for o in d.orders if o.kind == "advies")
    assert advies.sign.big_nummer == "39087654301" and not advies.sign.certify
    seal = next(o for o in d.orders if o.kind == "machtiging-advies-delen")
    assert seal.sign.certify


def test_refusal_letter_to_employee_own_doctor_and_archive_and_case_closes():
    reden = "Eerder in dezelfde kwestie een second opinion uitgevoerd; geen nieuwe feiten."
    events = full_case(upto="beoordeling", overrides={"beoordeling": {"uitkomst": "geweigerd",
                                                                      "zwaarwegende_reden": reden}})
    state, routed = run(events)
    assert routed == {"weigering": {W: None, B: None, A: None}}
    assert state.gesloten
    assert allowed_steps(state) == set()
    err = refused(events + [event("selectie")])
    assert err.rule == "zaak-gesloten"


def test_medical_data_refused_sends_the_so_doctor_no_medical_data():
    events = full_case(upto="aanvraag", overrides={"aanvraag": {"machtiging_medische_gegevens": "geweigerd"}})
    d = orders_of(events)
    form = next(o for o in d.orders if o.kind == "aanvraagformulier")
    assert Party.SO_BEDRIJFSARTS in {x.party for x in form.deliveries}
    assert form.context["medisch_opgenomen"] is False and form.context["medische_gegevens"] == ""
    medisch = event("aanvraag")["medische_gegevens"]
    assert all(medisch not in str(v) for v in deep_values(form.context))
    assert "geen toestemming" in form.context["medisch_toelichting"]
    assert d.state.consent("medische_gegevens") is Consent.GEWEIGERD


@pytest.mark.parametrize("bron, kind, gated", [
    ("behandelaar", "informatieverzoek", None),
    ("bedrijfsarts", "informatieverzoek-bedrijfsarts", B),
    ("werkgever", "informatieverzoek-werkgever", WG),
])
def test_information_request_goes_to_the_consented_source_only(bron, kind, gated):
    events = full_case(upto="extra_informatie", overrides={"extra_informatie": {"bron": bron}})
    _, routed = run(events)
    consent = f"extra_informatie:{bron}"
    expected = {W: consent, SO: consent, A: None}
    if gated:
        expected[gated] = consent
    assert routed[kind] == expected


def test_information_request_refused_records_the_machtiging_but_sends_no_letter():
    events = full_case(upto="extra_informatie", overrides={"extra_informatie": {"toestemming": "geweigerd"}})
    _, routed = run(events)
    assert "machtiging-extra-informatie" in routed
    assert not any(k.startswith("informatieverzoek") for k in routed)


def test_final_advice_sharing_refused_sends_notice_no_copy():
    events = full_case(upto="definitief_advies",
                       overrides={"definitief_advies": {"machtiging_advies_delen_bedrijfsarts": "geweigerd"}})
    state, routed = run(events)
    assert routed["geen-kopie"] == {B: None, A: None}
    assert routed["advies"][B] == "advies_delen_bedrijfsarts"
    assert not state.heeft_toestemming("advies_delen_bedrijfsarts")


@pytest.mark.parametrize("in_contract, vergoedt, expected", [
    (True, False, {"factuur": {AD: None, A: None}, "doorbelasting-werkgever": {WG: None, A: None}}),
    (False, False, {"factuur-werknemer": {W: None, A: None}}),
    (False, True, {"kostenoverzicht-werknemer": {W: None, A: None}, "factuur-werkgever": {WG: None, A: None}}),
])
def test_invoice_variants(in_contract, vergoedt, expected):
    so = dict(event("selectie")["so_bedrijfsarts"], in_arbocontract=in_contract)
    events = full_case(overrides={"selectie": {"so_bedrijfsarts": so, "werkgever_vergoedt": vergoedt}})
    d = orders_of(events)
    assert {o.kind: {x.party.value: x.consent for x in o.deliveries} for o in d.orders} == expected
    for o in d.orders:
        assert "werknemer" not in o.context, "the invoice template never gets an employee block"
        if o.kind not in ("factuur-werknemer", "kostenoverzicht-werknemer"):
            assert o.context["factuur"]["anoniem"] is True
            assert "Jansen" not in str(list(deep_values(o.context)))
        else:
            assert o.context["aan"]["naam"] == "M.A. Jansen"


def test_changed_advice_notice_only_when_changed_and_without_medical_data():
    events = full_case(upto="beoordeling_advies", overrides={"beoordeling_advies": {
        "advies_aangepast": False, "aangepast_werkadvies": None}})
    _, routed = run(events)
    assert "gewijzigd-advies" not in routed
    d = orders_of(full_case(upto="beoordeling_advies"))
    notice = next(o for o in d.orders if o.kind == "gewijzigd-advies")
    medical = [event("definitief_advies")[k] for k in ("bevindingen", "conclusie", "onderbouwing")]
    medical.append(event("aanvraag")["medische_gegevens"])
    assert not any(m in str(v) for v in deep_values(notice.context) for m in medical)


# --- refusal rules ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, rule, field", [
    ({"verzocht_door": "werkgever"}, "alleen-werknemer", "verzocht_door"),
    ({"verzocht_door": "casemanager"}, "alleen-werknemer", "verzocht_door"),
    ({"betreft": "aanstellingskeuring"}, "aanstellingskeuring", "betreft"),
    ({"via": "werkgever"}, "ontvanger-verzoek", "via"),
    ({"datum_betwist_advies": "2026-11-05"}, "datum-betwist-advies", "datum_betwist_advies"),
])
def test_request_refusals(changes, rule, field):
    err = refused([event("verzoek", **changes)])
    assert (err.rule, err.field) == (rule, field)
    assert err.message


def test_refusal_needs_a_motivated_zwaarwegende_reden():
    err = refused(full_case(upto="beoordeling", overrides={"beoordeling": {"uitkomst": "geweigerd"}}))
    assert err.rule == "weigering-zonder-reden" and err.field == "zwaarwegende_reden"


@pytest.mark.parametrize("org", ["ArboNoord", "Arbonoord B.V.", "ARBO-NOORD"])
def test_so_doctor_from_the_own_doctors_organisation_is_refused(org):
    so = dict(event("selectie")["so_bedrijfsarts"], organisatie=org)
    err = refused(full_case(upto="selectie", overrides={"selectie": {"so_bedrijfsarts": so}}))
    assert err.rule == "onafhankelijkheid" and "so_bedrijfsarts" in err.field


def test_second_choice_from_own_organisation_is_refused_too():
    tweede = dict(event("selectie")["tweede_keuze"], organisatie="ArboNoord")
    err = refused(full_case(upto="selectie", overrides={"selectie": {"tweede_keuze": tweede}}))
    assert err.field == "tweede_keuze.organisatie"


def test_unknown_case_and_final_advice_before_request():
    err = refused([event("definitief_advies", kenmerk="SO-2026-9999")])
    assert err.rule == "onbekende-zaak"
    err = refused(full_case(upto="selectie") + [event("definitief_advies")])
    assert err.rule == "stap-volgorde" and "beschikbaarheid" in err.message


def test_duplicate_request_and_dates_going_back_are_refused():
    assert refused([event("verzoek"), event("verzoek")]).rule == "zaak-bestaat-al"
    assert refused(full_case(upto="verzoek") + [event("beoordeling", datum="2026-11-01")]).rule == "datum-volgorde"


def test_refused_event_leaves_the_state_unchanged():
    events = full_case(upto="selectie")
    state = fold(parse_all(events))
    before = repr(state)
    with pytest.raises(ProcedureError):
        decide(state, model.parse_event(event("conceptadvies")))
    assert repr(state) == before


def test_unavailable_first_choice_moves_to_second_then_new_selection():
    events = full_case(upto="selectie")
    state = fold(parse_all(events + [event("beschikbaarheid", beschikbaar=False)]))
    assert state.so_arts.naam == "Dr. K. Smit"
    state = decide(state, model.parse_event(event("beschikbaarheid", beschikbaar=False))).state
    assert state.so_arts is None and allowed_steps(state) == {"selectie"}


def test_withdrawal_of_consent():
    events = full_case(upto="definitief_advies")
    state = fold(parse_all(events))
    assert state.heeft_toestemming("advies_delen_bedrijfsarts")
    ev = model.parse_event(intrekking("advies_delen_bedrijfsarts", datum="2026-11-25",
                                      reden="Wil het advies zelf overhandigen."))
    after = decide(state, ev).state
    assert after.consent("advies_delen_bedrijfsarts") is Consent.INGETROKKEN
    assert not after.heeft_toestemming("advies_delen_bedrijfsarts")
    with pytest.raises(ProcedureError) as info:
        decide(after, ev)
    assert info.value.rule == "geen-toestemming"


# --- profiles -----------------------------------------------------------------------------------------------------

def test_vitaal_tells_the_employer_a_second_opinion_was_requested_without_medical_data():
    # Vitaal! step 4 (seed 002): the employer hears of it once the SO doctor is chosen, not at the request
    assert orders_of(full_case(profiel="vitaal", upto="verzoek",
                               overrides={"verzoek": {"via": "casemanager"}})).orders == ()
    events = full_case(profiel="vitaal", upto="selectie", overrides={"verzoek": {"via": "casemanager"}})
    d = orders_of(events)
    assert [(o.kind, {x.party.value for x in o.deliveries}) for o in d.orders] == [
        ("melding-werkgever", {WG, A})]
    for profiel in ("nvab", "lpbso", "preventix"):
        assert orders_of(full_case(profiel=profiel, upto="verzoek")).orders == ()
        assert orders_of(full_case(profiel=profiel, upto="selectie")).orders == ()


def test_casemanager_filing_only_allowed_in_vitaal():
    for profiel in ("nvab", "lpbso"):
        assert refused(full_case(profiel=profiel, upto="verzoek",
                                 overrides={"verzoek": {"via": "casemanager"}})).rule == "ontvanger-verzoek"


def test_vsd_accepts_requests_via_the_employer_and_servicedesk():
    for via in ("werkgever", "servicedesk"):
        run(full_case(profiel="vsd", upto="verzoek", overrides={"verzoek": {"via": via}}))


def test_preventix_late_request_plans_a_new_assessment():
    events = full_case(profiel="preventix", upto="verzoek", overrides={"verzoek": {"datum_betwist_advies": "2026-10-15"}})
    state, routed = run(events)
    assert routed == {"nieuwe-beoordeling": {W: None, B: None, A: None}}
    assert state.gesloten
    # within two weeks: a normal case
    state, routed = run(full_case(profiel="preventix", upto="verzoek"))
    assert not state.gesloten and routed == {}


def test_preventix_no_medical_data_to_the_so_doctor_before_the_consultation():
    state, routed = run(full_case(profiel="preventix", upto="uitvoering"))
    assert routed["aanvraagformulier-zonder-medische-gegevens"] == {SO: None, A: None}
    assert SO not in routed["aanvraagformulier"]
    assert "medische-gegevens" not in routed
    # the next event on or after the consultation day releases them (consent checked at delivery)
    state, routed = run(full_case(profiel="preventix", upto="extra_informatie"))
    assert routed["medische-gegevens"] == {SO: "medische_gegevens", A: None}
    assert state.medisch_naar_so


def test_preventix_withdrawn_consent_before_consultation_releases_nothing():
    events = full_case(profiel="preventix", upto="uitvoering")
    events.append(intrekking("medische_gegevens", datum="2026-11-12"))
    events.append(event("extra_informatie"))
    _, routed = run(events)
    assert "medische-gegevens" not in routed


@pytest.mark.parametrize("besluit, kind, consent", [
    ("verleend", "afronding-werkgever-werkadvies", "advies_delen_werkgever"),
    ("geweigerd", "afronding-werkgever", None),
])
def test_vsd_completion_notice_to_employer_with_work_advice_only_on_consent(besluit, kind, consent):
    events = full_case(profiel="vsd", upto="definitief_advies",
                       overrides={"definitief_advies": {"machtiging_advies_delen_werkgever": besluit}})
    d = orders_of(events)
    notice = next(o for o in d.orders if o.kind.startswith("afronding-werkgever"))
    assert notice.kind == kind
    assert {x.party.value: x.consent for x in notice.deliveries} == {WG: consent, A: None}
    ev = event("definitief_advies")
    values = [str(v) for v in deep_values(notice.context)]
    assert not any(ev[k] in v for v in values for k in ("bevindingen", "conclusie", "onderbouwing"))
    assert (ev["werkadvies"] in values) == (besluit == "verleend")


def test_sharing_with_employer_outside_vsd_is_refused():
    err = refused(full_case(upto="definitief_advies", overrides={
        "definitief_advies": {"machtiging_advies_delen_werkgever": "verleend"}}))
    assert err.rule == "delen-werkgever-niet-in-profiel"
