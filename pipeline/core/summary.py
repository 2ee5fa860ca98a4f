"""The summary of one case that `sopipe status` lists, derived from the fold of its events (pure).

`summarise(fold(events))` is the only way a summary is made: the store keeps the result beside the events, written
in the same transaction as the event that changed it, so that listing 10,000 cases reads 10,000 rows instead of
folding 100,000 events. It is a cache of the fold, never a second truth: `SUMMARY_VERSION` changes with this
derivation, rows of another version are made again, and `sopipe status --rebuild` refolds every case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from pipeline.core import model
from pipeline.core.planning import Deadline, deadlines
from pipeline.core.procedure import allowed_steps
from pipeline.core.state import CaseState

SUMMARY_VERSION = 2
"""Raise when `summarise` or what it depends on (deadline rules, steps) changes: stored summaries are remade."""


@dataclass(frozen=True)
class CaseSummary:
    kenmerk: str
    profiel: str
    stap: str
    """The last step applied."""
    volgende: tuple[str, ...]
    """The steps allowed next, in procedure order."""
    gesloten: str | None
    """Why the case ended early, if it did."""
    afgerond: bool
    toestemmingen: Mapping[str, str]
    """Consent name -> verleend / geweigerd / ingetrokken."""
    termijnen: tuple[Deadline, ...]
    """Open deadlines, earliest first."""
    wacht_op: tuple[str, ...] = ()
    """What the case waits for besides deadlines, in Dutch: "wacht op ondertekende machtiging (medische gegevens)"."""

    @property
    def volgende_termijn(self) -> Deadline | None:
        return self.termijnen[0] if self.termijnen else None

    def as_record(self) -> dict[str, Any]:
        """A JSON-able form (what the store keeps)."""
        return {"kenmerk": self.kenmerk, "profiel": self.profiel, "stap": self.stap, "volgende": list(self.volgende),
                "gesloten": self.gesloten, "afgerond": self.afgerond, "toestemmingen": dict(self.toestemmingen),
                "termijnen": [{"wat": d.wat, "uiterlijk": d.uiterlijk.isoformat(), "wie": d.wie}
                              for d in self.termijnen], "wacht_op": list(self.wacht_op)}

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> CaseSummary:
        return cls(kenmerk=data["kenmerk"], profiel=data["profiel"], stap=data["stap"],
                   volgende=tuple(data["volgende"]), gesloten=data["gesloten"], afgerond=data["afgerond"],
                   toestemmingen=MappingProxyType(dict(data["toestemmingen"])),
                   termijnen=tuple(Deadline(t["wat"], dt.date.fromisoformat(t["uiterlijk"]), t["wie"])
                                   for t in data["termijnen"]), wacht_op=tuple(data.get("wacht_op", ())))


def summarise(state: CaseState) -> CaseSummary:
    """The summary of a case in `state` (the fold of its accepted events)."""
    return CaseSummary(
        kenmerk=state.kenmerk, profiel=state.profiel.value, stap=state.stappen[-1],
        volgende=tuple(sorted(allowed_steps(state), key=model.STAPPEN.index)), gesloten=state.gesloten,
        afgerond=state.afgerond, toestemmingen=MappingProxyType({k: v.value for k, v in state.consents.items()}),
        termijnen=tuple(deadlines(state)), wacht_op=waiting(state))


MACHTIGING_LABEL = {"medische_gegevens": "medische gegevens",
                    "extra_informatie:bedrijfsarts": "aanvullende informatie bij de eigen bedrijfsarts",
                    "extra_informatie:behandelaar": "aanvullende informatie bij de behandelaar",
                    "extra_informatie:werkgever": "aanvullende informatie bij de werkgever"}


def waiting(state: CaseState) -> tuple[str, ...]:
    """Per consent given but not yet signed: "wacht op ondertekende machtiging (<what>)"."""
    return tuple(f"wacht op ondertekende machtiging ({MACHTIGING_LABEL.get(name, name)})"
                 for name in state.wacht_op_machtiging)
