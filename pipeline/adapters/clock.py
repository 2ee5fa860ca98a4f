"""The one clock: the wiring passes it to the runner, the store, the audit trail and the archive.

`SystemClock` is the real time; `FrozenClock` stands still (or moves only when told), for tests and tools that
need the journal, the audit trail and the dates derived from them (retention) to be the same on every run.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current moment, timezone-aware."""


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)


class FrozenClock:
    """A clock that shows `moment` until it is moved on (`advance`, `set`)."""

    def __init__(self, moment: dt.datetime) -> None:
        self._lock = threading.Lock()
        self.set(moment)

    def now(self) -> dt.datetime:
        with self._lock:
            return self._moment

    def set(self, moment: dt.datetime) -> None:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("a clock shows aware datetimes: give the moment a timezone")
        with self._lock:
            self._moment = moment

    def advance(self, **delta: float) -> dt.datetime:
        """Move the clock on by `datetime.timedelta(**delta)`; the new moment."""
        with self._lock:
            self._moment += dt.timedelta(**delta)
            return self._moment


SYSTEM_CLOCK = SystemClock()


def utc_iso(clock: Clock, *, timespec: str = "seconds") -> str:
    """The clock's moment in UTC as ISO 8601, as the store and the delivery records write it."""
    return clock.now().astimezone(dt.timezone.utc).isoformat(timespec=timespec)
