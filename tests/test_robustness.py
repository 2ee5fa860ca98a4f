"""Never lose a case: hostile input, duplicates, a hanging LibreOffice, two watchers, kill -9 at random moments."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.shell.watcher import is_ignored
from pipeline.shell.watcher import WatcherLocked, exclusive_root, stable_files
from tests.casefactory import event, full_case
from tests.pdfs import pdftotext
from tests.mailbox_paths import mailbox
from tests.processed_roots import snapshot

REPO = Path(__file__).resolve().parents[1]
SOPIPE = [sys.executable, "-m", "pipeline"]


def assert_failed_with_report(root, name: str, *needles: str) -> str:
    failed = root.settings.inbox / "failed"
    report = failed / f"{name}.error.txt"
    assert report.exists(), sorted(p.name for p in failed.iterdir())
    text = report.read_text(encoding="utf-8")
    assert "NIET verwerkt" in text
    for needle in needles:
        assert needle in text, text
    assert not (root.settings.inbox / name).exists() and not (root.settings.inbox / name).is_symlink()
    return text


# --- hostile files -------------------------------------------------------------------------------------------------

HOSTILE = {
    "invalid.json": (b'{"schema": "so-pipeline/v1", "kenmerk": ', "geen geldige JSON"),
    "empty.json": (b"", "leeg"),
    "binary.json": (bytes(range(256)) * 4, "UTF-8"),
    "nested.json": (b"[" * 5000 + b"]" * 5000, "te diep genest"),
    "latin1.json": ('{"kenmerk": "café"}'.encode("latin-1"), "UTF-8"),
    "array.json": (b"[1, 2, 3]", "JSON-object"),
    "wrongtype.json": (json.dumps(event("beschikbaarheid", beschikbaar="ja")).encode(), "beschikbaar"),
    "unknownfield.json": (json.dumps(event("beoordeling", uitkomst_x="geschikt")).encode(), "uitkomst_x"),
    "traversal.json": (json.dumps(event("verzoek", kenmerk="../../etc")).encode(), "kenmerk"),
    "slash.json": (json.dumps(event("verzoek", kenmerk="SO/2026")).encode(), "kenmerk"),
}


def test_hostile_files_each_fail_with_a_plain_report_and_nothing_is_lost(make_root, tmp_path):
    root = make_root()
    for name, (data, _) in HOSTILE.items():
        root.drop(name, data)
    root.drop("huge.json", b" " * (root.pipeline.max_file_bytes + 1))
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps(event("verzoek")))
    (root.settings.inbox / "link.json").symlink_to(target)
    (root.settings.inbox / "a-folder").mkdir()
    outcomes = root.run()
    assert {o.status for o in outcomes} == {"failed"}
    assert len(outcomes) == len(HOSTILE) + 3
    for name, (_, needle) in HOSTILE.items():
        assert_failed_with_report(root, name, needle)
    assert_failed_with_report(root, "huge.json", "te groot")
    assert_failed_with_report(root, "link.json", "geen gewoon bestand")
    assert_failed_with_report(root, "a-folder", "geen gewoon bestand")
    assert target.exists(), "the symlink's target is untouched"
    assert root.mailboxes() == {}
    assert not list(root.settings.outbox.rglob("*etc*"))


SPECIAL = "A & B <c> \"d\" 'e' {{ x }} {% if y %} {#c#} 中文字符 العربية עברית Ωmega 😀🚑 ẞ ñ ü"


@pytest.mark.libreoffice
def test_hostile_text_appears_literally_and_completely_in_the_pdf(make_root):
    root = make_root()
    long_text = " ".join(f"Zin {i} over de belasting van de uitvoerder op de bouwplaats." for i in range(400))
    events = full_case(kenmerk="TX-1", upto="aanvraag", overrides={
        "aanvraag": {"vraagstelling": SPECIAL, "werkgegevens": long_text}})
    for i, ev in enumerate(events):
        root.drop(f"{i:02d}.json", ev)
    assert [o.status for o in root.run()] == ["processed"] * 5
    pdf = mailbox(root, "so-bedrijfsarts", "TX-1") / "TX-1_aanvraagformulier.pdf"
    # the running head and footer (both name the kenmerk) may fall inside a sentence at a page break
    text = " ".join(" ".join(line for line in pdftotext(pdf).splitlines() if "Kenmerk TX-1" not in line).split())
    for token in SPECIAL.split():
        if token in ("العربية", "עברית"):  # pdftotext reorders right-to-left runs; check the letters
            assert all(ch in text for ch in token), token
        else:
            assert token in text, token
    for i in range(400):
        assert f"Zin {i} over de belasting" in text, f"sentence {i} missing"


# --- exactly once -------------------------------------------------------------------------------------------------

def test_same_content_twice_is_processed_once_and_a_different_second_file_for_a_done_step_is_refused(make_root):
    root = make_root()
    root.drop("01.json", event("verzoek"))
    root.drop("01-copy.json", event("verzoek"))
    outcomes = root.run()
    assert sorted(o.status for o in outcomes) == ["duplicate", "processed"]
    root.drop("01-again.json", event("verzoek"))
    assert [o.status for o in root.run()] == ["duplicate"]
    root.drop("02.json", event("beoordeling"))
    root.drop("03.json", event("beoordeling", uitkomst="alternatief_geadviseerd",
                               alternatief="Deskundigenoordeel UWV", werknemer_wil_toch=True))
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed", "failed"]
    assert_failed_with_report(root, "03.json", "beoordeling")
    assert [e.stap for e in root.store.events("SO-2026-0042")] == ["verzoek", "beoordeling"]


def test_unwritable_mailbox_leaves_the_file_for_a_retry_that_succeeds_later(make_root):
    root = make_root()
    for i, ev in enumerate(full_case(kenmerk="RO-1", upto="beschikbaarheid")):
        root.drop(f"{i:02d}.json", ev)
    root.run()
    blocker = root.settings.outbox / "werknemer" / "RO-1"
    blocker.write_text("not a folder")  # delivery into outbox/werknemer/RO-1/ fails like a read-only share
    root.drop("04.json", event("aanvraag", kenmerk="RO-1"))
    (outcome,) = root.run()
    assert outcome.status == "retry"
    assert (root.settings.inbox / "04.json").exists()
    assert root.pipeline.case_state("RO-1").aanvraag is None
    blocker.unlink()
    (outcome,) = root.run()
    assert outcome.status == "processed"
    assert (root.settings.outbox / "werknemer" / "RO-1" / "RO-1_aanvraagformulier.pdf").exists()


# --- LibreOffice hangs ------------------------------------------------------------------------------------------------

@pytest.mark.libreoffice
def test_hanging_libreoffice_fails_the_case_file_with_a_report_after_bounded_retries(make_root, tmp_path, monkeypatch,
                                                                                      keyring, renderer):
    from pipeline.adapters.converter import UnoConverterPool
    from pipeline.shell.app import OrderSigner
    from pipeline.shell.runner import Pipeline

    hang = tmp_path / "hang"
    hang.write_text("2")  # one document: both attempts hang (documents are made one at a time here)
    monkeypatch.setenv("SOPIPE_UNO_TEST_HOOKS", "1")
    monkeypatch.setenv("SOPIPE_UNO_TEST_HANG_FILE", str(hang))
    root = make_root()
    with UnoConverterPool(workers=1, timeout=3, retries=1, scratch_dir=tmp_path / "scratch") as pool:
        pipeline = Pipeline(inbox=root.settings.inbox, outbox=root.settings.outbox,
                            quarantine=root.settings.quarantine, store=root.store, renderer=renderer,
                            converter=pool, signer=OrderSigner(keyring), parallel=1,
                            organisaties=root.settings.organisaties)
        for i, ev in enumerate(full_case(kenmerk="HG-1", upto="uitvoering")):
            root.drop(f"{i:02d}.json", ev)
        from pipeline.shell.watcher import run_once
        outcomes = run_once(pipeline, workers=1)
        pipeline.close()
    statuses = {o.file_name: o.status for o in outcomes}
    assert statuses["04.json"] == "failed"  # aanvraag: both attempts hang
    assert_failed_with_report(root, "04.json", "LibreOffice")
    assert statuses["05.json"] == "failed"  # uitvoering must wait for the aanvraag: refused, not lost
    assert not (root.settings.outbox / "werknemer" / "HG-1").exists()


# --- one root, one watcher ------------------------------------------------------------------------------------------

@pytest.mark.watcher
def test_second_watcher_on_the_same_root_refuses(tmp_path):
    with exclusive_root(tmp_path):
        with pytest.raises(WatcherLocked, match="already processing"):
            with exclusive_root(tmp_path):
                pass
    with exclusive_root(tmp_path):  # released again
        pass


@pytest.mark.watcher
def test_second_watcher_process_refuses_with_a_clear_message(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from pipeline.shell.watcher import exclusive_root\n"
        "with exclusive_root(Path(sys.argv[1]) / 'state'):\n    print('locked', flush=True); time.sleep(60)"),
        str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "locked"
        (tmp_path / "inbox").mkdir()
        result = subprocess.run([*SOPIPE, "watch", "--root", str(tmp_path), "--once"], capture_output=True,
                                text=True, cwd=REPO, timeout=60)
        assert result.returncode != 0
        assert "already processing this root" in result.stderr
    finally:
        holder.kill()
        holder.wait()


# --- pick-up ------------------------------------------------------------------------------------------------------

@pytest.mark.watcher
def test_a_file_is_taken_only_after_size_and_mtime_settle(tmp_path):
    inbox = tmp_path
    f = inbox / "case.json"
    f.write_text("{")
    seen: dict = {}
    assert stable_files(inbox, seen, settle=2.0, now=100.0) == []
    assert stable_files(inbox, seen, settle=2.0, now=101.0) == []
    with f.open("a") as fh:
        fh.write('"kenmerk": 1}')
    os.utime(f, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert stable_files(inbox, seen, settle=2.0, now=102.5) == []  # changed: the clock starts again
    assert stable_files(inbox, seen, settle=2.0, now=104.0) == []
    assert stable_files(inbox, seen, settle=2.0, now=104.6) == [f]


@pytest.mark.parametrize("name, ignored", [
    (".hidden.json", True), ("~$case.json", True), ("case.json.tmp", True), ("case.json.part", True),
    ("case.json.crdownload", True), ("case.JSON.PART", True), ("case.json", False), ("05-aanvraag.json", False),
])
def test_temp_and_partial_names_are_ignored(name, ignored):
    assert is_ignored(name) is ignored


# --- fuzzing intake -----------------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20)


def near_valid_events():
    """Example events with one field replaced by a random JSON value."""
    return st.tuples(st.sampled_from(["verzoek", "beoordeling", "aanvraag", "facturatie", "uitvoering"]),
                     st.text(min_size=1, max_size=15), json_values).map(
        lambda t: json.dumps({**event(t[0]), t[1]: t[2]}).encode())


def test_intake_never_crashes_and_never_loses_a_file(make_root):
    root = make_root("fuzz")

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()) | near_valid_events())
    def check(data: bytes) -> None:
        path = root.drop("fuzz.json", data)
        outcome = root.pipeline.process(path)
        assert outcome.status in ("processed", "failed", "duplicate")
        assert not path.exists()
        if outcome.status == "failed":
            assert (root.settings.inbox / "failed" / f"{outcome.file_name}.error.txt").exists() or \
                list((root.settings.inbox / "failed").glob("fuzz.*.json.error.txt"))

    check()


# --- crash injection ----------------------------------------------------------------------------------------------

def crash_batch() -> list[tuple[str, dict]]:
    files = []
    for n, profiel in enumerate(("nvab", "lpbso", "vitaal", "vsd", "preventix")):
        for i, ev in enumerate(full_case(kenmerk=f"CR-{n}", profiel=profiel)):
            files.append((f"CR-{n}-{i:02d}.json", ev))
    return files


def make_crash_root(path: Path, pki: Path) -> Path:
    subprocess.run([*SOPIPE, "init", "--root", str(path)], check=True, capture_output=True, cwd=REPO)
    shutil.rmtree(path / "pki")
    shutil.copytree(pki, path / "pki")
    for name, ev in crash_batch():
        (path / "inbox" / name).write_text(json.dumps(ev), encoding="utf-8")
    return path


@pytest.mark.libreoffice
@pytest.mark.timeout(600)
def test_kill_9_at_random_moments_ends_exactly_like_a_clean_run(tmp_path, shared_pki):
    clean = make_crash_root(tmp_path / "clean", shared_pki)
    started = time.monotonic()
    subprocess.run([*SOPIPE, "watch", "--root", str(clean), "--once"], check=True, capture_output=True, cwd=REPO,
                   timeout=300)
    clean_seconds = time.monotonic() - started
    expected = snapshot(clean)
    assert len(expected["events"]) == 55 and expected["failed"] == [] and expected["inbox"] == []

    crashed = make_crash_root(tmp_path / "crashed", shared_pki)
    rng = random.Random(20261122)
    kills = 0
    for attempt in range(8):  # kill at random moments (start-up included), then let it finish
        proc = subprocess.Popen([*SOPIPE, "watch", "--root", str(crashed), "--once"], cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            proc.wait(timeout=rng.uniform(1.0, max(2.0, 0.45 * clean_seconds)))
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)  # the pipeline only; its LibreOffice workers see EOF and exit
            proc.wait()
            kills += 1
            continue
        assert proc.returncode == 0
        break
    subprocess.run([*SOPIPE, "watch", "--root", str(crashed), "--once"], check=True, capture_output=True,
                   cwd=REPO, timeout=300)
    got = snapshot(crashed)
    assert kills >= 3, "the test must actually crash the watcher"
    assert got == expected
    assert not list((crashed / "outbox").rglob(".*")), "no temp file visible in any mailbox"


def _descendants(pid: int) -> list[int]:
    import psutil
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _alive(pids: list[int]) -> list[int]:
    import psutil
    out = []
    for p in pids:
        try:
            if psutil.Process(p).status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.mark.libreoffice
@pytest.mark.parametrize("moment", ["while soffice starts", "when idle"])
def test_killed_pipeline_leaves_no_libreoffice_behind(moment):
    """kill -9 of the pipeline must not leave orphaned soffice processes (100 MB each) behind."""
    import psutil
    script = ("import time\nfrom pipeline.adapters.converter import UnoConverterPool\n"
              "pool = UnoConverterPool(workers=2)\npool.start()\nprint('started', flush=True)\ntime.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO)
    seen: set[int] = set()
    deadline = time.monotonic() + 60
    if moment == "when idle":
        assert proc.stdout.readline().strip() == "started"
        seen.update(_descendants(proc.pid))
    else:  # as soon as a soffice process exists, before the workers report ready
        while time.monotonic() < deadline:
            pids = _descendants(proc.pid)
            seen.update(pids)
            if any(psutil.Process(p).name() in ("oosplash", "soffice.bin") for p in pids if _alive([p])):
                break
            time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(seen) >= 2, "workers and soffice were running"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        seen.update(p for s in list(seen) for p in _descendants(s))
        if not _alive(list(seen)):
            break
        time.sleep(0.2)
    assert _alive(list(seen)) == [], "left behind"


class _RecordingPipeline:
    """Just enough of a Pipeline for the watch loop: records what it was given, and when."""

    def __init__(self, root: Path) -> None:
        self.inbox = root / "inbox"
        (self.inbox / "processed").mkdir(parents=True)
        from pipeline.adapters.mailbox import Mailboxes
        self.mailboxes = Mailboxes(root / "outbox")  # nothing in the background to resume or drain
        self.mailboxes.outbox.mkdir()
        self.taken: list[tuple[str, bytes, float]] = []

    def resume(self) -> list:
        return []  # nothing left in a stage

    def process(self, path: Path):
        from pipeline.shell.runner import Outcome
        self.taken.append((path.name, path.read_bytes(), time.monotonic()))
        path.rename(self.inbox / "processed" / path.name)
        return Outcome(path.name, "processed")

    take = process  # the watcher takes each file once; here taking it is processing it


@pytest.mark.watcher
def test_watch_loop_takes_a_file_written_in_chunks_only_when_complete_and_ignores_temp_names(tmp_path):
    import threading

    from pipeline.shell.watcher import watch
    fake = _RecordingPipeline(tmp_path)
    (fake.inbox / "present-at-start.json").write_text("{}")
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(fake,), kwargs=dict(settle=0.6, rescan=5, stop=stop), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not fake.taken and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [t[0] for t in fake.taken] == ["present-at-start.json"]
        (fake.inbox / "copy.json.part").write_text("ignored until renamed")
        slow = fake.inbox / "slow.json"
        with slow.open("wb") as fh:  # a network copy writing in chunks, 0.3 s apart
            for chunk in (b'{"a": ', b'"half', b' and the rest"}'):
                fh.write(chunk)
                fh.flush()
                finished = time.monotonic()
                time.sleep(0.3)
        while len(fake.taken) < 2 and time.monotonic() < finished + 10:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    names = [t[0] for t in fake.taken]
    assert names == ["present-at-start.json", "slow.json"]
    assert fake.taken[1][1] == b'{"a": "half and the rest"}'
    assert fake.taken[1][2] - finished >= 0.55  # taken only once unchanged for the settle time
    assert (fake.inbox / "copy.json.part").exists()


@pytest.mark.watcher
def test_a_file_untouched_for_the_settle_time_is_taken_at_first_sight_unless_timestamps_are_untrusted(tmp_path):
    f = tmp_path / "case.json"
    f.write_text("{}")
    time.sleep(0.4)  # its own change time is now 0.4 s old
    assert stable_files(tmp_path, {}, settle=0.3, now=50.0) == [f]
    seen: dict = {}
    assert stable_files(tmp_path, seen, settle=0.3, now=50.0, trust_timestamps=False) == []  # network share
    assert stable_files(tmp_path, seen, settle=0.3, now=50.31, trust_timestamps=False) == [f]
