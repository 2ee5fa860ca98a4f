"""Case state in SQLite (WAL): the accepted events per case, the file journal, and the deliveries.

The state of a case is never stored as such: it is rebuilt from its accepted events by the pure core
(`procedure.fold`). Schema changes are named migrations recorded in the database (as sqlite-utils does).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from pipeline.adapters.clock import SYSTEM_CLOCK, Clock, utc_iso
from pipeline.adapters.sqlite_threads import ThreadConnections
from pipeline.core import model
from pipeline.core.procedure import fold
from pipeline.core.redaction import redact
from pipeline.core.state import CaseState

log = logging.getLogger("sopipe")

MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("0001_initial", """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            kenmerk TEXT NOT NULL,
            stap TEXT NOT NULL,
            datum TEXT NOT NULL,
            payload TEXT NOT NULL,
            sha256 TEXT NOT NULL UNIQUE,
            file_name TEXT NOT NULL,
            ingediend_door TEXT,
            accepted_at TEXT NOT NULL
        );
        CREATE INDEX events_kenmerk ON events(kenmerk, id);
        CREATE TABLE journal (
            sha256 TEXT PRIMARY KEY,
            file_name TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('processing', 'done', 'failed')),
            kenmerk TEXT,
            detail TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT
        );
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            kenmerk TEXT NOT NULL,
            event_sha256 TEXT NOT NULL,
            kind TEXT NOT NULL,
            party TEXT NOT NULL,
            path TEXT NOT NULL,
            sha256 TEXT,
            status TEXT NOT NULL CHECK (status IN ('delivered', 'withheld', 'quarantined')),
            detail TEXT,
            at TEXT NOT NULL
        );
        CREATE INDEX deliveries_kenmerk ON deliveries(kenmerk, id);
    """),
    # Issue 8: the hash-chained, append-only audit trail (pipeline.adapters.audit, pipeline.core.trail).
    # AUTOINCREMENT keeps the highest id ever issued in sqlite_sequence, so records removed from the end show.
    ("0008_audit_trail", """
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            kenmerk TEXT,
            gebeurtenis TEXT NOT NULL,
            actie TEXT NOT NULL,
            uitkomst TEXT NOT NULL,
            gebruiker TEXT NOT NULL,
            namens TEXT,
            systeem TEXT NOT NULL,
            details TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
        );
        CREATE INDEX audit_kenmerk ON audit(kenmerk, id);
        CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit records are append-only: UPDATE refused'); END;
        CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit records are append-only: DELETE refused'); END;
    """),
    # Issue 5: a document waiting for a personal signature the pipeline cannot make (the doctor holds the key);
    # the unsigned PDF's hash and length identify exactly what the signed return must start with.
    ("0005_pending_signatures", """
        CREATE TABLE pending_signatures (
            kenmerk TEXT NOT NULL,
            kind TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            size INTEGER NOT NULL,
            path TEXT NOT NULL,
            signer_big TEXT,
            created_at TEXT NOT NULL,
            done_at TEXT,
            signed_sha256 TEXT,
            PRIMARY KEY (kenmerk, kind)
        );
    """),
    # Issue 15: the case summary `sopipe status` lists, derived from the fold (`pipeline.core.summary`) and written
    # in the transaction that accepts an event. A database from before this migration has none: the missing
    # rows are made from the events when first needed (`pipeline.shell.status.ensure_summaries`).
    ("0015_case_summary", """
        CREATE TABLE case_summary (
            kenmerk TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            summary TEXT NOT NULL,
            volgende_uiterlijk TEXT,
            laatste_wijziging TEXT NOT NULL,
            first_event_id INTEGER NOT NULL,
            bezorgd INTEGER NOT NULL,
            quarantaine INTEGER NOT NULL
        );
        CREATE INDEX case_summary_order ON case_summary(first_event_id);
        CREATE INDEX case_summary_due ON case_summary(volgende_uiterlijk);
        CREATE INDEX deliveries_quarantined ON deliveries(kenmerk, id) WHERE status = 'quarantined';
    """),
    # The archive's ETSI validation report of a signed PDF is made after its delivery, in the background
    # (`pipeline.shell.validation_reports`); a row here says one is still owed, so a crash resumes it.
    ("0016_validation_reports_due", """
        CREATE TABLE validation_reports_due (
            kenmerk TEXT NOT NULL,
            file_name TEXT NOT NULL,
            code TEXT,
            sub TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (kenmerk, file_name, sub)
        );
    """),
    # Issue 19: how often in a row processing a file started without ending (the process stopped meanwhile), so
    # that one file cannot keep the pipeline in a restart loop (`Pipeline.resume`).
    ("0019_journal_attempts", """
        ALTER TABLE journal ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    """),
)

_SUMMARY_UPSERT = """
    INSERT INTO case_summary (kenmerk, version, summary, volgende_uiterlijk, laatste_wijziging, first_event_id,
                              bezorgd, quarantaine)
    SELECT ?1, ?2, ?3, ?4, MAX(substr(accepted_at, 1, 10)), MIN(id),
           (SELECT COUNT(*) FROM deliveries WHERE kenmerk = ?1 AND status = 'delivered'),
           (SELECT COUNT(*) FROM deliveries WHERE kenmerk = ?1 AND status = 'quarantined')
    FROM events WHERE kenmerk = ?1
    ON CONFLICT(kenmerk) DO UPDATE SET version = excluded.version, summary = excluded.summary,
        volgende_uiterlijk = excluded.volgende_uiterlijk, laatste_wijziging = excluded.laatste_wijziging,
        first_event_id = excluded.first_event_id, bezorgd = excluded.bezorgd, quarantaine = excluded.quarantaine
