"""The audit trail in the state database: append a record to the hash chain, read a case's trail, check the chain.

The table (`audit`, migration `0008_audit_trail`) refuses UPDATE and DELETE by trigger; this adapter only ever
INSERTs, each record in its own IMMEDIATE transaction so that reading the chain head and appending the next
record cannot interleave with another writer. What a record holds and how its hash is made: `pipeline.core.trail`.

`Audit` is handed to the pipeline (`Pipeline(audit=...)`) and to the CLI commands that show or export a dossier.
`NullAudit` records nothing (tests and tools that do not need a trail).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import pwd
import re
import socket
import threading
from contextlib import contextmanager
from pathlib import Path, PurePath
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from pipeline.adapters.clock import SYSTEM_CLOCK, Clock
from pipeline.adapters.store import DeliveryRecord, Store
from pipeline.core.actor import Actor, Kanaal, Rol
from pipeline.core.routing import PER_RECIPIENT
from pipeline.core.trail import (GENESIS, Actie, AuditRecord, ChainProblem, Gebeurtenis, Uitkomst, UnsafeAuditDetail,
                                 canonical_json, check_details, scrub, seal_record, verify_chain)

REFUSALS = frozenset({None, "CaseFileError", "ProcedureError", "ValidationError", "ReturnRefused"})
"""Error classes that mean 'a rule refused the case file' (outcome geweigerd); anything else is mislukt."""

_KENMERK = re.compile(r"^[A-Za-z0-9_-]{3,40}$")
_COLUMNS = "id, at, kenmerk, gebeurtenis, actie, uitkomst, gebruiker, namens, systeem, details, prev_hash, hash"


def current_user() -> str:
    """The OS user running sopipe (NEN 7513: the user who acted)."""
    try:
        return getpass.getuser()
    except Exception:  # no login name and no passwd entry (some containers)
        return f"uid:{os.getuid()}"


LOGINUID = Path("/proc/self/loginuid")
"""Linux's audit login uid: the user who logged in, kept through sudo and su and not settable by that user."""
_NO_LOGINUID = 4294967295


def login_name(*, environ: Mapping[str, str] | None = None, loginuid: Path = LOGINUID) -> str:
    """The person at the keyboard, not the account the command runs as (NEN 7513 names the person).

    In this order: the login uid of the session (what `logname` reports; sudo and su keep it), then `SUDO_USER`
    when the command runs through sudo (trusted only when `SUDO_UID` is that user's uid), then the account
    running sopipe. A service without a login session (systemd) falls through to its own account.
    """
    environ = os.environ if environ is None else environ
    try:
        uid = int(loginuid.read_text().strip())
        if uid != _NO_LOGINUID:
            return pwd.getpwuid(uid).pw_name
    except (OSError, ValueError, KeyError):
        pass
    sudo_user, sudo_uid = environ.get("SUDO_USER"), environ.get("SUDO_UID")
    if sudo_user and sudo_uid:
        try:
            if str(pwd.getpwnam(sudo_user).pw_uid) == sudo_uid:
                return sudo_user
        except KeyError:
            pass
    return current_user()


def shell_actor(*, rol: Rol = Rol.SYSTEEM, big: str | None = None, login: str | None = None) -> Actor:
    """The Unix user in a shell as an `Actor`: the login name (`login_name`) and the full name from the user's
    passwd entry (GECOS), when it has one."""
    name = login or login_name()
    try:
        full = pwd.getpwnam(name).pw_gecos.split(",")[0].strip()
    except KeyError:
        full = ""
    return Actor(gebruikersnaam=name, naam=full or name, rol=rol, kanaal=Kanaal.SHELL, big=big)


