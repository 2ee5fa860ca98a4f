"""Issue 15, part 4: `sopipe status` at scale from a case summary that is derived from the fold, never a second truth.

The summaries are checked against the fold of all events: after the real pipeline, after a migration of a database
that had no summary table, after a rebuild, and when an event arrives without one. `audit --verify` streams.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from dataclasses import asdict

import pytest
from click.testing import CliRunner

from pipeline.adapters.audit import Audit
from pipeline.adapters.store import MIGRATIONS, Store
from pipeline.cli import cli
from pipeline.core import model
from pipeline.core.procedure import fold
from pipeline.core.summary import SUMMARY_VERSION, CaseSummary, summarise
from pipeline.core.trail import Actie, Gebeurtenis, Uitkomst
from pipeline.shell import status as st
from pipeline.shell.bench import fill_scale_root
from pipeline.shell.layout import EXAMPLES

TODAY = dt.date(2026, 12, 15)


def _open(root):
    return contextlib.closing(Store(root / "state" / "sopipe.db"))


def _folded(store: Store, kenmerk: str) -> CaseSummary:
    return summarise(fold(model.parse_event(e.payload) for e in store.events(kenmerk)))


def _listed(statuses) -> dict[str, dict]:
    """The fields of each listed case that the summary provides (documents counted, not listed)."""
    return {s.kenmerk: {k: v for k, v in asdict(s).items() if k not in ("bezorgd", "achtergehouden")}
            for s in statuses}


def _expected(store: Store) -> dict[str, dict]:
    """What the list must say, made the slow way: `case_status` folds every case from its events."""
    out = {}
    for kenmerk in store.kenmerken():
        one = st.case_status(store, kenmerk, today=TODAY)
        out[kenmerk] = {k: v for k, v in asdict(one).items() if k not in ("bezorgd", "achtergehouden")}
    return out


@pytest.fixture(scope="module")
def scale_root(tmp_path_factory):
    """300 generated cases, each stopped at its own step, loaded through the store API as `bench --scale` does."""
    root = tmp_path_factory.mktemp("scale") / "root"
    kenmerken = fill_scale_root(root, cases=300, audit_records=2_000)
    return root, kenmerken


def test_every_summary_equals_the_fold_of_its_events(scale_root):
    root, kenmerken = scale_root
    with _open(root) as store:
        assert store.kenmerken_without_summary(SUMMARY_VERSION) == []
        listed = _listed(st.all_status(store, today=TODAY))
        assert list(listed) == kenmerken, "in order of arrival"
        assert listed == _expected(store)
        assert len({v["stap"] for v in listed.values()}) >= 5, "the cases stand at many different steps"


def test_overdue_lists_exactly_the_late_cases(scale_root):
    root, _ = scale_root
    with _open(root) as store:
        late = {k for k, v in _expected(store).items() if v["te_laat"]}
        assert late, "the generated cases include late ones"
        assert {s.kenmerk for s in st.all_status(store, today=TODAY, overdue=True)} == late
    result = CliRunner().invoke(cli, ["status", "--root", str(root), "--overdue", "--json", "--today",
                                      TODAY.isoformat()])
    assert result.exit_code == 0
    assert {z["kenmerk"] for z in json.loads(result.output)["zaken"]} == late


def test_the_large_list_is_plain_lines_one_per_case(scale_root):
    root, kenmerken = scale_root
    result = CliRunner().invoke(cli, ["status", "--root", str(root), "--today", TODAY.isoformat()])
    assert result.exit_code == 0
    rows = [line for line in result.output.splitlines() if line.strip().startswith("SCALE-")]
    assert [r.split()[0] for r in rows] == kenmerken
    assert any("TE LAAT" in r for r in rows)


def test_a_listing_is_one_audit_record_and_opening_a_case_one_per_case(scale_root):
    root, kenmerken = scale_root
    with _open(root) as store:
        audit = Audit(store)
        before, before_case = audit.count(), len(audit.trail(kenmerken[7]))
        assert CliRunner().invoke(cli, ["status", "--root", str(root), "--json"]).exit_code == 0
        assert audit.count() == before + 1, "the list of 300 cases is one record, not 300"
        [listing] = [r for r in audit.records()[-1:]]
        assert listing.kenmerk is None and listing.details == {"wat": "status-overzicht", "aantal": len(kenmerken)}
        assert CliRunner().invoke(cli, ["status", "--root", str(root), kenmerken[7]]).exit_code == 0
        trail = audit.trail(kenmerken[7])
        assert len(trail) == before_case + 1 and trail[-1].details["wat"] == "status"
        assert audit.verify() == []


def test_a_database_from_before_the_summaries_is_migrated_and_summarised(tmp_path):
    """An old database: the migrations before 0015, events in it, no summary table; opened by today's Store."""
    source = tmp_path / "source"
    fill_scale_root(source, cases=40, audit_records=0)
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old)
    conn.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    from pipeline.adapters.store import _statements
    for name, sql in MIGRATIONS:
        if name == "0015_case_summary":
            continue
        for statement in _statements(sql):
            conn.execute(statement)
        conn.execute("INSERT INTO migrations VALUES (?, '2026-01-01T00:00:00+00:00')", (name,))
    conn.execute("ATTACH DATABASE ? AS src", (str(source / "state" / "sopipe.db"),))
    conn.execute("INSERT INTO events SELECT * FROM src.events")
    conn.execute("INSERT INTO deliveries SELECT * FROM src.deliveries")
    conn.commit()
    conn.execute("DETACH DATABASE src")
    conn.close()

    with contextlib.closing(Store(old)) as store:
        applied = {r[0] for r in store._conn().execute("SELECT name FROM migrations")}
        assert "0015_case_summary" in applied, "the migration is recorded in the database"
        assert len(store.kenmerken_without_summary(SUMMARY_VERSION)) == 40
        listed = _listed(st.all_status(store, today=TODAY))  # makes the missing summaries first
        assert store.kenmerken_without_summary(SUMMARY_VERSION) == []
        assert listed == _expected(store) and len(listed) == 40


