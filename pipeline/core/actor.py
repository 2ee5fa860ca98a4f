"""Who acts: the person behind a request, as the audit trail (NEN 7513) and the desk's scope checks need them.

A person reaches the pipeline in one of two ways: a Unix user in a shell (`sopipe status`, `sopipe archive ...`) or a
desk user through the gateway. Either way the audit trail must name the *person*, never only the service account
that runs the pipeline. `Actor` is that person as one value; the gateway builds it from the desk's session, the CLI
from the login name. The pipeline's own processing acts as `Actor.system()`.
"""

from __future__ import annotations

import enum
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
