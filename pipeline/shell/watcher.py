"""Watching the inbox: files are taken only once their size and mtime stopped changing.

Events from watchdog only wake the loop (handlers enqueue, nothing more); a periodic rescan catches what the
events missed (network shares), and files already present at start-up are processed first. Close events are
never relied on: only Linux's inotify has them.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from pathlib import Path
from typing import Callable

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from pipeline.shell.runner import Outcome, Pipeline, inbox_files

log = logging.getLogger("sopipe")


class _Wake(FileSystemEventHandler):
    def __init__(self, q: "queue.Queue[None]") -> None:
        self.q = q

    def on_any_event(self, event) -> None:  # only enqueue; the work happens in the loop
        self.q.put(None)


def stable_files(inbox: Path, seen: dict[Path, tuple[int, int, float]], *, settle: float,
                 now: float) -> list[Path]:
    """Files whose (size, mtime) has not changed for `settle` seconds; `seen` carries the observations."""
    ready = []
    current = set()
    for path in inbox_files(inbox):
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue
        current.add(path)
        sig = (st.st_size, st.st_mtime_ns)
        prev = seen.get(path)
        if prev is None or prev[:2] != sig:
            seen[path] = (*sig, now)
            if settle <= 0:
                ready.append(path)
            continue
        if now - prev[2] >= settle:
            ready.append(path)
    for gone in set(seen) - current:
        del seen[gone]
    return ready


def run_once(pipeline: Pipeline, *, on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Process everything now in the inbox (the `--once` mode: files are complete by contract)."""
    outcomes = []
    for path in inbox_files(pipeline.inbox):
        outcome = pipeline.process(path)
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return outcomes


def watch(pipeline: Pipeline, *, settle: float = 2.0, rescan: float = 10.0, polling: bool = False,
          stop: threading.Event | None = None, on_outcome: Callable[[Outcome], None] | None = None) -> None:
    """Process files as they arrive until `stop` is set (or Ctrl-C)."""
    stop = stop or threading.Event()
    wake: "queue.Queue[None]" = queue.Queue()
    observer = PollingObserver(timeout=rescan) if polling else Observer()
    observer.schedule(_Wake(wake), str(pipeline.inbox), recursive=False)
    observer.start()
    seen: dict[Path, tuple[int, int, float]] = {}
    retry_after: dict[Path, float] = {}
    try:
        while not stop.is_set():
            now = time.monotonic()
            for path in stable_files(pipeline.inbox, seen, settle=settle, now=now):
                if retry_after.get(path, 0) > now:
                    continue
                outcome = pipeline.process(path)
                if outcome.status == "retry":
                    retry_after[path] = now + rescan
                else:
                    retry_after.pop(path, None)
                if on_outcome:
                    on_outcome(outcome)
            # sleep until an event arrives, the next settle check is due, or the rescan interval passes
            timeout = min(rescan, max(0.2, settle / 2)) if seen else rescan
            try:
                wake.get(timeout=timeout)
                while not wake.empty():
                    wake.get_nowait()
            except queue.Empty:
                pass
    finally:
        observer.stop()
        observer.join()
