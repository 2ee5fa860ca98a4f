"""Retention and legal hold: how long a dossier is kept, and what stops its destruction.

Retention (art. 7:454 BW): a dossier is kept 20 years from its last change (`planning.retention_end`; the last
change is the day its newest case event was accepted). A legal hold (a dispute, a complaint, a request of the
court) stops every destruction until it is lifted; it lives in the audit trail, which outlives the dossier. A
reason given for a hold or a destruction is kept there for good, so it is refused when it holds personal data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pipeline.adapters.audit import Audit
from pipeline.adapters.store import Store
from pipeline.core import trail
from pipeline.core.planning import retention_end
from pipeline.core.redaction import personal_data_in
from pipeline.core.trail import Actie, AuditRecord, Gebeurtenis, Uitkomst
from pipeline.errors import ArchiveError


@dataclass(frozen=True)
class Retention:
    kenmerk: str
    laatste_wijziging: dt.date
    """The day the newest case event of the dossier was accepted."""
    bewaren_tot: dt.date
    """Last day the dossier must be kept (last change + 20 years)."""

    def due(self, today: dt.date) -> bool:
        """Past its retention date: may (and should) be destroyed."""
        return today > self.bewaren_tot


def retention(store: Store, kenmerk: str) -> Retention | None:
    events = store.events(kenmerk)
    if not events:
        return None
    last = max(dt.date.fromisoformat(e.accepted_at[:10]) for e in events)
    return Retention(kenmerk, last, retention_end(last))


def dossiers_due(store: Store, *, today: dt.date) -> list[Retention]:
    """Every dossier past its retention date, oldest retention date first (one query for all cases)."""
    found = []
    for kenmerk, last in store.last_changes():
        day = dt.date.fromisoformat(last)
        r = Retention(kenmerk, day, retention_end(day))
        if r.due(today):
            found.append(r)
    return sorted(found, key=lambda r: (r.bewaren_tot, r.kenmerk))


# --- legal hold -------------------------------------------------------------------------------------------------

def legal_hold(audit: Audit, kenmerk: str) -> AuditRecord | None:
    """The record that placed the legal hold on `kenmerk` when one is in place now, else None. A hold lives in the
    audit trail (placed and lifted, each with who and why), which outlives the dossier."""
    last = None
    for r in audit.trail(kenmerk):
        if r.gebeurtenis == Gebeurtenis.BLOKKADE and r.uitkomst == Uitkomst.GESLAAGD:
            last = r
    return last if last is not None and last.details.get("wat") == "geplaatst" else None


def held_dossiers(audit: Audit) -> set[str]:
    """Every kenmerk under a legal hold now (for a list of many dossiers: one query, not one per dossier)."""
    state: dict[str, bool] = {}
    for r in audit.of_kind(Gebeurtenis.BLOKKADE):
        if r.uitkomst == Uitkomst.GESLAAGD and r.kenmerk:
            state[r.kenmerk] = r.details.get("wat") == "geplaatst"
    return {k for k, held in state.items() if held}


def place_hold(store: Store, audit: Audit, kenmerk: str, *, reden: str) -> AuditRecord:
    """Put a legal hold on a dossier (a dispute, a complaint, a request of the court): no destruction until it is
    lifted. The reason is recorded for good, so it must be free of personal data."""
    return _hold(store, audit, kenmerk, reden=reden, wat="geplaatst")


def lift_hold(store: Store, audit: Audit, kenmerk: str, *, reden: str) -> AuditRecord:
    """Lift the legal hold of a dossier (the reason it was placed has lapsed)."""
    return _hold(store, audit, kenmerk, reden=reden, wat="opgeheven")


def _hold(store: Store, audit: Audit, kenmerk: str, *, reden: str, wat: str) -> AuditRecord:
    reden = (reden or "").strip()
    regel = "blokkade"
    if not reden:
        record_refusal(audit, kenmerk, "reden-ontbreekt", gebeurtenis=Gebeurtenis.BLOKKADE)
        raise ArchiveError("Geef een reden op (--reden), bijvoorbeeld \"klacht in behandeling\"; die wordt "
                           "vastgelegd.", kenmerk=kenmerk, field="reden", rule="reden")
    if not store.events(kenmerk):
        raise ArchiveError(f"Er is geen dossier {kenmerk}.", kenmerk=kenmerk, rule=regel)
    placed = legal_hold(audit, kenmerk) is not None
    if placed == (wat == "geplaatst"):
        raise ArchiveError(f"Op het dossier {kenmerk} rust {'al' if placed else 'geen'} juridische blokkade.",
                           kenmerk=kenmerk, rule=regel)
    check_reden(audit, store, kenmerk, reden, gebeurtenis=Gebeurtenis.BLOKKADE)
    return audit.record(Gebeurtenis.BLOKKADE, kenmerk=kenmerk, actie=Actie.UPDATE, uitkomst=Uitkomst.GESLAAGD,
                        wat=wat, reden=reden)


def check_reden(audit: Audit, store: Store, kenmerk: str, reden: str, *,
                gebeurtenis: Gebeurtenis = Gebeurtenis.VERNIETIGING) -> None:
    """The reason is kept in the audit trail for good: refuse personal data in it (a BSN, a name, a birth date)."""
    werknemers = werknemers_named(store.events(kenmerk))
    names = [n for w in werknemers for n in (w.get("naam"), f"{w.get('voorletters', '')} {w.get('naam', '')}")
             if isinstance(n, str) and n.strip()]
    dates = []
    for w in werknemers:
        try:
            dates.append(dt.date.fromisoformat(str(w.get("geboortedatum"))))
        except ValueError:
            pass
    niets = "Er is niets vernietigd." if gebeurtenis is Gebeurtenis.VERNIETIGING else "Er is niets vastgelegd."
    if len(reden) > trail.MAX_DETAIL_TEXT:
        record_refusal(audit, kenmerk, "reden-te-lang", gebeurtenis=gebeurtenis)
        raise ArchiveError(f"De reden is te lang ({len(reden)} tekens, hooguit {trail.MAX_DETAIL_TEXT}): noem alleen "
                           f"de grond, bijvoorbeeld \"verzoek werknemer tot vernietiging (art. 7:455 BW)\". {niets}",
                           kenmerk=kenmerk, field="reden", rule="reden-te-lang")
    found = personal_data_in(reden, names=names, dates=dates)
    if found:
        record_refusal(audit, kenmerk, "reden-persoonsgegevens", gebeurtenis=gebeurtenis)
        raise ArchiveError(f"De reden bevat persoonsgegevens ({', '.join(found)}). De reden wordt blijvend in het "
                           "logboek bewaard en mag de werknemer niet aanwijzen: noem alleen de grond, bijvoorbeeld "
                           f"\"verzoek werknemer tot vernietiging (art. 7:455 BW)\". {niets}",
                           kenmerk=kenmerk, field="reden", rule="reden-persoonsgegevens")


def record_refusal(audit: Audit, kenmerk: str, regel: str, *,
                   gebeurtenis: Gebeurtenis = Gebeurtenis.VERNIETIGING) -> None:
    """Record in the audit trail that a destruction (or a hold) was refused, and by which rule."""
    audit.record(gebeurtenis, kenmerk=kenmerk, actie=Actie.DELETE if gebeurtenis is Gebeurtenis.VERNIETIGING
                 else Actie.UPDATE, uitkomst=Uitkomst.GEWEIGERD, regel=regel)


def werknemers_named(events) -> list[dict]:
    """The employee of each event that names one (the request, a correction), as in the case file."""
    return [e.payload["werknemer"] for e in events if isinstance(e.payload.get("werknemer"), dict)]
