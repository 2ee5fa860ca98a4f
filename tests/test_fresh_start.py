"""Issue 15, part 1: a fresh machine, where LibreOffice's first start may abort (signal 6, exit code 134).

Every test here runs a STAND-IN soffice: a shell script, first on PATH (or given to the pool as its soffice), that
counts its starts in a state file, aborts with SIGABRT on the starts it is told to (as soffice does on a machine
where it never ran: "Fatal exception: Signal 6", exit 134) and otherwise execs the real soffice. Against that the
pool must restart the worker (bounded, with back-off, logged), the pipeline must never fail a case file for it,
and the test fixtures must not turn one failure into dozens of errors.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.adapters.converter import PdfMetadata, UnoConverterPool
from pipeline.errors import ConversionError, ConverterUnavailable
from pipeline.package_data import EXAMPLE_CASE
from tests.conversion_samples import libreoffice, make_docx
from tests.pdfs import pdf_text

pytestmark = [pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[1]
SOPIPE = [sys.executable, "-m", "pipeline"]
METADATA = PdfMetadata(title="Test", author="ArboNoord DEMO")
CASE_FILES = sorted(p.name for p in EXAMPLE_CASE.glob("*.json"))


def stand_in_soffice(folder: Path, *, fail: str) -> Path:
    """A `soffice` in `folder` that aborts with signal 6 on the starts listed in `fail` ("1", "2 3", or "all").

    The count of starts lives in `folder/starts` (updated under flock, workers start in parallel).
    """
    real = shutil.which("soffice")
    assert real, "LibreOffice (soffice) not installed"
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "soffice"
    script.write_text(f"""#!/bin/sh
# Stand-in for soffice on a fresh machine (test of issue 15): abort on the listed starts, else the real one.
state='{folder}/starts'
n=$(flock "$state.lock" sh -c 'n=$(( $(cat "$1" 2>/dev/null || echo 0) + 1 )); echo $n > "$1"; echo $n' _ "$state")
case " {fail} " in
  *" $n "*|*" all "*)
    echo "Unspecified Application Error" >&2
    echo "Fatal exception: Signal 6" >&2
    ulimit -c 0
    sh -c 'kill -ABRT $$'
    exit $? ;;
