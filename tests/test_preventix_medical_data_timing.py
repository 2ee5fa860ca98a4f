"""Issue 14 (finding 5, third point): in the Preventix profile the medical-data form reaches the SO doctor when
the employee has met the SO doctor (PROCEDURE.md, profile table: "no medical data before the employee met the SO
doctor"; seed 004, stap 5), i.e. with the `spreekuur_gehouden` event, not with the draft advice.

Through the pipeline with the fake converter: which case file's delivery holds the form, and the dates.
"""

from __future__ import annotations

import pytest

from pipeline.core.procedure import decide, fold
from pipeline.errors import ProcedureError
from tests.casefactory import full_case, parse_all
from tests.pdfs import pdf_text

K = "PX-7"
FORM = f"{K}_medische-gegevens.pdf"


def gesprek(datum: str = "2026-11-17", **extra) -> dict:
    return {"schema": "so-pipeline/v1", "kenmerk": K, "stap": "spreekuur_gehouden", "datum": datum, **extra}


def preventix(upto: str, *, skip_extra: bool = True, **overrides) -> list[dict]:
    events = full_case(kenmerk=K, profiel="preventix", upto=upto, overrides={"verzoek": {"via": None}, **overrides})
    return [e for e in events if not (skip_extra and e["stap"] == "extra_informatie")]


def run_each(root, events: list[dict]) -> dict[str, list]:
    """Drop and process one file at a time; {stap: paths delivered by that file}."""
    out = {}
    for i, ev in enumerate(events, start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
        [outcome] = root.run()
        assert outcome.status == "processed", (ev["stap"], outcome.detail)
        out[ev["stap"]] = outcome.delivered
    return out


def so_names(paths) -> set[str]:
    return {p.name for p in paths if "so-bedrijfsarts" in p.parts}


def test_the_form_goes_with_the_consultation_event_dated_as_the_request(make_root):
    root = make_root()
    events = preventix("uitvoering") + [gesprek()] + preventix("conceptadvies")[6:]
    delivered = run_each(root, events)
    # before the consultation: the form without medical data only
    assert f"{K}_aanvraagformulier-zonder-medische-gegevens.pdf" in so_names(delivered["aanvraag"])
    assert not any(FORM in so_names(delivered[stap]) for stap in ("aanvraag", "uitvoering"))
    # with the consultation event, and with nothing later
    assert FORM in so_names(delivered["spreekuur_gehouden"])
    assert FORM not in so_names(delivered["conceptadvies"])
    [path] = [p for p in delivered["spreekuur_gehouden"] if p.name == FORM and "so-bedrijfsarts" in p.parts]
    text = pdf_text(path)
    assert "Lumbosacraal" in text  # the medical data themselves
    assert "7 november 2026" in text  # the request of the aanvraag date, sent on after the consultation
    # recorded as the consultation's event, on the consultation day
    stored = [(e.stap, e.payload["datum"]) for e in root.store.events(K)]
    assert ("spreekuur_gehouden", "2026-11-17") in stored
    records = [r for r in root.store.deliveries(K) if r.kind == "medische-gegevens" and r.party == "so-bedrijfsarts"]
    assert [r.status for r in records] == ["delivered"]


def test_employee_and_so_doctor_decide_not_to_ask_for_medical_data(make_root):
    root = make_root()
    events = preventix("uitvoering") + [gesprek(medische_gegevens_opvragen=False)] + preventix("conceptadvies")[6:]
    delivered = run_each(root, events)
    assert not any(FORM in so_names(paths) for paths in delivered.values())
    assert not root.pipeline.case_state(K).medisch_naar_so


def test_without_the_consultation_event_the_old_release_still_holds():
    """Older case files: the form goes with the first event dated on or after the consultation day."""
    events = preventix("extra_informatie", skip_extra=False)
    state = fold(parse_all(events[:-1]))
    decision = decide(state, parse_all(events[-1:])[0])
    assert "medische-gegevens" in {o.kind for o in decision.orders}


@pytest.mark.parametrize("change, rule", [
    (gesprek(datum="2026-11-16"), "spreekuur-nog-niet-gehouden"),  # the consultation is planned on the 17th
])
def test_a_consultation_cannot_be_recorded_before_its_day(change, rule):
    state = fold(parse_all(preventix("uitvoering")))
    with pytest.raises(ProcedureError) as e:
        decide(state, parse_all([change])[0])
    assert e.value.rule == rule


def test_the_preventix_choice_is_refused_in_another_profile_and_the_event_comes_once():
    events = full_case(kenmerk=K, upto="uitvoering")
    state = fold(parse_all(events))
    with pytest.raises(ProcedureError) as e:
        decide(state, parse_all([gesprek(medische_gegevens_opvragen=True)])[0])
    assert e.value.rule == "opvragen-niet-in-profiel"
    state = decide(state, parse_all([gesprek()])[0]).state  # NVAB: recorded, nothing made
    assert state.spreekuur_gehouden is not None
    with pytest.raises(ProcedureError) as e:
        decide(state, parse_all([gesprek(datum="2026-11-18")])[0])
    assert e.value.rule == "stap-volgorde"
