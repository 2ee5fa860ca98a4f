"""A root with a whole case processed, the text of its delivered PDFs, and the report on a refused case file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.mailbox_paths import mailbox_file
from tests.pdfs import pdf_text


def processed_root(tmp_path_factory, name: str, events: list[dict], *, converter, shared_pki):
    """A fresh root (the session PKI, `converter`) with `events` processed; every file must be accepted."""
    from tests.conftest import Root
    root = Root(tmp_path_factory.mktemp(name) / "root", converter=converter, pki=shared_pki)
    run_all(root, events)
    return root


def run_all(root, events: list[dict]) -> None:
    """Drop `events` as 01.json, 02.json … and process them; every file must be accepted."""
    for i, ev in enumerate(events, start=1):
        root.drop(f"{i:02d}.json", ev)
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed"] * len(events), [(o.file_name, o.detail) for o in outcomes]


def read(root, party: str, kind: str, kenmerk: str) -> str:
    """The flattened text of `party`'s delivered `<kenmerk>_<kind>.pdf`."""
    return pdf_text(mailbox_file(root, party, kenmerk, kind))


def failure_report(root, name: str) -> str:
    """The report beside a refused case file in inbox/failed/."""
    return (root.settings.inbox / "failed" / f"{name}.error.txt").read_text(encoding="utf-8")


def snapshot(root: Path) -> dict:
    """What a root holds after its run (mailboxes, stored events and deliveries, inbox folders), to compare runs."""
    mailboxes = sorted(str(p.relative_to(root / "outbox")) for p in (root / "outbox").rglob("*") if p.is_file())
    with sqlite3.connect(root / "state" / "sopipe.db") as db:
        events = db.execute("SELECT kenmerk, stap, file_name FROM events ORDER BY kenmerk, id").fetchall()
        deliveries = db.execute("SELECT kenmerk, kind, party, status FROM deliveries ORDER BY 1, 2, 3").fetchall()
    return {"mailboxes": mailboxes, "events": events, "deliveries": deliveries,
            "processed": sorted(p.name for p in (root / "inbox" / "processed").iterdir()),
            "failed": sorted(p.name for p in (root / "inbox" / "failed").iterdir()),
            "inbox": sorted(p.name for p in (root / "inbox").iterdir() if p.is_file())}
