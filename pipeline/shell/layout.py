"""The root folder: creating it (`sopipe init`) and wiring the adapters for it."""

from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

from pipeline.adapters import safefs
from pipeline.adapters.mailbox import OUTBOX_MODE, MailboxAccess
from pipeline.adapters.safefs import PRIVATE_DIR, Access
from pipeline.core.routing import Party
from pipeline.errors import PipelineError
from pipeline.package_data import EXAMPLES  # importable from here, as before
from pipeline.settings import (CONFIG_NAME, FAILED, INBOX, OUTBOX, PRIVATE_FOLDERS, PROCESSED, SCRATCH, TEMPLATES,
                               Settings, load_settings)  # SCRATCH, TEMPLATES: still importable from here
from pipeline.settings.demo import DEMO_DOCTORS, DEMO_LOGO, DEMO_ORGANISATIE  # importable from here, as before
from pipeline.settings.generate import DEMO_CONFIG, PRODUCTION_CONFIG
from pipeline.shell.intake import IntakeAccess

DEMO_SERVICES_URL = "http://127.0.0.1:8765"
"""Where `sopipe pki serve` runs the demo CRL/OCSP/TSA services; named in the demo certificates."""


ROOT_MODE = 0o751
"""A new root: mailbox and secretariat accounts may pass through to their own folders; nobody else lists it."""
CONFIG_MODE = 0o640


def _gid(group: str, setting: str) -> int:
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise PipelineError(f"sopipe.toml: {setting} = {group!r}: there is no such Unix group on this machine "
                            "(groupadd it, or correct the setting)") from None


def access_from_settings(settings: Settings) -> tuple[MailboxAccess, IntakeAccess]:
    """The configured groups as modes and gids (unknown groups are an error at start-up)."""
    party = {p: _gid(g, f"[mailboxes] group_{p.replace('-', '_')}") for p, g in settings.party_groups.items()}
    recipients = {k: _gid(g, f"[mailboxes.recipients] {k!r}") for k, g in settings.recipient_groups}
    secretariat = _gid(settings.intake.group, "[intake] group") if settings.intake.group else None
    return MailboxAccess(party_groups=party, recipient_groups=recipients), IntakeAccess.for_group(secretariat)


def _ensure(parent_fd: int, parts: tuple[str, ...], access: Access, *, shown: str) -> None:
    """Make or open the folder (never through a link) and give it its mode; a group set by hand stays."""
    fd = safefs.open_dir(parent_fd, parts, create=access, shown=shown)
    try:
        safefs.apply_access(fd, access, folder=True)
    finally:
        os.close(fd)


def init_root(root: Path, *, pki: bool = True, demo: bool = True, demo_ca_dir: Path | None = None) -> Settings:
    """Create (idempotently) the folders, the state database, the config file and the demo PKI.

    `demo=False`: a production root: an empty `pki/` (0700) for the identities the operator installs, and a
    config in which doctors sign themselves. `demo_ca_dir`: where the DEMO CA keys go (outside the root).

    Never follows a symlink below the root (a planted one stops init with `UnsafePathError`) and sets every mode
    explicitly, whatever the umask: see README "Modes"."""
    root = Path(root).resolve()
    if demo_ca_dir is not None and Path(demo_ca_dir).resolve().is_relative_to(root):
        raise PipelineError(f"The DEMO CA keys must be kept outside the root ({root}): {demo_ca_dir}")
    if not root.exists():
        root.mkdir(parents=True, mode=0o700)
        os.chmod(root, ROOT_MODE)
    root_fd = safefs.open_anchor(root)
    try:
        mode = stat.S_IMODE(os.fstat(root_fd).st_mode)
        if mode & 0o022:
            os.fchmod(root_fd, mode & ~0o022)  # the root is never group- or world-writable
        config = safefs.entry(root_fd, CONFIG_NAME)
        if config is None:
            if demo and safefs.entry(root_fd, DEMO_LOGO.name) is None:  # the DEMO arbodienst's letterhead
                safefs.write_at(root_fd, DEMO_LOGO.name, DEMO_LOGO.read_bytes(), access=Access(CONFIG_MODE))
            safefs.write_at(root_fd, CONFIG_NAME, (DEMO_CONFIG if demo else PRODUCTION_CONFIG).encode("utf-8"),
                               access=Access(CONFIG_MODE))
        else:
            fd = os.open(CONFIG_NAME, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=root_fd)
            try:
                current = stat.S_IMODE(os.fstat(fd).st_mode)
                if current & 0o022:
                    os.fchmod(fd, current & ~0o022)
            finally:
                os.close(fd)
        settings = load_settings(root)
        mailbox_access, intake_access = access_from_settings(settings)
        _ensure(root_fd, INBOX, intake_access.inbox, shown="")
        for done in (PROCESSED, FAILED):
            _ensure(root_fd, done, intake_access.done, shown="")
        for private in PRIVATE_FOLDERS:
            _ensure(root_fd, private, PRIVATE_DIR, shown="")
        _ensure(root_fd, OUTBOX, Access(OUTBOX_MODE), shown="")
        folders = [(party.value,) for party in Party]
        folders += [tuple(key.split("/")) for key in mailbox_access.recipient_groups]
        for parts in folders:
            _ensure(root_fd, (*OUTBOX, *parts), mailbox_access.folder(parts), shown="")
    finally:
        os.close(root_fd)
    from pipeline.adapters.store import Store
    Store(settings.database).close()
    if pki and not demo:
        from pipeline.adapters.demo_pki import DEMO_MARKER
        if (settings.pki_dir / DEMO_MARKER).exists():
            raise PipelineError(f"{settings.pki_dir} holds the DEMO PKI; move it away before making a production root")
        settings.pki_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(settings.pki_dir, 0o700)
    elif pki:
        from pipeline.adapters.demo_pki import DEMO_MARKER, README, init_demo_pki, read_services_url
        pki_dir = settings.pki_dir
        if pki_dir.is_dir() and any(pki_dir.iterdir()) and not ((pki_dir / DEMO_MARKER).exists()
                                                                 or (pki_dir / README).exists()):
            raise PipelineError(f"{pki_dir} holds a production PKI: `sopipe init` would replace it with a DEMO one. "
                                f"Use `sopipe init --root {root} --no-demo`, which keeps it.")
        existing = read_services_url(settings.pki_dir)  # keep a URL chosen earlier (another port)
        init_demo_pki(settings.pki_dir, organisatie=DEMO_ORGANISATIE, doctors=DEMO_DOCTORS,
                      services_url=existing.base if existing else DEMO_SERVICES_URL, ca_dir=demo_ca_dir)
        settings = load_settings(root)  # again: the DEMO PKI's trust services are the default timestamp server
    return settings
