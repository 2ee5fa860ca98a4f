"""Which person may do what: the scope checks of the role operations (`pipeline.shell.role_views`), as pure
decisions on an `Actor` and the plain values the shell found (a stored path, a BIG number).

A doctor sees only what waits for, or was delivered to, his own BIG number in the mailbox of his own role (the
own doctor `outbox/bedrijfsarts/<BIG>/`, the SO doctor `outbox/so-bedrijfsarts/<BIG>/`); the records officer the
archive; the FG the audit trail; IT the system checks. Nobody else, whatever their role elsewhere: a refusal is
answered as "not found" and recorded.
"""

from __future__ import annotations

import enum
import re

from pipeline.core.actor import Actor, Rol
from pipeline.core.routing import Party

BIG = re.compile(r"^[0-9]{11}$")


class Taak(str, enum.Enum):
    """A group of operations; each belongs to exactly the roles in `ROLLEN`."""
    ONDERTEKENEN = "ondertekenen"
    """The doctor's queue of documents to sign, their download and the signed return."""
    POSTBUS = "postbus"
    """The doctor's own mailbox."""
    ARCHIEF = "archief"
    """Retention, sealed bundles, their check, legal holds, destruction."""
    TOEZICHT = "toezicht"
    """Who looked at what (per case, per employee), its export for art. 15 AVG, the chain's state."""
    BEHEER = "beheer"
    """The system checks (`sopipe doctor`)."""


ROLLEN: dict[Taak, frozenset[Rol]] = {
    Taak.ONDERTEKENEN: frozenset({Rol.BEDRIJFSARTS, Rol.SO_BEDRIJFSARTS}),
    Taak.POSTBUS: frozenset({Rol.BEDRIJFSARTS, Rol.SO_BEDRIJFSARTS}),
    Taak.ARCHIEF: frozenset({Rol.ARCHIVARIS}),
    Taak.TOEZICHT: frozenset({Rol.FG}),
    Taak.BEHEER: frozenset({Rol.BEHEER}),
}

_PARTY = {Rol.BEDRIJFSARTS: Party.BEDRIJFSARTS, Rol.SO_BEDRIJFSARTS: Party.SO_BEDRIJFSARTS}


def may(actor: Actor, taak: Taak) -> bool:
    """The actor's role holds this task (a doctor also needs a well-formed BIG number)."""
    if actor.rol not in ROLLEN[taak]:
        return False
    return taak not in (Taak.ONDERTEKENEN, Taak.POSTBUS) or bool(actor.big and BIG.match(actor.big))


def doctor_folder(actor: Actor, outbox: str = "outbox") -> str | None:
    """The doctor's own folder as the store records paths (`outbox/<party>/<BIG>`), None for anyone else."""
    party = _PARTY.get(actor.rol)
    if party is None or not may(actor, Taak.POSTBUS):
        return None
    return f"{outbox}/{party.value}/{actor.big}"


def in_own_folder(actor: Actor, path: str, outbox: str = "outbox") -> bool:
    """A stored path (relative to the root) lies in the doctor's own folder: no `..`, no empty or absolute part.
    Plain string work: a mailbox listing checks ten thousand paths."""
    folder = doctor_folder(actor, outbox)
    if folder is None or not path.startswith(folder + "/"):
        return False
    rest = path[len(folder) + 1:].split("/")
    return all(part not in ("", ".", "..") for part in rest)


def waits_for(actor: Actor, *, path: str, signer_big: str | None, outbox: str = "outbox") -> bool:
    """A document waiting for a personal signature is this doctor's: his BIG, in his own role's folder."""
    return may(actor, Taak.ONDERTEKENEN) and signer_big == actor.big and in_own_folder(actor, path, outbox)
