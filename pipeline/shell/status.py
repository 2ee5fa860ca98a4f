"""What `sopipe status` shows: per case the step, consents, deliveries and the next deadline (read-only).

One case (`case_status`) is folded from its events on the spot. The list of all cases (`all_status`) reads the
case summaries the store keeps beside the events (`pipeline.core.summary`: derived from the same fold, written
with each accepted event), so it costs one query however many events twenty years brought; summaries that are
missing (a database from before them) are made from the events first. `rebuild_summaries` refolds everything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from pipeline.adapters.store import Store, SummaryRow
from pipeline.core import model
from pipeline.core.planning import retention_end
from pipeline.core.procedure import fold
from pipeline.core.state import CaseState
from pipeline.core.summary import SUMMARY_VERSION, CaseSummary, summarise


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


def _status(summary: CaseSummary, *, today: dt.date, last_change: str, documenten: int, quarantaine: list[dict],
            bezorgd: list[dict] | None = None, achtergehouden: list[dict] | None = None) -> CaseStatus:
    first = summary.volgende_termijn
    return CaseStatus(
        kenmerk=summary.kenmerk, profiel=summary.profiel, stap=summary.stap, volgende=list(summary.volgende),
        gesloten=summary.gesloten, afgerond=summary.afgerond, toestemmingen=dict(summary.toestemmingen),
        bezorgd=bezorgd, achtergehouden=achtergehouden, quarantaine=quarantaine,
        volgende_termijn={"wat": first.wat, "uiterlijk": first.uiterlijk.isoformat(), "wie": first.wie}
        if first else None,
        te_laat=bool(first and first.uiterlijk < today),
        bewaren_tot=retention_end(dt.date.fromisoformat(last_change[:10])).isoformat(),
        termijnen=[{"wat": d.wat, "uiterlijk": d.uiterlijk.isoformat(), "wie": d.wie,
                    "te_laat": d.uiterlijk < today} for d in summary.termijnen],
        documenten=documenten)


def _held(r) -> dict:
    return {"document": r.kind, "aan": r.party, "pad": r.path, "reden": r.detail}


def case_status(store: Store, kenmerk: str, *, today: dt.date) -> CaseStatus | None:
    events = store.events(kenmerk)
    if not events:
        return None
    state = fold(model.parse_event(e.payload) for e in events)
    records = store.deliveries(kenmerk)
    bezorgd = [{"document": r.kind, "aan": r.party, "pad": r.path, "op": r.at} for r in records
               if r.status == "delivered"]
    return _status(summarise(state), today=today, last_change=max(e.accepted_at for e in events),
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
    return [_status(CaseSummary.from_record(s.record), today=today, last_change=s.laatste_wijziging,
                    documenten=s.bezorgd, quarantaine=held.get(s.record["kenmerk"], []))
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
        state = fold(model.parse_event(e.payload) for e in store.events(kenmerk))
        if state is not None:
            rows.append(summary_row(state))
    store.write_summaries(rows)
    return len(rows)


def ensure_summaries(store: Store) -> int:
    """Make the summaries that are missing or of an older derivation; returns how many were made."""
    missing = store.kenmerken_without_summary(SUMMARY_VERSION)
    return rebuild_summaries(store, missing) if missing else 0


def as_json(statuses: list[CaseStatus], failures: list[dict], warnings: list[str] | None = None) -> dict:
    return {"zaken": [asdict(s) for s in statuses], "mislukte_bestanden": failures,
            "waarschuwingen": list(warnings or [])}


def warnings(settings, store: Store) -> list[str]:
    """What the operator should know beyond the cases: weak signature levels, advices waiting for a signature."""
    out = list(settings.signing_warnings())
    for p in store.open_pending():
        out.append(f"Zaak {p.kenmerk}: {p.kind} wacht sinds {p.created_at[:10]} op de handtekening van de second "
                   f"opinion-bedrijfsarts (BIG {p.signer_big or '?'}); klaargezet in {p.path}")
    return out
