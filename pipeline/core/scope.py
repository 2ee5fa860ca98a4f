"""Whose cases a person may see (pure): the scope check the gateway makes before every answer about a case.

A secretariat sees the cases of its own arbodienst (`verzoek.arbodienst.code` equals the user's organisation); a
doctor the cases in which he is the own doctor or the chosen SO doctor (by BIG number); the pipeline itself and a
Unix user in a shell everything (their file access already is). Other roles see no case through the desk here.
"""

from __future__ import annotations

from pipeline.core.actor import Actor, Rol
from pipeline.core.state import CaseState


def may_see(actor: Actor, state: CaseState) -> bool:
    if actor.rol is Rol.SYSTEEM:
        return True
    if actor.rol is Rol.SECRETARIAAT:
        return actor.organisatie is not None and state.verzoek.arbodienst.code == actor.organisatie
    if actor.rol is Rol.BEDRIJFSARTS:
        return actor.big is not None and state.verzoek.bedrijfsarts.big_nummer == actor.big
    if actor.rol is Rol.SO_BEDRIJFSARTS:
        chosen = [a for a in (state.selectie.so_bedrijfsarts, state.selectie.tweede_keuze)
                  if a is not None] if state.selectie else []
        return actor.big is not None and any(a.big_nummer == actor.big for a in chosen)
    return False


def ingediend_door(actor: Actor) -> str:
    """What a case file submitted at the desk says in `ingediend_door`: the logged-in person, never the form."""
    where = f" {actor.organisatie}" if actor.organisatie else ""
    return f"{actor.naam} ({actor.gebruikersnaam}, {actor.rol.value}{where}, via de desk)"
