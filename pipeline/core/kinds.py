"""Every kind of document the pipeline makes, each said once: its row of the routing table and all else about it.

One frozen `Row` per kind holds what the rest of the program reads about that kind: the Word template, the title,
the audience (what the document may contain), the mailboxes and the consent each needs at the moment of delivery
(PROCEDURE.md's routing table), who signs it, whether it is an invoice, how the employee's view of the audit trail
names it, the projection that builds its template context and the sample context its template is checked and
previewed with. The lists other modules used to keep by hand are read from here: the routing table (`ROWS`),
the documents a doctor signs personally (`pipeline.core.signatures.SIGNED_BY`), the audit labels
(`pipeline.core.trail`), the template files (`templates`, which `tools/make_templates.py` and
`sopipe templates check` use) and the sample contexts per template (`sample_contexts`).

A plain letter, one step's document built from (state, event) by a projection, also names its `step` and, when
it is not made every time, its condition (`when`, a pure predicate on the state and the event): `decide` orders
it for that step without code of its own in `pipeline.core.procedure`. So a new plain letter is its entry here,
its template and its test. Documents whose making depends on more (request forms, consents, invoices,
withdrawals) are ordered by the procedure's own code, which takes their row from here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Mapping

from pipeline.core import model as m
from pipeline.core import projection as p
from pipeline.core import samples
from pipeline.core.profiles import PROFILES
from pipeline.core.routing import (ALWAYS, CONSENTS, SIGNED_FORM_CONSENTS, Audience, Party, consent_slug,
                                   form_kind)

if TYPE_CHECKING:
    from pipeline.core.state import CaseState


class Signer(StrEnum):
    """Who signs a document: the arbodienst's seal, or a doctor with a personal key."""
    ZEGEL = "zegel"
    """The arbodienst's seal (a certifying signature the pipeline makes itself)."""
    SO_BEDRIJFSARTS = "so_bedrijfsarts"
    """The SO doctor's personal key (the final advice)."""
    BEDRIJFSARTS = "bedrijfsarts"
    """The own doctor's personal key (the request form; LPBSO: not delegable)."""

    @property
    def personal(self) -> bool:
        """A person's own key: outside the DEMO the document waits for that doctor (`te-ondertekenen/`)."""
        return self is not Signer.ZEGEL

    @property
    def rol(self) -> str:
        """The signer's role as the visible signature block names it."""
        return _SIGNER_ROL[self]

    @property
    def reden(self) -> str:
        """The reason a personal signature states (the seal's reason depends on the document: see
        `pipeline.core.procedure._seal`)."""
        return _SIGNER_REDEN.get(self, "")


_SIGNER_ROL = {Signer.ZEGEL: "arbodienst (zegel)", Signer.SO_BEDRIJFSARTS: "second opinion-bedrijfsarts",
               Signer.BEDRIJFSARTS: "bedrijfsarts (aanvrager)"}
_SIGNER_REDEN = {Signer.SO_BEDRIJFSARTS: "Definitief advies second opinion",
                 Signer.BEDRIJFSARTS: "Aanvraag second opinion"}

Projection = Callable[..., Mapping[str, Any]]
"""Builds a document's template context: `(state, [event,] *, titel, …)` → the blocks its template may use."""
Condition = Callable[["CaseState", Any], bool]
"""Whether a plain letter is made: a pure predicate on the state after the step and the step's event."""


@dataclass(frozen=True)
class Row:
    """One document kind: its row of the routing table and everything else said about that kind."""
    kind: str
    """Document kind, used in file names: `<kenmerk>_<kind>.pdf`."""
    template: str
    """The Word template in `pipeline/templates/` (several kinds may share one)."""
    titel: str
    """The document's title (template context `titel`, PDF title)."""
    audience: Audience
    routes: tuple[tuple[Party, str | None], ...]
    """(mailbox, consent needed at the moment of delivery, or ALWAYS)."""
    label: str
    """How the employee's view of the audit trail names the document (`het besluit op uw verzoek`)."""
    projection: Projection | None = None
    """Builds the template context (`pipeline.core.projection`). None only for a document the pipeline does not
    make but files as it came (a returned signed consent form); every registered kind has one."""
    sample: Callable[[], dict[str, Any]] | None = None
    """A complete, fictional context for the template (`pipeline.core.samples`): what its tests render and what
    `sopipe templates check` checks it against when no variant of the example case makes it. None with
    `projection`."""
    sign: Signer | None = None
    """Who signs it, or None: the arbodienst's seal (certifying), or a doctor's personal key."""
    invoice: bool = False
    """Employer-, arbodienst- and own-doctor-facing copies must carry no employee identifier."""
    step: str | None = None
    """For a plain letter: the step (`model.STAPPEN`) that makes it; `decide` then orders it itself."""
    when: Condition | None = None
    """For a plain letter: made only when this holds (None: every time its step is taken)."""


