"""Deadlines of a case in Dutch working days (pure: the caller passes today's date).

Time limits (PROCEDURE.md): the SO doctor answers on availability within a week; VSD: the employee chooses
within 48 hours of the proposal and the SO is carried out within 15 working days; the final advice follows the
request within 15 working days (VSD target, LPBSO 2–3 weeks on average); the own doctor reacts within a
reasonable term (taken as 10 working days); the dossier is kept 20 years from its last change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipeline.core import dutch
from pipeline.core.profiles import PROFILES
from pipeline.core.state import CaseState

RETENTION_YEARS = 20


@dataclass(frozen=True)
class Deadline:
    wat: str
    """What is due, in Dutch."""
    uiterlijk: dt.date
    wie: str
    """Who has to act."""


def deadlines(s: CaseState) -> list[Deadline]:
    """The open deadlines of a case, earliest first (none once the case is closed or completed)."""
    if s.afgerond:
        return []
    profile = PROFILES[s.profiel]
    out: list[Deadline] = []
    if profile.keuze_uren and s.beoordeling is not None and s.selectie is None:
        out.append(Deadline("keuze second opinion-bedrijfsarts door de werknemer",
                            s.beoordeling.datum + dt.timedelta(hours=profile.keuze_uren), "werknemer"))
    if s.selectie is not None and s.aanvraag is None and s.so_arts is not None and s.beschikbaar is None:
        asked = s.laatste_datum
        out.append(Deadline(f"antwoord beschikbaarheid van {s.so_arts.naam}",
                            dutch.plus_werkdagen(asked, profile.beschikbaarheid_werkdagen), "so-bedrijfsarts"))
    if s.aanvraag is not None and s.definitief is None:
        start = s.aanvraag.datum
        if profile.keuze_uren and s.uitvoering is None:  # VSD: scheduled within 15 working days
            out.append(Deadline("spreekuur second opinion (binnen 15 werkdagen)",
                                dutch.plus_werkdagen(start, profile.uitvoering_werkdagen), "so-bedrijfsarts"))
        out.append(Deadline(f"definitief advies (streeftermijn {profile.uitvoering_werkdagen} werkdagen)",
                            dutch.plus_werkdagen(start, profile.uitvoering_werkdagen), "so-bedrijfsarts"))
    if s.definitief is not None and s.beoordeling_advies is None:
        out.append(Deadline("reactie van de eigen bedrijfsarts op het advies",
                            dutch.plus_werkdagen(s.definitief.datum, profile.reactie_werkdagen), "bedrijfsarts"))
    return sorted(out, key=lambda d: d.uiterlijk)


def next_deadline(s: CaseState) -> Deadline | None:
    found = deadlines(s)
    return found[0] if found else None


def overdue(s: CaseState, today: dt.date) -> list[Deadline]:
    return [d for d in deadlines(s) if d.uiterlijk < today]


def retention_end(last_change: dt.date) -> dt.date:
    """WGBO art. 7:454 BW: 20 years from the last change of the dossier."""
    return dutch.plus_jaren(last_change, RETENTION_YEARS)
