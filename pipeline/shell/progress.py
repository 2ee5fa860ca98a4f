"""A progress bar for batches (`watch --once` with a full inbox, `bench`, `archive`), quiet when not on a terminal.

Usage:

    with batch_progress(len(files), description="Verwerken") as progress:
        for f in files:
            handle(f)
            progress.advance(label=f.name)

When stdout is not a terminal (cron, a pipe, a test) nothing is drawn and `advance` costs nothing, so callers
never need two code paths. Print with `progress.echo(line)` while the bar is shown, so the line appears above it
(log records go to stderr, which the bar redirects the same way).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterable, Iterator, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

T = TypeVar("T")

MIN_BATCH = 5
"""Below this many items a bar is more noise than help; callers use it to decide whether to show one."""


class BatchProgress:
    """Counts finished items of one batch; draws a bar only when `enabled`."""

    def __init__(self, progress: Progress | None, task_id=None) -> None:
        self._progress = progress
        self._task = task_id
        self.done = 0

    def echo(self, line: str) -> None:
        """Print a line above the bar (or just print it when there is no bar)."""
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            click.echo(line)

    def advance(self, steps: int = 1, *, label: str | None = None) -> None:
        self.done += steps
        if self._progress is not None:
            fields = {"label": label} if label is not None else {}
            self._progress.update(self._task, advance=steps, **fields)


def on_terminal() -> bool:
    stream = sys.stdout
    return bool(getattr(stream, "isatty", None) and stream.isatty())


@contextmanager
def batch_progress(total: int, *, description: str, enabled: bool | None = None,
                   console: Console | None = None) -> Iterator[BatchProgress]:
    """A bar for `total` items; `enabled` defaults to "stdout is a terminal"."""
    if enabled is None:
        enabled = on_terminal()
    if not enabled:
        yield BatchProgress(None)
        return
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("eta"), TimeRemainingColumn(), TextColumn("[dim]{task.fields[label]}"),
                        console=console, transient=False)
    with progress:
        task = progress.add_task(description, total=total, label="")
        yield BatchProgress(progress, task)


def track(items: Iterable[T], *, total: int | None = None, description: str,
          enabled: bool | None = None) -> Iterator[T]:
    """Iterate over `items` with a bar (labelled by each item's `str`)."""
    items = list(items) if total is None else items
    count = len(items) if total is None else total
    with batch_progress(count, description=description, enabled=enabled) as progress:
        for item in items:
            yield item
            progress.advance(label=str(item))
