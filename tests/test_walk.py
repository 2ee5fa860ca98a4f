"""Issue 12, one path through the house: the walk of a case file (`tools/walk.py`) and the import graph.

The walk runs the example case through the production wiring with the FakeConverter and reports, per file, the
rooms entered and how often the file was read, parsed and hashed; these tests hold the "after" of the issue.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.package_data import EXAMPLE_CASE

REPO = Path(__file__).resolve().parent.parent
ORDER = ("watcher", "stage", "journal", "decide", "make", "sign", "guard", "deliver", "record", "move")


@pytest.fixture(scope="module")
def walk() -> list[dict]:
    done = subprocess.run([sys.executable, str(REPO / "tools" / "walk.py"), "--json"], capture_output=True,
                          text=True, timeout=900, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_the_walk_covers_every_file_of_the_example_case(walk):
    names = sorted(p.name for p in EXAMPLE_CASE.glob("*.json"))
    assert [r["file"] for r in walk] == names
    assert all(r["status"] == ["processed"] for r in walk), [(r["file"], r["status"]) for r in walk]
    assert sum(r["deliveries"] for r in walk) > 20  # documents really went out: the counts below mean something


def test_each_room_is_entered_once_and_in_order(walk):
    for r in walk:
        rooms = r["rooms"]
        assert len(rooms) == len(set(rooms)), (r["file"], rooms)
        assert rooms == sorted(rooms, key=ORDER.index), (r["file"], rooms)
        assert rooms[:4] == ["watcher", "stage", "journal", "decide"] and rooms[-2:] == ["record", "move"], rooms
    with_documents = [r for r in walk if r["deliveries"]]
    assert with_documents and all({"make", "guard", "deliver"} <= set(r["rooms"]) for r in with_documents)
    assert any("sign" in r["rooms"] for r in walk)


def test_each_file_is_read_parsed_and_hashed_once(walk):
    for r in walk:
        assert (r["read"], r["parsed"], r["sha256"]) == (1, 1, 1), r


def test_each_pdf_is_hashed_once(walk):
    with_pdfs = [r for r in walk if r["pdfs"]]
    assert len(with_pdfs) >= 5
    for r in with_pdfs:
        assert r["pdf_hashed_min"] == r["pdf_hashed_max"] == 1, r


def test_stored_payloads_are_not_validated_or_folded_again_for_each_file(walk):
    for r in walk:
        assert r["validated_stored"] == 0 and r["folds"] == 0, r


def test_consent_is_checked_once_per_delivery(walk):
    for r in walk:
        assert r["consent_checks"] == r["deliveries"], r


# --- the folded state kept by the runner stays true to the store ------------------------------------------------

def test_a_case_changed_behind_the_runners_back_is_folded_again(make_root):
    """The kept state is only used while the store's last event of the case is the one it includes."""
    from pipeline.shell.app import open_pipeline
    from tests.casefactory import full_case
    root = make_root()
    events = full_case(kenmerk="FOLD-1", upto="beoordeling")
    root.drop("01.json", events[0])
    assert [o.status for o in root.run()] == ["processed"]
    assert root.pipeline.case_state("FOLD-1").beoordeling is None
    # a second pipeline on the same root (its own connection to the database) accepts the next event
    with open_pipeline(root.settings, converter=root.converter, signer=root.pipeline.signer) as other:
        outcome = other.process(root.drop("02.json", events[1]))
    assert outcome.status == "processed", outcome.detail
    assert root.pipeline.case_state("FOLD-1").beoordeling is not None

