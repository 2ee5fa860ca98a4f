"""The gateway's operations: each checks the session, the role and the scope, records, and only then answers.

`Gateway.handle(request)` is the whole surface (the socket server only frames it). Every operation but `login`
starts from the session token the gateway itself issued (`users.Users.session`), so the person acting (`Actor`)
comes from the gateway's own users table, never from what the desk says. A case another scope owns answers
exactly as a case that does not exist (`niet-gevonden`), and the refusal is recorded in the audit trail and the
log. Data about a case is returned only after its NEN 7513 record was written (`Audit.acting(actor)`): no record,
no data. What the desk submits becomes a case file written atomically into `inbox/`, with `ingediend_door` set
from the session; the pipeline then takes it in like any other file.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import os
import re
import stat
from typing import Any, Callable, Mapping

from pipeline.adapters import safefs
from pipeline.adapters.audit import Audit
from pipeline.adapters.clock import SYSTEM_CLOCK, Clock
from pipeline.adapters.store import Store, fold_stored
from pipeline.core import model
from pipeline.core.actor import Actor, Rol
from pipeline.core.form import STAP_TITEL
from pipeline.core.procedure import allowed_steps
from pipeline.core.kinds import ROWS
from pipeline.core.scope import ingediend_door, may_see
from pipeline.core.state import CaseState, Consent
from pipeline.core.trail import TZ, Actie, Gebeurtenis, Uitkomst
from pipeline.gateway.protocol import OPERATIONS, GatewayError
from pipeline.gateway.role_ops import RoleOperations
from pipeline.gateway.users import Session, Users
from pipeline.settings import FAILED, Settings
from pipeline.shell import status as st
from pipeline.shell.check import check_case_file
from pipeline.shell.intake import IntakeAccess
from pipeline.shell.role_views import RoleRoot

log = logging.getLogger("sopipe.gateway")

_KENMERK = re.compile(r"^[A-Za-z0-9_-]{3,40}$")
_SHA = re.compile(r"^[0-9a-f]{64}$")
PAGE = 50
"""Cases per page of the list (keyset pagination: the next page starts after the last case shown)."""
MAX_FAILED_FILE = 1_048_576
SECRETARIAT = frozenset({Rol.SECRETARIAAT})
NOT_FOUND = "Deze zaak bestaat niet, of u hebt er geen toegang toe."

_LIST_SQL = """
    SELECT s.kenmerk, s.summary, s.bezorgd, s.quarantaine, s.first_event_id
    FROM case_summary s JOIN events e ON e.id = s.first_event_id
    WHERE json_extract(e.payload, '$.arbodienst.code') = :org
      AND (:na IS NULL OR s.first_event_id < :na)
      AND (:te_laat = 0 OR s.volgende_uiterlijk < :vandaag)
      AND (:stap IS NULL OR json_extract(s.summary, '$.stap') = :stap)
      AND (:profiel IS NULL OR json_extract(s.summary, '$.profiel') = :profiel)
      AND (:zoek IS NULL OR s.kenmerk LIKE :zoek ESCAPE '\\')
    ORDER BY s.first_event_id DESC
    LIMIT :n
