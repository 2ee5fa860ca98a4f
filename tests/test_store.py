"""The state database (`pipeline.adapters.store.Store`) on a real SQLite file: what the archive and the desk ask
of it by name instead of in SQL of their own — forget one destroyed case (its rows, its journal entries, their
bytes in the file) and nothing of another case or of the audit trail; the audit trail's guards; a file's outcome."""

from __future__ import annotations

import pytest

from pipeline.adapters.audit import Audit
from pipeline.adapters.store import Store
from pipeline.core.trail import Actie, Gebeurtenis, Uitkomst

K, OTHER = "SO-2026-0042", "SO-2026-0043"
SECRET = "knieklachten sinds maart"
"""Medical text of the case that is destroyed: not a byte of it may stay in the database file."""


@pytest.fixture
def store(tmp_path):
    (tmp_path / "state").mkdir()
    s = Store(tmp_path / "state" / "sopipe.db")
    yield s
    s.close()


def accepted(store: Store, kenmerk: str, sha: str, payload: dict) -> None:
    store.journal_start(sha, f"{kenmerk}-verzoek.json")
    store.accept(kenmerk=kenmerk, stap="verzoek", datum="2026-11-12", payload=payload, sha256=sha,
                 file_name=f"{kenmerk}-verzoek.json", ingediend_door=None, deliveries=[])


def test_delete_case_forgets_the_case_and_only_that_case(store):
    accepted(store, K, "a" * 64, {"kenmerk": K, "medische_gegevens": SECRET})
    accepted(store, OTHER, "b" * 64, {"kenmerk": OTHER, "medische_gegevens": "rugklachten"})
    store.journal_start("c" * 64, "kapot.json")  # a file of the case whose kenmerk could not be read
    store.journal_failed("c" * 64, kenmerk=None, detail="geen geldige JSON")
    Audit(store, user="archivaris").record(Gebeurtenis.EXPORT, kenmerk=K, actie=Actie.READ,
                                           uitkomst=Uitkomst.GESLAAGD)

    with store.transaction() as tx:  # as on a SQLite built without SECURE_DELETE (Debian's has it on)
        tx.execute("PRAGMA secure_delete=OFF")

    store.delete_case(K, journal=["c" * 64])

    assert store.events(K) == [] and store.journal_shas(K) == []
    assert store.journal_status("a" * 64) is None and store.journal_status("c" * 64) is None
    assert [e.sha256 for e in store.events(OTHER)] == ["b" * 64] and store.journal_status("b" * 64) == "done"
    assert [r.gebeurtenis for r in Audit(store).trail(K)] == [Gebeurtenis.EXPORT]  # the trail outlives the case
    store.close()
    for path in store.path.parent.iterdir():  # the database, its WAL and shared memory: deleted pages zeroed
        assert SECRET.encode() not in path.read_bytes(), path.name


def test_the_audit_trail_is_guarded_by_its_two_triggers(store):
    assert store.triggers_on("audit") >= {"audit_no_update", "audit_no_delete"}
    assert store.triggers_on("events") == set()


def test_journal_outcome_of_a_file_never_taken_in_taken_in_and_refused(store):
    assert store.journal_outcome("d" * 64) == (None, None)
    store.journal_start("d" * 64, "verzoek.json")
    assert store.journal_outcome("d" * 64) == ("processing", None)
    store.journal_failed("d" * 64, kenmerk=K, detail="retry: LibreOffice kon niet starten")
    assert store.journal_outcome("d" * 64) == ("failed", "retry: LibreOffice kon niet starten")
