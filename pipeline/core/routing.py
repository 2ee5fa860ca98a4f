"""The routing table of PROCEDURE.md as data: which document goes to which mailbox, and on what condition.

A condition is either `ALWAYS` or the name of a consent that must be granted *at the moment of delivery*
(the shell re-checks it against the stored state just before it writes the file). Rows that depend on the case
(the information request goes to the own doctor or the employer only when that is the consented source, the
invoice variants) are resolved by the procedure, which picks the row; the table itself stays fixed.
"""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.core.state import needs_signature

if TYPE_CHECKING:
    from pipeline.core.state import CaseState


class Party(str, enum.Enum):
    WERKNEMER = "werknemer"
    BEDRIJFSARTS = "bedrijfsarts"
    SO_BEDRIJFSARTS = "so-bedrijfsarts"
    WERKGEVER = "werkgever"
    ARBODIENST = "arbodienst"
    ARCHIEF = "archief"


W, B, SO, WG, AD, A = (Party.WERKNEMER, Party.BEDRIJFSARTS, Party.SO_BEDRIJFSARTS, Party.WERKGEVER,
                       Party.ARBODIENST, Party.ARCHIEF)

ALWAYS = None


class Audience(str, enum.Enum):
    """What a rendered document may contain; the projection builds its context from this, the guard checks it."""
    MEDISCH = "medisch"        # employee identity and medical data (employee, doctors, archive)
    WERKGEVER = "werkgever"    # employee's name, never medical data
    ANONIEM = "anoniem"        # no employee identifier at all (invoices to employer/arbodienst/own doctor)


@dataclass(frozen=True)
class Row:
    """One row of the routing table."""
    kind: str
    """Document kind, used in file names: `<kenmerk>_<kind>.pdf`."""
    template: str
    titel: str
    audience: Audience
    routes: tuple[tuple[Party, str | None], ...]
    """(mailbox, consent needed or ALWAYS)."""
    sign: str | None = None
    """None, `"zegel"` (arbodienst seal, certifying), `"so_bedrijfsarts"` (the SO doctor's personal key) or
    `"bedrijfsarts"` (the own doctor's personal key: the request form, LPBSO: not delegable)."""
    invoice: bool = False
    """Employer-, arbodienst- and own-doctor-facing copies must carry no employee identifier."""


def _row(kind, template, titel, audience, routes, **kw) -> Row:
    return Row(kind, template, titel, audience, tuple(routes.items()), **kw)


