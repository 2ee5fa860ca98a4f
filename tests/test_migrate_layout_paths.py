"""Loose end of issue 13: `sopipe migrate-layout` also moves the paths the store keeps (deliveries, documents
waiting for a signature) to the new layout, idempotently, crash-safe and recorded in the audit trail.

The old root is built by the test: a case taken to the final advice with doctors signing themselves, then every
per-recipient case folder moved back to `outbox/<party>/<kenmerk>/` and the stored paths written as the old code
wrote them."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from pipeline.adapters.audit import Audit
from pipeline.cli import cli
from pipeline.core.routing import PER_RECIPIENT
from pipeline.shell.app import OrderSigner
from pipeline.shell.migrate import migrate_layout
from tests.casefactory import full_case
from tests.mailbox_paths import mailbox

K = "SO-2026-0042"


@pytest.fixture
def old_root(make_root, keyring):
    """A root as it was before issue 13: per-role case folders, and the store's paths pointing into them."""
    root = make_root(signer=OrderSigner(keyring, auto_sign_doctors=False))  # doctors sign themselves
    for i, ev in enumerate(full_case(kenmerk=K, upto="definitief_advies"), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    assert {o.status for o in root.run()} == {"processed"}
    out = root.settings.outbox
    new_prefixes = {}
    for party in PER_RECIPIENT:
        folder = mailbox(root, party, K)
        if not folder.is_dir():
            continue  # nothing delivered to this party yet
        new_prefixes[party.value] = str(folder.relative_to(root.path)) + "/"
        folder.rename(out / party.value / K)
        folder.parent.rmdir()
    assert {"bedrijfsarts", "so-bedrijfsarts"} <= set(new_prefixes)
    with sqlite3.connect(root.settings.database) as db:
        for party, new in new_prefixes.items():
            old = f"outbox/{party}/{K}/"
            for table in ("deliveries", "pending_signatures"):
                db.execute(f"UPDATE {table} SET path = ? || substr(path, ?) WHERE substr(path, 1, ?) = ?",
                           (old, len(new) + 1, len(new), new))
    db.close()
    root.new_prefixes = new_prefixes
    return root


def _stored_paths(root, *, delivered: bool = True) -> list[str]:
    """The stored mailbox paths of the per-recipient parties (delivered ones only, or also those withheld)."""
    where = "status='delivered'" if delivered else "status!='quarantined'"
    with sqlite3.connect(root.settings.database) as db:
        rows = db.execute(f"SELECT path FROM deliveries WHERE {where} UNION ALL "
                          "SELECT path FROM pending_signatures").fetchall()
    db.close()
    return [r[0] for r in rows if r[0].split("/")[1] in {p.value for p in PER_RECIPIENT}]


def test_status_shows_the_new_te_ondertekenen_path_after_migrating_an_old_root(old_root):
    so = old_root.new_prefixes["so-bedrijfsarts"]
    old_waiting = f"outbox/so-bedrijfsarts/{K}/te-ondertekenen/{K}_advies.pdf"
    new_waiting = f"{so}te-ondertekenen/{K}_advies.pdf"
    runner = CliRunner()
    before = runner.invoke(cli, ["status", "--root", str(old_root.path), K])
    assert old_waiting in before.output, before.output  # the old root as built: status points at the old folder

    first = runner.invoke(cli, ["migrate-layout", "--root", str(old_root.path)])
    assert first.exit_code == 0, first.output
    assert f"{len(old_root.new_prefixes)} folder(s) moved" in first.output
    stored = _stored_paths(old_root)
    n = len(_stored_paths(old_root, delivered=False))
    assert f"{n} stored path(s)" in first.output

    after = runner.invoke(cli, ["status", "--root", str(old_root.path), K])
    assert after.exit_code == 0, after.output
    assert new_waiting in after.output and old_waiting not in after.output
    assert (old_root.path / new_waiting).is_file(), "the path shown is where the document now is"
    data = json.loads(runner.invoke(cli, ["status", "--root", str(old_root.path), K, "--json"]).output)
    shown = [d["pad"] for z in data["zaken"] for d in z.get("bezorgd", [])]
    assert shown, data
    for path in stored:  # every stored mailbox path names an existing file of the new layout
        assert (old_root.path / path).is_file(), path
        assert not any(path.startswith(f"outbox/{p.value}/{K}/") for p in PER_RECIPIENT), path
    for p in shown:
        assert (old_root.path / p).is_file(), p

    # idempotent: a second run moves and rewrites nothing, and records nothing more
    records = Audit(old_root.store).records()
    second = runner.invoke(cli, ["migrate-layout", "--root", str(old_root.path)])
    assert second.exit_code == 0
    assert "0 folder(s) moved" in second.output and "0 stored path(s)" in second.output
    assert _stored_paths(old_root) == stored
    assert len(Audit(old_root.store).records()) == len(records)
    rewrites = [r for r in records if r.details.get("wat") == "migrate-layout-paden"]
    assert [(r.kenmerk, r.details["aantal"]) for r in rewrites] == [(K, n)]


def test_a_crash_after_the_folders_moved_is_finished_by_the_next_run(old_root, monkeypatch):
    """The folders move first; a crash before the paths are rewritten leaves old paths, which the next run
    rewrites although it finds no folder left to move. A crash inside the rewrite changes nothing (one
    transaction with its audit record)."""
    store = old_root.store
    audit = Audit(store)
    mailboxes = old_root.pipeline.mailboxes
    real = store.rewrite_paths

    def crash(kenmerk, prefixes):
        real(kenmerk, prefixes)  # the rows are updated ...
        raise OSError("power cut")  # ... and the transaction never commits

    monkeypatch.setattr(store, "rewrite_paths", crash)
    with pytest.raises(OSError):
        migrate_layout(mailboxes, store, audit)
    monkeypatch.undo()
    assert any(p.startswith(f"outbox/so-bedrijfsarts/{K}/") for p in _stored_paths(old_root)), "rolled back"
    assert not [r for r in audit.records() if r.details.get("wat") == "migrate-layout-paden"]

    result = migrate_layout(mailboxes, store, audit)
    assert result.moved == () and result.paths_rewritten == len(_stored_paths(old_root, delivered=False)) > 0
    for path in _stored_paths(old_root):
        assert (old_root.path / path).is_file(), path
    assert audit.verify() == []
