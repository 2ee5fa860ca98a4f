"""Who acts: the person behind a request, as the audit trail (NEN 7513) and the desk's scope checks need them.

A person reaches the pipeline in one of two ways: a Unix user in a shell (`sopipe status`, `sopipe archive ...`) or a
desk user through the gateway. Either way the audit trail must name the *person*, never only the service account
that runs the pipeline. `Actor` is that person as one value; the gateway builds it from the desk's session, the CLI
from the login name. The pipeline's own processing acts as `Actor.system()`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Rol(str, enum.Enum):
    """A person's role; it decides which operations and which cases they may see."""
    SECRETARIAAT = "secretariaat"
    BEDRIJFSARTS = "bedrijfsarts"
    SO_BEDRIJFSARTS = "so-bedrijfsarts"
    ARCHIVARIS = "archivaris"
    FG = "fg"
    BEHEER = "beheer"
    SYSTEEM = "systeem"
    """The pipeline itself, or a Unix user in a shell (scope: the whole root, as their file access already is)."""


class Kanaal(str, enum.Enum):
    """How the person reached the pipeline."""
    DESK = "desk"
    SHELL = "shell"
    PIPELINE = "pipeline"


@dataclass(frozen=True)
class Actor:
    gebruikersnaam: str
    """The login name (desk user name or Unix user name)."""
    naam: str
    """The person's name as shown in the audit trail and to the employee (e.g. "J. de Vries")."""
    rol: Rol
    kanaal: Kanaal
    organisatie: str | None = None
    """The master-data code of the arbodienst, employer or practice whose cases this person may see (scope)."""
    big: str | None = None
    """A doctor's BIG number (roles bedrijfsarts and so-bedrijfsarts)."""

    @property
    def audit_naam(self) -> str:
        """The `gebruiker` column of an audit record: the person, their login and how they came in."""
        if self.kanaal is Kanaal.PIPELINE:
            return self.gebruikersnaam
        return f"{self.naam} ({self.gebruikersnaam}, {self.rol.value}, via {self.kanaal.value})"

    @classmethod
    def system(cls, gebruikersnaam: str) -> "Actor":
        return cls(gebruikersnaam=gebruikersnaam, naam=gebruikersnaam, rol=Rol.SYSTEEM, kanaal=Kanaal.PIPELINE)


ROL_OMSCHRIJVING: dict[Rol, str] = {
    Rol.SECRETARIAAT: "medewerker secretariaat",
    Rol.BEDRIJFSARTS: "bedrijfsarts",
    Rol.SO_BEDRIJFSARTS: "second opinion-bedrijfsarts",
    Rol.ARCHIVARIS: "archivaris",
    Rol.FG: "functionaris gegevensbescherming",
    Rol.BEHEER: "beheerder",
    Rol.SYSTEEM: "medewerker van de arbodienst",
}
"""Each role in plain Dutch, as the employee reads it in the overview of who looked at the dossier."""

KANAAL_OMSCHRIJVING: dict[Kanaal, str] = {Kanaal.DESK: "via de webbalie", Kanaal.SHELL: "via de opdrachtregel",
                                          Kanaal.PIPELINE: "door de pijplijn"}

_AUDIT_NAAM = re.compile(r"^(?P<naam>.+) \((?P<login>[^,()]+), (?P<rol>[a-z-]+), via (?P<kanaal>[a-z]+)\)$")


@dataclass(frozen=True)
class Persoon:
    """Who an audit record names, read back from its `gebruiker` column (`Actor.audit_naam`)."""
    naam: str
    gebruikersnaam: str
    rol: Rol | None
    """None for a record from before persons were named (only the account is known)."""
    kanaal: Kanaal | None

    @property
    def omschrijving(self) -> str:
        """The person and their role in plain Dutch: "J. de Vries (medewerker secretariaat)"; for an old record
        only the account: "gebruiker 'root' van de arbodienst"."""
        if self.rol is None:
            return f"gebruiker '{self.gebruikersnaam}' van de arbodienst"
        return f"{self.naam} ({ROL_OMSCHRIJVING[self.rol]})"


def persoon(gebruiker: str) -> Persoon:
    """The person named in an audit record's `gebruiker` column (the inverse of `Actor.audit_naam`)."""
    match = _AUDIT_NAAM.match(gebruiker or "")
    if match:
        try:
            return Persoon(match["naam"], match["login"], Rol(match["rol"]), Kanaal(match["kanaal"]))
        except ValueError:
            pass
    return Persoon(gebruiker, gebruiker, None, None)