def _row(kind: str, template: str, titel: str, audience: Audience, routes: Mapping[Party, str | None], *,
         label: str, projection: Projection, sample: Callable[[], dict[str, Any]], **kw) -> Row:
    return Row(kind, template, titel, audience, tuple(routes.items()), label, projection, sample, **kw)


W, B, SO, WG, AD, A = (Party.WERKNEMER, Party.BEDRIJFSARTS, Party.SO_BEDRIJFSARTS, Party.WERKGEVER,
                       Party.ARBODIENST, Party.ARCHIEF)


# --- conditions of the plain letters (pure) ----------------------------------------------------------------------

def _te_laat(s: "CaseState", ev: m.Verzoek) -> bool:
    """The request came after the profile's request period: the verzoek step closed the case at once."""
    return s.gesloten is not None


def _geweigerd(s: "CaseState", ev: m.Beoordeling) -> bool:
    return ev.uitkomst == "geweigerd"


def _werkgever_hoort_van_aanvraag(s: "CaseState", ev: m.Selectie) -> bool:
    """Vitaal! step 4: once the request was assessed (decision aid) and the SO doctor is chosen, the employer hears
    that a second opinion will be requested; never for a refused request, and only at the first choice."""
    return PROFILES[s.profiel].werkgever_geinformeerd and "selectie" not in s.stappen


def _geen_kopie(s: "CaseState", ev: m.DefinitiefAdvies) -> bool:
    return ev.machtiging_advies_delen_bedrijfsarts is m.Besluit.GEWEIGERD


def _afronding(met_werkadvies: bool) -> Condition:
    """VSD: the employer hears that the SO is completed at the same moment as the own doctor; with the employee's
    consent the notice carries the work advice (never the findings, conclusion or reasoning)."""
    def made(s: "CaseState", ev: m.DefinitiefAdvies) -> bool:
        delen = ev.machtiging_advies_delen_werkgever is m.Besluit.VERLEEND
        return PROFILES[s.profiel].advies_delen_werkgever and delen is met_werkadvies
    return made


def _aangepast(s: "CaseState", ev: m.BeoordelingAdvies) -> bool:
    return ev.advies_aangepast


_INFORMATIEVERZOEK = "het verzoek om aanvullende informatie"
_FACTUUR = dict(template="factuur.docx", projection=p.factuur, sample=samples.factuur, invoice=True)
_AANVRAAG = dict(template="aanvraagformulier.docx", projection=p.aanvraagformulier, sample=samples.aanvraagformulier,
                 sign=Signer.BEDRIJFSARTS)
_MACHTIGING = dict(template="machtiging.docx", projection=p.machtiging, sample=samples.machtiging, sign=Signer.ZEGEL)