def test_rebuild_remakes_a_damaged_summary_from_the_events(scale_root, tmp_path):
    root, kenmerken = scale_root
    with _open(root) as store:
        victim = kenmerken[3]
        damaged = {**_folded(store, victim).as_record(), "stap": "facturatie", "termijnen": []}
        with store.transaction() as tx:
            tx.execute("UPDATE case_summary SET summary=? WHERE kenmerk=?", (json.dumps(damaged), victim))
        assert _listed(st.all_status(store, today=TODAY))[victim]["stap"] == "facturatie"
        result = CliRunner().invoke(cli, ["status", "--root", str(root), "--rebuild", "--json"])
        assert result.exit_code == 0, result.output
        assert _listed(st.all_status(store, today=TODAY)) == _expected(store)


def test_a_summary_of_another_version_is_made_again(scale_root):
    root, kenmerken = scale_root
    with _open(root) as store:
        with store.transaction() as tx:
            tx.execute("UPDATE case_summary SET version=?, summary='{}' WHERE kenmerk=?",
                       (SUMMARY_VERSION - 1, kenmerken[5]))
        assert store.kenmerken_without_summary(SUMMARY_VERSION) == [kenmerken[5]]
        assert _listed(st.all_status(store, today=TODAY))[kenmerken[5]] == _expected(store)[kenmerken[5]]


def test_an_event_accepted_without_a_summary_never_leaves_a_stale_one(tmp_path):
    root = tmp_path / "root"
    kenmerken = fill_scale_root(root, cases=20, audit_records=0)
    with _open(root) as store:
        kenmerk = next(k for k in kenmerken if _folded(store, k).toestemmingen.get("medische_gegevens")
                       in ("verleend", "ondertekend"))  # a written consent is "ondertekend" (issue 20)
        intrekking = {"schema": "so-pipeline/v1", "kenmerk": kenmerk, "stap": "intrekking", "datum": "2026-12-10",
                      "machtiging": "medische_gegevens", "reden": "Wil dit eerst zelf bespreken."}
        store.accept(kenmerk=kenmerk, stap="intrekking", datum="2026-12-10", payload=intrekking, sha256="f" * 64,
                     file_name="x.json", ingediend_door=None, deliveries=[])
        assert store.kenmerken_without_summary(SUMMARY_VERSION) == [kenmerk]
        listed = _listed(st.all_status(store, today=TODAY))
        assert listed[kenmerk]["toestemmingen"]["medische_gegevens"] == "ingetrokken"
        assert listed == _expected(store)


def test_the_real_pipeline_keeps_the_summary_with_each_event(make_root):
    root = make_root()
    for path in sorted((EXAMPLES / "case-SO-2026-0042").glob("*.json"))[:6]:
        root.drop(path.name, path.read_bytes())
    assert {o.status for o in root.run()} == {"processed"}
    assert root.store.kenmerken_without_summary(SUMMARY_VERSION) == []  # written by the runner, not made later
    [listed] = st.all_status(root.store, today=TODAY)
    one = st.case_status(root.store, "SO-2026-0042", today=TODAY)
    assert listed.stap == one.stap == "uitvoering"
    assert listed.documenten == len(one.bezorgd) > 0
    assert listed.termijnen == one.termijnen and listed.toestemmingen == one.toestemmingen
    assert listed.bewaren_tot == one.bewaren_tot


def test_audit_verify_streams_and_still_finds_a_changed_record(tmp_path):
    with contextlib.closing(Store(tmp_path / "audit.db")) as store:
        audit = Audit(store, user="test", system="test")
        with audit.batch():
            for i in range(5_000):
                audit.record(Gebeurtenis.INZAGE, kenmerk=f"SO-2026-{i % 97:04d}", actie=Actie.READ,
                             uitkomst=Uitkomst.GESLAAGD, wat="status")
        assert audit.verify() == []
        conn = store._conn()
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit SET details='{\"wat\":\"audit\"}' WHERE id=4321")
        problems = audit.verify()
        assert [(p.record_id, p.what) for p in problems] == [(4321, "gewijzigd")]


def test_generated_cases_are_reproducible(tmp_path):
    a = fill_scale_root(tmp_path / "a", cases=20, audit_records=0)
    b = fill_scale_root(tmp_path / "b", cases=20, audit_records=0)
    sa, sb = Store(tmp_path / "a" / "state" / "sopipe.db"), Store(tmp_path / "b" / "state" / "sopipe.db")
    try:
        assert a == b and _listed(st.all_status(sa, today=TODAY)) == _listed(st.all_status(sb, today=TODAY))
    finally:
        sa.close()
        sb.close()
