"""Deadlines in Dutch working days and the retention date (pure core)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pipeline.core import dutch
from pipeline.core.planning import deadlines, overdue, retention_end
from pipeline.core.procedure import fold
from tests.casefactory import full_case, parse_all


def test_working_days_skip_weekends_and_dutch_holidays():
    assert dutch.plus_werkdagen(dt.date(2026, 11, 20), 1) == dt.date(2026, 11, 23)  # Friday -> Monday
    # Christmas 2026: Fri 25 and Sat 26 December; Thursday 24 + 1 working day -> Monday 28
    assert dutch.plus_werkdagen(dt.date(2026, 12, 24), 1) == dt.date(2026, 12, 28)
    # King's Day 2027 is Tuesday 27 April
    assert dutch.plus_werkdagen(dt.date(2027, 4, 26), 1) == dt.date(2027, 4, 28)
    assert not dutch.is_werkdag(dt.date(2027, 1, 1))


def test_dutch_formats():
    assert dutch.datum(dt.date(1984, 3, 17)) == "17 maart 1984"
    assert dutch.bedrag(Decimal("1485.5")) == "€ 1.485,50"
    assert dutch.moment(dt.datetime.fromisoformat("2026-11-17T10:30:00+01:00")) == "dinsdag 17 november 2026 om 10.30 uur"


def test_availability_answer_due_within_a_week():
    state = fold(parse_all(full_case(upto="selectie")))  # selectie on Wed 4 Nov 2026
    (d,) = deadlines(state)
    assert "beschikbaarheid" in d.wat and d.uiterlijk == dt.date(2026, 11, 11)
    assert overdue(state, dt.date(2026, 11, 11)) == []
    assert overdue(state, dt.date(2026, 11, 12)) == [d]


def test_final_advice_due_15_working_days_after_the_request():
    state = fold(parse_all(full_case(upto="aanvraag")))  # aanvraag Sat 7 Nov 2026
    (d,) = deadlines(state)
    assert d.uiterlijk == dt.date(2026, 11, 27)


def test_vsd_choice_within_48_hours_and_consultation_within_15_working_days():
    state = fold(parse_all(full_case(profiel="vsd", upto="beoordeling")))  # 3 Nov
    (d,) = deadlines(state)
    assert "keuze" in d.wat and d.uiterlijk == dt.date(2026, 11, 5)
    state = fold(parse_all(full_case(profiel="vsd", upto="aanvraag")))
    assert any("spreekuur" in d.wat for d in deadlines(state))


def test_own_doctor_reaction_then_nothing_after_completion():
    state = fold(parse_all(full_case(upto="definitief_advies")))  # 24 Nov 2026
    (d,) = deadlines(state)
    assert d.wie == "bedrijfsarts" and d.uiterlijk == dt.date(2026, 12, 8)
    assert deadlines(fold(parse_all(full_case()))) == []


def test_retention_20_years_from_last_change():
    assert retention_end(dt.date(2026, 12, 1)) == dt.date(2046, 12, 1)
    assert retention_end(dt.date(2028, 2, 29)) == dt.date(2048, 2, 29)
    assert retention_end(dt.date(2024, 2, 29)) == dt.date(2044, 2, 29)