esac
exec '{real}' "$@"
""")
    script.chmod(0o755)
    return script


def starts(folder: Path) -> int:
    state = folder / "starts"
    return int(state.read_text()) if state.exists() else 0


def sopipe_env(folder: Path) -> dict:
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def watch_once_with_stand_in(root: Path, bin_dir: Path, *, fail: str) -> subprocess.CompletedProcess:
    """A fresh root with the example case in its inbox, then `sopipe watch --once` with the stand-in on PATH."""
    for command in ("init", "demo"):
        subprocess.run([*SOPIPE, command, "--root", str(root)], check=True, capture_output=True, cwd=REPO)
    assert sorted(p.name for p in (root / "inbox").glob("*.json")) == CASE_FILES
    stand_in_soffice(bin_dir, fail=fail)
    return subprocess.run([*SOPIPE, "watch", "--root", str(root), "--once"], capture_output=True, text=True,
                          cwd=REPO, env=sopipe_env(bin_dir), timeout=280)


# --- the pool ------------------------------------------------------------------------------------------------------

@libreoffice
def test_pool_restarts_a_worker_whose_first_soffice_start_aborts(tmp_path, caplog):
    soffice = stand_in_soffice(tmp_path / "bin", fail="1")
    with UnoConverterPool(workers=2, soffice=str(soffice), scratch_dir=tmp_path / "scratch",
                          start_backoff=0.2) as pool:
        assert all(info.pid is not None for info in pool.workers_info())  # both slots have a worker
        pdf = pool.convert(make_docx("Eerste start mislukt."), metadata=METADATA)
    assert "Eerste start mislukt." in pdf_text(pdf)
    assert starts(tmp_path / "bin") == 3  # 2 workers, one of them started twice
    restarts = [r for r in caplog.records if "did not start (attempt 1 of 4)" in r.getMessage()]
    assert len(restarts) == 1 and "code 134" in restarts[0].getMessage()


@libreoffice
def test_recycled_worker_whose_new_soffice_aborts_is_started_again(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="pipeline.adapters.converter")
    soffice = stand_in_soffice(tmp_path / "bin", fail="2 3")  # the recycling start fails twice, then succeeds
    with UnoConverterPool(workers=1, soffice=str(soffice), scratch_dir=tmp_path / "scratch", max_conversions=1,
                          start_backoff=0.2) as pool:
        for n in range(3):  # each conversion recycles the worker; the second one's replacement aborts twice
            assert f"Document {n}." in pdf_text(pool.convert(make_docx(f"Document {n}."), metadata=METADATA))
    assert starts(tmp_path / "bin") >= 5  # 1 + (2 failed + 1) + at least one more recycle
    messages = [r.getMessage() for r in caplog.records]
    assert any("did not start (attempt 2 of 4)" in m for m in messages)
    assert any("started at attempt 3" in m for m in messages)


@libreoffice
def test_soffice_that_never_starts_is_an_outage_after_bounded_attempts(tmp_path, caplog):
    soffice = stand_in_soffice(tmp_path / "bin", fail="all")
    pool = UnoConverterPool(workers=1, soffice=str(soffice), scratch_dir=tmp_path / "scratch", start_attempts=3,
                            start_backoff=0.1)
    with pytest.raises(ConverterUnavailable) as caught:
        pool.convert(make_docx("Nooit."), metadata=METADATA)
    pool.close()
    assert isinstance(caught.value, ConversionError)
    assert "3 attempt(s)" in caught.value.message and "code 134" in caught.value.message
    assert starts(tmp_path / "bin") == 3
    assert [r.levelname for r in caplog.records if "did not start" in r.getMessage()] == [
        "WARNING", "WARNING", "ERROR"]


def test_sopipe_soffice_names_the_soffice_to_use(tmp_path, monkeypatch):
    from pipeline.adapters.converter import find_soffice
    stand_in = tmp_path / "soffice"
    stand_in.write_text("#!/bin/sh\nexit 1\n")
    stand_in.chmod(0o755)
    monkeypatch.setenv("SOPIPE_SOFFICE", str(stand_in))
    assert find_soffice() == str(stand_in)
    assert find_soffice("/bin/true") == "/bin/true"  # an explicit choice still wins
    monkeypatch.setenv("SOPIPE_SOFFICE", str(tmp_path / "missing"))
    with pytest.raises(ConverterUnavailable, match="not found"):
        find_soffice()


def test_the_fast_tiers_stand_in_soffice_cannot_start(tmp_path, monkeypatch):
    """`make test` runs the fast tier with SOPIPE_SOFFICE=tools/no-soffice: a pool then is an outage at once."""
    monkeypatch.setenv("SOPIPE_SOFFICE", str(REPO / "tools" / "no-soffice"))
    pool = UnoConverterPool(workers=1, scratch_dir=tmp_path / "scratch", start_attempts=1)
    try:
        with pytest.raises(ConverterUnavailable, match="cannot start here|UNO"):  # no python3-uno: unavailable too
            pool.convert(make_docx("Nooit."), metadata=METADATA)
    finally:
        pool.close()


# --- the pipeline: sopipe watch --once on the example case ------------------------------------------------------

@libreoffice
def test_watch_once_on_a_fresh_machine_delivers_everything(tmp_path):
    root, bin_dir = tmp_path / "root", tmp_path / "bin"
    done = watch_once_with_stand_in(root, bin_dir, fail="1")
    assert done.returncode == 0, done.stderr
    assert starts(bin_dir) >= 2  # the stand-in was used, and its abort was survived
    assert "did not start (attempt 1 of 4)" in done.stderr
    assert "11 processed, 0 duplicate, 0 failed, 0 left for retry" in done.stdout
    assert sorted(p.name for p in (root / "inbox" / "processed").iterdir()) == CASE_FILES
    assert not list((root / "inbox").glob("*.json"))
    assert not (root / "inbox" / "failed").exists() or not any((root / "inbox" / "failed").iterdir())
    with sqlite3.connect(root / "state" / "sopipe.db") as db:
        delivered = [row[0] for row in db.execute("SELECT path FROM deliveries WHERE status = 'delivered'")]
    assert len(delivered) > 11
    for rel in delivered:  # every document each party was meant to get is there, and is a PDF
        assert (root / rel).read_bytes().startswith(b"%PDF-"), rel
    assert len(list((root / "outbox").rglob("*.pdf"))) == len(delivered)


@libreoffice
def test_watch_once_without_a_working_libreoffice_moves_nothing_to_failed(tmp_path):
    root, bin_dir = tmp_path / "root", tmp_path / "bin"
    done = watch_once_with_stand_in(root, bin_dir, fail="all")
    # the first steps make no document and are accepted; from the first one that needs LibreOffice on, the
    # files stay in the inbox (the later ones wait for it: a case's order is kept), none is failed
    processed = sorted(p.name for p in (root / "inbox" / "processed").iterdir())
    waiting = sorted(p.name for p in (root / "inbox").glob("*.json"))
    assert processed == CASE_FILES[:len(processed)] and waiting == CASE_FILES[len(processed):]
    assert len(waiting) >= 7
    assert f"{len(processed)} processed, 0 duplicate, 0 failed, {len(waiting)} left for retry" in done.stdout
    assert all(f"{name} (0 files)" in done.stdout for name in processed)
    assert "LibreOffice unavailable, file stays in the inbox" in done.stderr
    assert "LibreOffice cannot be started (4 attempt(s))" in done.stderr
    assert not (root / "inbox" / "failed").exists() or not any((root / "inbox" / "failed").iterdir())
    assert not list((root / "outbox").rglob("*.pdf"))
    # the first file of the case tried (one bounded round of starts per pool), the later ones waited for it
    assert starts(bin_dir) <= 2 * 4


# --- the test fixtures ------------------------------------------------------------------------------------------

def run_pytest_with(bin_dir: Path, *tests: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                           *tests], capture_output=True, text=True, cwd=REPO, env=sopipe_env(bin_dir), timeout=280)


E2E_TESTS = ("tests/test_e2e.py::test_medical_data_refused_sends_the_so_doctor_no_medical_data",
             "tests/test_e2e.py::test_bad_file_goes_to_failed_with_a_report_and_the_case_is_unchanged")


@libreoffice
def test_session_converter_fixture_survives_a_first_start_that_aborts(tmp_path):
    bin_dir = tmp_path / "bin"
    stand_in_soffice(bin_dir, fail="1")
    done = run_pytest_with(bin_dir, *E2E_TESTS)
    assert "2 passed" in done.stdout and "error" not in done.stdout.lower(), done.stdout[-3000:]
    assert starts(bin_dir) == 3


@libreoffice
def test_broken_libreoffice_fails_the_tests_that_need_it_with_one_clear_message(tmp_path):
    bin_dir = tmp_path / "bin"
    stand_in_soffice(bin_dir, fail="all")
    done = run_pytest_with(bin_dir, *E2E_TESTS, "tests/test_model.py")
    tail = done.stdout[-4000:]
    assert done.returncode != 0
    assert "2 errors" in tail and "failed" not in tail.split("\n")[-2], tail
    assert tail.count("LibreOffice cannot be started") >= 2  # the reason, once per test that needed it
    assert "Traceback" not in done.stdout
    assert starts(bin_dir) == 2 * 4  # one bounded round for the session, not one per test