"""
"""One page of a secretariat's cases, newest first, from the summaries `sopipe status` lists. The case's
arbodienst is read from its first event (always the request) by primary key, so the scope costs no fold."""


class Gateway:
    def __init__(self, settings: Settings, *, store: Store, users: Users, clock: Clock | None = None,
                 intake_access: IntakeAccess | None = None) -> None:
        self.settings = settings
        self.store = store
        self.users = users
        self.clock = clock or SYSTEM_CLOCK
        self.audit = Audit(store, clock=self.clock)
        self.intake_access = intake_access or IntakeAccess()
        self._ops: Mapping[str, Callable[..., dict]] = {
            **{op: getattr(self, f"op_{op}") for op in OPERATIONS},
            **RoleOperations(RoleRoot(settings, store, self.audit, self.clock), users, today=self._today).table()}
        st.ensure_summaries(store)  # a database from before the summaries: made once, here, not per request

    def close_thread(self) -> None:
        """Close this thread's database connections (the socket server runs a thread per connection)."""
        self.store.close()
        self.users.close()

    # --- the one entry --------------------------------------------------------------------------------------------

    def handle(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The answer to one request (never raises: a refusal is `{"ok": false, ...}`)."""
        op = request.get("op")
        try:
            if op not in self._ops:
                raise GatewayError("onbekend", "Deze handeling bestaat niet.")
            args = {k: v for k, v in request.items() if k != "op"}
            if op == "login":
                return {"ok": True, **self.op_login(**args)}
            token = str(args.pop("token", ""))
            session = self.users.session(token)
            if op == "logout":
                self.users.logout(token)
                return {"ok": True}
            if session.moet_wijzigen and op not in ("wachtwoord", "logout", "wie"):
                raise GatewayError("wachtwoord-wijzigen", "Kies eerst een nieuw wachtwoord.")
            return {"ok": True, **self._ops[op](session, **args)}
        except GatewayError as e:
            return {"ok": False, "fout": e.code, "bericht": e.bericht}
        except (TypeError, ValueError):
            log.warning("gateway: malformed arguments for %s", op, exc_info=True)
            return {"ok": False, "fout": "protocol", "bericht": "Het verzoek is onvolledig of klopt niet."}

    # --- sessions -------------------------------------------------------------------------------------------------

    def op_login(self, *, gebruikersnaam: str, wachtwoord: str, code: str) -> dict:
        try:
            token, session = self.users.login(gebruikersnaam, wachtwoord, code)
        except GatewayError:
            log.warning("gateway: login refused for a desk user")
            raise
        log.info("gateway: %s logged in", session.actor.gebruikersnaam)
        return {"token": token, "moet_wijzigen": session.moet_wijzigen, "gebruiker": _person(session.actor)}

    def op_wachtwoord(self, session: Session, *, oud: str, nieuw: str) -> dict:
        self.users.change_password(session.actor.gebruikersnaam, oud, nieuw)
        return {}

    def op_code(self, session: Session, *, code: str) -> dict:
        if not self.users.verify_code(session.actor.gebruikersnaam, code):
            raise GatewayError("code", "De code klopt niet.")
        return {}

    def op_logout(self, session: Session) -> dict:  # handled in `handle`: it needs the token itself
        return {}

    def op_wie(self, session: Session) -> dict:
        return {"gebruiker": _person(session.actor), "moet_wijzigen": session.moet_wijzigen}

    # --- the case list and the case page -------------------------------------------------------------------------

    def _today(self) -> dt.date:
        return self.clock.now().astimezone(TZ).date()

    def op_zaken(self, session: Session, *, na: int | None = None, te_laat: bool = False, stap: str | None = None,
                 profiel: str | None = None, zoek: str | None = None) -> dict:
        actor = _role(session, SECRETARIAT)
        today = self._today().isoformat()
        pattern = None
        if zoek:
            pattern = re.sub(r"([\\%_])", r"\\\1", str(zoek).strip()[:40]) + "%"
        params = {"org": actor.organisatie, "na": int(na) if na is not None else None, "te_laat": int(bool(te_laat)),
                  "vandaag": today, "stap": stap or None, "profiel": profiel or None, "zoek": pattern,
                  "n": PAGE + 1}
        with self.store.snapshot() as conn:
            rows = conn.execute(_LIST_SQL, params).fetchall()
        more = len(rows) > PAGE
        rows = rows[:PAGE]
        zaken = []
        for kenmerk, summary, bezorgd, quarantaine, _first in rows:
            record = json.loads(summary)
            first = record["termijnen"][0] if record["termijnen"] else None
            zaken.append({"kenmerk": kenmerk, "profiel": record["profiel"], "stap": record["stap"],
                          "stap_titel": STAP_TITEL.get(record["stap"], record["stap"]),
                          "volgende_termijn": first, "te_laat": bool(first and first["uiterlijk"] < today),
                          "gesloten": record["gesloten"], "afgerond": record["afgerond"], "documenten": bezorgd,
                          "quarantaine": quarantaine})
        # the list names no person (kenmerk, step, deadline, counts): one record for the listing, as `sopipe status`
        self.audit.acting(actor).listed(wat="desk-overzicht", aantal=len(zaken))
        return {"zaken": zaken, "volgende": rows[-1][4] if more else None}

    def _case(self, actor: Actor, kenmerk: Any, *, wat: str) -> tuple[CaseState, list]:
        """The case's state and events if `actor` may see it; else `niet-gevonden`, the refusal recorded."""
        kenmerk = str(kenmerk)
        events = self.store.events(kenmerk) if _KENMERK.match(kenmerk) else []
        state = fold_stored(events)
        if state is None or not may_see(actor, state):
            self._refused(actor, kenmerk if state is not None else None, wat=wat,
                          regel="buiten-bevoegdheid" if state is not None else "onbekende-zaak")
            raise GatewayError("niet-gevonden", NOT_FOUND)
        return state, events

    def _refused(self, actor: Actor, kenmerk: str | None, *, wat: str, regel: str) -> None:
        log.warning("gateway: %s refused %s of %s (%s)", actor.gebruikersnaam, wat, kenmerk or "an unknown case",
                    regel)
        self.audit.acting(actor).record(Gebeurtenis.INZAGE, kenmerk=kenmerk, actie=Actie.READ,
                                        uitkomst=Uitkomst.GEWEIGERD, wat=f"desk-geweigerd:{wat}", regel=regel)

    def op_zaak(self, session: Session, *, kenmerk: str) -> dict:
        actor = _role(session, SECRETARIAT)
        state, events = self._case(actor, kenmerk, wat="zaak")
        status = st.case_status(self.store, state.kenmerk, today=self._today())
        page = {
            "kenmerk": state.kenmerk, "profiel": state.profiel.value, "stap": state.stappen[-1],
            "stap_titel": STAP_TITEL.get(state.stappen[-1], state.stappen[-1]),
            "gesloten": state.gesloten, "afgerond": state.afgerond,
            "werknemer": f"{state.verzoek.werknemer.voorletters} {state.verzoek.werknemer.naam}",
            "werkgever": state.verzoek.werkgever.naam,
            "toestemmingen": _consents(state), "termijnen": status.termijnen,
            "documenten": _documents(self.store.deliveries(state.kenmerk)),
            "tijdlijn": [{"stap": e.stap, "titel": STAP_TITEL.get(e.stap, e.stap), "datum": e.payload.get("datum"),
                          "ingediend_door": e.payload.get("ingediend_door"), "ontvangen": e.accepted_at,
                          "bestand": e.file_name} for e in events],
            "volgende": _next_steps(state),
        }
        self.audit.acting(actor).viewed(state.kenmerk, wat="status")  # before the data leaves
        return {"zaak": page}

    def op_stappen(self, session: Session, *, kenmerk: str | None = None) -> dict:
        actor = _role(session, SECRETARIAT)
        if not kenmerk:
            return {"stappen": ["verzoek"]}
        state, _ = self._case(actor, kenmerk, wat="stappen")
        self.audit.acting(actor).viewed(state.kenmerk, wat="desk-stappen")
        return {"stappen": _next_steps(state)}

    # --- check and submit -----------------------------------------------------------------------------------------

    def _draft(self, actor: Actor, kenmerk: Any, stap: Any, gegevens: Any) -> tuple[dict, list[tuple[str, str]]]:
        """The case file the desk's form makes, and what is wrong with it now (the intake's check on the case's
        current state). `ingediend_door` is the logged-in person; a request names the user's own arbodienst."""
        if not isinstance(gegevens, dict):
            raise GatewayError("protocol", "De gegevens ontbreken.")
        kenmerk, stap = str(kenmerk or "").strip(), str(stap or "")
        if stap not in model.STAPPEN:
            raise GatewayError("stap", "Deze stap bestaat niet.")
        obj = {**gegevens, "schema": model.SCHEMA_ID, "kenmerk": kenmerk, "stap": stap,
               "ingediend_door": ingediend_door(actor)}
        problems: list[tuple[str, str]] = []
        if stap == "verzoek":
            arbodienst = obj.get("arbodienst")
            if isinstance(arbodienst, dict):
                code = arbodienst.get("code") or actor.organisatie
                obj["arbodienst"] = {**arbodienst, "code": code}
                if code != actor.organisatie:
                    problems.append(("arbodienst.code", f"U kunt alleen zaken van uw eigen arbodienst "
                                                        f"({actor.organisatie}) indienen."))
            existing = self.store.last_event_sha256(kenmerk) if _KENMERK.match(kenmerk) else None
            if existing is not None:
                problems.append(("kenmerk", "Dit kenmerk is al in gebruik; kies een ander kenmerk."))
        else:
            self._case(actor, kenmerk, wat="controle")
        if not problems:
            result = check_case_file(obj, state_of=self._state, organisaties=self.settings.organisaties)
            problems = list(result.problems)
        return obj, problems

    def _state(self, kenmerk: str) -> CaseState | None:
        return self.store.case_state(kenmerk)

    def op_controleer(self, session: Session, *, kenmerk: str, stap: str, gegevens: dict) -> dict:
        actor = _role(session, SECRETARIAT)
        obj, problems = self._draft(actor, kenmerk, stap, gegevens)
        if stap != "verzoek":  # the answer reflects the case's state: a look at the case, recorded
            self.audit.acting(actor).viewed(obj["kenmerk"], wat="desk-controle")
        return {"problemen": [list(p) for p in problems]}

    def op_indienen(self, session: Session, *, kenmerk: str, stap: str, gegevens: dict,
                    vervangt: str | None = None) -> dict:
        """Check, then write the case file atomically into `inbox/`; the pipeline does the rest."""
        actor = _role(session, SECRETARIAT)
        replaced = self._failed_in_scope(actor, vervangt) if vervangt else None
        obj, problems = self._draft(actor, kenmerk, stap, gegevens)
        raw = json.dumps(obj, ensure_ascii=False, indent=2).encode("utf-8")
        if len(raw) > self.settings.intake.max_file_bytes:  # the intake would refuse it: say so now
            problems.append(("", f"Het bestand wordt te groot ({len(raw)} bytes; de grens is "
                                 f"{self.settings.intake.max_file_bytes})."))
        if problems:
            return {"problemen": [list(p) for p in problems]}
        digest = hashlib.sha256(raw).hexdigest()
        stamp = self.clock.now().astimezone(TZ).strftime("%Y%m%dT%H%M%S")
        name = f"{obj['kenmerk']}_{stap}_{stamp}_{digest[:8]}.json"
        # noted before the file appears: the pipeline may take it at once, and the desk must be able to follow it
        self.users.submitted(sha256=digest, kenmerk=obj["kenmerk"], stap=stap, bestand=name, actor=actor)
        audit = self.audit.acting(actor)
        audit.record(Gebeurtenis.INTAKE, kenmerk=obj["kenmerk"], actie=Actie.CREATE, uitkomst=Uitkomst.GESTART,
                     stap=stap, bestand=name, bestand_sha256=digest, wat="desk-indienen")
        with safefs.folder(self.settings.root, ("inbox",)) as fd:
            safefs.write_at(fd, name, raw, access=self.intake_access.case_file)
        if replaced is not None:
            self.users.mark_replaced(replaced["sha256"], by=digest, actor=actor)
            audit.record(Gebeurtenis.INTAKE, kenmerk=replaced["kenmerk"], actie=Actie.UPDATE,
                         uitkomst=Uitkomst.GESLAAGD, bestand=replaced["bestand"],
                         bestand_sha256=replaced["sha256"], sha256=digest, regel="vervangen")
        log.info("gateway: %s submitted %s (%s)", actor.gebruikersnaam, name, stap)
        return {"sha256": digest, "bestand": name, "problemen": []}

    def op_volg(self, session: Session, *, sha256: str) -> dict:
        """Where a submitted file is: `wacht` (in the inbox), `bezig`, `verwerkt` or `mislukt` (with the report)."""
        actor = _role(session, SECRETARIAT)
        sha256 = str(sha256)
        note = self.users.submission(sha256) if _SHA.match(sha256) else None
        if note is None or note["organisatie"] != actor.organisatie:
            self._refused(actor, None, wat="volg", regel="onbekend-bestand")
            raise GatewayError("niet-gevonden", "Dit bestand is niet via uw desk ingediend.")
        with self.store.snapshot() as conn:
            row = conn.execute("SELECT status, kenmerk, detail FROM journal WHERE sha256=?", (sha256,)).fetchone()
        status = {None: "wacht", "processing": "bezig", "done": "verwerkt", "failed": "mislukt"}[row[0] if row else None]
        out = {"status": status, "kenmerk": note["kenmerk"], "stap": note["stap"], "bestand": note["bestand"]}
        if status == "mislukt":
            failed = self._failed_files().get(sha256)
            out["rapport"] = failed["rapport"] if failed else (row[2] or "")
        self.audit.acting(actor).viewed(note["kenmerk"], wat="desk-volg")
        return out

    # --- failed files ---------------------------------------------------------------------------------------------

    def _failed_files(self) -> dict[str, dict]:
        """Every failed case file in `inbox/failed/` by its SHA-256: name, kenmerk, step, arbodienst, report."""
        out: dict[str, dict] = {}
        failed = self.settings.failed
        if not failed.is_dir():
            return out
        with safefs.folder(self.settings.root, FAILED) as fd:
            for name in sorted(os.listdir(fd)):
                if not name.endswith(".json"):
                    continue
                st_ = safefs.entry(fd, name)
                if st_ is None or not stat.S_ISREG(st_.st_mode) or st_.st_size > MAX_FAILED_FILE:
                    continue
                raw, _ = safefs.read_at(fd, name, limit=MAX_FAILED_FILE)
                try:
                    data = json.loads(raw.decode("utf-8-sig"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    data = None
                data = data if isinstance(data, dict) else None
                report = b""
                if safefs.entry(fd, name + ".error.txt") is not None:
                    report, _ = safefs.read_at(fd, name + ".error.txt", limit=MAX_FAILED_FILE)
                out[hashlib.sha256(raw).hexdigest()] = {"bestand": name, "raw": raw, "gegevens": data,
                                                        "rapport": report.decode("utf-8", "replace")}
        return out

    def _org_of(self, data: dict | None, kenmerk: str | None) -> str | None:
        """The arbodienst a failed file belongs to: its case's, or for a request the one it names."""
        if kenmerk and _KENMERK.match(kenmerk):
            state = self._state(kenmerk)
            if state is not None:
                return state.verzoek.arbodienst.code
        if data and data.get("stap") == "verzoek" and isinstance(data.get("arbodienst"), dict):
            return data["arbodienst"].get("code")
        return None

    def _failed_visible(self, actor: Actor) -> list[dict]:
        replaced = self.users.replaced()
        out = []
        for sha, f in self._failed_files().items():
            if sha in replaced:
                continue
            data = f["gegevens"]
            kenmerk = data.get("kenmerk") if data and isinstance(data.get("kenmerk"), str) else None
            if self._org_of(data, kenmerk) != actor.organisatie:
                continue
            out.append({"sha256": sha, "bestand": f["bestand"], "kenmerk": kenmerk if kenmerk and
                        _KENMERK.match(kenmerk) else None, "stap": data.get("stap") if data else None,
                        "rapport": f["rapport"], "raw": f["raw"], "gegevens": data})
        return out

    def _failed_in_scope(self, actor: Actor, sha256: Any) -> dict:
        found = next((f for f in self._failed_visible(actor) if f["sha256"] == str(sha256)), None)
        if found is None:
            self._refused(actor, None, wat="mislukt-bestand", regel="onbekend-bestand")
            raise GatewayError("niet-gevonden", "Dit mislukte bestand bestaat niet (meer), of u hebt er geen "
                                                "toegang toe.")
        return found

    def op_mislukt(self, session: Session) -> dict:
        actor = _role(session, SECRETARIAT)
        files = self._failed_visible(actor)
        self.audit.acting(actor).listed(wat="desk-mislukt", aantal=len(files))
        return {"bestanden": [{k: f[k] for k in ("sha256", "bestand", "kenmerk", "stap")} for f in files]}

    def op_mislukt_bestand(self, session: Session, *, sha256: str) -> dict:
        """A failed file to open again in the form: its data, its report, and its problems per field now."""
        actor = _role(session, SECRETARIAT)
        f = self._failed_in_scope(actor, sha256)
        result = check_case_file(f["raw"], state_of=self._state, organisaties=self.settings.organisaties)
        self.audit.acting(actor).record(Gebeurtenis.INZAGE, kenmerk=f["kenmerk"], actie=Actie.READ,
                                        uitkomst=Uitkomst.GESLAAGD, wat="desk-mislukt-bestand",
                                        bestand=f["bestand"], bestand_sha256=f["sha256"])
        letter = (self.settings.failed / _letter_of(f["bestand"])).is_file()
        return {"bestand": f["bestand"], "kenmerk": f["kenmerk"], "stap": f["stap"], "rapport": f["rapport"],
                "gegevens": f["gegevens"], "problemen": [list(p) for p in result.problems],
                "brief": _letter_of(f["bestand"]) if letter else None}

    # --- letters the secretariat sends itself -------------------------------------------------------------------

    def op_brief(self, session: Session, *, sha256: str) -> dict:
        """The ready letter to a refused requester beside a failed request (`<file>.brief-aan-aanvrager.pdf`), to
        download and send; the download is recorded."""
        actor = _role(session, SECRETARIAT)
        f = self._failed_in_scope(actor, sha256)
        name = _letter_of(f["bestand"])
        with safefs.folder(self.settings.root, FAILED) as fd:
            if safefs.entry(fd, name) is None:
                raise GatewayError("niet-gevonden", "Bij dit bestand hoort geen brief.")
            pdf, _ = safefs.read_at(fd, name, limit=64 * 1024 * 1024)
        self.audit.acting(actor).record(Gebeurtenis.INZAGE, kenmerk=f["kenmerk"], actie=Actie.READ,
                                        uitkomst=Uitkomst.GESLAAGD, wat="desk-brief", bestand=name,
                                        sha256=hashlib.sha256(pdf).hexdigest())
        return {"naam": name, "pdf": base64.b64encode(pdf).decode("ascii")}


def _letter_of(failed_name: str) -> str:
    return failed_name + ".brief-aan-aanvrager.pdf"


def _role(session: Session, roles: frozenset[Rol]) -> Actor:
    if session.actor.rol not in roles:
        raise GatewayError("rol", "Dit deel van de desk is niet voor uw rol.")
    return session.actor


def _person(actor: Actor) -> dict:
    return {"gebruikersnaam": actor.gebruikersnaam, "naam": actor.naam, "rol": actor.rol.value,
            "organisatie": actor.organisatie}


def _next_steps(state: CaseState) -> list[str]:
    steps = sorted(allowed_steps(state), key=model.STAPPEN.index)
    if state.gesloten is None and any(v is Consent.VERLEEND for v in state.consents.values()):
        steps.append("intrekking")
    return steps


_BEWIJS_VAN = {"medische_gegevens": "aanvraag", "advies_delen_bedrijfsarts": "definitief",
               "advies_delen_werkgever": "definitief"}


def _consents(state: CaseState) -> list[dict]:
    """Each consent, its state and the evidence the case file gave for it (how, when, recorded by whom)."""
    out = []
    for name, value in sorted(state.consents.items()):
        event = None
        if name.startswith("extra_informatie:"):
            bron = name.split(":", 1)[1]
            event = next((e for e in reversed(state.extra) if e.bron == bron), None)
        elif name in _BEWIJS_VAN:
            event = getattr(state, _BEWIJS_VAN[name])
        bewijs = getattr(event, "bewijs", None)
        out.append({"naam": name, "stand": value.value,
                    "bewijs": None if bewijs is None else {"wijze": bewijs.wijze, "datum": bewijs.datum.isoformat(),
                                                           "vastgelegd_door": bewijs.vastgelegd_door}})
    return out


def _documents(records) -> list[dict]:
    """Per recipient (party) the documents and their delivery state."""
    by_party: dict[str, list[dict]] = {}
    for r in records:
        titel = ROWS[r.kind].titel if r.kind in ROWS else r.kind
        by_party.setdefault(r.party, []).append({"document": r.kind, "titel": titel, "status": r.status,
                                                 "reden": r.detail, "op": r.at})
    return [{"aan": party, "documenten": docs} for party, docs in sorted(by_party.items())]
