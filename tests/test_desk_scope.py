"""Whose cases a desk user may see (pipeline.core.scope): by arbodienst, by BIG number, nothing for other roles."""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from pipeline.core import model
from pipeline.core.actor import Actor, Kanaal, Rol
from pipeline.core.procedure import fold
from pipeline.core.scope import ingediend_door, may_see
from pipeline.shell.layout import EXAMPLES

CASE = EXAMPLES / "case-SO-2026-0042"


def _state(org: str | None):
    events = [json.loads(p.read_text()) for p in sorted(CASE.glob("*.json"))[:3]]
    events[0]["arbodienst"]["code"] = org
    if org is None:
        del events[0]["arbodienst"]["code"]
    return fold(model.parse_event(e) for e in events)


def _actor(rol: Rol, org: str | None = None, big: str | None = None) -> Actor:
    return Actor(gebruikersnaam="u", naam="U", rol=rol, kanaal=Kanaal.DESK, organisatie=org, big=big)


@settings(max_examples=40, derandomize=True, deadline=None)
@given(case_org=st.sampled_from(["arbonoord", "arbozuid", "arbo-west", None]),
       user_org=st.sampled_from(["arbonoord", "arbozuid", "arbo-west", None]))
def test_a_secretariat_sees_exactly_its_own_arbodiensts_cases(case_org, user_org):
    assert may_see(_actor(Rol.SECRETARIAAT, user_org), _state(case_org)) == (
        case_org is not None and case_org == user_org)


def test_doctors_see_their_own_cases_by_big_and_other_roles_see_none_at_the_desk():
    state = _state("arbonoord")
    assert may_see(_actor(Rol.BEDRIJFSARTS, big="19012345601"), state)
    assert not may_see(_actor(Rol.BEDRIJFSARTS, big="39087654301"), state)
    assert may_see(_actor(Rol.SO_BEDRIJFSARTS, big="39087654301"), state)  # first choice
    assert may_see(_actor(Rol.SO_BEDRIJFSARTS, big="49011122201"), state)  # second choice
    assert not may_see(_actor(Rol.SO_BEDRIJFSARTS), state)
    for rol in (Rol.ARCHIVARIS, Rol.FG, Rol.BEHEER):
        assert not may_see(_actor(rol, "arbonoord"), state)
    assert may_see(Actor.system("sopipe"), state)


def test_ingediend_door_names_the_person_not_the_form():
    actor = Actor(gebruikersnaam="jdewit", naam="J. de Wit", rol=Rol.SECRETARIAAT, kanaal=Kanaal.DESK,
                  organisatie="arbonoord")
    assert ingediend_door(actor) == "J. de Wit (jdewit, secretariaat arbonoord, via de desk)"
