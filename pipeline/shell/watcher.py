"""Watching the inbox: which files wait there (`inbox_files`), taken only once their size and mtime stopped changing.

Events from watchdog only wake the loop (handlers enqueue, nothing more); a periodic rescan catches what the
events missed (network shares), and files already present at start-up are processed first. Close events are
never relied on: only Linux's inotify has them.
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from pipeline.errors import WatcherLocked
from pipeline.settings import WATCH_LOCK
from pipeline.shell.intake import Intake
from pipeline.shell.runner import Outcome, Pipeline, process_in_case_order

log = logging.getLogger("sopipe")


class _Wake(FileSystemEventHandler):
    def __init__(self, q: "queue.Queue[None]") -> None:
        self.q = q

    def on_any_event(self, event) -> None:  # only enqueue; the work happens in the loop
        self.q.put(None)


def inbox_files(inbox: Path) -> list[Path]:
    """Files waiting in the inbox, by name; temp, hidden and partial names are skipped. They are read only once
    taken (`Pipeline.take`): a PDF as a returned document (`pipeline.core.returns.is_returned`), anything else as
    a case file; the batch orders them by their event then (`Intake.order`)."""
    out = []
    for p in inbox.iterdir():
        if p.name in ("processed", "failed") and p.is_dir() and not p.is_symlink():
            continue
        if is_ignored(p.name):
            continue
        out.append(p)
    return sorted(out)


IGNORED_PREFIXES = (".", "~$", "~")
IGNORED_SUFFIXES = (".tmp", ".part", ".crdownload", ".partial", ".swp", ".download", ".filepart")


def is_ignored(name: str) -> bool:
    lower = name.lower()
    return lower.startswith(IGNORED_PREFIXES) or lower.endswith(IGNORED_SUFFIXES)


def stable_files(inbox: Path, seen: dict[Path, tuple[int, int, float]], *, settle: float, now: float,
                 trust_timestamps: bool = True) -> list[Path]:
    """Files whose size and mtime have not changed for `settle` seconds; `seen` carries the observations.

    `seen[path]` is (size, mtime, since): the monotonic moment from which the file is known to be unchanged.
    Without trust that is the moment we first saw this size and mtime. On a local file system the file's own
    change time (ctime: every write and the final rename set it) tells how long it has been untouched already,
    so a file is not held for the notification's latency on top of `settle`. Network shares (polling mode) have
    another machine's clock, so there only our own observations count.
    """
    ready = []
    current = set()
    wall = time.time()
    for path in inbox_files(inbox):
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue
        current.add(path)
        sig = (st.st_size, st.st_mtime_ns)
        prev = seen.get(path)
        if prev is None or prev[:2] != sig:
            untouched = max(0.0, wall - max(st.st_mtime, st.st_ctime)) if trust_timestamps else 0.0
            prev = seen[path] = (*sig, now - untouched)
        if now - prev[2] >= settle:
            ready.append(path)
    for gone in set(seen) - current:
        del seen[gone]
    return ready


@contextmanager
def exclusive_root(state_dir: Path) -> Iterator[None]:
    """One root, one watcher: an advisory lock on `state/watch.lock`, released by the OS even on kill -9."""
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / WATCH_LOCK[-1], os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise WatcherLocked(f"Another sopipe watch (pid {other}) is already processing this root; "
                                "a second one would process files twice. Stop it first.") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def sweep_temp_files(outbox: Path) -> int:
    """Remove temp files a killed delivery left behind (hidden `.…tmp` names, never seen by parties)."""
    removed = 0
    if outbox.is_symlink():  # refused by every delivery too; never swept through
        return 0
    for tmp in outbox.rglob(".*.tmp"):  # `**` does not descend into symlinked folders
        try:
            tmp.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def process_batch(pipeline: Pipeline, paths: Sequence[Path], *, workers: int = 4,
                  on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Process files, cases in parallel, the events of one case in procedure order.

    Each file is first taken into the stage and read once (`Pipeline.take`); its order and its case come from
    that one reading, so nothing opens the file in the inbox again."""
    outcomes: list[Outcome] = []
    intakes: list[Intake] = []
    for path in paths:
        taken = pipeline.take(path)
        if isinstance(taken, Outcome):
            outcomes.append(taken)
            if on_outcome:
                on_outcome(taken)
        else:
            intakes.append(taken)
    return outcomes + process_intakes(pipeline, intakes, workers=workers, on_outcome=on_outcome)


def process_intakes(pipeline: Pipeline, intakes: Sequence[Intake], *, workers: int = 4,
                    on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Files already read into the stage: cases in parallel, the events of one case in procedure order."""
    return process_in_case_order(pipeline, intakes, workers=workers, on_outcome=on_outcome)


def run_once(pipeline: Pipeline, *, workers: int = 4,
             on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Process everything now in the inbox (the `--once` mode: files are complete by contract), and return when
    the archive's validation reports of what was delivered are written too."""
    sweep_temp_files(pipeline.mailboxes.outbox)
    resumed = resume_stage(pipeline, on_outcome=on_outcome)
    outcomes = resumed + process_batch(pipeline, inbox_files(pipeline.inbox), workers=workers,
                                       on_outcome=on_outcome)
    pipeline.mailboxes.drain()
    return outcomes


def resume_stage(pipeline: Pipeline, *, on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Files a crash left in the stage (`state/intake/`), processed first, one case after the other; and the
    archive's validation reports it left owed, made in the background."""
    if reports := pipeline.mailboxes.resume():
        log.info("%d archive validation report(s) left owed by an interruption: made in the background", reports)
    outcomes = pipeline.resume()
    for outcome in outcomes:
        log.info("%s: resumed from the stage after an interruption", outcome.file_name)
        if on_outcome:
            on_outcome(outcome)
    return outcomes


def watch(pipeline: Pipeline, *, settle: float = 0.3, rescan: float = 10.0, polling: bool = False,
          workers: int = 4, stop: threading.Event | None = None,
          on_outcome: Callable[[Outcome], None] | None = None) -> None:
    """Process files as they arrive until `stop` is set (or Ctrl-C)."""
    stop = stop or threading.Event()
    wake: "queue.Queue[None]" = queue.Queue()
    observer = PollingObserver(timeout=rescan) if polling else Observer()
    observer.schedule(_Wake(wake), str(pipeline.inbox), recursive=False)
    observer.start()
    seen: dict[Path, tuple[int, int, float]] = {}
    retry_after: dict[Path, float] = {}
    sweep_temp_files(pipeline.mailboxes.outbox)
    resume_stage(pipeline, on_outcome=on_outcome)
    try:
        while not stop.is_set():
            now = time.monotonic()
            ready = [p for p in stable_files(pipeline.inbox, seen, settle=settle, now=now,
                                             trust_timestamps=not polling)
                     if retry_after.get(p, 0) <= now]
            for outcome in process_batch(pipeline, ready, workers=workers, on_outcome=on_outcome):
                path = pipeline.inbox / outcome.file_name
                if outcome.status == "retry":
                    retry_after[path] = now + rescan
                else:
                    retry_after.pop(path, None)
            # sleep until an event arrives, the next file is due to have settled, or the rescan interval passes
            waiting = [since + settle for path, (_, _, since) in seen.items() if path not in retry_after]
            timeout = min(rescan, max(0.02, min(waiting) - time.monotonic())) if waiting else rescan
            try:
                wake.get(timeout=timeout)
                while not wake.empty():
                    wake.get_nowait()
            except queue.Empty:
                pass
    finally:
        observer.stop()
        observer.join()