class Audit:
    def __init__(self, store: Store, *, user: str | None = None, system: str | None = None,
                 clock: Clock | Callable[[], dt.datetime] | None = None) -> None:
        """`clock`: the wiring's `Clock` (`pipeline.adapters.clock`), or a function returning an aware datetime;
        default: the store's clock."""
        self.store = store
        self.user = user or current_user()
        self.system = system or socket.gethostname()
        clock = clock if clock is not None else getattr(store, "clock", SYSTEM_CLOCK)
        self.clock: Callable[[], dt.datetime] = clock.now if callable(getattr(clock, "now", None)) else clock
        self._batch = threading.local()

    def acting(self, actor: "Actor") -> "Audit":
        """The same trail, with records naming `actor` (a person at the desk or in a shell) as the user."""
        other = Audit.__new__(Audit)
        other.__dict__.update(self.__dict__)
        other.user = actor.audit_naam
        other._batch = threading.local()
        return other

    # --- writing ------------------------------------------------------------------------------------------------

    def record(self, gebeurtenis: Gebeurtenis, *, kenmerk: str | None, actie: Actie, uitkomst: Uitkomst,
               namens: str | None = None, **details: Any) -> AuditRecord | None:
        """Append one record to the chain and return it (None inside `batch()`: it is written at the batch's end).
        Details are identifiers only (`trail.check_details`)."""
        clean = check_details({k: v for k, v in details.items() if v is not None})
        if kenmerk is not None and not _safe_kenmerk(kenmerk):  # peeked from a refused file: may be anything
            kenmerk = None
        entry = dict(at=self.clock().astimezone(dt.timezone.utc).isoformat(timespec="milliseconds"),
                     kenmerk=kenmerk, gebeurtenis=Gebeurtenis(gebeurtenis).value, actie=Actie(actie).value,
                     uitkomst=Uitkomst(uitkomst).value, gebruiker=self.user,
                     namens=scrub(namens) if namens else None, systeem=self.system, details=clean)
        pending = getattr(self._batch, "entries", None)
        if pending is not None:
            pending.append(entry)
            return None
        return self._append([entry])[0]

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Write the records made inside in one transaction (one fsync instead of one per record)."""
        if getattr(self._batch, "entries", None) is not None:  # nested: the outer batch writes
            yield
            return
        self._batch.entries = []
        try:
            yield
        finally:  # also after an error: what was recorded did happen
            entries, self._batch.entries = self._batch.entries, None
            if entries:
                self._append(entries)

    def _append(self, entries: list[dict[str, Any]]) -> list[AuditRecord]:
        out = []
        with self.store.transaction() as tx:
            head = tx.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            seq = tx.execute("SELECT seq FROM sqlite_sequence WHERE name='audit'").fetchone()
            next_id, prev = (seq[0] if seq else 0) + 1, head[0] if head else GENESIS
            for entry in entries:
                rec = seal_record(id=next_id, prev_hash=prev, **entry)
                tx.execute(f"INSERT INTO audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           (rec.id, rec.at, rec.kenmerk, rec.gebeurtenis, rec.actie, rec.uitkomst, rec.gebruiker,
                            rec.namens, rec.systeem, canonical_json(rec.details).decode("utf-8"), rec.prev_hash,
                            rec.hash))
                out.append(rec)
                next_id, prev = next_id + 1, rec.hash
        return out

    # --- the pipeline's events ------------------------------------------------------------------------------------

    def case_file(self, *, kenmerk: str, namens: str | None, datum: dt.date, bestand: str,
                  sha256: str) -> "CaseFileAudit":
        """The records of one case file's processing share its case, submitter, date and file hash."""
        return CaseFileAudit(self, kenmerk=kenmerk, namens=namens, datum=datum, bestand=bestand, sha256=sha256)

    def intake_refused(self, *, kenmerk: str | None, bestand: str, sha256: str | None, regel: str | None,
                       fout: str | None, namens: str | None = None) -> None:
        """A case file that did not make it into the dossier: refused by a rule, or the pipeline failed."""
        self.record(Gebeurtenis.INTAKE, kenmerk=kenmerk, actie=Actie.CREATE, namens=namens,
                    uitkomst=Uitkomst.GEWEIGERD if fout in REFUSALS else Uitkomst.MISLUKT,
                    bestand=scrub(bestand), bestand_sha256=sha256, regel=regel or "bestand", fout=fout)

    def intake_duplicate(self, *, kenmerk: str | None, bestand: str, sha256: str) -> None:
        self.record(Gebeurtenis.INTAKE, kenmerk=kenmerk, actie=Actie.CREATE, uitkomst=Uitkomst.GEWEIGERD,
                    bestand=scrub(bestand), bestand_sha256=sha256, regel="al-verwerkt")

    # --- the CLI's events -----------------------------------------------------------------------------------------

    def viewed(self, kenmerk: str, *, wat: str) -> None:
        """Someone looked at (part of) a dossier: `wat` is `status`, `audit` or `audit-werknemer`."""
        self.record(Gebeurtenis.INZAGE, kenmerk=kenmerk, actie=Actie.READ, uitkomst=Uitkomst.GESLAAGD, wat=wat)

    def listed(self, *, wat: str, aantal: int) -> None:
        """Someone listed cases without opening one (`sopipe status`: kenmerk, step, deadline, counts; no person's
        data): one record for the listing, not one per case, which for 10,000 cases would add 10,000 records to
        the trail at every look."""
        self.record(Gebeurtenis.INZAGE, kenmerk=None, actie=Actie.READ, uitkomst=Uitkomst.GESLAAGD, wat=wat,
                    aantal=aantal)

    # --- reading --------------------------------------------------------------------------------------------------

    def trail(self, kenmerk: str) -> list[AuditRecord]:
        with self.store.transaction() as tx:
            rows = tx.execute(f"SELECT {_COLUMNS} FROM audit WHERE kenmerk=? ORDER BY id", (kenmerk,)).fetchall()
        return [_row(r) for r in rows]

    def of_kind(self, gebeurtenis: Gebeurtenis) -> list[AuditRecord]:
        """Every record of one kind of event, over all cases, in id order (e.g. the legal holds)."""
        with self.store.snapshot() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM audit WHERE gebeurtenis=? ORDER BY id",
                                (Gebeurtenis(gebeurtenis).value,)).fetchall()
        return [_row(r) for r in rows]

    def records(self) -> list[AuditRecord]:
        with self.store.transaction() as tx:
            rows = tx.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY id").fetchall()
        return [_row(r) for r in rows]

    def count(self) -> int:
        """How many records the trail holds."""
        with self.store.snapshot() as conn:
            return conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]

    def last_issued_id(self) -> int:
        with self.store.transaction() as tx:
            seq = tx.execute("SELECT seq FROM sqlite_sequence WHERE name='audit'").fetchone()
        return seq[0] if seq else 0

    def head(self) -> tuple[int, str]:
        """(id, hash) of the newest record, (0, GENESIS) for an empty trail."""
        with self.store.transaction() as tx:
            row = tx.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, GENESIS)

    def verify(self) -> list[ChainProblem]:
        """Every break in the whole chain (altered, removed, reordered records), in id order.

        Streams: the records are read and checked one by one from one read snapshot (writers are not held up),
        so time grows with the trail and memory does not (a million records: see `sopipe bench --scale`).
        """
        problems: list[ChainProblem] = []

        def records(rows) -> Iterator[AuditRecord]:
            for r in rows:
                try:
                    yield _row(r)
                except (ValueError, TypeError) as e:  # details no longer JSON: altered with raw SQL
                    problems.append(ChainProblem(r[0], "gewijzigd", "geldige JSON", "onleesbaar",
                                                 f"record {r[0]} is gewijzigd: details zijn geen geldige JSON ({e})"))

        with self.store.snapshot() as conn:
            seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='audit'").fetchone()
            cursor = conn.execute(f"SELECT {_COLUMNS} FROM audit ORDER BY id")
            cursor.arraysize = 1000
            rows = (r for batch in iter(cursor.fetchmany, []) for r in batch)
            problems += verify_chain(records(rows), last_issued_id=seq[0] if seq else None)
        return sorted(problems, key=lambda p: p.record_id)


