"""The consent cycle in the pure core: a consent for medical data or an information request is `gevraagd` until the
employee's written consent is in the dossier, then `ondertekend`; refused and withdrawn as before (NVAB step 4:
the own doctor sends medical data only with the *signed* machtiging; step 6: a treating physician answers only on
one). Decisions only: no files, no converter.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.core import model
from pipeline.core.procedure import decide, fold, signed_consent
from pipeline.core.routing import Party
from pipeline.core.signatures import returned_signed
from pipeline.core.state import Consent
from pipeline.core.summary import summarise
from pipeline.errors import ProcedureError
from tests.casefactory import OLD_STYLE, full_case, intrekking, parse_all, received_form

K = "SO-2026-0042"


def _run(events):
    state, orders = None, []
    for ev in events:
        decision = decide(state, ev if not isinstance(ev, dict) else model.parse_stored(ev))
        state, orders = decision.state, list(decision.orders)
    return state, orders


def _routes(orders) -> dict[str, set[Party]]:
    return {o.kind: {d.party for d in o.deliveries} for o in orders}


def test_an_old_style_request_asks_for_the_signed_form_and_keeps_medical_data_from_the_so_doctor():
    state, orders = _run(parse_all(full_case(upto="aanvraag", overrides={"aanvraag": OLD_STYLE})))
    assert state.consent("medische_gegevens") is Consent.GEVRAAGD
    assert not state.heeft_toestemming("medische_gegevens") and not state.medisch_naar_so
    routes = _routes(orders)
    assert routes == {"aanvraagformulier-zonder-medische-gegevens": {Party.SO_BEDRIJFSARTS, Party.ARCHIEF},
                      "aanvraagformulier": {Party.WERKNEMER, Party.BEDRIJFSARTS, Party.ARCHIEF},
                      "machtiging-medische-gegevens-formulier": {Party.WERKNEMER, Party.ARCHIEF}}
    # no sealed record of a consent the dossier cannot prove yet
    assert "machtiging-medische-gegevens" not in routes
    zonder = next(o for o in orders if o.kind == "aanvraagformulier-zonder-medische-gegevens").context
    assert not zonder["medisch_opgenomen"] and zonder["medische_gegevens"] == ""
    assert "Zodra de ondertekende machtiging in het dossier is" in zonder["medisch_toelichting"]
    assert summarise(state).wacht_op == ("wacht op ondertekende machtiging (medische gegevens)",)
    assert summarise(state).toestemmingen == {"medische_gegevens": "gevraagd"}


def test_the_form_to_sign_says_what_from_whom_to_whom_why_until_when_refusing_and_withdrawing():
    _, orders = _run(parse_all(full_case(upto="aanvraag", overrides={"aanvraag": OLD_STYLE})))
    form = next(o for o in orders if o.kind == "machtiging-medische-gegevens-formulier")
    f = form.context["formulier"]
    assert f["verklaring"].startswith("Ik geef toestemming dat mijn bedrijfsarts, Dr. P. Bakker, de medische")
    assert f["van"] == "Dr. P. Bakker (ArboNoord), eigen bedrijfsarts"
    assert f["aan"] == "Dr. E. Visser (Arbopraktijk Visser), second opinion-bedrijfsarts"
    assert f["doel"].startswith("Uitsluitend de beantwoording van de vraagstelling")
    assert f["geldig_tot"] == "tot de afronding van de second opinion"
    assert "mogelijk niet genoeg informatie om de second opinion uit te voeren" in f["weigeren"]  # NVAB warning
    assert "secretariaat van ArboNoord" in f["intrekken"] and K in f["intrekken"]
    assert "Stationsplein 1" in f["terugsturen"] and K in f["terugsturen"]
    assert f"{K}_machtiging-medische-gegevens-formulier.pdf" in f["elektronisch"]
    assert form.sign is None  # the employee signs it; a seal on it would forbid that signature
    assert form.context["aan"]["naam"] == "M.A. Jansen"


def test_a_case_file_naming_where_the_signed_form_is_kept_releases_at_once():
    state, orders = _run(parse_all(full_case(upto="aanvraag")))  # the example states `vindplaats`
    assert state.consent("medische_gegevens") is Consent.ONDERTEKEND and state.medisch_naar_so
    routes = _routes(orders)
    assert Party.SO_BEDRIJFSARTS in routes["aanvraagformulier"]
    record = next(o for o in orders if o.kind == "machtiging-medische-gegevens").context["machtiging"]
    assert "Het ondertekende formulier wordt bewaard: papieren dossier ArboNoord Utrecht" in record["wijze"]
    assert summarise(state).wacht_op == ()


def test_a_spoken_consent_has_no_form_to_keep():
    ev = full_case(upto="aanvraag")
    ev[-1]["bewijs"] |= {"wijze": "mondeling_bevestigd"}
    with pytest.raises(ProcedureError) as refused:
        _run(parse_all(ev))
    assert (refused.value.rule, refused.value.field) == ("vindplaats-zonder-formulier", "bewijs.vindplaats")


def test_a_spoken_consent_to_ask_a_physiotherapist_waits_for_the_signed_form():
    extra = {"bewijs": {"wijze": "mondeling_bevestigd", "datum": "2026-11-17", "vastgelegd_door": "J. de Wit",
                        "bevestigd_door": "Dr. E. Visser, in het spreekuur"}}
    state, orders = _run(parse_all(full_case(upto="extra_informatie", overrides={"extra_informatie": extra})))
    assert state.consent("extra_informatie:behandelaar") is Consent.GEVRAAGD
    assert [o.kind for o in orders] == ["machtiging-extra-informatie-behandelaar-formulier"]
    assert summarise(state).wacht_op == (
        "wacht op ondertekende machtiging (aanvullende informatie bij de behandelaar)",)
    # the form comes back: the sealed record naming it, and the request to the physiotherapist
    state, orders = _run([*parse_all(full_case(upto="extra_informatie", overrides={"extra_informatie": extra})),
                          received_form("extra_informatie:behandelaar", datum="2026-11-17")])
    assert state.consent("extra_informatie:behandelaar") is Consent.ONDERTEKEND
    assert [o.kind for o in orders] == ["machtiging-extra-informatie", "informatieverzoek"]
    wijze = orders[0].context["machtiging"]["wijze"]
    assert "het gescande formulier is op 7 december 2026 ontvangen en maakt deel uit van het dossier" in wijze
    assert "machtiging-extra-informatie-behandelaar-ondertekend.pdf" in wijze
    assert all(d.consent == "extra_informatie:behandelaar" for d in orders[1].deliveries
               if d.party is not Party.ARCHIEF)


def test_the_signed_form_releases_the_medical_data_and_a_record_that_names_it():
    events = [*parse_all(full_case(upto="uitvoering", overrides={"aanvraag": OLD_STYLE})),
              received_form("medische_gegevens", datum="2026-11-10", gescand=False)]
    state, orders = _run(events)
    assert state.consent("medische_gegevens") is Consent.ONDERTEKEND and state.medisch_naar_so
    assert _routes(orders) == {
        "machtiging-medische-gegevens": {Party.WERKNEMER, Party.BEDRIJFSARTS, Party.SO_BEDRIJFSARTS, Party.ARCHIEF},
        "medische-gegevens": {Party.SO_BEDRIJFSARTS, Party.ARCHIEF}}
    medisch = orders[1].context
    assert medisch["medisch_opgenomen"] and medisch["medische_gegevens"].startswith("Lumbosacraal")
    assert medisch["datum"] == "7 november 2026"  # the request of its own date, sent on now
    wijze = orders[0].context["machtiging"]["wijze"]
    assert "elektronisch ondertekend; het ondertekende bestand is op 7 december 2026 ontvangen" in wijze
    assert state.laatste_datum.isoformat() == "2026-11-10" and state.stappen[-1] == "machtiging_ontvangen"
    assert orders[1].sign is not None and orders[1].sign.wie.personal  # the own doctor signs the medical form


def test_a_form_for_a_consent_that_waits_for_nothing_releases_nothing():
    events = [*parse_all(full_case(upto="aanvraag")), received_form("medische_gegevens")]
    state, orders = _run(events)
    assert orders == [] and state.formulieren["medische_gegevens"].bestand.endswith("-ondertekend.pdf")


def test_preventix_releases_only_after_the_consultation_even_when_signed_earlier():
    overrides = {"verzoek": {"via": None, "datum_betwist_advies": "2026-10-28"}, "aanvraag": OLD_STYLE}
    case = parse_all(full_case(profiel="preventix", upto="uitvoering", overrides=overrides))
    state, orders = _run([*case, received_form("medische_gegevens", datum="2026-11-10")])
    assert [o.kind for o in orders] == ["machtiging-medische-gegevens"] and not state.medisch_naar_so
    gehouden = model.parse_event({"schema": "so-pipeline/v1", "kenmerk": K, "stap": "spreekuur_gehouden",
                                  "datum": "2026-11-17"})
    decision = decide(state, gehouden)
    assert [o.kind for o in decision.orders] == ["medische-gegevens"] and decision.state.medisch_naar_so


def test_withdrawn_before_signing_nothing_goes_and_a_late_form_releases_nothing():
    case = parse_all(full_case(upto="uitvoering", overrides={"aanvraag": OLD_STYLE}))
    state, orders = _run([*case, model.parse_event(intrekking("medische_gegevens", datum="2026-11-12"))])
    assert state.consent("medische_gegevens") is Consent.INGETROKKEN
    assert [o.kind for o in orders] == ["intrekking-medische-gegevens"]  # nobody holds the data: only the employee
    state, orders = _run([*case, model.parse_event(intrekking("medische_gegevens", datum="2026-11-12")),
                          received_form("medische_gegevens", datum="2026-11-12")])
    assert orders == [] and state.consent("medische_gegevens") is Consent.INGETROKKEN


def test_withdrawn_after_release_the_so_doctor_is_told():
    case = [*parse_all(full_case(upto="uitvoering", overrides={"aanvraag": OLD_STYLE})),
            received_form("medische_gegevens", datum="2026-11-10"),
            model.parse_event(intrekking("medische_gegevens", datum="2026-11-12"))]
    state, orders = _run(case)
    assert _routes(orders) == {"intrekking-medische-gegevens": {Party.WERKNEMER, Party.ARCHIEF},
                               "intrekking-melding-medische-gegevens": {Party.SO_BEDRIJFSARTS, Party.ARCHIEF}}
    assert not state.heeft_toestemming("medische_gegevens")


def test_the_own_doctors_signed_request_form_never_carries_medical_data_to_the_so_doctor_before_the_form():
    state, _ = _run(parse_all(full_case(upto="aanvraag", overrides={"aanvraag": OLD_STYLE})))
    parties = {d.party for d in returned_signed(state, "aanvraagformulier").orders[0].deliveries}
    assert Party.SO_BEDRIJFSARTS not in parties and Party.BEDRIJFSARTS in parties


def test_which_consent_a_returned_form_signs():
    two = {"extra_informatie": {"bewijs": None}}
    state, _ = _run(parse_all(full_case(upto="extra_informatie", overrides={"aanvraag": OLD_STYLE, **two})))
    assert signed_consent(state, "medische_gegevens") == "medische_gegevens"
    assert signed_consent(state, "extra_informatie") == "extra_informatie:behandelaar"
    assert signed_consent(state, "extra_informatie:werkgever") == "extra_informatie:werkgever"  # unknown: archived
    werkgever = model.parse_event(full_case(upto="extra_informatie", overrides={"extra_informatie": {
        "bewijs": None, "bron": "werkgever", "datum": "2026-11-18"}})[-1])
    both = decide(state, werkgever).state
    assert signed_consent(both, "extra_informatie") is None  # two sources wait: the name must say which


def test_the_sealed_record_never_claims_a_form_the_dossier_lacks():
    refused = {"machtiging_medische_gegevens": "geweigerd", "medische_gegevens": None, **OLD_STYLE}
    _, orders = _run(parse_all(full_case(upto="aanvraag", overrides={"aanvraag": refused})))
    wijze = next(o for o in orders if o.kind == "machtiging-medische-gegevens").context["machtiging"]["wijze"]
    assert "maakt deel uit van het dossier" not in wijze
    assert "het ondertekende formulier zelf is niet in het dossier" in wijze


def test_the_pipelines_own_record_is_no_case_file():
    with pytest.raises(ValidationError):
        model.parse_event(received_form("medische_gegevens"))
    assert isinstance(model.parse_stored(received_form("medische_gegevens")), model.MachtigingOntvangen)
    assert "machtiging_ontvangen" not in str(model.json_schema())


def test_the_fold_of_stored_events_gives_the_same_state():
    events = [*parse_all(full_case(upto="uitvoering", overrides={"aanvraag": OLD_STYLE})),
              model.parse_stored(received_form("medische_gegevens", datum="2026-11-10"))]
    state, _ = _run(events)
    again = fold(model.parse_stored(e.model_dump(mode="json", by_alias=True)) for e in events)
    assert again == state


def test_the_case_stops_waiting_once_the_form_could_release_nothing():
    state, _ = _run(parse_all(full_case(upto="definitief_advies", overrides={"aanvraag": OLD_STYLE,
                                                                             "extra_informatie": {"bewijs": None}})))
    assert state.consent("medische_gegevens") is Consent.GEVRAAGD  # never signed: never released
    assert summarise(state).wacht_op == ()  # but nothing waits on it any more: the advice is final
    concept, _ = _run(parse_all(full_case(upto="conceptadvies", overrides={"aanvraag": OLD_STYLE,
                                                                           "extra_informatie": {"bewijs": None}})))
    assert summarise(concept).wacht_op == ("wacht op ondertekende machtiging (medische gegevens)",)


def _ondertekend(machtiging: str, *, datum: str = "2026-11-10", bewijs: dict | None = None, **extra):
    bewijs = bewijs if bewijs is not None else {"wijze": "papier_gescand", "datum": "2026-11-09",
                                                "vastgelegd_door": "J. de Wit, secretariaat ArboNoord",
                                                "vindplaats": "papieren dossier ArboNoord Utrecht"}
    return model.parse_event({"schema": "so-pipeline/v1", "kenmerk": K, "stap": "machtiging_ondertekend",
                              "datum": datum, "machtiging": machtiging, "bewijs": bewijs, **extra})


def test_a_case_file_can_record_where_the_signed_form_is_kept_later():
    case = parse_all(full_case(upto="uitvoering", overrides={"aanvraag": OLD_STYLE}))
    state, orders = _run([*case, _ondertekend("medische_gegevens")])
    assert state.consent("medische_gegevens") is Consent.ONDERTEKEND and state.medisch_naar_so
    assert [o.kind for o in orders] == ["machtiging-medische-gegevens", "medische-gegevens"]
    record = orders[0].context["machtiging"]
    assert "Het ondertekende formulier wordt bewaard: papieren dossier ArboNoord Utrecht." in record["wijze"]
    assert record["datum"] == "9 november 2026"


def test_recording_a_signed_form_needs_its_place_and_something_waiting_for_it():
    case = parse_all(full_case(upto="uitvoering", overrides={"aanvraag": OLD_STYLE}))
    without = {"wijze": "papier_gescand", "datum": "2026-11-09", "vastgelegd_door": "J. de Wit"}
    for ev, rule in ((_ondertekend("medische_gegevens", bewijs=without), "vindplaats-ontbreekt"),
                     (_ondertekend("extra_informatie", bron="behandelaar"), "niets-te-ondertekenen"),
                     (_ondertekend("extra_informatie"), "bron-ontbreekt")):
        with pytest.raises(ProcedureError) as refused:
            _run([*case, ev])
        assert refused.value.rule == rule
    signed, _ = _run(parse_all(full_case(upto="uitvoering")))  # the example's consent is in the dossier already
    with pytest.raises(ProcedureError) as refused:
        decide(signed, _ondertekend("medische_gegevens"))
    assert refused.value.rule == "niets-te-ondertekenen" and "ondertekend" in refused.value.message
