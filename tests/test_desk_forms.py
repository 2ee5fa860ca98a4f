"""The step forms are generated from the case-file models: every field labelled in Dutch, nested models as
fieldsets, and a case file survives the round trip through the form; the check speaks Dutch only."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from pipeline.core import form, model
from pipeline.shell.check import check_case_file
from pipeline.shell.layout import EXAMPLES

EXAMPLE_FILES = sorted((EXAMPLES / "case-SO-2026-0042").glob("*.json"))
ENGLISH = ("Input should", "Field required", "should be", "valid", "Extra inputs", "Value error", "Unable to")


def test_every_step_has_a_form_and_every_field_a_dutch_label():
    assert set(form.MODELS) == set(model.STAPPEN)
    for stap, cls in form.MODELS.items():
        for name in cls.model_fields:
            if name not in form.NOT_ON_THE_FORM:
                assert name in form.LABELS, f"{stap}.{name} has no Dutch label in pipeline/core/form.py LABELS"
        for veld in form.form_for(stap).alle_velden():
            for value, label in veld.keuzes:
                assert label, (stap, veld.pad, value)


def test_nested_models_are_fieldsets_and_the_kinds_follow_the_types():
    verzoek = form.form_for("verzoek")
    groups = {g.pad: g for g in verzoek.velden if isinstance(g, form.Groep)}
    assert set(groups) == {"werknemer", "werkgever", "bedrijfsarts", "arbodienst"}
    adres = next(v for v in groups["werknemer"].velden if isinstance(v, form.Groep))
    assert (adres.pad, adres.label, [v.pad for v in adres.velden]) == \
        ("werknemer.adres", "Adres", ["werknemer.adres.straat", "werknemer.adres.postcode", "werknemer.adres.plaats"])
    kinds = {v.pad: v.soort for v in form.form_for("uitvoering").alle_velden()}
    assert kinds == {"datum": "datum", "spreekuur": "moment", "locatie": "tekst"}
    selectie = form.form_for("selectie")
    assert [(g.pad, g.verplicht) for g in selectie.velden if isinstance(g, form.Groep)] == \
        [("so_bedrijfsarts", True), ("tweede_keuze", False)]
    bedrag = next(v for v in form.form_for("facturatie").alle_velden() if v.pad == "bedrag")
    assert bedrag.soort == "bedrag"
    assert next(v for v in form.form_for("beschikbaarheid").alle_velden()).pad == "datum"


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_an_example_case_file_survives_the_round_trip_through_its_form(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    groep = form.form_for(data["stap"])
    back = form.from_form(groep, form.to_form(groep, data))
    fixed = {k: data[k] for k in ("schema", "kenmerk", "stap", "ingediend_door") if k in data}
    assert model.parse_event({**fixed, **back}) == model.parse_event(data)


def test_an_optional_fieldset_left_empty_is_left_out_and_a_required_one_is_kept():
    selectie = form.form_for("selectie")
    assert form.from_form(selectie, {"datum": "2026-11-03", "so_bedrijfsarts.naam": "Dr. E. Visser"}) == \
        {"datum": "2026-11-03", "so_bedrijfsarts": {"naam": "Dr. E. Visser"}}
    assert form.from_form(selectie, {}) == {"so_bedrijfsarts": {}}


def test_posted_values_become_the_case_files_types():
    assert form.from_form(form.form_for("beschikbaarheid"), {"beschikbaar": "nee"}) == {"beschikbaar": False}
    spreekuur = form.from_form(form.form_for("uitvoering"), {"spreekuur": "2026-11-12T10:30"})["spreekuur"]
    assert spreekuur == "2026-11-12T10:30:00+01:00"  # the Dutch clock, winter time
    assert form.from_form(form.form_for("facturatie"), {"bedrag": "485,00"})["bedrag"] == "485.00"


def test_problems_land_beside_their_fields_and_the_rest_above_the_form():
    groep = form.form_for("verzoek")
    by_field, rest = form.problems_by_field(groep, [("werknemer.adres.postcode", "heeft niet de juiste vorm"),
                                                    ("werkgever", "ontbreekt (verplicht veld)"),
                                                    ("", "Het bestand is leeg.")])
    assert by_field == {"werknemer.adres.postcode": ["heeft niet de juiste vorm"],
                        "werkgever": ["ontbreekt (verplicht veld)"]}
    assert rest == ["Het bestand is leeg."]


@pytest.mark.parametrize("stap", model.STAPPEN)
def test_an_empty_form_is_refused_in_dutch_field_by_field(stap):
    groep = form.form_for(stap)
    result = check_case_file({"schema": model.SCHEMA_ID, "kenmerk": "SO-1", "stap": stap,
                              **form.from_form(groep, {})})
    assert result.problems
    for field, problem in result.problems:
        assert not any(word in problem for word in ENGLISH), (field, problem)
    by_field, rest = form.problems_by_field(groep, list(result.problems))
    assert not rest, rest


@settings(max_examples=60, derandomize=True, deadline=None)
@given(stap=st.sampled_from(model.STAPPEN), posted=st.dictionaries(st.sampled_from(
    ["datum", "beschikbaar", "uitkomst", "bedrag", "spreekuur", "werknemer.geboortedatum", "bewijs.datum",
     "so_bedrijfsarts.in_arbocontract", "machtiging", "overname", "profiel"]),
    st.text(max_size=12), max_size=6))
def test_whatever_is_typed_the_check_answers_in_dutch(stap, posted):
    groep = form.form_for(stap)
    result = check_case_file({"schema": model.SCHEMA_ID, "kenmerk": "SO-1", "stap": stap,
                              **form.from_form(groep, posted)})
    for _field, problem in result.problems:
        assert not any(word in problem for word in ENGLISH), problem


def test_every_recipient_and_every_consent_has_a_name_for_the_secretariat():
    from pipeline.core.routing import Party
    from pipeline.core.trail import TOESTEMMING_NAAM
    assert {p.value for p in Party} <= set(form.PARTIJ_LABELS)
    assert set(TOESTEMMING_NAAM) <= set(form.TOESTEMMING_LABELS)