def _registry() -> dict[str, Row]:
    rows = [
        _row("weigering", "brief_weigering.docx", "Besluit op uw verzoek om een second opinion", Audience.MEDISCH,
             {W: ALWAYS, B: ALWAYS, A: ALWAYS}, label="het besluit op uw verzoek",
             projection=p.brief_weigering, sample=samples.brief_weigering, step="beoordeling", when=_geweigerd),
        _row("melding-werkgever", "brief_melding_werkgever.docx", "Melding verzoek second opinion",
             Audience.WERKGEVER, {WG: ALWAYS, A: ALWAYS},
             label="de melding aan uw werkgever dat een second opinion wordt aangevraagd",
             projection=p.brief_melding_werkgever, sample=samples.brief_melding_werkgever, step="selectie",
             when=_werkgever_hoort_van_aanvraag),
        _row("nieuwe-beoordeling", "brief_nieuwe_beoordeling.docx", "Uw verzoek om een second opinion",
             Audience.MEDISCH, {W: ALWAYS, B: ALWAYS, A: ALWAYS}, label="de brief over een nieuwe beoordeling",
             projection=p.brief_nieuwe_beoordeling, sample=samples.brief_nieuwe_beoordeling, step="verzoek",
             when=_te_laat),
        _row("aanvraagformulier", titel="Aanvraagformulier second opinion", audience=Audience.MEDISCH,
             routes={W: ALWAYS, B: ALWAYS, SO: ALWAYS, A: ALWAYS}, label="het aanvraagformulier", **_AANVRAAG),
        # Preventix: the SO doctor gets the form without medical data before the consultation, the rest with it.
        _row("aanvraagformulier-zonder-medische-gegevens", titel="Aanvraagformulier second opinion",
             audience=Audience.MEDISCH, routes={SO: ALWAYS, A: ALWAYS},
             label="het aanvraagformulier (zonder medische gegevens)", **_AANVRAAG),
        _row("medische-gegevens", titel="Aanvraagformulier – medische gegevens", audience=Audience.MEDISCH,
             routes={SO: "medische_gegevens", A: ALWAYS}, label="de medische gegevens bij het aanvraagformulier",
             **_AANVRAAG),
        _row("machtiging-medische-gegevens", titel="Machtiging medische gegevens", audience=Audience.MEDISCH,
             routes={W: ALWAYS, B: ALWAYS, SO: ALWAYS, A: ALWAYS}, label="de machtiging voor medische gegevens",
             **_MACHTIGING),
        _row("uitnodiging", "brief_uitnodiging.docx", "Uitnodiging spreekuur second opinion", Audience.MEDISCH,
             {W: ALWAYS, SO: ALWAYS, A: ALWAYS}, label="de uitnodiging voor het spreekuur",
             projection=p.brief_uitnodiging, sample=samples.brief_uitnodiging, step="uitvoering"),
        _row("machtiging-extra-informatie", titel="Machtiging opvragen aanvullende informatie",
             audience=Audience.MEDISCH, routes={W: ALWAYS, SO: ALWAYS, A: ALWAYS},
             label="de machtiging voor aanvullende informatie", **_MACHTIGING),
        _row("informatieverzoek", "brief_informatieverzoek.docx", "Verzoek om aanvullende informatie",
             Audience.MEDISCH, {W: ALWAYS, SO: ALWAYS, A: ALWAYS}, label=_INFORMATIEVERZOEK,
             projection=p.brief_informatieverzoek, sample=samples.brief_informatieverzoek),
        _row("informatieverzoek-bedrijfsarts", "brief_informatieverzoek.docx", "Verzoek om aanvullende informatie",
             Audience.MEDISCH, {B: "extra_informatie:bedrijfsarts", W: ALWAYS, SO: ALWAYS, A: ALWAYS},
             label=_INFORMATIEVERZOEK, projection=p.brief_informatieverzoek, sample=samples.brief_informatieverzoek),
        _row("informatieverzoek-werkgever", "brief_informatieverzoek.docx", "Verzoek om aanvullende informatie",
             Audience.WERKGEVER, {WG: "extra_informatie:werkgever", W: ALWAYS, SO: ALWAYS, A: ALWAYS},
             label=_INFORMATIEVERZOEK, projection=p.brief_informatieverzoek, sample=samples.brief_informatieverzoek),
        _row("conceptadvies", "advies.docx", "Conceptadvies second opinion", Audience.MEDISCH,
             {W: ALWAYS, SO: ALWAYS}, label="het conceptadvies", projection=p.advies, sample=samples.advies,
             step="conceptadvies"),
        _row("advies", "advies.docx", "Advies second opinion", Audience.MEDISCH,
             {W: ALWAYS, B: "advies_delen_bedrijfsarts", SO: ALWAYS, A: ALWAYS}, label="het definitieve advies",
             projection=p.advies, sample=samples.advies, sign=Signer.SO_BEDRIJFSARTS),
        _row("geen-kopie", "brief_geen_kopie.docx", "Geen kopie van het second opinion-advies", Audience.MEDISCH,
             {B: ALWAYS, A: ALWAYS}, label="het bericht dat er geen kopie van het advies komt",
             projection=p.brief_geen_kopie, sample=samples.brief_geen_kopie, step="definitief_advies",
             when=_geen_kopie),
        _row("machtiging-advies-delen", titel="Machtiging delen advies", audience=Audience.MEDISCH,
             routes={W: ALWAYS, B: ALWAYS, SO: ALWAYS, A: ALWAYS},
             label="de machtiging voor het delen van het advies", **_MACHTIGING),
        _row("afronding-werkgever", "brief_afronding_werkgever.docx", "Afronding second opinion", Audience.WERKGEVER,
             {WG: ALWAYS, A: ALWAYS}, label="het bericht aan uw werkgever dat de second opinion is afgerond",
             projection=functools.partial(p.brief_afronding_werkgever, met_werkadvies=False),
             sample=samples.brief_afronding_werkgever, step="definitief_advies", when=_afronding(False)),
        _row("afronding-werkgever-werkadvies", "brief_afronding_werkgever.docx", "Afronding second opinion",
             Audience.WERKGEVER, {WG: "advies_delen_werkgever", A: ALWAYS},
             label="het bericht aan uw werkgever dat de second opinion is afgerond, met het werkadvies",
             projection=functools.partial(p.brief_afronding_werkgever, met_werkadvies=True),
             sample=samples.brief_afronding_werkgever, step="definitief_advies", when=_afronding(True)),
        _row("reactie-bedrijfsarts", "brief_reactie.docx", "Reactie op het second opinion-advies", Audience.MEDISCH,
             {W: ALWAYS, B: ALWAYS, A: ALWAYS}, label="de reactie van uw bedrijfsarts op het advies",
             projection=p.brief_reactie, sample=samples.brief_reactie, step="beoordeling_advies"),
        _row("gewijzigd-advies", "brief_gewijzigd_advies.docx", "Gewijzigd advies bedrijfsarts", Audience.WERKGEVER,
             {WG: ALWAYS, A: ALWAYS}, label="het aangepaste werkadvies voor uw werkgever",
             projection=p.brief_gewijzigd_advies, sample=samples.brief_gewijzigd_advies, step="beoordeling_advies",
             when=_aangepast),
        _row("factuur", titel="Factuur second opinion", audience=Audience.ANONIEM, routes={AD: ALWAYS, A: ALWAYS},
             label="de factuur aan de arbodienst", **_FACTUUR),
        # the arbodienst's pass-on specification for the employer: visibly not a payable invoice (other title, text)
        _row("doorbelasting-werkgever", titel="Specificatie doorbelasting – geen factuur",
             audience=Audience.ANONIEM, routes={WG: ALWAYS, A: ALWAYS},
             label="de specificatie van de doorbelasting aan uw werkgever", **_FACTUUR),
        _row("factuur-werknemer", titel="Factuur second opinion", audience=Audience.MEDISCH,
             routes={W: ALWAYS, A: ALWAYS}, label="de factuur", **_FACTUUR),
        # outside the contract with the employer paying: the employee's named statement says only that
        _row("kostenoverzicht-werknemer", titel="Kostenoverzicht second opinion – geen factuur",
             audience=Audience.MEDISCH, routes={W: ALWAYS, A: ALWAYS}, label="het kostenoverzicht", **_FACTUUR),
        _row("factuur-werkgever", titel="Factuur second opinion", audience=Audience.ANONIEM,
             routes={WG: ALWAYS, A: ALWAYS}, label="de factuur aan uw werkgever", **_FACTUUR),
        # A request that cannot be handled at all (from the employer, or about an aanstellingskeuring) belongs to no
        # case: the answer to the requester goes to no mailbox but beside the report in inbox/failed/, for the
        # secretariat to send (`pipeline.core.requester`). The employer's copy carries no employee identifier (the
        # guard checks it as anonymous).
        _row("brief-aan-aanvrager-werkgever", "brief_aan_aanvrager.docx", "Uw verzoek om een second opinion",
             Audience.ANONIEM, {}, label="de brief aan de aanvrager", projection=p.brief_aan_aanvrager,
             sample=samples.brief_aan_aanvrager),
        _row("brief-aan-aanvrager", "brief_aan_aanvrager.docx", "Uw verzoek om een second opinion", Audience.MEDISCH,
             {}, label="de brief aan de aanvrager", projection=p.brief_aan_aanvrager,
             sample=samples.brief_aan_aanvrager),
    ]
    # A withdrawal is confirmed to the employee and notified to the one party holding data obtained under that
    # consent (the procedure drops the delivery when that party holds none); one kind per consent, so that two
    # withdrawals in one case never share a file name.
    intrekking = dict(template="brief_intrekking.docx", audience=Audience.MEDISCH, projection=p.brief_intrekking,
                      sample=samples.brief_intrekking)
    for consent in CONSENTS:
        rows.append(_row(f"intrekking-{consent_slug(consent)}", titel="Bevestiging intrekking toestemming",
                         routes={W: ALWAYS, A: ALWAYS}, label="de bevestiging van de intrekking van uw machtiging",
                         **intrekking))
        if consent != "advies_delen_werkgever":  # the employer never gets a notice about a medical consent
            rows.append(_row(f"intrekking-melding-{consent_slug(consent)}", titel="Melding intrekking toestemming",
                             routes={B: ALWAYS, SO: ALWAYS, A: ALWAYS},
                             label="het bericht over de intrekking van uw machtiging", **intrekking))
    for consent in SIGNED_FORM_CONSENTS:  # to the employee, who signs it; a copy in the dossier
        rows.append(_row(form_kind(consent), "machtigingsformulier.docx", "Machtiging om te ondertekenen",
                         Audience.MEDISCH, {W: ALWAYS, A: ALWAYS}, label="de machtiging om te ondertekenen",
                         projection=p.machtigingsformulier, sample=samples.machtigingsformulier))
    return {row.kind: row for row in rows}


