"""`sopipe migrate-layout`: move a root's per-role mailboxes to one folder per recipient.

Before issue 13, `outbox/werkgever/<kenmerk>/` held every employer's cases. Now each case folder of werkgever,
arbodienst, bedrijfsarts and so-bedrijfsarts lives under its recipient: `outbox/<party>/<code>/<kenmerk>/`, the
code from the stored case (`pipeline.core.routing.recipient_code`). Each move is one rename (atomic, same file
system), done relative to folder descriptors without following a link; a crash leaves every case folder either
in the old or in the new place, so running the command again finishes the job (idempotent). When both places
exist (delivered anew after the upgrade), the old files are renamed into the new folder unless a newer copy is
already there. Every move is recorded in the audit trail.

The paths the store keeps (deliveries, documents waiting in `te-ondertekenen/`) follow: per case, every stored path
under an old case folder is rewritten to the new one in one transaction together with its audit record (all or
nothing). The folders move first; a crash before the rewrite leaves old paths that the next run rewrites (it
rewrites every known case, not only the folders it moved), and a rewritten path no longer matches (idempotent).
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass

from pipeline.adapters import safefs
from pipeline.adapters.audit import Audit
from pipeline.adapters.mailbox import Mailboxes
from pipeline.adapters.store import Store
from pipeline.core.state import CaseState
from pipeline.core.routing import PER_RECIPIENT, recipient_code
from pipeline.core.trail import Actie, Gebeurtenis, Uitkomst, scrub

_KENMERK = re.compile(r"^[A-Za-z0-9_-]{3,40}$")


@dataclass(frozen=True)
class Moved:
    van: str
    naar: str


@dataclass(frozen=True)
class MigrationResult:
    moved: tuple[Moved, ...]
    skipped: tuple[str, ...]
    """Folders left where they are, with the reason (no case of that name, a link, a case without recipient)."""
    paths_rewritten: int = 0
    """Stored paths (deliveries, pending signatures) moved to the new layout by this run."""


def migrate_layout(mailboxes: Mailboxes, store: Store, audit: Audit) -> MigrationResult:
    moved: list[Moved] = []
    skipped: list[str] = []
    known = set(store.kenmerken())
    states: dict[str, CaseState | None] = {}

    def state_of(kenmerk: str) -> CaseState | None:
        if kenmerk not in states:
            states[kenmerk] = store.case_state(kenmerk)
        return states[kenmerk]

    for party in PER_RECIPIENT:
        party_fd = mailboxes.open_folder((party.value,))
        try:
            for name in sorted(os.listdir(party_fd)):
                st = safefs.entry(party_fd, name)
                if st is None or name not in known or not _KENMERK.match(name):
                    continue  # a recipient folder of the new layout (or something not ours)
                where = f"outbox/{party.value}/{name}"
                if not stat.S_ISDIR(st.st_mode):
                    skipped.append(f"{where}: geen map (symbolische koppeling of bestand), niet verplaatst")
                    continue
                state = state_of(name)
                code = recipient_code(party, state) if state else None
                if not code:
                    skipped.append(f"{where}: geen ontvanger bekend in de zaak")
                    continue
                _move_case(mailboxes, party_fd, party.value, code, name)
                move = Moved(where, f"outbox/{party.value}/{code}/{name}")
                audit.record(Gebeurtenis.BEZORGING, kenmerk=name, actie=Actie.UPDATE, uitkomst=Uitkomst.GESLAAGD,
                             partij=party.value, van=scrub(move.van), naar=scrub(move.naar), wat="migrate-layout")
                moved.append(move)
        finally:
            os.close(party_fd)
    rewritten = sum(_rewrite_stored_paths(store, audit, kenmerk, state_of(kenmerk), mailboxes.outbox.name)
                    for kenmerk in sorted(known))
    return MigrationResult(tuple(moved), tuple(skipped), rewritten)


def _rewrite_stored_paths(store: Store, audit: Audit, kenmerk: str, state: CaseState | None, outbox: str) -> int:
    """The case's stored mailbox paths of the old layout, rewritten with their audit record in one transaction."""
    if state is None:
        return 0
    prefixes = []
    for party in PER_RECIPIENT:
        code = recipient_code(party, state)
        if code and _KENMERK.match(kenmerk):
            prefixes.append((f"{outbox}/{party.value}/{kenmerk}/", f"{outbox}/{party.value}/{code}/{kenmerk}/"))
    if not prefixes:
        return 0
    with store.transaction():  # the audit record joins this transaction: both or neither
        n = store.rewrite_paths(kenmerk, prefixes)
        if n:
            audit.record(Gebeurtenis.BEZORGING, kenmerk=kenmerk, actie=Actie.UPDATE, uitkomst=Uitkomst.GESLAAGD,
                         wat="migrate-layout-paden", aantal=n)
    return n


def _move_case(mailboxes: Mailboxes, party_fd: int, party: str, code: str, kenmerk: str) -> None:
    code_fd = mailboxes.open_folder((party, code))
    try:
        if safefs.entry(code_fd, kenmerk) is None:
            os.rename(kenmerk, kenmerk, src_dir_fd=party_fd, dst_dir_fd=code_fd)
        else:  # delivered anew into the new place meanwhile: merge, the newer copy wins
            _merge(safefs.open_dir(party_fd, [kenmerk]), safefs.open_dir(code_fd, [kenmerk]))
            os.rmdir(kenmerk, dir_fd=party_fd)
        os.fsync(code_fd)
        os.fsync(party_fd)
    finally:
        os.close(code_fd)


def _merge(old_fd: int, new_fd: int) -> None:
    try:
        for name in sorted(os.listdir(old_fd)):
            st = safefs.entry(old_fd, name)
            there = safefs.entry(new_fd, name)
            if stat.S_ISDIR(st.st_mode) and there is not None and stat.S_ISDIR(there.st_mode):
                _merge(safefs.open_dir(old_fd, [name]), safefs.open_dir(new_fd, [name]))
                os.rmdir(name, dir_fd=old_fd)
            elif there is None:
                os.rename(name, name, src_dir_fd=old_fd, dst_dir_fd=new_fd)
            else:
                safefs.remove_tree_at(old_fd, name)
    finally:
        os.close(old_fd)
        os.close(new_fd)
