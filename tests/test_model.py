"""The case-file contract: the published JSON Schema matches the model; validation is strict."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from pipeline.core import model
from pipeline.package_data import SCHEMA
from pipeline.shell.report import describe_validation
from tests.casefactory import example_events, event


def test_published_schema_is_in_sync_with_the_model():
    assert json.loads(SCHEMA.read_text(encoding="utf-8")) == model.json_schema(), \
        "run: python tools/make_schema.py"


def test_every_example_event_validates():
    for data in example_events().values():
        assert model.parse_event(data).kenmerk == "SO-2026-0042"


def problems(data) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        model.parse_event(data)
    return dict(describe_validation(info.value))


def test_unknown_field_is_an_error_named_in_dutch():
    found = problems(event("beoordeling", uitkomts="geschikt"))
    assert "onbekend veld" in found["uitkomts"]


def test_nested_unknown_field_is_an_error():
    data = event("verzoek")
    data["werknemer"]["geboortedatun"] = "1984-03-17"
    assert "werknemer.geboortedatun" in problems(data)


@pytest.mark.parametrize("bsn", ["111222333", "111.222.333", "111 222 333"])
def test_valid_bsn_forms_are_accepted_and_compacted(bsn):
    data = event("verzoek")
    data["werknemer"]["bsn"] = bsn
    assert model.parse_event(data).werknemer.bsn == "111222333"


def test_bsn_failing_the_11_test_is_refused():
    data = event("verzoek")
    data["werknemer"]["bsn"] = "111222334"
    assert "elfproef" in problems(data)["werknemer.bsn"]


@pytest.mark.parametrize("kenmerk", ["../etc", "SO/2026", "SO 2026", "a", "SO-2026-0042\\x", "Jansen…"])
def test_kenmerk_must_be_safe_for_folder_names(kenmerk):
    assert "kenmerk" in problems(event("beoordeling", kenmerk=kenmerk))


def test_strict_types_no_string_booleans_no_number_dates_no_float_money():
    assert "beschikbaar" in problems(event("beschikbaarheid", beschikbaar="true"))
    assert "datum" in problems(event("beschikbaarheid", datum=20261106))
    assert "bedrag" in problems(event("facturatie", bedrag=485.0))
    assert "spreekuur" in problems(event("uitvoering", spreekuur="2026-11-17T10:30:00"))  # offset required


def test_missing_field_and_unknown_step():
    assert "ontbreekt" in problems(event("aanvraag", vraagstelling=None))["vraagstelling"]
    data = event("beoordeling")
    data["stap"] = "onbekend"
    found = problems(data)
    assert "geen bekende stap" in " ".join(found.values())


def test_money_is_decimal():
    assert str(model.parse_event(event("facturatie")).bedrag) == "485.00"