class NullAudit(Audit):
    """Records nothing, reads nothing."""

    def __init__(self) -> None:  # no store
        self.user = current_user()
        self.system = ""
        self._batch = threading.local()

    def record(self, gebeurtenis, **kw) -> None:
        return None

    def trail(self, kenmerk: str) -> list[AuditRecord]:
        return []

    def records(self) -> list[AuditRecord]:
        return []

    def of_kind(self, gebeurtenis) -> list[AuditRecord]:
        return []

    def verify(self) -> list[ChainProblem]:
        return []

    def count(self) -> int:
        return 0

    def last_issued_id(self) -> int:
        return 0

    def head(self) -> tuple[int, str]:
        return 0, GENESIS


class CaseFileAudit:
    """The audit records of one case file being processed (see `Audit.case_file`)."""

    def __init__(self, audit: Audit, *, kenmerk: str, namens: str | None, datum: dt.date, bestand: str,
                 sha256: str) -> None:
        self.audit = audit
        self.kenmerk = kenmerk
        self.namens = namens
        self.datum = datum.isoformat()
        self.bestand = scrub(bestand)
        self.sha256 = sha256

    def _record(self, gebeurtenis: Gebeurtenis, actie: Actie, uitkomst: Uitkomst, **details: Any) -> None:
        self.audit.record(gebeurtenis, kenmerk=self.kenmerk, actie=actie, uitkomst=uitkomst, namens=self.namens,
                          datum=self.datum, bestand_sha256=self.sha256, **details)

    def made(self, orders: Sequence, documents: Sequence[bytes], *, digests: Sequence[str] | None = None) -> None:
        """One rendering record per document, and one signature record per signed document. `digests`: the
        documents' SHA-256 when the caller has them already."""
        with self.audit.batch():
            self._made(orders, documents, digests)

    def _made(self, orders: Sequence, documents: Sequence[bytes], digests: Sequence[str] | None = None) -> None:
        if digests is None:
            digests = [hashlib.sha256(pdf).hexdigest() for pdf in documents]
        for order, digest in zip(orders, digests):
            self._record(Gebeurtenis.RENDERING, Actie.CREATE, Uitkomst.GESLAAGD, document=order.kind,
                         sjabloon=order.row.template, sha256=None if order.sign else digest)
            if order.sign is not None:
                self._record(Gebeurtenis.ONDERTEKENING, Actie.EXECUTE, Uitkomst.GESLAAGD, document=order.kind,
                             ondertekenaar=f"{order.sign.wie}: {order.sign.naam}", sha256=digest)

    def verified(self, *, document: str, sha256: str, ondertekenaar: str | None = None) -> None:
        """A signature on a document was checked and held (e.g. a signed PDF returned by the SO doctor)."""
        self._record(Gebeurtenis.VERIFICATIE, Actie.EXECUTE, Uitkomst.GESLAAGD, wat="handtekening",
                     document=document, sha256=sha256, ondertekenaar=ondertekenaar)

    def delivered(self, records: Iterable[DeliveryRecord]) -> None:
        """One record per copy: delivered (mailbox path, file hash), withheld for want of consent, quarantined."""
        with self.audit.batch():
            self._delivered(records)

    def _delivered(self, records: Iterable[DeliveryRecord]) -> None:
        for r in records:
            if r.status == "quarantined":
                self._record(Gebeurtenis.QUARANTAINE, Actie.CREATE, Uitkomst.GESLAAGD, document=r.kind,
                             partij=r.party, pad=_relative(r.path), sha256=r.sha256,
                             regel="privacycontrole")
            elif r.status == "withheld":
                self._record(Gebeurtenis.BEZORGING, Actie.CREATE, Uitkomst.ACHTERGEHOUDEN, document=r.kind,
                             partij=r.party, pad=_relative(r.path), regel="geen-toestemming")
            else:
                self._record(Gebeurtenis.BEZORGING, Actie.CREATE, Uitkomst.GESLAAGD, document=r.kind,
                             partij=r.party, pad=_relative(r.path), sha256=r.sha256)

    def accepted(self, stap: str, *, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
        """The case file is part of the dossier now; then each consent that this step changed."""
        with self.audit.batch():
            self._accepted(stap, before=before, after=after)

    def _accepted(self, stap: str, *, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
        self._record(Gebeurtenis.INTAKE, Actie.CREATE, Uitkomst.GESLAAGD, stap=stap, bestand=self.bestand)
        for name in sorted(set(before) | set(after)):
            old, new = before.get(name), after.get(name)
            if old != new:
                self._record(Gebeurtenis.TOESTEMMING, Actie.UPDATE if old else Actie.CREATE, Uitkomst.GESLAAGD,
                             stap=stap, toestemming=name, van=_value(old), naar=_value(new))

    def failed(self, *, regel: str, fout: str | None) -> None:
        """Processing stopped after the rules accepted the file (e.g. a mailbox could not be written)."""
        self._record(Gebeurtenis.INTAKE, Actie.CREATE, Uitkomst.MISLUKT, bestand=self.bestand, regel=regel,
                     fout=fout)


def _safe_kenmerk(kenmerk: str) -> bool:
    try:
        check_details({"bestand": kenmerk})
    except UnsafeAuditDetail:
        return False
    return bool(_KENMERK.match(kenmerk))


def _value(consent) -> str | None:
    return None if consent is None else getattr(consent, "value", str(consent))


_PER_RECIPIENT = frozenset(p.value for p in PER_RECIPIENT)


def _relative(path: str) -> str:
    """Mailbox paths as `outbox/<party>[/<recipient>]/<kenmerk>/<file>`, quarantine as `quarantine/<kenmerk>/<file>`
    (long digit runs, such as a BIG or KvK number in a recipient folder, masked)."""
    parts = PurePath(path).parts
    for anchor, depth in (("outbox", 4), ("quarantine", 3)):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            if anchor == "outbox" and i + 1 < len(parts) and parts[i + 1] in _PER_RECIPIENT:
                depth = 5
            return scrub("/".join(parts[i:i + depth]))
    return scrub("/".join(parts[-3:]))


def _row(r) -> AuditRecord:
    return AuditRecord(id=r[0], at=r[1], kenmerk=r[2], gebeurtenis=r[3], actie=r[4], uitkomst=r[5], gebruiker=r[6],
                       namens=r[7], systeem=r[8], details=json.loads(r[9]), prev_hash=r[10], hash=r[11])
