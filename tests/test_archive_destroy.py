"""Issue 13, finding 5: `archive destroy` leaves nothing of the case but the audit trail's content-free records.

The long test runs the real pipeline as a separate process, kills it with SIGKILL while LibreOffice converts one of
the case's documents (twice: once followed by a restart, once not), then destroys the dossier and searches every
byte under the root (the SQLite database and its WAL included) and the converter scratch for the case's data.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from pipeline.adapters.converter import SCRATCH_PREFIX, stale_scratch
from pipeline.shell.layout import init_root
from tests.casefactory import event, full_case

REPO = Path(__file__).resolve().parents[1]
SOPIPE = [sys.executable, "-m", "pipeline"]
K, OTHER = "SO-2026-0042", "SO-2026-0077"
BSN, OTHER_BSN = "111222333", "123456782"
REDEN = "verzoek werknemer tot vernietiging (art. 7:455 BW)"
# what identifies the employee of K in the example case (CASEFILE.md: werknemer)
CASE_DATA = [BSN.encode(), b"Jansen", b"1984-03-17", b"Lindenlaan", b"m.jansen@voorbeeld.nl", b"P-20417"]


def _root(path: Path, shared_pki: Path) -> Path:
    settings = init_root(path, pki=False)
    shutil.copytree(shared_pki, settings.pki_dir, dirs_exist_ok=True)
    return path


def _drop(root: Path, name: str, data) -> None:
    raw = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode("utf-8")
    (root / "inbox" / name).write_bytes(raw)


def _scratch_jobs(root: Path) -> list[Path]:
    return list((root / "state" / "scratch").glob(f"{SCRATCH_PREFIX}*/jobs/*/in.docx"))


def _kill_during_conversion(root: Path) -> list[Path]:
    """Start `watch --once`, SIGKILL it while a document of the case is being converted; the scratch it left."""
    proc = subprocess.Popen([*SOPIPE, "watch", "--once", "--root", str(root)], cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 240
    try:
        while not _scratch_jobs(root):
            assert proc.poll() is None, "the pipeline finished before a conversion was caught"
            assert time.monotonic() < deadline, "no conversion started"
            time.sleep(0.01)
        children = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)  # the pipeline only; its workers see EOF and exit by themselves
        proc.wait()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    psutil.wait_procs(children, timeout=30)
    left = sorted({p.parents[2] for p in _scratch_jobs(root)})
    assert left, "the kill must leave a document in the scratch"
    return left


def _every_file(*bases: Path) -> list[Path]:
    return [p for base in bases if base.exists() for p in base.rglob("*") if p.is_file() and not p.is_symlink()]


@pytest.mark.libreoffice
@pytest.mark.timeout(900)
def test_kill_9_during_conversion_restart_and_destroy_leave_nothing_of_the_case(tmp_path, shared_pki):
    root = _root(tmp_path / "root", shared_pki)
    for i, ev in enumerate(full_case(kenmerk=K, upto="aanvraag"), start=1):
        _drop(root, f"{i:02d}-{ev['stap']}.json", ev)
    # failed files of the case: one whose kenmerk cannot be read (broken JSON), one whose kenmerk has the wrong
    # type (found by the BSN), one refused by the schema for a mistyped BSN
    verzoek = json.dumps(event("verzoek", kenmerk=K), ensure_ascii=False).encode("utf-8")
    _drop(root, "afgebroken.json", verzoek[: verzoek.index(BSN.encode()) + 20])
    _drop(root, "kenmerk-als-getal.json", {**event("verzoek", kenmerk=K), "kenmerk": 42})
    wrong = event("verzoek", kenmerk=K)
    wrong["werknemer"] = {**wrong["werknemer"], "bsn": "11122233"}
    _drop(root, "bsn-verkeerd.json", wrong)
    # another employee's case, which must stay whole
    other = event("verzoek", kenmerk=OTHER)
    other["werknemer"] = {**other["werknemer"], "bsn": OTHER_BSN, "naam": "De Vries", "voorletters": "R.",
                          "geboortedatum": "1990-06-01", "email": "r.devries@voorbeeld.nl",
                          "personeelsnummer": "P-30991", "adres": {"straat": "Beukenweg 3", "postcode": "3511 CD",
                                                                   "plaats": "Utrecht"}}
    _drop(root, "andere-zaak.json", other)

    first = _kill_during_conversion(root)
    out = subprocess.run([*SOPIPE, "watch", "--once", "--root", str(root)], cwd=REPO, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert not any(p.exists() for p in first), "the restart sweeps the scratch the killed pipeline left"
    failed = sorted(p.name for p in (root / "inbox" / "failed").iterdir())
    assert failed == sorted(f"{n}{s}" for n in ("afgebroken.json", "kenmerk-als-getal.json", "bsn-verkeerd.json")
                            for s in ("", ".error.txt")), failed

    # one more event of the case, killed while converting, never restarted: it stays in the inbox (retry),
    # with whatever it staged, and its Word file lies in the scratch
    _drop(root, "06-uitvoering.json", event("uitvoering", kenmerk=K))
    second = _kill_during_conversion(root)
    # read once: the killed run had taken it out of the inbox into its private stage (resumed at the next start)
    assert (root / "inbox" / "06-uitvoering.json").exists() or list((root / "state" / "intake").glob("*/06-uitvoering.json"))

    result = subprocess.run([*SOPIPE, "archive", "destroy", K, "--root", str(root), "--force", "--reden", REDEN,
                             "--yes"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not any(p.exists() for p in second)
    assert not (root / "outbox" / "archief" / K).exists()
    assert sorted(p.name for p in (root / "inbox" / "processed").iterdir()) == ["andere-zaak.json"]
    assert list((root / "inbox" / "failed").iterdir()) == [] and not (root / "inbox" / "06-uitvoering.json").exists()
    assert not list((root / "state" / "staging").glob("*/*"))

    leftovers = {}
    for path in _every_file(root):  # the whole root, the parties' mailboxes in outbox/ included
        data = path.read_bytes()
        hits = [m.decode() for m in CASE_DATA if m in data]
        if hits:
            leftovers[str(path)] = hits
    assert leftovers == {}, "nothing of the case may remain"

    db = sqlite3.connect(root / "state" / "sopipe.db")
    try:
        assert db.execute("SELECT count(*) FROM events WHERE kenmerk=?", (K,)).fetchone() == (0,)
        assert db.execute("SELECT count(*) FROM events WHERE kenmerk=?", (OTHER,)).fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM journal WHERE kenmerk IS NULL OR kenmerk=?", (K,)).fetchone() == (0,)
        audit = [json.loads(d) for (d,) in db.execute("SELECT details FROM audit WHERE kenmerk=? AND "
                                                      "gebeurtenis='vernietiging'", (K,))]
    finally:
        db.close()
    assert [a.get("reden") for a in audit] == [REDEN, REDEN]


# --- the reason, and what is in the way ---------------------------------------------------------------------------

@pytest.fixture
def one_case(make_root):
    root = make_root()
    root.drop("01-verzoek.json", event("verzoek", kenmerk=K))
    assert [o.status for o in root.run()] == ["processed"]
    return root


def _destroy(root, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*SOPIPE, "archive", "destroy", K, "--root", str(root.path), "--yes", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("reden, what", [
    (f"verzoek van werknemer met BSN {OTHER_BSN}", "een BSN"),
    ("verzoek van Jansen", "een naam uit de zaak"),
    ("verzoek M.A. Jansen, art. 7:455 BW", "een naam uit de zaak"),
    ("verzoek werknemer geboren 17-03-1984", "een geboortedatum"),
    ("verzoek werknemer (17 maart 1984)", "een geboortedatum"),
])
def test_a_reason_with_personal_data_is_refused_plainly_and_nothing_is_destroyed(one_case, reden, what):
    result = _destroy(one_case, "--force", "--reden", reden)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert what in result.stderr and "persoonsgegevens" in result.stderr and "art. 7:455 BW" in result.stderr
    assert (one_case.settings.inbox / "processed" / "01-verzoek.json").exists() and one_case.store.events(K)
    refused = [r for r in one_case.pipeline.audit.trail(K) if r.gebeurtenis == "vernietiging"]
    assert [(r.uitkomst, r.details.get("regel")) for r in refused] == [("geweigerd", "reden-persoonsgegevens")]
    assert not any(reden in json.dumps(r.details, ensure_ascii=False) for r in one_case.pipeline.audit.trail(K))


def test_a_reason_too_long_for_the_audit_trail_is_refused_plainly(one_case):
    result = _destroy(one_case, "--force", "--reden", "verzoek werknemer " * 40)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "te lang" in result.stderr and one_case.store.events(K)


@pytest.mark.parametrize("where", ["archief", "quarantaine"])
def test_a_plain_file_where_a_case_folder_belongs_is_a_clear_error(one_case, where):
    s = one_case.settings
    target = s.outbox / "archief" / K if where == "archief" else s.quarantine / K
    if target.exists():
        shutil.rmtree(target)
    target.write_text("niet van sopipe\n")
    result = _destroy(one_case, "--force", "--reden", REDEN)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "geen map maar een gewoon bestand" in result.stderr and "niets vernietigd" in result.stderr
    assert target.read_text() == "niet van sopipe\n" and one_case.store.events(K)


@pytest.mark.libreoffice
def test_stale_scratch_is_told_from_a_live_pool(tmp_path, converter):
    dead = tmp_path / f"{SCRATCH_PREFIX}dood"
    (dead / "jobs" / "job-1").mkdir(parents=True)
    (dead / "owner").write_text("999999999 1.0\n")  # no such process
    live = tmp_path / f"{SCRATCH_PREFIX}levend"
    live.mkdir()
    me = psutil.Process()
    (live / "owner").write_text(f"{me.pid} {me.create_time()}\n")
    fresh = tmp_path / f"{SCRATCH_PREFIX}net-gemaakt"  # no owner yet: being made this moment
    fresh.mkdir()
    assert stale_scratch(tmp_path) == [dead]
    assert converter._scratch not in stale_scratch(converter._scratch.parent)  # the session's own pool is live