ROWS: dict[str, Row] = {r.kind: r for r in (
    _row("weigering", "brief_weigering.docx", "Besluit op uw verzoek om een second opinion", Audience.MEDISCH,
         {W: ALWAYS, B: ALWAYS, A: ALWAYS}),
    _row("melding-werkgever", "brief_melding_werkgever.docx", "Melding verzoek second opinion",
         Audience.WERKGEVER, {WG: ALWAYS, A: ALWAYS}),
    _row("nieuwe-beoordeling", "brief_nieuwe_beoordeling.docx", "Uw verzoek om een second opinion",
         Audience.MEDISCH, {W: ALWAYS, B: ALWAYS, A: ALWAYS}),
    _row("aanvraagformulier", "aanvraagformulier.docx", "Aanvraagformulier second opinion", Audience.MEDISCH,
         {W: ALWAYS, B: ALWAYS, SO: ALWAYS, A: ALWAYS}, sign="bedrijfsarts"),
    # Preventix: the SO doctor gets the form without medical data before the consultation, the rest with it.
    _row("aanvraagformulier-zonder-medische-gegevens", "aanvraagformulier.docx",
         "Aanvraagformulier second opinion", Audience.MEDISCH, {SO: ALWAYS, A: ALWAYS}, sign="bedrijfsarts"),
    _row("medische-gegevens", "aanvraagformulier.docx", "Aanvraagformulier – medische gegevens",
         Audience.MEDISCH, {SO: "medische_gegevens", A: ALWAYS}, sign="bedrijfsarts"),
    _row("machtiging-medische-gegevens", "machtiging.docx", "Machtiging medische gegevens", Audience.MEDISCH,
         {W: ALWAYS, B: ALWAYS, SO: ALWAYS, A: ALWAYS}, sign="zegel"),
    _row("uitnodiging", "brief_uitnodiging.docx", "Uitnodiging spreekuur second opinion", Audience.MEDISCH,
         {W: ALWAYS, SO: ALWAYS, A: ALWAYS}),
    _row("machtiging-extra-informatie", "machtiging.docx", "Machtiging opvragen aanvullende informatie",
         Audience.MEDISCH, {W: ALWAYS, SO: ALWAYS, A: ALWAYS}, sign="zegel"),
    _row("informatieverzoek", "brief_informatieverzoek.docx", "Verzoek om aanvullende informatie",
         Audience.MEDISCH, {W: ALWAYS, SO: ALWAYS, A: ALWAYS}),
    _row("informatieverzoek-bedrijfsarts", "brief_informatieverzoek.docx", "Verzoek om aanvullende informatie",
         Audience.MEDISCH, {B: "extra_informatie:bedrijfsarts", W: ALWAYS, SO: ALWAYS, A: ALWAYS}),
    _row("informatieverzoek-werkgever", "brief_informatieverzoek.docx", "Verzoek om aanvullende informatie",
         Audience.WERKGEVER, {WG: "extra_informatie:werkgever", W: ALWAYS, SO: ALWAYS, A: ALWAYS}),
    _row("conceptadvies", "advies.docx", "Conceptadvies second opinion", Audience.MEDISCH,
         {W: ALWAYS, SO: ALWAYS}),
    _row("advies", "advies.docx", "Advies second opinion", Audience.MEDISCH,
         {W: ALWAYS, B: "advies_delen_bedrijfsarts", SO: ALWAYS, A: ALWAYS}, sign="so_bedrijfsarts"),
    _row("geen-kopie", "brief_geen_kopie.docx", "Geen kopie van het second opinion-advies", Audience.MEDISCH,
         {B: ALWAYS, A: ALWAYS}),
    _row("machtiging-advies-delen", "machtiging.docx", "Machtiging delen advies", Audience.MEDISCH,
         {W: ALWAYS, B: ALWAYS, SO: ALWAYS, A: ALWAYS}, sign="zegel"),
    # VSD: the employer hears that the SO is completed at the same moment as the own doctor; with the
    # employee's consent the notice carries the work advice (never the findings, conclusion or reasoning).
    _row("afronding-werkgever", "brief_afronding_werkgever.docx", "Afronding second opinion", Audience.WERKGEVER,
         {WG: ALWAYS, A: ALWAYS}),
    _row("afronding-werkgever-werkadvies", "brief_afronding_werkgever.docx", "Afronding second opinion",
         Audience.WERKGEVER, {WG: "advies_delen_werkgever", A: ALWAYS}),
    _row("reactie-bedrijfsarts", "brief_reactie.docx", "Reactie op het second opinion-advies", Audience.MEDISCH,
         {W: ALWAYS, B: ALWAYS, A: ALWAYS}),
    _row("gewijzigd-advies", "brief_gewijzigd_advies.docx", "Gewijzigd advies bedrijfsarts", Audience.WERKGEVER,
         {WG: ALWAYS, A: ALWAYS}),
    _row("factuur", "factuur.docx", "Factuur second opinion", Audience.ANONIEM,
         {AD: ALWAYS, A: ALWAYS}, invoice=True),
    # the arbodienst's pass-on specification for the employer: visibly not a payable invoice (other title, text)
    _row("doorbelasting-werkgever", "factuur.docx", "Specificatie doorbelasting – geen factuur", Audience.ANONIEM,
         {WG: ALWAYS, A: ALWAYS}, invoice=True),
    _row("factuur-werknemer", "factuur.docx", "Factuur second opinion", Audience.MEDISCH,
         {W: ALWAYS, A: ALWAYS}, invoice=True),
    # outside the contract with the employer paying: the employee's named statement says only that
    _row("kostenoverzicht-werknemer", "factuur.docx", "Kostenoverzicht second opinion – geen factuur",
         Audience.MEDISCH, {W: ALWAYS, A: ALWAYS}, invoice=True),
    _row("factuur-werkgever", "factuur.docx", "Factuur second opinion", Audience.ANONIEM,
         {WG: ALWAYS, A: ALWAYS}, invoice=True),
)}


# A request that cannot be handled at all (from the employer, or about an aanstellingskeuring) belongs to no case:
# the answer to the requester goes to no mailbox but beside the report in inbox/failed/, for the secretariat to send
# (`pipeline.core.requester`). The employer's copy carries no employee identifier (the guard checks it as anonymous).
ROWS["brief-aan-aanvrager-werkgever"] = _row(
    "brief-aan-aanvrager-werkgever", "brief_aan_aanvrager.docx", "Uw verzoek om een second opinion",
    Audience.ANONIEM, {})
ROWS["brief-aan-aanvrager"] = _row(
    "brief-aan-aanvrager", "brief_aan_aanvrager.docx", "Uw verzoek om een second opinion", Audience.MEDISCH, {})


CONSENTS = ("medische_gegevens", "extra_informatie:bedrijfsarts", "extra_informatie:behandelaar",
            "extra_informatie:werkgever", "advies_delen_bedrijfsarts", "advies_delen_werkgever")
"""Every consent that can be withdrawn (`pipeline.core.state.consent_name`)."""


def consent_slug(consent: str) -> str:
    """`extra_informatie:behandelaar` → `extra-informatie-behandelaar` (for document kinds and file names)."""
    return consent.replace("_", "-").replace(":", "-")


# A withdrawal is confirmed to the employee and notified to the one party holding data obtained under that
# consent (the procedure drops the delivery when that party holds none); one kind per consent, so that two
# withdrawals in one case never share a file name.
for _consent in CONSENTS:
    ROWS[f"intrekking-{consent_slug(_consent)}"] = _row(
        f"intrekking-{consent_slug(_consent)}", "brief_intrekking.docx", "Bevestiging intrekking toestemming",
        Audience.MEDISCH, {W: ALWAYS, A: ALWAYS})
    if _consent != "advies_delen_werkgever":  # the employer never gets a notice about a medical consent
        ROWS[f"intrekking-melding-{consent_slug(_consent)}"] = _row(
            f"intrekking-melding-{consent_slug(_consent)}", "brief_intrekking.docx", "Melding intrekking toestemming",
            Audience.MEDISCH, {B: ALWAYS, SO: ALWAYS, A: ALWAYS})


