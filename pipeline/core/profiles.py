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
    eigen_arts_blijft: bool = False
    """VSD: the own doctor remains the employee's doctor; the reaction offers no transfer to another doctor."""
    vervolgspreekuur: bool = False
    """Preventix: the own doctor explains the decision in a follow-up consultation, where employee and doctor
    decide whether the guidance continues; on request a colleague takes over with a neutral handover of facts."""
    keuze_so: str = ("De werknemer twijfelt aan het hieronder genoemde advies en heeft de second "
                     "opinion-bedrijfsarts in overleg met de eigen bedrijfsarts gekozen.")
    """How the SO doctor was chosen, as the request form says it."""
    vraag_door: str = "De eigen bedrijfsarts heeft de vraagstelling samen met de werknemer opgesteld."
    """Who set the question, as the request form says it."""


PROFILES: dict[Profiel, Profile] = {
    Profiel.NVAB: Profile("NVAB", via_toegestaan=(None, "bedrijfsarts")),
    Profiel.LPBSO: Profile("LPBSO", via_toegestaan=(None, "bedrijfsarts"),
                           keuze_so="De werknemer twijfelt aan het hieronder genoemde advies en heeft de second "
                                    "opinion-bedrijfsarts in overleg met de eigen bedrijfsarts gekozen uit de "
                                    "pool van het LPBSO, buiten de eigen arbodienst.",
                           vraag_door="De eigen bedrijfsarts heeft de vraagstelling opgesteld."),
    Profiel.VITAAL: Profile("Vitaal!", via_toegestaan=(None, "bedrijfsarts", "casemanager"),
                            werkgever_geinformeerd=True, andere_arts_binnen_arbodienst=True,
                            keuze_so="De werknemer twijfelt aan het hieronder genoemde advies. Na het gesprek met "
                                     "de beslishulp hebben de werknemer en de eigen bedrijfsarts samen de second "
                                     "opinion-bedrijfsarts gekozen uit de pool van het LPBSO.",
                            vraag_door="De eigen bedrijfsarts heeft de vraagstelling opgesteld."),
    Profiel.VSD: Profile("VSD", via_toegestaan=(None, "servicedesk", "werkgever", "bedrijfsarts"),
                         advies_delen_werkgever=True, keuze_uren=48, eigen_arts_blijft=True,
                         keuze_so="De werknemer twijfelt aan het hieronder genoemde advies. De backoffice heeft "
                                  "een of meer second opinion-bedrijfsartsen voorgesteld; de werknemer heeft uit "
                                  "dat voorstel gekozen."),
    Profiel.PREVENTIX: Profile("Preventix", via_toegestaan=(None, "servicedesk", "bedrijfsarts"),
                               verzoektermijn_dagen=14, medisch_pas_na_spreekuur=True, vervolgspreekuur=True,
                               keuze_so="De werknemer twijfelt aan het hieronder genoemde advies. De second "
                                        "opinion-bedrijfsarts komt uit de vaste groep second opinion-bedrijfsartsen "
                                        "van Preventix.",
                               vraag_door="De werknemer stelt de vraagstelling samen met de second "
                                          "opinion-bedrijfsarts vast; hieronder staat de vraag zoals de werknemer "
                                          "die bij het verzoek heeft geformuleerd."),
}
