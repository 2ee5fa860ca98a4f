"""Mailboxes and their folders, the audiences and the consents of the routing table of PROCEDURE.md.

The table itself, which document goes to which mailbox on what condition, is one row per document kind in
`pipeline.core.kinds`. A condition is either `ALWAYS` or the name of a consent that must be granted *at the moment
of delivery* (the shell re-checks it against the stored state just before it writes the file). Rows that depend
on the case (the information request goes to the own doctor or the employer only when that is the consented
source, the invoice variants) are resolved by the procedure, which picks the row; the table itself stays fixed.
"""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from typing import TYPE_CHECKING, Protocol

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


ALWAYS = None


class Audience(str, enum.Enum):
    """What a rendered document may contain; the projection builds its context from this, the guard checks it."""
    MEDISCH = "medisch"        # employee identity and medical data (employee, doctors, archive)
    WERKGEVER = "werkgever"    # employee's name, never medical data
    ANONIEM = "anoniem"        # no employee identifier at all (invoices to employer/arbodienst/own doctor)


CONSENTS = ("medische_gegevens", "extra_informatie:bedrijfsarts", "extra_informatie:behandelaar",
            "extra_informatie:werkgever", "advies_delen_bedrijfsarts", "advies_delen_werkgever")
"""Every consent that can be withdrawn (`pipeline.core.state.consent_name`)."""


def consent_slug(consent: str) -> str:
    """`extra_informatie:behandelaar` → `extra-informatie-behandelaar` (for document kinds and file names)."""
    return consent.replace("_", "-").replace(":", "-")


def file_name(kenmerk: str, kind: str) -> str:
    return f"{kenmerk}_{kind}.pdf"


# --- the employer cannot link an anonymous invoice to a named letter -----------------------------------------------

INVOICE_FOLDER = "facturen"
"""The employer's folder of anonymous invoices, `outbox/werkgever/<code>/facturen/`: never a case's folder (a case
file cannot have this kenmerk, `pipeline.core.model`)."""


class Routed(Protocol):
    """What routing reads of a document kind (`pipeline.core.kinds.Row`, which imports this module)."""
    audience: Audience
    routes: tuple[tuple[Party, str | None], ...]


def unlinkable(row: Routed, party: Party) -> bool:
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

