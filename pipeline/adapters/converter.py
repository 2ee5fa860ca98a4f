"""Word to PDF/A-2b through a pool of warm LibreOffice workers.

The pipeline sees one small interface, `Converter.convert(docx, *, metadata) -> bytes`; `UnoConverterPool` is
the real implementation. Every failure inside it comes out as `ConversionError`.

Design
------
Why not `soffice --convert-to` per document: every call pays LibreOffice's start-up (seconds), and it cannot
set the PDF's metadata deliberately — whatever the template's core properties say ends up in /Info and XMP.

Why not unoserver: it is one more daemon to install into the system Python, with its own restart and
concurrency story. What we need from it is small, and we need the lifecycle under our own control.

So: an own UNO worker. Each worker is a subprocess `<uno-python> pipeline/adapters/uno_worker.py`, where
<uno-python> is the interpreter that can `import uno` — on Debian only the system Python (python3-uno), never
our venv. It is found by probing `SOPIPE_UNO_PYTHON`, /usr/bin/python3, /usr/local/bin/python3, `python3`.
The worker starts its own headless soffice with its own profile directory and a private UNO pipe, and serves
requests as JSON lines over stdin/stdout (see uno_worker.py for the protocol). Document and PDF travel as
files in a private scratch directory (mode 0700), removed after each conversion.

The parent (this module, venv side) owns the lifecycle:

- each worker runs in its own process group, so a hung worker is killed *with* its soffice;
- a timeout per conversion: a worker that does not answer in time is killed and replaced, and the job is
  retried up to `retries` times on a fresh worker before `ConversionError`. A job the worker *rejects* (say a
  corrupt docx) is not retried: that answer is deterministic;
- crash detection: the worker exits as soon as its soffice dies; a dead worker is noticed when it is taken
  from the pool (or when its pipe closes mid-job) and replaced;
- recycling: after `max_conversions` jobs, or when worker + soffice use more than `max_rss_mb` (psutil), the
  worker is retired and replaced in the background, so LibreOffice's slow leaks never grow unbounded;
- start-up failures: a worker whose soffice aborts while starting (on a machine where LibreOffice never ran,
  the very first start may die with signal 6) is started again, up to `start_attempts` times with exponential
  back-off from `start_backoff` seconds, each failure logged — at pool start, on recycling and on replacing a
  crashed worker, as Gotenberg restarts a crashed soffice. A pool that has at least one healthy worker lets
  conversions wait for it; only when no worker can be started at all does it raise `ConverterUnavailable`, an
  outage (the pipeline then leaves the case file in the inbox), never a verdict on the document.

`convert()` is thread-safe: pipeline threads take a free worker from a queue, so at most `workers`
conversions run at once and the rest wait their turn. Workers start in parallel (a few seconds each).
"""

from __future__ import annotations

import collections
import json
import logging
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import psutil

from pipeline.adapters.child_env import child_environment
from pipeline.errors import ConversionError, ConverterUnavailable

log = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("uno_worker.py")
START_COOLDOWN_S = 10.0
"""After a pool start failed on every worker, callers within this time get that failure at once (no new round)."""
INSTALL_HINT = "apt-get install python3-uno libreoffice-writer-nogui"


@dataclass(frozen=True)
class PdfMetadata:
    """What the PDF says about itself (/Info and XMP). Nothing from the Word template gets through."""

    title: str
    """Document title, e.g. 'Second opinion SO-2026-0042'."""
    author: str
    """Who is responsible for the content: the organisation or the bedrijfsarts."""
    subject: str = ""
    """One-line subject; LibreOffice also writes it as the XMP dc:description."""
    keywords: str = ""
    """Comma-separated keywords."""


class Converter(Protocol):
    """Turns a filled Word document into PDF/A-2b bytes, or raises ConversionError."""

    def convert(self, docx: bytes, *, metadata: PdfMetadata) -> bytes: ...


# --- finding the programs ------------------------------------------------------------------------------------

