"""The state of one case, derived by folding its accepted events (pure, no I/O).

The store keeps only the accepted events; the state is always recomputed from them, so there is no second
copy that could drift. Consents are kept per name: `medische_gegevens`, `extra_informatie:<bron>`,
`advies_delen_bedrijfsarts`, `advies_delen_werkgever`.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

from pipeline.core import model as m
from pipeline.core.organisaties import Organisatie


class Consent(str, enum.Enum):
    VERLEEND = "verleend"
    GEWEIGERD = "geweigerd"
    INGETROKKEN = "ingetrokken"


@dataclass(frozen=True)
class CaseState:
    kenmerk: str
    profiel: m.Profiel
    verzoek: m.Verzoek
    stappen: tuple[str, ...]
    """Steps applied so far, in order."""
    laatste_datum: dt.date
    beoordeling: m.Beoordeling | None = None
    selectie: m.Selectie | None = None
    keuze: int = 0
    """0: first choice asked, 1: second choice asked, 2: neither available (a new selection is needed)."""
    beschikbaar: bool | None = None
    aanvraag: m.Aanvraag | None = None
    uitvoering: m.Uitvoering | None = None
    spreekuur_gehouden: m.SpreekuurGehouden | None = None
    """The secretariat recorded that the consultation took place (optional step)."""
    extra: tuple[m.ExtraInformatie, ...] = ()
    concept: m.Conceptadvies | None = None
    definitief: m.DefinitiefAdvies | None = None
    beoordeling_advies: m.BeoordelingAdvies | None = None
    facturatie: m.Facturatie | None = None
    consents: Mapping[str, Consent] = field(default_factory=lambda: MappingProxyType({}))
    medisch_naar_so: bool = False
    """Medical data have reached the SO doctor (Preventix releases them only after the consultation)."""
    gesloten: str | None = None
    """Why the case ended early (refusal, new assessment), None while it runs or after normal completion."""
    organisaties: Mapping[str, Organisatie] = field(default_factory=lambda: MappingProxyType({}))
    """Master data in force for the decision being made (configuration, not derived from events)."""

    @property
    def arbodienst_org(self) -> Organisatie | None:
        """The configured arbodienst the case refers to (`arbodienst.code`), if any."""
        code = self.verzoek.arbodienst.code
        return self.organisaties.get(code) if code else None

    @property
    def praktijk(self) -> Organisatie | None:
        """The configured practice of the current SO doctor (`so_bedrijfsarts.praktijk`, else `facturatie.praktijk`),
        if any."""
        so = self.so_arts
        code = so.praktijk if so is not None else None
        if not code and self.facturatie is not None:
            code = self.facturatie.praktijk  # named only at the invoice (a selection without a code)
        return self.organisaties.get(code) if code else None

    @property
    def so_arts(self) -> m.SoArts | None:
        if self.selectie is None:
            return None
        return {0: self.selectie.so_bedrijfsarts, 1: self.selectie.tweede_keuze}.get(self.keuze)

    @property
    def afgerond(self) -> bool:
        return self.gesloten is not None or (
            self.facturatie is not None and self.beoordeling_advies is not None)

    def consent(self, name: str) -> Consent | None:
        return self.consents.get(name)

    def heeft_toestemming(self, name: str | None) -> bool:
        return name is None or self.consents.get(name) is Consent.VERLEEND

    def with_consent(self, name: str, value: Consent) -> "CaseState":
        return replace(self, consents=MappingProxyType({**self.consents, name: value}))


def consent_name(intrekking: m.Intrekking) -> str:
    if intrekking.machtiging == "extra_informatie":
        return f"extra_informatie:{intrekking.bron}"
    return intrekking.machtiging
