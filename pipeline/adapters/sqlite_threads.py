"""One SQLite connection per thread, opened on first use with the caller's pragmas.

A `sqlite3.Connection` must stay in the thread that made it; the state database (`Store`) and the desk's users
(`pipeline.gateway.users.Users`) are used from several threads (case chains, the gateway's handlers), so each keeps
one of these.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Sequence


class ThreadConnections:
    def __init__(self, path: Path, *, pragmas: Sequence[str] = (), row_factory=None) -> None:
        self.path = Path(path)
        self._pragmas = tuple(pragmas)
        self._row_factory = row_factory
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        """This thread's connection (autocommit mode: transactions are begun explicitly)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            if self._row_factory is not None:
                conn.row_factory = self._row_factory
            for pragma in self._pragmas:
                conn.execute(f"PRAGMA {pragma}")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection (the others close with their threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