def _can_import_uno(python: str) -> bool:
    try:
        done = subprocess.run([python, "-c", "import uno"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def find_uno_python(explicit: str | None = None) -> str:
    """The first Python that can `import uno`: `explicit`, else $SOPIPE_UNO_PYTHON, the usual system paths."""
    if explicit:
        candidates = [explicit]
    else:
        candidates = [os.environ.get("SOPIPE_UNO_PYTHON"), "/usr/bin/python3", "/usr/local/bin/python3",
                      shutil.which("python3")]
    tried = []
    for candidate in dict.fromkeys(c for c in candidates if c):  # keep order, drop duplicates
        tried.append(candidate)
        if _can_import_uno(candidate):
            return candidate
    raise ConverterUnavailable(
        f"No Python with LibreOffice's UNO bridge found (tried {', '.join(tried)}). "
        f"Install it with `{INSTALL_HINT}`, or point SOPIPE_UNO_PYTHON at a python that can `import uno`.")


def find_soffice(explicit: str | None = None) -> str:
    """LibreOffice's `soffice`: `explicit`, else $SOPIPE_SOFFICE, else the usual names and paths. The variable
    also lets a test run play "a machine where LibreOffice cannot start" (point it at a program that exits)."""
    explicit = explicit or os.environ.get("SOPIPE_SOFFICE")
    if explicit:
        found = shutil.which(explicit)
        if not found:
            raise ConverterUnavailable(f"LibreOffice not found at {explicit!r}.")
        return found
    for candidate in ("soffice", "libreoffice", "/usr/lib/libreoffice/program/soffice",
                      "/opt/libreoffice/program/soffice"):
        found = shutil.which(candidate)
        if found:
            return found
    raise ConverterUnavailable(f"LibreOffice (soffice) not found. Install it with `{INSTALL_HINT}`.")


# --- one worker process --------------------------------------------------------------------------------------

class _WorkerDied(Exception):
    """The worker is gone or must be given up (timeout, crash, fatal LibreOffice error): replace and retry."""


class _Worker:
    """One running uno_worker.py and its soffice, seen from the parent. Used by one thread at a time."""

    def __init__(self, *, python: str, soffice: str, profile_dir: Path, startup_timeout: float) -> None:
        self.conversions = 0
        self._next_id = 0
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self._lines: queue.Queue[str | None] = queue.Queue()
        started = time.monotonic()
        self.process = subprocess.Popen(
            [python, str(WORKER_SCRIPT), "--soffice", soffice, "--profile", str(profile_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, encoding="utf-8", bufsize=1,  # line buffered: one request, one flush
            start_new_session=True,  # own process group: killpg takes soffice along
            cwd=profile_dir.parent, env=child_environment())  # no secret reaches LibreOffice
        self.pid = self.process.pid
        threading.Thread(target=self._read_stdout, name=f"uno-worker-{self.pid}-out", daemon=True).start()
        threading.Thread(target=self._read_stderr, name=f"uno-worker-{self.pid}-err", daemon=True).start()
        try:
            ready = self._receive(startup_timeout)
        except _WorkerDied as exc:
            self.kill()
            raise ConversionError(f"LibreOffice worker did not start: {exc}") from exc
        if not ready.get("ready"):
            self.kill()
            raise ConversionError(f"LibreOffice worker did not start: {ready.get('error')}; {self.stderr_tail()}")
        self.soffice_pid = ready.get("soffice_pid")
        log.info("LibreOffice worker %s started in %.1fs", self.pid, time.monotonic() - started)

    def _read_stdout(self) -> None:
        with self.process.stdout:
            for line in self.process.stdout:
                self._lines.put(line)
        self._lines.put(None)  # EOF: the worker is gone

    def _read_stderr(self) -> None:
        with self.process.stderr:
            for line in self.process.stderr:
                self._stderr_tail.append(line.rstrip())
                log.debug("uno worker %s: %s", self.pid, line.rstrip())

    def stderr_tail(self) -> str:
        return " | ".join(self._stderr_tail) or "(no output on stderr)"

    def _receive(self, timeout: float) -> dict:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise _WorkerDied(f"no answer within {timeout:g}s") from None
        if line is None:
            code = self.process.wait()
            raise _WorkerDied(f"worker exited with code {code}; {self.stderr_tail()}")
        try:
            return json.loads(line)
        except ValueError as exc:
            raise _WorkerDied(f"unreadable answer {line[:200]!r}") from exc

    def alive(self) -> bool:
        return self.process.poll() is None

    def convert(self, docx_path: Path, pdf_path: Path, metadata: PdfMetadata, *, timeout: float) -> None:
        """Raises _WorkerDied (replace worker, retry) or ConversionError (the document is the problem)."""
        self._next_id += 1
        request = {"id": self._next_id, "docx": str(docx_path), "pdf": str(pdf_path),
                   "metadata": {"title": metadata.title, "author": metadata.author,
                                "subject": metadata.subject, "keywords": metadata.keywords}}
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except OSError as exc:  # BrokenPipeError: it died between jobs
            raise _WorkerDied(f"cannot send job: {exc}") from exc
        answer = self._receive(timeout)
        self.conversions += 1
        if answer.get("id") != request["id"]:
            raise _WorkerDied(f"answer to job {answer.get('id')} while waiting for {request['id']}")
        if not answer.get("ok"):
            if answer.get("fatal"):
                raise _WorkerDied(answer.get("error", "fatal error"))
            raise ConversionError(f"LibreOffice could not convert the document: {answer.get('error')}")

    def rss_mb(self) -> float:
        """Resident memory of the worker and everything under it (soffice), in MiB."""
        try:
            root = psutil.Process(self.pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return 0.0
        total = 0
        for process in processes:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        return total / (1024 * 1024)

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.Error:
            return []

    def stop(self, *, grace: float = 15.0) -> None:
        """Ask politely (EOF: the worker terminates soffice), then kill whatever is left."""
        leftovers = self.descendants()
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
            return
        # psutil's kill() checks the process is still the one we saw, so a reused pid is never hit.
        for process in leftovers:
            try:
                process.kill()
            except psutil.Error:
                pass

    def kill(self) -> None:
        """Kill the worker's whole process group (soffice included) and reap it."""
        leftovers = self.descendants()
        if self.process.poll() is None:  # not yet reaped, so the group id cannot have been reused
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for process in leftovers:  # anything that left the group (setsid) and is still the process we saw
            try:
                process.kill()
            except psutil.Error:
                pass
        self.process.wait()
        try:
            self.process.stdin.close()
        except OSError:
            pass


@dataclass(frozen=True)
class WorkerInfo:
    """A snapshot of one pool slot, for monitoring and tests."""

    slot: int
    """Index of the slot; a slot keeps its index while its worker process is replaced."""
    pid: int | None
    """Process id of the uno_worker.py process, None while the slot has no running worker."""
    soffice_pid: int | None
    """Process id of the soffice the worker started."""
    conversions: int
    """Jobs this worker process has handled."""
    busy_seconds: float = 0.0
    """Time this slot spent converting since the pool started (all its workers): its utilisation over a run."""


class _Slot:
    def __init__(self, index: int, profile_dir: Path) -> None:
        self.index = index
        self.profile_dir = profile_dir
        self.worker: _Worker | None = None
        self.busy_seconds = 0.0


# --- the pool ------------------------------------------------------------------------------------------------

SCRATCH_PREFIX = "sopipe-uno-"
_SCRATCH_OWNER = "owner"
"""`<pid> <process start time>` of the pool that made a scratch directory: tells a live pool from a dead one."""
_UNCLAIMED_GRACE = 60.0


def stale_scratch(parent: Path | None = None) -> list[Path]:
    """Scratch directories of pools that are gone (kill -9, power loss) in `parent` (default: the system temp
    directory). A directory counts as live while its owner runs, or while any process names it on its command line
    (a LibreOffice worker of a pool that wrote no owner file); only this user's directories are considered."""
    base = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    try:
        candidates = [d for d in base.iterdir() if d.name.startswith(SCRATCH_PREFIX) and not d.is_symlink()
                      and d.is_dir() and d.lstat().st_uid == os.getuid()]
    except OSError:
        return []
    if not candidates:
        return []
    cmdlines = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdlines.append(" ".join(proc.info.get("cmdline") or ()))
    return sorted(d for d in candidates if not _scratch_in_use(d, cmdlines))


def _scratch_in_use(scratch: Path, cmdlines: list[str]) -> bool:
    if any(str(scratch) in line for line in cmdlines):
        return True
    try:
        pid, started = (scratch / _SCRATCH_OWNER).read_text(encoding="ascii").split()
    except (OSError, ValueError, UnicodeDecodeError):
        try:  # being made this moment (the owner file follows within microseconds)
            return time.time() - scratch.stat().st_mtime < _UNCLAIMED_GRACE
        except OSError:
            return False
    try:
        return abs(psutil.Process(int(pid)).create_time() - float(started)) < 1.0
    except (psutil.Error, ValueError):
        return False


def sweep_stale_scratch(parent: Path | None = None) -> list[Path]:
    """Remove what `stale_scratch` finds (documents of cases left behind by a killed pool); returns them."""
    removed = stale_scratch(parent)
    for scratch in removed:
        shutil.rmtree(scratch, ignore_errors=True)
        log.info("removed stale LibreOffice scratch %s", scratch)
    return removed


class UnoConverterPool:
    """A Converter backed by `workers` warm LibreOffice processes. Thread-safe; use as a context manager.

    `scratch_dir`: where the private scratch directory (0700) is made, default the system temp directory; with
    an explicit one (the root's `state/scratch`) the scratch of pools killed earlier is swept at start.
    """

    def __init__(self, *, workers: int | None = None, timeout: float = 60.0, max_conversions: int = 200,
                 max_rss_mb: int = 1024, retries: int = 2, python: str | None = None,
                 soffice: str | None = None, scratch_dir: Path | None = None,
                 startup_timeout: float = 120.0, start_attempts: int = 4, start_backoff: float = 1.0) -> None:
        self._size = workers or os.cpu_count() or 1
        if self._size < 1 or timeout <= 0 or max_conversions < 1 or retries < 0 or start_attempts < 1:
            raise ValueError("workers, timeout, max_conversions and start_attempts must be positive, "
                             "retries not negative")
        self._start_attempts = start_attempts
        self._start_backoff = max(0.0, start_backoff)
        self._timeout = timeout
        self._max_conversions = max_conversions
        self._max_rss_mb = max_rss_mb
        self._retries = retries
        self._python_option = python
        self._soffice_option = soffice
        self._scratch_parent = scratch_dir
        self._startup_timeout = startup_timeout

        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._free: queue.Queue[_Slot] = queue.Queue()
        self._slots: list[_Slot] = []
        self._background: set[threading.Thread] = set()
        self._scratch: Path | None = None
        self._python = ""
        self._soffice = ""
        self._start_failure: tuple[float, ConversionError] | None = None

    # lifecycle

    def start(self) -> None:
        """Start all workers in parallel. Idempotent; `convert` calls it when needed."""
        with self._lock:
            if self._closed:
                raise ConversionError("The converter pool is closed.")
            if self._started:
                return
            if self._start_failure and time.monotonic() - self._start_failure[0] < START_COOLDOWN_S:
                raise self._start_failure[1]  # parallel documents of one case: one bounded round, not one each
            self._python = find_uno_python(self._python_option)
            self._soffice = find_soffice(self._soffice_option)
            if self._scratch_parent is not None:
                Path(self._scratch_parent).mkdir(mode=0o700, parents=True, exist_ok=True)
                sweep_stale_scratch(self._scratch_parent)
            self._scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=self._scratch_parent))
            (self._scratch / _SCRATCH_OWNER).write_text(f"{os.getpid()} {psutil.Process().create_time()}\n",
                                                        encoding="ascii")
            (self._scratch / "jobs").mkdir(mode=0o700)
            self._slots = [_Slot(i, self._scratch / f"profile-{i}") for i in range(self._size)]
            with ThreadPoolExecutor(max_workers=self._size) as starter:
                results = list(starter.map(self._try_start, self._slots))
            errors = [r for r in results if r is not None]
            if len(errors) == len(self._slots):
                self._teardown()
                self._start_failure = (time.monotonic(), errors[0])
                raise errors[0]
            for slot, error in zip(self._slots, results):
                if error is None:
                    self._free.put(slot)
            self._started = True
        for slot, error in zip(self._slots, results):
            if error is not None:  # the healthy workers serve meanwhile; this slot keeps trying in the background
                self._replace_in_background(slot)

    def _try_start(self, slot: _Slot) -> ConversionError | None:
        try:
            self._start_worker(slot)
        except ConversionError as exc:
            return exc
        return None

    def _start_worker(self, slot: _Slot) -> None:
        """Start a worker for `slot`, again after each failure (bounded, exponential back-off, logged).

        Raises ConverterUnavailable once `start_attempts` starts have failed (or the pool was closed meanwhile).
        """
        delay = self._start_backoff
        for attempt in range(1, self._start_attempts + 1):
            try:
                self._start_worker_once(slot)
            except ConversionError as exc:
                if attempt == self._start_attempts or self._closed:
                    log.error("LibreOffice worker (slot %d) did not start, %d attempt(s): %s",
                              slot.index, attempt, exc.message)
                    raise ConverterUnavailable(
                        f"LibreOffice cannot be started ({attempt} attempt(s)); the case file stays in the "
                        f"inbox and is retried later. Last error: {exc.message}") from exc
                log.warning("LibreOffice worker (slot %d) did not start (attempt %d of %d), trying again in "
                            "%.1fs: %s", slot.index, attempt, self._start_attempts, delay, exc.message)
                time.sleep(delay)
                delay *= 2
            else:
                if attempt > 1:
                    log.info("LibreOffice worker (slot %d) started at attempt %d", slot.index, attempt)
                return

    def _start_worker_once(self, slot: _Slot) -> None:
        # A fresh profile per worker process: a profile left behind by a killed soffice is not trusted.
        shutil.rmtree(slot.profile_dir, ignore_errors=True)
        try:
            slot.worker = _Worker(python=self._python, soffice=self._soffice, profile_dir=slot.profile_dir,
                                  startup_timeout=self._startup_timeout)
        except OSError as exc:
            slot.worker = None
            raise ConversionError(f"Cannot start the LibreOffice worker with {self._python}: {exc}") from exc
        except ConversionError:
            slot.worker = None
            raise

    def close(self) -> None:
        """Stop all workers (soffice included) and remove the scratch directory. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        while True:  # replacements started before close() finish first; they start no new worker now
            with self._lock:
                pending = list(self._background)
            if not pending:
                break
            for thread in pending:
                thread.join()
        self._teardown()

    def _teardown(self) -> None:
        slots = [s for s in self._slots if s.worker is not None]
        with ThreadPoolExecutor(max_workers=max(1, len(slots))) as stopper:
            list(stopper.map(lambda s: s.worker.stop(), slots))
        for slot in slots:
            slot.worker = None
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __enter__(self) -> UnoConverterPool:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def workers_info(self) -> list[WorkerInfo]:
        return [WorkerInfo(slot=s.index, pid=s.worker.pid if s.worker else None,
                           soffice_pid=s.worker.soffice_pid if s.worker else None,
                           conversions=s.worker.conversions if s.worker else 0, busy_seconds=s.busy_seconds)
                for s in self._slots]

    # converting

    def convert(self, docx: bytes, *, metadata: PdfMetadata) -> bytes:
        if not docx.startswith(b"PK\x03\x04"):  # LibreOffice would "convert" an empty file to a blank page
            raise ConversionError("Not a Word document (.docx is a zip file; these bytes are not).")
        self.start()
        job_dir = Path(tempfile.mkdtemp(prefix="job-", dir=self._scratch / "jobs"))
        try:
            docx_path, pdf_path = job_dir / "in.docx", job_dir / "out.pdf"
            docx_path.write_bytes(docx)
            problems = []
            for attempt in range(1 + self._retries):
                slot = self._take()
                began = time.monotonic()
                try:
                    try:
                        slot.worker.convert(docx_path, pdf_path, metadata, timeout=self._timeout)
                    finally:  # the slot is still ours here: nobody else adds to it meanwhile
                        slot.busy_seconds += time.monotonic() - began
                except _WorkerDied as exc:
                    log.warning("LibreOffice worker %s failed (attempt %d of %d): %s",
                                slot.worker.pid, attempt + 1, 1 + self._retries, exc)
                    problems.append(str(exc))
                    slot.worker.kill()
                    slot.worker = None
                    self._replace_in_background(slot)
                    continue
                except ConversionError:  # the document is the problem; the worker is fine
                    self._release(slot)
                    raise
                except BaseException:  # interrupted mid-job: the worker's state is unknown
                    slot.worker.kill()
                    slot.worker = None
                    self._replace_in_background(slot)
                    raise
                self._release(slot)
                return self._read_pdf(pdf_path)
            raise ConversionError(f"LibreOffice failed {len(problems)} times on this document: "
                                  + "; ".join(problems))
        finally:
            shutil.rmtree(job_dir, ignore_errors=True)

    @staticmethod
    def _read_pdf(pdf_path: Path) -> bytes:
        try:
            pdf = pdf_path.read_bytes()
        except OSError as exc:
            raise ConversionError(f"LibreOffice reported success but wrote no PDF: {exc}") from exc
        if not pdf.startswith(b"%PDF-"):
            raise ConversionError("LibreOffice wrote something that is not a PDF.")
        return pdf

    def _take(self) -> _Slot:
        """A free slot with a live worker; starts one in this thread if the slot is empty or its worker died."""
        while True:
            if self._closed:
                raise ConversionError("The converter pool is closed.")
            try:
                slot = self._free.get(timeout=0.5)
            except queue.Empty:
                continue
            if slot.worker is not None and slot.worker.alive():
                return slot
            if slot.worker is not None:
                log.warning("LibreOffice worker %s died between jobs; starting a new one", slot.worker.pid)
                slot.worker.kill()
                slot.worker = None
            try:
                self._start_worker(slot)
            except ConverterUnavailable:
                if any(s.worker is not None and s.worker.alive() for s in self._slots if s is not slot):
                    self._replace_in_background(slot)  # keeps trying; meanwhile wait for a healthy worker
                    continue
                self._free.put(slot)  # empty: the next taker tries again
                raise
            except BaseException:
                self._free.put(slot)  # empty: the next taker tries again
                raise
            return slot

    def _release(self, slot: _Slot) -> None:
        worker = slot.worker
        reason = None
        if worker.conversions >= self._max_conversions:
            reason = f"{worker.conversions} conversions"
        else:
            rss = worker.rss_mb()
            if rss > self._max_rss_mb:
                reason = f"{rss:.0f} MiB resident > {self._max_rss_mb} MiB"
        if reason is None:
            self._free.put(slot)
            return
        log.info("Recycling LibreOffice worker %s after %s", worker.pid, reason)
        slot.worker = None
        self._replace_in_background(slot, old=worker)

    def _replace_in_background(self, slot: _Slot, old: _Worker | None = None) -> None:
        """Stop `old` and start a new worker for `slot` off the caller's thread, then put the slot back."""
        def replace() -> None:
            try:
                if old is not None:
                    old.stop()
                if not self._closed:
                    self._start_worker(slot)
            except ConversionError as exc:
                log.error("Could not restart a LibreOffice worker: %s", exc.message)  # _take retries it
            finally:
                self._free.put(slot)
                self._background.discard(threading.current_thread())

        thread = threading.Thread(target=replace, name=f"uno-slot-{slot.index}-restart", daemon=True)
        with self._lock:
            self._background.add(thread)
            thread.start()

