"""The audit trail: hash chain, append-only triggers, tamper detection, no personal data, the employee's view."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest

from pipeline.adapters.audit import Audit, NullAudit
from pipeline.adapters.store import Store, _statements
from pipeline.core import trail
from pipeline.core.trail import Actie, Gebeurtenis, Uitkomst

K = "SO-2026-0042"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 12, 9, 0, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state.db")
    yield s
    s.close()


@pytest.fixture
def audit(store) -> Audit:
    return Audit(store, user="secretariaat", system="test-host", clock=Clock())


def fill(audit: Audit, n: int = 6) -> None:
    for i in range(n):
        audit.record(Gebeurtenis.BEZORGING, kenmerk=K, actie=Actie.CREATE, uitkomst=Uitkomst.GESLAAGD,
                     namens="secretariaat ArboNoord", partij="werknemer", document="advies",
                     pad=f"outbox/werknemer/{K}/{K}_advies.pdf", sha256=f"{i:064x}", datum="2026-11-24")


def raw(store: Store) -> sqlite3.Connection:
    """The attacker: plain sqlite3 on the database file, triggers dropped first."""
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    return conn


def test_records_chain_from_genesis_and_verify(audit):
    fill(audit)
    records = audit.records()
    assert [r.id for r in records] == [1, 2, 3, 4, 5, 6]
    assert records[0].prev_hash == trail.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(records, records[1:]))
    assert all(r.hash == trail.record_hash(r.content()) for r in records)
    assert records[0].gebruiker == "secretariaat" and records[0].namens == "secretariaat ArboNoord"
    assert audit.verify() == []
    assert audit.head() == (6, records[-1].hash)


def test_a_batch_is_one_transaction_and_chains_like_single_records(audit):
    fill(audit, 2)
    with pytest.raises(RuntimeError):
        with audit.batch():
            fill(audit, 3)
            assert len(audit.records()) == 2, "nothing written before the batch ends"
            raise RuntimeError("stop")
    assert [r.id for r in audit.records()] == [1, 2, 3, 4, 5], "what was recorded is kept, also after an error"
    assert audit.verify() == []


def test_canonical_json_is_order_independent():
    assert trail.canonical_json({"b": 1, "a": "é"}) == trail.canonical_json({"a": "é", "b": 1}) == \
        '{"a":"é","b":1}'.encode("utf-8")


@pytest.mark.parametrize("sql", ["UPDATE audit SET uitkomst='mislukt' WHERE id=2", "DELETE FROM audit WHERE id=2"])
def test_sqlite_itself_refuses_update_and_delete(audit, store, sql):
    fill(audit, 3)
    conn = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(sql)
    conn.close()
    assert audit.verify() == []


def test_altered_record_is_named_with_expected_and_found_hash(audit, store):
    fill(audit)
    stored = audit.records()[2].hash
    conn = raw(store)
    conn.execute("UPDATE audit SET details=replace(details, 'werknemer', 'werkgever') WHERE id=3")
    problems = audit.verify()
    assert [(p.record_id, p.what) for p in problems] == [(3, "gewijzigd")]
    assert problems[0].expected == stored and problems[0].found != stored
    assert "record 3" in problems[0].message and stored in problems[0].message


def test_altered_and_rehashed_record_breaks_the_next_link(audit, store):
    fill(audit)
    rec = audit.records()[2]
    forged = trail.seal_record(**{**rec.content(), "uitkomst": "mislukt"})
    conn = raw(store)
    conn.execute("UPDATE audit SET uitkomst='mislukt', hash=? WHERE id=3", (forged.hash,))
    problems = audit.verify()
    assert [(p.record_id, p.what) for p in problems] == [(4, "schakel")]
    assert problems[0].expected == forged.hash and problems[0].found == rec.hash
    assert "record 3" in problems[0].message


def test_deleted_record_is_named(audit, store):
    fill(audit)
    raw(store).execute("DELETE FROM audit WHERE id=4")
    problems = audit.verify()
    assert {(p.record_id, p.what) for p in problems} == {(5, "ontbreekt"), (5, "schakel")}
    assert any("record 4 ontbreekt" in p.message for p in problems)


def test_deleted_last_record_is_noticed(audit, store):
    fill(audit)
    raw(store).execute("DELETE FROM audit WHERE id=6")
    problems = audit.verify()
    assert [(p.record_id, p.what) for p in problems] == [(6, "ontbreekt")]
    assert "aan het eind" in problems[0].message


def test_reordered_records_are_named(audit, store):
    fill(audit)
    conn = raw(store)
    # move record 3 before record 2: swap their ids
    conn.execute("UPDATE audit SET id=-2 WHERE id=2")
    conn.execute("UPDATE audit SET id=2 WHERE id=3")
    conn.execute("UPDATE audit SET id=3 WHERE id=-2")
    named = {p.record_id for p in audit.verify()}
    assert {2, 3} <= named


def test_records_appended_after_tampering_do_not_hide_it(audit, store):
    fill(audit)
    raw(store).execute("DELETE FROM audit WHERE id=6")
    fill(audit, 1)  # the next record gets id 7, not a reused 6
    assert [r.id for r in audit.records()][-1] == 7
    assert any("record 6 ontbreekt" in p.message for p in audit.verify())


def test_no_bsn_or_free_text_in_details(audit):
    with pytest.raises(trail.UnsafeAuditDetail):
        audit.record(Gebeurtenis.INTAKE, kenmerk=K, actie=Actie.CREATE, uitkomst=Uitkomst.GESLAAGD,
                     bestand="jansen-111222333.json")
    with pytest.raises(trail.UnsafeAuditDetail):
        audit.record(Gebeurtenis.INTAKE, kenmerk=K, actie=Actie.CREATE, uitkomst=Uitkomst.GESLAAGD,
                     bevindingen="lage rugklachten")
    with pytest.raises(trail.UnsafeAuditDetail):
        audit.record(Gebeurtenis.INTAKE, kenmerk=K, actie=Actie.CREATE, uitkomst=Uitkomst.GESLAAGD, regel="x" * 400)
    assert trail.scrub("jansen-111222333.json") == "jansen-#########.json"
    audit.intake_refused(kenmerk="111222333", bestand="jansen-111222333.json", sha256="ab" * 32, regel="schema",
                         fout="ValidationError")
    rec = audit.records()[-1]
    assert rec.kenmerk is None and rec.details["bestand"] == "jansen-#########.json"
    assert rec.uitkomst == "geweigerd"


def test_null_audit_records_nothing():
    null = NullAudit()
    assert null.record(Gebeurtenis.INTAKE, kenmerk=K, actie=Actie.CREATE, uitkomst=Uitkomst.GESLAAGD) is None
    null.case_file(kenmerk=K, namens=None, datum=dt.date(2026, 11, 12), bestand="x.json", sha256="0" * 64) \
        .failed(regel="x", fout=None)
    assert null.records() == [] and null.verify() == []


def test_migration_split_keeps_trigger_bodies_whole():
    sql = "CREATE TABLE t (a);\nCREATE TRIGGER x BEFORE DELETE ON t BEGIN SELECT RAISE(ABORT, 'a;b'); END;\n"
    parts = list(_statements(sql))
    assert len(parts) == 2 and parts[1].strip().endswith("END;")


def _rec(i, gebeurtenis, uitkomst="geslaagd", **details) -> trail.AuditRecord:
    return trail.seal_record(id=i, at="2026-11-24T10:00:00+00:00", kenmerk=K, gebeurtenis=gebeurtenis, actie="C",
                             uitkomst=uitkomst, gebruiker="sopipe", namens="secretariaat", systeem="h",
                             details=details, prev_hash=trail.GENESIS)


def test_employee_view_in_plain_dutch_without_employer_details():
    records = [
        _rec(1, "intake", stap="aanvraag", datum="2026-11-12"),
        _rec(2, "toestemming", toestemming="medische_gegevens", van=None, naar="verleend", datum="2026-11-12"),
        _rec(3, "bezorging", partij="werknemer", document="advies", datum="2026-11-24"),
        _rec(4, "bezorging", partij="bedrijfsarts", document="advies", datum="2026-11-24"),
        _rec(5, "bezorging", partij="werkgever", document="gewijzigd-advies", datum="2026-11-26"),
        _rec(6, "bezorging", partij="werkgever", document="factuur", datum="2026-11-26"),
        _rec(7, "bezorging", partij="arbodienst", document="factuur", datum="2026-11-26"),
        _rec(8, "quarantaine", partij="werkgever", document="factuur", datum="2026-11-26"),
        _rec(9, "rendering", document="advies", datum="2026-11-24"),
        _rec(10, "bezorging", "achtergehouden", partij="bedrijfsarts", document="advies", datum="2026-11-24"),
        _rec(11, "toestemming", toestemming="advies_delen_bedrijfsarts", van="verleend", naar="ingetrokken",
             datum="2026-11-27"),
    ]
    lines = [str(r) for r in trail.werknemer_view(records)]
    assert lines == [
        "12 november 2026: de aanvraag voor de second opinion is gedaan.",
        "12 november 2026: uw machtiging voor het delen van medische gegevens is vastgelegd (verleend).",
        "24 november 2026: het definitieve advies is aan u gestuurd.",
        "24 november 2026: het definitieve advies is gestuurd aan uw bedrijfsarts.",
        "24 november 2026: het definitieve advies is niet gestuurd aan uw bedrijfsarts, omdat daarvoor geen "
        "toestemming was.",
        "26 november 2026: uw werkgever is geïnformeerd.",
        "27 november 2026: u hebt uw machtiging voor het delen van het advies met uw bedrijfsarts ingetrokken; "
        "vanaf nu wordt niets meer verstuurd waarvoor die machtiging nodig was.",
    ]
    text = " ".join(lines)
    assert "factuur" not in text and "gewijzigd" not in text and "arbodienst" not in text


def test_a_record_made_acting_for_a_person_names_that_person_and_keeps_the_chain(audit):
    from pipeline.core.actor import Actor, Kanaal, Rol
    person = Actor(gebruikersnaam="jdevries", naam="J. de Vries", rol=Rol.SECRETARIAAT, kanaal=Kanaal.DESK,
                   organisatie="ARBONOORD")
    audit.viewed("SO-2026-0042", wat="status")
    audit.acting(person).viewed("SO-2026-0042", wat="status")
    first, second = audit.trail("SO-2026-0042")
    assert second.gebruiker == "J. de Vries (jdevries, secretariaat, via desk)"
    assert first.gebruiker != second.gebruiker
    assert second.prev_hash == first.hash and audit.verify() == []