def file_name(kenmerk: str, kind: str) -> str:
    return f"{kenmerk}_{kind}.pdf"


# --- the employer cannot link an anonymous invoice to a named letter -----------------------------------------------

INVOICE_FOLDER = "facturen"
"""The employer's folder of anonymous invoices, `outbox/werkgever/<code>/facturen/`: never a case's folder (a case
file cannot have this kenmerk, `pipeline.core.model`)."""


def unlinkable(row: Row, party: Party) -> bool:
    """An anonymous document for a mailbox that also receives letters naming the employee (the employer's
    invoice or pass-on specification): it shares no folder, file name or reference with them. It is filed under
    its own invoice reference in `INVOICE_FOLDER`, and never carries the case's kenmerk (LPBSO: "De factuur is
    anoniem, zodat de werknemer niet herleidbaar is")."""
    return party is Party.WERKGEVER and row.audience is Audience.ANONIEM and any(
        p is Party.WERKGEVER for p, _ in row.routes)


def invoice_reference(praktijk: str, factuurnummer: str) -> str:
    """The reference an unlinkable invoice is filed under: the issuing practice's code and its invoice number
    (unique per issuer), as file-name characters; nothing derived from the kenmerk."""
    return f"{praktijk}_{re.sub(r'[^A-Za-z0-9-]+', '-', factuurnummer)}"


# --- one folder per recipient (PROCEDURE.md, the mailbox column) -------------------------------------------------

PER_RECIPIENT = (Party.WERKGEVER, Party.ARBODIENST, Party.BEDRIJFSARTS, Party.SO_BEDRIJFSARTS)
"""Parties with one folder per recipient (`outbox/<party>/<code>/<kenmerk>/`); werknemer and archief stay per case."""


def organisation_code(*, code: str | None, kvk_nummer: str | None, naam: str) -> str:
    """An organisation's folder name: its configured code, else `kvk-<KvK number>`, else `naam-<slug of its name>`.

    Never employee data: only the organisation's own identifiers. The slug is lower-case ASCII (accents dropped,
    anything else a `-`), at most 40 characters; a name without a letter or digit gets `naam-<8 hex of its
    SHA-256>`. Deterministic: the same organisation always gets the same folder."""
    if code:
        return code
    if kvk_nummer:
        return f"kvk-{kvk_nummer}"
    ascii_name = unicodedata.normalize("NFKD", naam).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:35].strip("-")
    return f"naam-{slug}" if slug else "naam-" + hashlib.sha256(naam.encode("utf-8")).hexdigest()[:8]


def recipient_code(party: Party, state: "CaseState") -> str | None:
    """The recipient's own folder under `outbox/<party>/`: the employer's or arbodienst's code (see
    `organisation_code`), the own or SO doctor's BIG number; None for werknemer and archief (per case)."""
    verzoek = state.verzoek
    if party is Party.WERKGEVER:
        org = verzoek.werkgever
    elif party is Party.ARBODIENST:
        org = verzoek.arbodienst
    elif party is Party.BEDRIJFSARTS:
        return verzoek.bedrijfsarts.big_nummer
    elif party is Party.SO_BEDRIJFSARTS:
        return state.so_arts.big_nummer if state.so_arts else None
    else:
        return None
    return organisation_code(code=org.code, kvk_nummer=org.kvk_nummer, naam=org.naam)


def mailbox_folder(party: Party, kenmerk: str, code: str | None) -> tuple[str, ...]:
    """The case's folder below `outbox/`: `(party, code, kenmerk)` per recipient, `(party, kenmerk)` per case."""
    if party in PER_RECIPIENT:
        if not code:
            raise ValueError(f"{party.value} needs a recipient code")
        return (party.value, code, kenmerk)
    return (party.value, kenmerk)


# --- the consent form the employee is to sign ----------------------------------------------------------------

SIGNED_FORM_CONSENTS = tuple(c for c in CONSENTS if needs_signature(c))
"""Consents whose data go only once the employee's signed form is in the dossier (`state.needs_signature`)."""


def form_kind(consent: str) -> str:
    """The kind of the form the employee signs for `consent`: `machtiging-medische-gegevens-formulier` … Its file
    name, `<kenmerk>_machtiging-<consent>-formulier.pdf`, is also a name a signed copy is recognised by when it
    comes back into the inbox (`pipeline.core.returns.consent_form_of`)."""
    return f"machtiging-{consent_slug(consent)}-formulier"


for _consent in SIGNED_FORM_CONSENTS:  # to the employee, who signs it; a copy in the dossier
    ROWS[form_kind(_consent)] = _row(form_kind(_consent), "machtigingsformulier.docx", "Machtiging om te ondertekenen",
                                     Audience.MEDISCH, {W: ALWAYS, A: ALWAYS})
