"""The five organisations' variants of the procedure (PROCEDURE.md, "Profiles") as data."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.core.model import Profiel


@dataclass(frozen=True)
class Profile:
    naam: str
    via_toegestaan: tuple[str | None, ...]
    """Through whom the employee's request may arrive (None: directly)."""
    werkgever_geinformeerd: bool = False
    """Vitaal!: the employer is told that a second opinion was requested (with the own doctor's advice)."""
    verzoektermijn_dagen: int | None = None
    """Preventix: a request later than this many days after the disputed decision gets a new assessment."""
    medisch_pas_na_spreekuur: bool = False
    """Preventix: no medical data to the SO doctor before the employee met the SO doctor."""
    advies_delen_werkgever: bool = False
    """VSD: the final advice may be shared with the employer (work advice only) and the employer gets the
    completion notice at the same time as the own doctor."""
    keuze_uren: int | None = None
    """VSD: the employee chooses an SO doctor within this many hours of the proposal."""
    uitvoering_werkdagen: int = 15
    """Target from the request to the SO doctor (aanvraag) to the final advice, in Dutch working days."""
    beschikbaarheid_werkdagen: int = 5
    """The SO doctor answers within one week whether they are available."""
    reactie_werkdagen: int = 10
    """The own doctor's reaction to the advice: 'a reasonable term', here two working weeks."""
    andere_arts_binnen_arbodienst: bool = False
    """After the SO the employee may ask for another doctor, always one of the own arbodienst (Vitaal!)."""


PROFILES: dict[Profiel, Profile] = {
    Profiel.NVAB: Profile("NVAB", via_toegestaan=(None, "bedrijfsarts")),
    Profiel.LPBSO: Profile("LPBSO", via_toegestaan=(None, "bedrijfsarts")),
    Profiel.VITAAL: Profile("Vitaal!", via_toegestaan=(None, "bedrijfsarts", "casemanager"),
                            werkgever_geinformeerd=True, andere_arts_binnen_arbodienst=True),
    Profiel.VSD: Profile("VSD", via_toegestaan=(None, "servicedesk", "werkgever", "bedrijfsarts"),
                         advies_delen_werkgever=True, keuze_uren=48),
    Profiel.PREVENTIX: Profile("Preventix", via_toegestaan=(None, "servicedesk", "bedrijfsarts"),
                               verzoektermijn_dagen=14, medisch_pas_na_spreekuur=True),
}