"""
_SUMMARY_COUNTS = """
    UPDATE case_summary SET
        bezorgd = (SELECT COUNT(*) FROM deliveries WHERE kenmerk = ?1 AND status = 'delivered'),
        quarantaine = (SELECT COUNT(*) FROM deliveries WHERE kenmerk = ?1 AND status = 'quarantined')
    WHERE kenmerk = ?1
"""


@dataclass(frozen=True)
class StoredEvent:
    kenmerk: str
    stap: str
    payload: dict
    sha256: str
    file_name: str
    accepted_at: str


def fold_stored(events: Iterable[StoredEvent]) -> CaseState | None:
    """The state of a case from its stored events (`procedure.fold`; None without events). Each payload is read back
    as the store holds it: a case file's event, or the pipeline's own record of a returned consent form."""
    return fold(model.parse_stored(e.payload) for e in events)


@dataclass(frozen=True)
class DeliveryRecord:
    kenmerk: str
    kind: str
    party: str
    path: str
    sha256: str | None
    status: str
    detail: str | None
    at: str


@dataclass(frozen=True)
class SummaryRow:
    """A case summary as the store keeps it: made by the core (`pipeline.core.summary`), stored as JSON."""

    kenmerk: str
    version: int
    record: dict
    """`CaseSummary.as_record()`."""
    volgende_uiterlijk: str | None
    """ISO date of the earliest open deadline (what `--overdue` selects on), None without one."""


@dataclass(frozen=True)
class StoredSummary:
    record: dict
    laatste_wijziging: str
    """ISO date of the last accepted event (the retention period counts from it)."""
    bezorgd: int
    """Copies delivered to a mailbox."""
    quarantaine: int
    """Copies held in quarantine."""


@dataclass(frozen=True)
class ReportDue:
    """An archived signed PDF whose validation report is still to be made."""
    kenmerk: str
    file_name: str
    code: str | None
    sub: tuple[str, ...]
    sha256: str


@dataclass(frozen=True)
class PendingSignature:
    kenmerk: str
    kind: str
    sha256: str
    """SHA-256 of the unsigned PDF the pipeline produced."""
    size: int
    """Its length in bytes: the signed return must start with exactly these bytes."""
    path: str
    """Where the unsigned PDF waits, relative to the root (the SO doctor's `te-ondertekenen/` folder)."""
    signer_big: str | None
    created_at: str
    done_at: str | None
    signed_sha256: str | None


class Store:
    """One SQLite database per root. Thread-safe: one connection per thread."""

    def __init__(self, path: Path, *, clock: Clock | None = None) -> None:
        self.path = Path(path)
        self.clock = clock or SYSTEM_CLOCK
        """Stamps the journal, accepted events, pending signatures and migrations (`pipeline.adapters.clock`)."""
        self._connections = ThreadConnections(self.path, pragmas=("foreign_keys=ON", "synchronous=FULL"),
                                              row_factory=sqlite3.Row)
        new = not self.path.exists()
        conn = self._conn()
        if new:
            os.chmod(self.path, 0o600)
        conn.execute("PRAGMA journal_mode=WAL")
        self._migrate(conn)

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def close(self) -> None:
        self._connections.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; one opened inside another (same thread) joins it: bulk loads (`sopipe bench`)
        wrap many `accept` calls in one."""
        conn = self._conn()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent view for long reads, without holding up writers (WAL)."""
        conn = self._conn()
        conn.execute("BEGIN DEFERRED")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def _now(self) -> str:
        return utc_iso(self.clock)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {r[0] for r in conn.execute("SELECT name FROM migrations")}
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with self.transaction() as tx:
                for statement in _statements(sql):
                    tx.execute(statement)
                tx.execute("INSERT INTO migrations VALUES (?, ?)", (name, self._now()))

    # --- journal --------------------------------------------------------------------------------------------

    def journal_status(self, sha256: str) -> str | None:
        row = self._conn().execute("SELECT status FROM journal WHERE sha256=?", (sha256,)).fetchone()
        return row[0] if row else None

    def journal_outcome(self, sha256: str) -> tuple[str | None, str | None]:
        """(status, detail) of this content in the journal; (None, None) when it was never taken in."""
        row = self._conn().execute("SELECT status, detail FROM journal WHERE sha256=?", (sha256,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def journal_file_name(self, sha256: str) -> str | None:
        row = self._conn().execute("SELECT file_name FROM journal WHERE sha256=?", (sha256,)).fetchone()
        return row[0] if row else None

    def journal_start(self, sha256: str, file_name: str) -> None:
        """Processing of this content starts; counted as an attempt in a row when the last one never ended."""
        with self.transaction() as tx:
            tx.execute("INSERT INTO journal (sha256, file_name, status, started_at, attempts)"
                       " VALUES (?, ?, 'processing', ?, 1)"
                       " ON CONFLICT(sha256) DO UPDATE SET status='processing', file_name=excluded.file_name,"
                       " started_at=excluded.started_at, finished_at=NULL,"
                       " attempts=CASE WHEN journal.status='processing' THEN journal.attempts + 1 ELSE 1 END",
                       (sha256, redact(file_name), self._now()))

    def journal_interrupted(self, sha256: str) -> int:
        """How many times in a row processing this content started and never ended (0: none, or it ended)."""
        row = self._conn().execute("SELECT attempts FROM journal WHERE sha256=? AND status='processing'",
                                   (sha256,)).fetchone()
        return row[0] if row else 0

    def journal_shas(self, kenmerk: str) -> list[str]:
        """The SHA-256 of every case file the journal links to `kenmerk` (processed, failed or left for retry)."""
        return [r[0] for r in self._conn().execute("SELECT sha256 FROM journal WHERE kenmerk=? ORDER BY sha256",
                                                   (kenmerk,))]

    def journal_failed(self, sha256: str, *, kenmerk: str | None, detail: str) -> None:
        with self.transaction() as tx:  # the journal is operator data: never a BSN in it
            tx.execute("UPDATE journal SET status='failed', kenmerk=?, detail=?, finished_at=? WHERE sha256=?",
                       (kenmerk, redact(detail), self._now(), sha256))

    # --- events ---------------------------------------------------------------------------------------------

    def events(self, kenmerk: str) -> list[StoredEvent]:
        rows = self._conn().execute(
            "SELECT kenmerk, stap, payload, sha256, file_name, accepted_at FROM events WHERE kenmerk=? ORDER BY id",
            (kenmerk,)).fetchall()
        return [StoredEvent(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5]) for r in rows]

    def case_state(self, kenmerk: str) -> CaseState | None:
        """The case's state, folded from its stored events (`fold_stored`); None when there is no such case."""
        return fold_stored(self.events(kenmerk))

    def last_event_sha256(self, kenmerk: str) -> str | None:
        """The SHA-256 of the case's last accepted event (None: no such case): whether a kept state is current."""
        row = self._conn().execute("SELECT sha256 FROM events WHERE kenmerk=? ORDER BY id DESC LIMIT 1",
                                   (kenmerk,)).fetchone()
        return row[0] if row else None

    def events_of_step(self, stap: str) -> list[tuple[str, dict]]:
        """(kenmerk, payload) of every accepted event of one step over all cases, in order."""
        rows = self._conn().execute("SELECT kenmerk, payload FROM events WHERE stap=? ORDER BY id", (stap,))
        return [(r[0], json.loads(r[1])) for r in rows.fetchall()]

    def kenmerken_of_werknemer(self, bsn: str) -> list[str]:
        """The cases whose request names this employee (by BSN), oldest first; matched inside SQLite (JSON1), so
        no other employee's request is read into Python."""
        rows = self._conn().execute(
            "SELECT kenmerk FROM events WHERE stap='verzoek' AND CAST(json_extract(payload, '$.werknemer.bsn') AS TEXT)"
            " = ? GROUP BY kenmerk ORDER BY MIN(id)", (str(bsn).strip(),))
        return [r[0] for r in rows]

    def last_changes(self) -> list[tuple[str, str]]:
        """(kenmerk, ISO date of its newest accepted event) of every case, in one query (retention counts from it)."""
        return [(r[0], r[1]) for r in self._conn().execute(
            "SELECT kenmerk, MAX(substr(accepted_at, 1, 10)) FROM events GROUP BY kenmerk")]

    def kenmerken(self) -> list[str]:
        return [r[0] for r in self._conn().execute(
            "SELECT kenmerk FROM events GROUP BY kenmerk ORDER BY MIN(id)")]

    def accept(self, *, kenmerk: str, stap: str, datum: str, payload: dict, sha256: str, file_name: str,
               ingediend_door: str | None, deliveries: list[DeliveryRecord], summary: SummaryRow | None = None) -> None:
        """Record an accepted event and its deliveries, and close its journal entry, in one transaction.

        `summary`: the case's summary after this event (the fold including it); without one the stored summary
        is dropped, to be made again from the events when next needed, so it can never be stale.
        """
        now = self._now()
        with self.transaction() as tx:
            tx.execute("INSERT INTO events (kenmerk, stap, datum, payload, sha256, file_name, ingediend_door,"
                       " accepted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (kenmerk, stap, datum, json.dumps(payload, ensure_ascii=False), sha256, file_name,
                        ingediend_door, now))
            tx.executemany("INSERT INTO deliveries (kenmerk, event_sha256, kind, party, path, sha256, status, detail,"
                           " at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [(d.kenmerk, sha256, d.kind, d.party, d.path, d.sha256, d.status, d.detail, d.at)
                            for d in deliveries])
            tx.execute("UPDATE journal SET status='done', kenmerk=?, detail=NULL, finished_at=? WHERE sha256=?",
                       (kenmerk, now, sha256))
            if summary is None:
                tx.execute("DELETE FROM case_summary WHERE kenmerk=?", (kenmerk,))
            else:
                _write_summary(tx, summary)

    # --- case summaries (derived from the events; see pipeline.core.summary) ----------------------------------

    def write_summaries(self, rows: list[SummaryRow]) -> None:
        """Store (replace) summaries made from the events, in one transaction."""
        with self.transaction() as tx:
            for row in rows:
                _write_summary(tx, row)

    def kenmerken_without_summary(self, version: int) -> list[str]:
        """Cases with events but no summary of this version (a migrated database, a changed derivation)."""
        return [r[0] for r in self._conn().execute(
            "SELECT DISTINCT kenmerk FROM events WHERE kenmerk NOT IN "
            "(SELECT kenmerk FROM case_summary WHERE version = ?)", (version,))]

    def summaries(self, *, due_before: str | None = None) -> list[StoredSummary]:
        """Every case's summary in order of arrival; `due_before` (ISO date): only those with a deadline before it."""
        where, args = ("WHERE volgende_uiterlijk < ?", (due_before,)) if due_before else ("", ())
        return [StoredSummary(json.loads(r[0]), r[1], r[2], r[3]) for r in self._conn().execute(
            f"SELECT summary, laatste_wijziging, bezorgd, quarantaine FROM case_summary {where} "
            "ORDER BY first_event_id", args)]

    def quarantined(self) -> list[DeliveryRecord]:
        """Every copy held in quarantine, all cases (a partial index keeps this cheap)."""
        rows = self._conn().execute(
            "SELECT kenmerk, kind, party, path, sha256, status, detail, at FROM deliveries "
            "WHERE status = 'quarantined' ORDER BY kenmerk, id").fetchall()
        return [DeliveryRecord(*r) for r in rows]

    def deliveries(self, kenmerk: str) -> list[DeliveryRecord]:
        rows = self._conn().execute(
            "SELECT kenmerk, kind, party, path, sha256, status, detail, at FROM deliveries WHERE kenmerk=? "
            "ORDER BY id", (kenmerk,)).fetchall()
        return [DeliveryRecord(*r) for r in rows]

    # --- archive validation reports still owed -----------------------------------------------------------------

    def report_due(self, due: "ReportDue") -> None:
        """Record that the archived PDF `due` still needs its validation report (replacing an older claim)."""
        with self.transaction() as tx:
            tx.execute("INSERT OR REPLACE INTO validation_reports_due (kenmerk, file_name, code, sub, sha256,"
                       " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (due.kenmerk, due.file_name, due.code, "/".join(due.sub), due.sha256, self._now()))

    def reports_due(self) -> list["ReportDue"]:
        rows = self._conn().execute("SELECT kenmerk, file_name, code, sub, sha256 FROM validation_reports_due"
                                    " ORDER BY created_at, rowid").fetchall()
        return [ReportDue(r[0], r[1], r[2], tuple(p for p in r[3].split("/") if p), r[4]) for r in rows]

    def report_made(self, due: "ReportDue") -> None:
        """The report of `due` is written (or can no longer be: the PDF changed or is gone)."""
        with self.transaction() as tx:
            tx.execute("DELETE FROM validation_reports_due WHERE kenmerk=? AND file_name=? AND sub=? AND sha256=?",
                       (due.kenmerk, due.file_name, "/".join(due.sub), due.sha256))

    def deliveries_under(self, prefix: str) -> list[DeliveryRecord]:
        """The documents delivered into one recipient's folder (`prefix`: `outbox/<party>/<code>/`), every case,
        by case and in delivery order."""
        rows = self._conn().execute(
            "SELECT kenmerk, kind, party, path, sha256, status, detail, at FROM deliveries WHERE status='delivered' "
            "AND substr(path, 1, ?) = ? ORDER BY kenmerk, id", (len(prefix), prefix)).fetchall()
        return [DeliveryRecord(*r) for r in rows]

    # --- documents waiting for a personal signature ----------------------------------------------------------

    def add_pending(self, *, kenmerk: str, kind: str, sha256: str, size: int, path: str,
                    signer_big: str | None) -> None:
        """Record (or replace, when the event is processed again) an unsigned document awaiting its signer."""
        with self.transaction() as tx:
            tx.execute("INSERT INTO pending_signatures (kenmerk, kind, sha256, size, path, signer_big, created_at)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(kenmerk, kind) DO UPDATE SET sha256=excluded.sha256,"
                       " size=excluded.size, path=excluded.path, signer_big=excluded.signer_big,"
                       " created_at=excluded.created_at, done_at=NULL, signed_sha256=NULL",
                       (kenmerk, kind, sha256, size, path, signer_big, self._now()))

    def pending(self, kenmerk: str, kind: str) -> PendingSignature | None:
        row = self._conn().execute(
            "SELECT kenmerk, kind, sha256, size, path, signer_big, created_at, done_at, signed_sha256"
            " FROM pending_signatures WHERE kenmerk=? AND kind=?", (kenmerk, kind)).fetchone()
        return PendingSignature(*row) if row else None

    def open_pending(self) -> list[PendingSignature]:
        rows = self._conn().execute(
            "SELECT kenmerk, kind, sha256, size, path, signer_big, created_at, done_at, signed_sha256"
            " FROM pending_signatures WHERE done_at IS NULL ORDER BY created_at").fetchall()
        return [PendingSignature(*r) for r in rows]

    def complete_pending(self, *, kenmerk: str, kind: str, signed_sha256: str,
                         deliveries: list[DeliveryRecord]) -> None:
        """Close a pending signature: record the deliveries of the signed file and its journal entry, atomically."""
        self._record_file(kenmerk=kenmerk, sha256=signed_sha256, deliveries=deliveries, pending_kind=kind)

    def record_document(self, *, kenmerk: str, sha256: str, deliveries: list[DeliveryRecord]) -> None:
        """A document that came in on its own (a consent form signed by the employee): its deliveries and its
        journal entry, atomically."""
        self._record_file(kenmerk=kenmerk, sha256=sha256, deliveries=deliveries)

    def _record_file(self, *, kenmerk: str, sha256: str, deliveries: list[DeliveryRecord],
                     pending_kind: str | None = None) -> None:
        now = self._now()
        with self.transaction() as tx:
            tx.executemany("INSERT INTO deliveries (kenmerk, event_sha256, kind, party, path, sha256, status, detail,"
                           " at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [(d.kenmerk, sha256, d.kind, d.party, d.path, d.sha256, d.status, d.detail, d.at)
                            for d in deliveries])
            if pending_kind is not None:
                tx.execute("UPDATE pending_signatures SET done_at=?, signed_sha256=? WHERE kenmerk=? AND kind=?",
                           (now, sha256, kenmerk, pending_kind))
            tx.execute(_SUMMARY_COUNTS, (kenmerk,))
            tx.execute("UPDATE journal SET status='done', kenmerk=?, detail=NULL, finished_at=? WHERE sha256=?",
                       (kenmerk, now, sha256))

    def rewrite_paths(self, kenmerk: str, prefixes: list[tuple[str, str]]) -> int:
        """Replace each old path prefix by its new one in the case's deliveries and pending signatures, in one
        transaction (all or nothing); a path already rewritten no longer starts with the old prefix (idempotent).
        Returns how many stored paths changed."""
        changed = 0
        with self.transaction() as tx:
            for old, new in prefixes:
                for table in ("deliveries", "pending_signatures"):
                    changed += tx.execute(f"UPDATE {table} SET path = ? || substr(path, ?) "
                                          "WHERE kenmerk = ? AND substr(path, 1, ?) = ?",
                                          (new, len(old) + 1, kenmerk, len(old), old)).rowcount
        return changed

    def failures(self) -> list[dict]:
        """Refused files not since corrected: a later file of the same name that was processed supersedes them."""
        return [dict(r) for r in self._conn().execute(
            "SELECT file_name, kenmerk, detail, finished_at FROM journal AS f WHERE status='failed' AND NOT EXISTS "
            "(SELECT 1 FROM journal AS d WHERE d.status='done' AND d.file_name=f.file_name "
            "AND d.started_at >= f.started_at) ORDER BY finished_at")]

    # --- destruction and the audit trail's guards -------------------------------------------------------------

    def delete_case(self, kenmerk: str, *, journal: Sequence[str] = ()) -> None:
        """Delete every row of the case in every table with a `kenmerk` column except the audit trail, and the
        journal rows of `journal` (files of the case whose kenmerk was unreadable); deleted pages are overwritten
        (secure_delete) and the WAL is emptied so the content does not linger in the file."""
        with self.transaction() as tx:
            tx.execute("PRAGMA secure_delete=ON")
            tx.executemany("DELETE FROM journal WHERE sha256=?", [(sha,) for sha in journal])
            for (table,) in tx.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
                if table == "audit" or table.startswith("sqlite_"):
                    continue
                if "kenmerk" in {r[1] for r in tx.execute(f'PRAGMA table_info("{table}")')}:
                    tx.execute(f'DELETE FROM "{table}" WHERE kenmerk=?', (kenmerk,))
            conn = tx
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as e:  # another process holds the database: the pages are zeroed at its checkpoint
            log.warning("WAL checkpoint after destruction of %s postponed: %s", kenmerk, e)

    def triggers_on(self, table: str) -> set[str]:
        """The names of the triggers on `table` (the audit trail's append-only guards)."""
        return {r[0] for r in self._conn().execute(
            "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name=?", (table,))}


def _write_summary(tx: sqlite3.Connection, row: SummaryRow) -> None:
    tx.execute(_SUMMARY_UPSERT, (row.kenmerk, row.version, json.dumps(row.record, ensure_ascii=False),
                                 row.volgende_uiterlijk))


def _statements(sql: str) -> Iterator[str]:
    """Split a migration into statements; a `;` inside a trigger body (BEGIN ... END) does not end one."""
    buffer = ""
    for part in sql.split(";"):
        buffer += part + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                yield buffer
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        yield buffer
