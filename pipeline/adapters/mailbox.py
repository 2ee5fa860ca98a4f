"""The party mailboxes under `outbox/`: atomic, idempotent delivery (write temp, fsync, rename).

A party never sees half a file: the temp file is hidden (`.` prefix, which the pipeline and ordinary file
browsers skip) and renamed into place only after its bytes are on disk. Delivering the same file again replaces
it atomically. Folders are grouped per case reference (kenmerk), never per person.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from pipeline.core.routing import Party
from pipeline.errors import DeliveryError

_SAFE = re.compile(r"^[A-Za-z0-9_-]{3,40}$")
DIR_MODE = 0o750
FILE_MODE = 0o640


def atomic_write(target: Path, data: bytes, *, mode: int = FILE_MODE) -> None:
    """Write `data` to `target` so that readers see either nothing/the old file or the complete new file."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class Mailboxes:
    def __init__(self, outbox: Path) -> None:
        self.outbox = Path(outbox)

    def path(self, party: Party, kenmerk: str, file_name: str) -> Path:
        if not _SAFE.match(kenmerk) or "/" in file_name or file_name.startswith("."):
            raise DeliveryError(f"Onveilige bestandsnaam: {kenmerk}/{file_name}", kenmerk=kenmerk)
        return self.outbox / party.value / kenmerk / file_name

    def deliver(self, party: Party, kenmerk: str, file_name: str, data: bytes) -> Path:
        target = self.path(party, kenmerk, file_name)
        try:
            for folder in (self.outbox / party.value, target.parent):
                folder.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
            atomic_write(target, data)
        except OSError as e:
            raise DeliveryError(f"Kan {file_name} niet in de postbus {party.value} zetten: {e.strerror or e}",
                                kenmerk=kenmerk) from e
        return target