_REGISTRY: dict[str, Row] = _registry()

ROWS: Mapping[str, Row] = MappingProxyType(_REGISTRY)
"""Every document kind by its name, in the order the procedure makes them (read-only; see `register`)."""


def register(row: Row) -> None:
    """Add a document kind. A plain letter (`step` set) is then ordered by `decide`, routed, rendered, signed,
    guarded, delivered and audited like every other kind; its template must be in the templates folder."""
    if row.kind in _REGISTRY:
        raise ValueError(f"document kind {row.kind!r} is registered already")
    if row.projection is None or row.sample is None:
        raise ValueError(f"document kind {row.kind!r} needs a projection and a sample context")
    if row.when is not None and row.step is None:
        raise ValueError(f"document kind {row.kind!r} has a condition but no step that makes it")
    if row.step is not None and row.step not in m.STAPPEN:
        raise ValueError(f"document kind {row.kind!r}: {row.step!r} is not a step")
    _REGISTRY[row.kind] = row


def unregister(kind: str) -> Row:
    """Remove a document kind added with `register` (a test restoring the registry); returns its row."""
    return _REGISTRY.pop(kind)


def letters_for(step: str) -> tuple[Row, ...]:
    """The plain letters `step` makes (conditions not yet applied), in registry order."""
    return tuple(row for row in _REGISTRY.values() if row.step == step)


def templates() -> tuple[str, ...]:
    """Every template file a document kind names, each once, in registry order."""
    return tuple(dict.fromkeys(row.template for row in _REGISTRY.values()))


def sample_contexts() -> dict[str, Callable[[], dict[str, Any]]]:
    """Template file name → the sample context of the first kind that uses it (kinds sharing a template share
    its sample)."""
    out: dict[str, Callable[[], dict[str, Any]]] = {}
    for row in _REGISTRY.values():
        out.setdefault(row.template, row.sample)
    return out


def signed_by() -> dict[str, Signer]:
    """Every document kind that carries a doctor's personal signature, and whose."""
    return {row.kind: row.sign for row in _REGISTRY.values() if row.sign is not None and row.sign.personal}
