"""Issue 13, finding 6: one redaction, everywhere. A BSN in any position of a case file (its name, any field, a
broken file) never reaches the log, `watch`'s output, a report, the journal or the audit trail; a newline in a file
name cannot forge a log line."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.core import redaction, trail
from pipeline.core.redaction import contains_bsn, escape_controls, for_people, mask_digits, personal_data_in, redact
from pipeline.shell import logs
from pipeline.shell.layout import init_root
from tests.casefactory import event

REPO = Path(__file__).resolve().parents[1]
K = "SO-2026-0042"
BSN = "111222333"
BSN_FORMS = (BSN, "111.222.333", "111 222 333")


@pytest.mark.parametrize("text, expected", [
    (f"bestand jansen_{BSN}.json", "bestand jansen_[BSN].json"),
    ("BSN 111.222.333 en 111 222 333", "BSN [BSN] en [BSN]"),
    ("BIG 39087654301, kenmerk SO-2026-0042, 123456789", "BIG 39087654301, kenmerk SO-2026-0042, 123456789"),
])
def test_redact_replaces_elfproef_numbers_only(text, expected):
    assert redact(text) == expected


def test_one_module_behind_every_former_helper():
    assert logs.redact is redaction.redact and trail.scrub is redaction.mask_long_numbers
    assert not hasattr(trail, "_looks_like_bsn")
    assert contains_bsn(f"x{BSN}4") and not contains_bsn("123456789")
    assert mask_digits(BSN) == "******333" and trail.scrub(f"a-{BSN}.json") == "a-#########.json"


def test_control_characters_are_escaped():
    assert escape_controls("a\nb\r\tc\x1b[31m\u2028") == "a\\nb\\r\\tc\\x1b[31m\\u2028"
    assert for_people(f"x\n{BSN}") == "x\\n[BSN]"


def test_personal_data_in_a_free_text():
    born = [dt.date(1984, 3, 17)]
    assert personal_data_in("verzoek werknemer (art. 7:455 BW)", names=["Jansen"], dates=born) == []
    assert personal_data_in("Jansen, 17-03-1984, 111222333", names=["Jansen"], dates=born) == [
        "een BSN", "een naam uit de zaak", "een geboortedatum"]
    assert personal_data_in("Jansenius", names=["Jansen"]) == []  # a word, not a part of one


def _hostile_inputs() -> dict[str, bytes]:
    """A BSN in every position a case file has, plus a file name that tries to forge a log line."""
    good = event("verzoek", kenmerk=K)
    dump = lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8")  # noqa: E731
    as_number = event("verzoek", kenmerk="SO-2026-0043")
    as_number["werknemer"] = {**as_number["werknemer"], "bsn": int(BSN)}
    return {
        f"jansen_{BSN}.json": dump(good),                                   # name of a file that is processed
        f"verzoek {BSN[:3]}.{BSN[3:6]}.{BSN[6:]}.json": dump({**good, "datum": "morgen"}),  # name of a failing one
        "kenmerk.json": dump({**good, "kenmerk": BSN}),
        "stap.json": dump({**good, "stap": BSN}),
        "datum.json": dump({**good, "kenmerk": "SO-2026-0044", "datum": BSN}),
        "bsn-als-getal.json": dump(as_number),
        "ingediend.json": dump(event("beoordeling", kenmerk=K, ingediend_door=f"secretariaat {BSN}")),
        "kapot.json": b'{"schema": "so-pipeline/v1", "kenmerk": "' + BSN.encode() + b'", "werknemer": {"bsn": ',
        "evil\n00:00:00 WARNING vervalst.json": b'{"kenmerk": 111222333}',
    }


@pytest.mark.libreoffice
def test_a_bsn_in_every_input_position_reaches_no_log_output_report_journal_or_audit(tmp_path, shared_pki):
    root = tmp_path / "root"
    settings = init_root(root, pki=False)
    shutil.copytree(shared_pki, settings.pki_dir, dirs_exist_ok=True)
    for name, data in _hostile_inputs().items():
        (settings.inbox / name).write_bytes(data)
    run = subprocess.run([sys.executable, "-m", "pipeline", "watch", "--once", "--root", str(root)], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    output = run.stdout + run.stderr
    assert "[BSN]" in output and "processed" in output  # the files were seen and reported
    failed = sorted(p.name for p in (settings.inbox / "failed").iterdir() if not p.name.endswith(".error.txt"))
    assert len(failed) == 7, failed

    reports = {p.name: p.read_text(encoding="utf-8") for p in (settings.inbox / "failed").glob("*.error.txt")}
    assert len(reports) == 7 and any("gegeven: [BSN]" in r or "gegeven: '[BSN]'" in r for r in reports.values())
    assert any("******333" in r for r in reports.values())  # the mistyped BSN field: recognisable, not whole

    db = sqlite3.connect(settings.database)
    try:
        journal = [" ".join(str(v) for v in row) for row in db.execute("SELECT * FROM journal")]
        audit = [" ".join(str(v) for v in row) for row in db.execute("SELECT * FROM audit")]
    finally:
        db.close()
    assert len(journal) == 9 and audit

    for where, texts in {"output": [output], "reports": list(reports.values()), "journal": journal,
                         "audit": audit}.items():
        for text in texts:
            for form in BSN_FORMS:
                assert form not in text, f"BSN in the {where}: {text[:300]}"

    # the newline in the file name is escaped: no line of the plain log starts with the forged text
    assert not any(line.startswith("00:00:00 WARNING vervalst") for line in output.splitlines())
    assert "evil\\n00:00:00 WARNING vervalst.json" in run.stderr
    for line in run.stderr.splitlines():
        assert re.match(r"\d\d:\d\d:\d\d (INFO|WARNING|ERROR|DEBUG) ", line), line
