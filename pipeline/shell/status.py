"""What `sopipe status` shows: per case the step, consents, deliveries and the next deadline (read-only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from pipeline.adapters.store import Store
from pipeline.core import model
from pipeline.core.planning import deadlines, retention_end
from pipeline.core.procedure import allowed_steps, fold


@dataclass
class CaseStatus:
    kenmerk: str
    profiel: str
    stap: str
    volgende: list[str]
    gesloten: str | None
    afgerond: bool
    toestemmingen: dict[str, str]
    bezorgd: list[dict]
    achtergehouden: list[dict]
    quarantaine: list[dict]
    volgende_termijn: dict | None
    te_laat: bool
    bewaren_tot: str
    termijnen: list[dict] = field(default_factory=list)


def case_status(store: Store, kenmerk: str, *, today: dt.date) -> CaseStatus | None:
    events = store.events(kenmerk)
    if not events:
        return None
    state = fold(model.parse_event(e.payload) for e in events)
    records = store.deliveries(kenmerk)
    open_deadlines = deadlines(state)
    last_change = max(dt.date.fromisoformat(e.accepted_at[:10]) for e in events)
    first = open_deadlines[0] if open_deadlines else None
    return CaseStatus(
        kenmerk=kenmerk,
        profiel=state.profiel.value,
        stap=state.stappen[-1],
        volgende=sorted(allowed_steps(state), key=model.STAPPEN.index),
        gesloten=state.gesloten,
        afgerond=state.afgerond,
        toestemmingen={k: v.value for k, v in state.consents.items()},
        bezorgd=[{"document": r.kind, "aan": r.party, "pad": r.path, "op": r.at} for r in records
                 if r.status == "delivered"],
        achtergehouden=[{"document": r.kind, "aan": r.party, "reden": r.detail} for r in records
                        if r.status == "withheld"],
        quarantaine=[{"document": r.kind, "aan": r.party, "pad": r.path, "reden": r.detail} for r in records
                     if r.status == "quarantined"],
        volgende_termijn={"wat": first.wat, "uiterlijk": first.uiterlijk.isoformat(), "wie": first.wie}
        if first else None,
        te_laat=bool(first and first.uiterlijk < today),
        bewaren_tot=retention_end(last_change).isoformat(),
        termijnen=[{"wat": d.wat, "uiterlijk": d.uiterlijk.isoformat(), "wie": d.wie,
                    "te_laat": d.uiterlijk < today} for d in open_deadlines],
    )


def all_status(store: Store, *, today: dt.date) -> list[CaseStatus]:
    return [s for k in store.kenmerken() if (s := case_status(store, k, today=today)) is not None]


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
