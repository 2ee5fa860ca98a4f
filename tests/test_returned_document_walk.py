"""The walk of a returned signed PDF (`tools/walk.py --returned`): read once, from the watcher to delivery.

The example case is taken to the final advice on a DEMO root where doctors sign themselves; Dr. Visser signs the
waiting advice as `sopipe sign` does (or the employee signs a consent form), and that PDF is walked through the
production wiring (FakeConverter). The counts are of calls, never of time: each room entered once and in order,
the file read once, its name parsed once, pypdf and pyHanko each parsing it once, its signatures validated once
(the archive's validation report is made from that validation), and the flow never going back and forth between
the runner and the returns module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ORDER = ("watcher", "stage", "journal", "read", "decide", "make", "sign", "guard", "deliver", "record", "move")


def _walk(*extra: str) -> dict:
    done = subprocess.run([sys.executable, str(REPO / "tools" / "walk.py"), "--returned", "--json", *extra],
                          capture_output=True, text=True, timeout=900, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    [line] = done.stdout.splitlines()
    return json.loads(line)


@pytest.fixture(scope="module")
def walk() -> dict:
    return _walk()


def test_the_returned_advice_is_accepted_and_delivered(walk):
    assert walk["status"] == ["processed"], walk["detail"]
    assert walk["signed_level"] == "B-LTA"  # the root's level for the SO doctor: no upgrade on arrival
    assert walk["deliveries"] == 4 and walk["archived"] == 1  # the counts below are of a real delivery
    assert walk["archive_report"]  # the archive's validation report beside it, of a passed signature


def test_each_room_is_entered_once_and_in_order(walk):
    rooms = walk["rooms"]
    assert len(rooms) == len(set(rooms)), rooms
    assert rooms == sorted(rooms, key=ORDER.index), rooms
    assert rooms == ["watcher", "stage", "journal", "read", "decide", "sign", "guard", "deliver", "record", "move"]


def test_the_file_is_read_parsed_and_validated_once(walk):
    counts = {k: walk[k] for k in ("read", "sha256", "name_parsed", "pypdf", "pyhanko", "validated")}
    assert counts == {"read": 1, "sha256": 1, "name_parsed": 1, "pypdf": 1, "pyhanko": 1, "validated": 1}, walk
    assert walk["validated_as"] == ["file"]  # and the archive's report was made from that one validation


def test_the_flow_does_not_go_back_and_forth_between_the_runner_and_the_returns_module(walk):
    assert walk["runner_returns"] == 0, walk["modules"]
    assert "returns" not in walk["modules"]  # only a refusal's report is written there


def test_a_return_signed_below_the_roots_level_is_validated_again_only_after_its_upgrade():
    """Signed B-B, the advice is upgraded to B-LTA on arrival: the archive keeps other bytes than came in (with a
    document timestamp and validation data), and only a validation of those can report them."""
    walk = _walk("--signed-level", "B-B")
    assert walk["status"] == ["processed"], walk["detail"]
    assert (walk["read"], walk["name_parsed"], walk["pypdf"]) == (1, 1, 1), walk
    assert walk["validated_as"] == ["file", "upgraded"], walk
    assert walk["archive_report"]
    assert walk["rooms"] == ["watcher", "stage", "journal", "read", "decide", "sign", "guard", "deliver", "record",
                             "move"]


def test_a_signed_consent_form_is_read_and_validated_once_and_archived_with_that_validation():
    walk = _walk("--document", "machtiging")
    assert walk["status"] == ["processed"], walk["detail"]
    assert walk["archived"] == 1 and walk["archive_report"], walk
    counts = {k: walk[k] for k in ("read", "sha256", "name_parsed", "pypdf", "pyhanko", "validated")}
    assert counts == {"read": 1, "sha256": 1, "name_parsed": 1, "pypdf": 1, "pyhanko": 1, "validated": 1}, walk
    assert walk["rooms"] == ["watcher", "stage", "journal", "read", "decide", "guard", "deliver", "record", "move"]
    assert walk["runner_returns"] == 0 and "consent_forms" not in walk["modules"], walk["modules"]
