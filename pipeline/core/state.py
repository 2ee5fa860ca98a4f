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
    """Where a consent stands. A consent that needs the employee's signature (`needs_signature`) is `gevraagd`
    from the case file that reports it given until the signed form is in the dossier (`ondertekend`); one that
    does not is `verleend` at once."""
    GEVRAAGD = "gevraagd"
    """Given according to the case file, but no signed form is in the dossier yet: nothing that needs it goes."""
    ONDERTEKEND = "ondertekend"
    """The employee's written consent is in the dossier (the signed form came back, or the case file states where
    the signed paper form is kept)."""
    VERLEEND = "verleend"
    """Given; no signed form is required for this consent (sharing the advice)."""
    GEWEIGERD = "geweigerd"
    INGETROKKEN = "ingetrokken"

    @property
    def granted(self) -> bool:
        """Whatever needs this consent may go now."""
        return self in (Consent.ONDERTEKEND, Consent.VERLEEND)


SIGNED_CONSENTS = ("medische_gegevens", "extra_informatie")
"""Consent families whose data go only with the employee's written consent in the dossier (NVAB step 4: the own
doctor sends medical data with the *signed* machtiging; step 6: a treating physician answers only on one)."""


def needs_signature(name: str) -> bool:
    """`medische_gegevens` and `extra_informatie:<bron>` need the signed form; sharing the advice does not."""
    return name.split(":")[0] in SIGNED_CONSENTS


@dataclass(frozen=True)
class SignedForm:
    """A consent form signed by the employee that came back and is archived in the dossier."""
    consent: str
    """The consent it signs (`medische_gegevens`, `extra_informatie:behandelaar` …)."""
    bestand: str
    """Its name in the case's archive folder."""
    ontvangen: dt.date
    """The (Dutch) day it came in."""
    gescand: bool
    """A scan (no electronic signature) rather than a PDF the employee signed electronically."""


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
    formulieren: Mapping[str, SignedForm] = field(default_factory=lambda: MappingProxyType({}))
    """Per consent the signed form that came back for it (the dossier holds it)."""
    medisch_apart: bool = False
    """The SO doctor gets the medical data as a separate form (`medische-gegevens`) after the request: Preventix
    (after the consultation), or the signed consent was not yet in the dossier at the request."""
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
        """Whatever needs consent `name` (None: nothing) may be delivered now."""
        if name is None:
            return True
        value = self.consents.get(name)
        return value is not None and value.granted

    @property
    def wacht_op_machtiging(self) -> tuple[str, ...]:
        """The consents given but waiting for the employee's signed form, in the order they were asked, while the
        form would still release something: medical data until the final advice (and not when employee and SO
        doctor decided not to ask for them), an information request until the draft advice."""
        gesprek = self.spreekuur_gehouden
        open_for = {"medische_gegevens": self.definitief is None and not (
            gesprek is not None and gesprek.medische_gegevens_opvragen is False),
            "extra_informatie": self.concept is None}
        return tuple(name for name, value in self.consents.items()
                     if value is Consent.GEVRAAGD and open_for.get(name.split(":")[0], False))

    def with_consent(self, name: str, value: Consent) -> "CaseState":
        return replace(self, consents=MappingProxyType({**self.consents, name: value}))


def consent_name(intrekking: m.Intrekking) -> str:
    if intrekking.machtiging == "extra_informatie":
        return f"extra_informatie:{intrekking.bron}"
    return intrekking.machtiging
