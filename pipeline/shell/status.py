"""What `sopipe status` shows: per case the step, consents, deliveries and the next deadline (read-only).

One case (`case_status`) is folded from its events on the spot. The list of all cases (`all_status`) reads the
case summaries the store keeps beside the events (`pipeline.core.summary`: derived from the same fold, written
with each accepted event), so it costs one query however many events twenty years brought; summaries that are
missing (a database from before them) are made from the events first. `rebuild_summaries` refolds everything.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping

from pipeline.adapters.store import Store, SummaryRow, fold_stored
from pipeline.core.planning import retention_end
from pipeline.core.routing import Party
from pipeline.core.signatures import signer_party
from pipeline.core.state import CaseState
from pipeline.core.summary import SUMMARY_VERSION, summarise


@dataclass
class CaseStatus:
    kenmerk: str
    profiel: str
    stap: str
    volgende: list[str]
    gesloten: str | None
    afgerond: bool
    toestemmingen: dict[str, str]
    bezorgd: list[dict] | None
    """Every delivered copy (one case); None in the list of all cases, which gives `documenten` only."""
    achtergehouden: list[dict] | None
    """Copies withheld for want of consent (one case); None in the list of all cases."""
    quarantaine: list[dict]
    volgende_termijn: dict | None
    te_laat: bool
    bewaren_tot: str
    termijnen: list[dict] = field(default_factory=list)
    documenten: int = 0
    """Number of copies delivered to mailboxes."""
    wacht_op: list[str] = field(default_factory=list)
    """What the case waits for besides deadlines: "wacht op ondertekende machtiging (medische gegevens)"."""


def _status(record: Mapping[str, Any], *, today: dt.date, last_change: str, documenten: int,
            quarantaine: list[dict], bezorgd: list[dict] | None = None,
            achtergehouden: list[dict] | None = None) -> CaseStatus:
    """A case's status from its summary record (`CaseSummary.as_record()`): one path for one case and for all."""
    day = today.isoformat()  # ISO dates compare as strings: no parsing per case of 10,000
    termijnen = [{**t, "te_laat": t["uiterlijk"] < day} for t in record["termijnen"]]
    first = record["termijnen"][0] if record["termijnen"] else None
    return CaseStatus(
        kenmerk=record["kenmerk"], profiel=record["profiel"], stap=record["stap"], volgende=list(record["volgende"]),
        gesloten=record["gesloten"], afgerond=record["afgerond"], toestemmingen=dict(record["toestemmingen"]),
        bezorgd=bezorgd, achtergehouden=achtergehouden, quarantaine=quarantaine,
        volgende_termijn=dict(first) if first else None, te_laat=bool(first and first["uiterlijk"] < day),
        bewaren_tot=_bewaren_tot(last_change[:10]), termijnen=termijnen, documenten=documenten,
        wacht_op=list(record.get("wacht_op", ())))


@functools.lru_cache(maxsize=4096)
def _bewaren_tot(last_change: str) -> str:
    return retention_end(dt.date.fromisoformat(last_change)).isoformat()


def _held(r) -> dict:
    return {"document": r.kind, "aan": r.party, "pad": r.path, "reden": r.detail}


def case_status(store: Store, kenmerk: str, *, today: dt.date) -> CaseStatus | None:
    events = store.events(kenmerk)
    if not events:
        return None
    state = fold_stored(events)
    records = store.deliveries(kenmerk)
    bezorgd = [{"document": r.kind, "aan": r.party, "pad": r.path, "op": r.at} for r in records
               if r.status == "delivered"]
    return _status(summarise(state).as_record(), today=today, last_change=max(e.accepted_at for e in events),
                   documenten=len(bezorgd), bezorgd=bezorgd,
                   achtergehouden=[{"document": r.kind, "aan": r.party, "reden": r.detail} for r in records
                                   if r.status == "withheld"],
                   quarantaine=[_held(r) for r in records if r.status == "quarantined"])


def all_status(store: Store, *, today: dt.date, overdue: bool = False) -> list[CaseStatus]:
    """Every case (`overdue`: only those with a deadline before `today`), from the stored summaries."""
    ensure_summaries(store)
    held: dict[str, list[dict]] = {}
    for r in store.quarantined():
        held.setdefault(r.kenmerk, []).append(_held(r))
    return [_status(s.record, today=today, last_change=s.laatste_wijziging, documenten=s.bezorgd,
                    quarantaine=held.get(s.record["kenmerk"], []))
            for s in store.summaries(due_before=today.isoformat() if overdue else None)]


def summary_row(state: CaseState) -> SummaryRow:
    """What the store keeps for a case in `state`: its summary, and the date `--overdue` selects on."""
    summary = summarise(state)
    first = summary.volgende_termijn
    return SummaryRow(kenmerk=state.kenmerk, version=SUMMARY_VERSION, record=summary.as_record(),
                      volgende_uiterlijk=first.uiterlijk.isoformat() if first else None)


def rebuild_summaries(store: Store, kenmerken: list[str] | None = None) -> int:
    """Make the summaries of these cases (default: all) again from the fold of their events; returns how many."""
    rows = []
    for kenmerk in store.kenmerken() if kenmerken is None else kenmerken:
        state = store.case_state(kenmerk)
        if state is not None:
            rows.append(summary_row(state))
    store.write_summaries(rows)
    return len(rows)


def ensure_summaries(store: Store) -> int:
    """Make the summaries that are missing or of an older derivation; returns how many were made."""
    missing = store.kenmerken_without_summary(SUMMARY_VERSION)
    return rebuild_summaries(store, missing) if missing else 0


def still_failed(failures: list[dict], in_failed: Iterable[str]) -> list[dict]:
    """The stored failures whose file still lies in inbox/failed/ (`in_failed`: the names there), under its own
    name or the `stem.N.ext` a name clash gave it: a file the secretariat removed is no longer listed."""
    names = set(in_failed)

    def present(name: str) -> bool:
        stem, dot, ext = name.rpartition(".")
        pattern = re.compile(rf"{re.escape(stem)}\.\d+\.{re.escape(ext)}" if dot else rf"{re.escape(name)}\.\d+")
        return name in names or any(pattern.fullmatch(n) for n in names)

    latest = {f["file_name"]: f for f in failures}  # in order of failing: a name refused twice is listed once
    return [f for f in latest.values() if present(f["file_name"])]


def as_json(statuses: list[CaseStatus], failures: list[dict], warnings: list[str] | None = None) -> dict:
    return {"zaken": [asdict(s) for s in statuses], "mislukte_bestanden": failures,
            "waarschuwingen": list(warnings or [])}


def warnings(settings, store: Store) -> list[str]:
    """What the operator should know beyond the cases: weak signature levels, advices waiting for a signature."""
    out = list(settings.signing_warnings())
    for p in store.open_pending():
        wie = "eigen bedrijfsarts (aanvrager)" if signer_party(p.kind) is Party.BEDRIJFSARTS else \
            "second opinion-bedrijfsarts"
        out.append(f"Zaak {p.kenmerk}: {p.kind} wacht sinds {p.created_at[:10]} op de handtekening van de {wie} "
                   f"(BIG {p.signer_big or '?'}); klaargezet in {p.path}")
    return out
