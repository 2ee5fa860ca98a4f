"""The party mailboxes under `outbox/`: atomic, idempotent delivery (write temp, fsync, rename), never via a link.

A party never sees half a file: the temp file is hidden (`.` prefix, which the pipeline and ordinary file
browsers skip) and renamed into place only after its bytes are on disk. Delivering the same file again replaces
it atomically. Folders are per recipient (`outbox/werkgever/<code>/<kenmerk>/`, see `pipeline.core.routing`)
or per case (werknemer, archief), never per person. Every folder is opened relative to the root with
O_NOFOLLOW (`pipeline.adapters.safefs`): a planted symlink is refused, nothing is written through it. Modes and
groups are explicit (`MailboxAccess`), the umask plays no part.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.adapters import safefs
from pipeline.adapters.safefs import Access
from pipeline.core.routing import PER_RECIPIENT, Party, mailbox_folder
from pipeline.errors import DeliveryError

_SAFE = re.compile(r"^[A-Za-z0-9_-]{3,40}$")
DIR_MODE = 0o750
FILE_MODE = 0o640
OUTBOX_MODE = 0o751
"""outbox/ itself: accounts with a mailbox folder may pass through, nobody but the pipeline may list it."""


def atomic_write(target: Path, data: bytes, *, mode: int = FILE_MODE, anchor: Path | None = None) -> None:
    """Write `data` to `target` so that readers see either nothing/the old file or the complete new file.

    No folder between `anchor` (default: the target's own folder) and the target is followed when it is a link;
    missing folders are made 0700."""
    target = Path(target)
    anchor = Path(anchor) if anchor is not None else target.parent
    rel = target.relative_to(anchor)
    safefs.write_file(anchor, rel.as_posix(), data, access=Access(mode))


@dataclass(frozen=True)
class MailboxAccess:
    """Who may read which mailbox folder: groups per party and per recipient (from `[mailboxes]` in sopipe.toml)."""
    party_groups: Mapping[str, int] = field(default_factory=dict)
    """{party: gid} for `outbox/<party>/` (and everything below it unless a recipient has its own group)."""
    recipient_groups: Mapping[str, int] = field(default_factory=dict)
    """{"<party>/<code>": gid} for `outbox/<party>/<code>/`."""

    def folder(self, parts: tuple[str, ...]) -> Access:
        """Mode and group of the folder `outbox/<parts...>`."""
        party = parts[0]
        gid = self.party_groups.get(party)
        if len(parts) >= 2 and party in {p.value for p in PER_RECIPIENT}:
            gid = self.recipient_groups.get(f"{party}/{parts[1]}", gid)
        if len(parts) == 1 and any(key.startswith(party + "/") for key in self.recipient_groups):
            # recipients with their own group must pass through the party folder, without listing it
            return Access(DIR_MODE | 0o001, gid)
        return Access(DIR_MODE, gid)


class Mailboxes:
    def __init__(self, outbox: Path, *, access: MailboxAccess | None = None) -> None:
        self.outbox = Path(outbox)
        self.access = access or MailboxAccess()

    def close(self) -> None:
        """Nothing to release here; a subclass may hold workers (`ValidatingMailboxes`)."""

    def resume(self) -> int:
        """Take up work a crash left unfinished (a subclass's background work); returns how many items."""
        return 0

    def drain(self) -> None:
        """Wait for background work started by deliveries (a subclass's); nothing here."""

    def folder(self, party: Party, kenmerk: str, *, code: str | None = None) -> tuple[str, ...]:
        """The case's folder below outbox/ for this party (and recipient code)."""
        if not _SAFE.match(kenmerk) or (code is not None and not _SAFE.match(code)):
            raise DeliveryError(f"Onveilige mapnaam: {code or ''}/{kenmerk}", kenmerk=kenmerk)
        try:
            return mailbox_folder(party, kenmerk, code)
        except ValueError as e:
            raise DeliveryError(f"Geen ontvanger bekend voor de postbus {party.value}.", kenmerk=kenmerk) from e

    def path(self, party: Party, kenmerk: str, file_name: str, *, code: str | None = None,
             sub: tuple[str, ...] = ()) -> Path:
        if "/" in file_name or file_name.startswith(".") or not file_name:
            raise DeliveryError(f"Onveilige bestandsnaam: {kenmerk}/{file_name}", kenmerk=kenmerk)
        return self.outbox.joinpath(*self.folder(party, kenmerk, code=code), *sub, file_name)

    def check(self, party: Party, kenmerk: str, *, code: str | None = None) -> None:
        """Refuse (UnsafePathError) when a folder on the way to this mailbox is a link or a file; makes nothing."""
        parts = (self.outbox.name, *self.folder(party, kenmerk, code=code))
        anchor = safefs.open_anchor(self.outbox.parent)
        try:
            fd = anchor
            for i, name in enumerate(parts):
                if safefs.entry(fd, name) is None:
                    break  # made (safely) at delivery
                nxt = safefs.open_dir(fd, [name], shown="/".join(parts[:i]))
                if fd != anchor:
                    os.close(fd)
                fd = nxt
            if fd != anchor:
                os.close(fd)
        finally:
            os.close(anchor)

    def open_folder(self, parts: tuple[str, ...]) -> int:
        """A descriptor of `outbox/<parts>`, made where missing with each level's mode and group."""
        anchor = safefs.open_anchor(self.outbox.parent)
        try:
            fd = safefs.open_dir(anchor, [self.outbox.name], create=Access(OUTBOX_MODE))
        finally:
            os.close(anchor)
        try:
            for i in range(len(parts)):
                access = self.access.folder(parts[:i + 1])
                nxt = safefs.open_dir(fd, [parts[i]], create=access, shown="/".join((self.outbox.name, *parts[:i])))
                os.close(fd)
                fd = nxt
        except BaseException:
            os.close(fd)
            raise
        return fd

    def deliver(self, party: Party, kenmerk: str, file_name: str, data: bytes, *, code: str | None = None,
                sub: tuple[str, ...] = (), sha256: str | None = None, validation=None) -> Path:
        """`sha256`: the digest of `data` when the caller has it (a subclass may need it; never recomputed).
        `validation`: what was established about `data`'s signatures when the caller validated them already
        (`pipeline.adapters.validation.Validation`; a subclass writing validation reports reuses it)."""
        return self.write(party, kenmerk, file_name, data, code=code, sub=sub)

    def write(self, party: Party, kenmerk: str, file_name: str, data: bytes, *, code: str | None = None,
              sub: tuple[str, ...] = ()) -> Path:
        """Write `data` into the mailbox as `deliver` does, without what a subclass adds to a delivery (the
        archive's validation report is written this way, beside the PDF it reports on)."""
        target = self.path(party, kenmerk, file_name, code=code, sub=sub)
        parts = (*self.folder(party, kenmerk, code=code), *sub)
        try:
            fd = self.open_folder(parts)
            try:
                safefs.write_at(fd, file_name, data, access=self.access.folder(parts).for_files())
            finally:
                os.close(fd)
        except DeliveryError:
            raise
        except OSError as e:
            raise DeliveryError(f"Kan {file_name} niet in de postbus {party.value} zetten: {e.strerror or e}",
                                kenmerk=kenmerk) from e
        return target
