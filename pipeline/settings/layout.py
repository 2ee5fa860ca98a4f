"""The root's layout: every folder and file the pipeline keeps below a root, in one place.

As parts relative to the root (`STAGE`, `SCRATCH`, ...: `pipeline.adapters.safefs` opens them from the root without
following a link) and as properties of a root's `Settings` (`settings.stage`, `settings.scratch`, ...: `RootLayout`).
No other module builds a path of the root from literals (tests/test_settings.py checks it).
"""

from __future__ import annotations

from pathlib import Path

from pipeline import package_data
from pipeline.core.routing import Party

# --- relative to the root ------------------------------------------------------------------------------------------

CONFIG_NAME = "sopipe.toml"
"""The configuration file of a root (`pipeline.settings.models`)."""
INBOX = ("inbox",)
PROCESSED = (*INBOX, "processed")
FAILED = (*INBOX, "failed")
OUTBOX = ("outbox",)
ARCHIVE = (*OUTBOX, Party.ARCHIEF.value)
"""The archive's mailbox: one copy of every document (`Party.ARCHIEF`)."""
QUARANTINE = ("quarantine",)
STATE = ("state",)
DATABASE = (*STATE, "sopipe.db")
STAGE = (*STATE, "intake")
"""The read-once stage: a case file is renamed out of the inbox into `state/intake/<id>/` before it is read."""
STAGING = (*STATE, "staging")
"""Documents made for a case file, kept until its event is recorded (crash safety)."""
SCRATCH = (*STATE, "scratch")
"""LibreOffice's scratch folder (profiles, jobs)."""
WATCH_LOCK = (*STATE, "watch.lock")
"""The OS lock that keeps a second `sopipe watch` off the root."""
PKI = ("pki",)
"""The keys' folder by default (`[signing] pki_dir` may name another one)."""
PRIVATE_FOLDERS = (QUARANTINE, STATE, STAGE, STAGING, SCRATCH)
"""The folders only the pipeline's user may enter (0700)."""
TEMPLATES = package_data.TEMPLATES
"""The shipped Word templates (not below the root: they come with the program, as package data)."""


# --- as paths of one root ------------------------------------------------------------------------------------------

class RootLayout:
    """Every path of one root, from its `root` (mixed into `Settings`: `settings.inbox`, `settings.stage`, ...)."""

    root: Path

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def inbox(self) -> Path:
        return self.root.joinpath(*INBOX)

    @property
    def processed(self) -> Path:
        return self.root.joinpath(*PROCESSED)

    @property
    def failed(self) -> Path:
        return self.root.joinpath(*FAILED)

    @property
    def outbox(self) -> Path:
        return self.root.joinpath(*OUTBOX)

    @property
    def archive(self) -> Path:
        """`outbox/archief/`: one copy of every document per case."""
        return self.root.joinpath(*ARCHIVE)

    @property
    def quarantine(self) -> Path:
        return self.root.joinpath(*QUARANTINE)

    @property
    def state(self) -> Path:
        return self.root.joinpath(*STATE)

    @property
    def database(self) -> Path:
        return self.root.joinpath(*DATABASE)

    @property
    def stage(self) -> Path:
        """The intake stage `state/intake/` (see `STAGE`)."""
        return self.root.joinpath(*STAGE)

    @property
    def staging(self) -> Path:
        return self.root.joinpath(*STAGING)

    @property
    def scratch(self) -> Path:
        return self.root.joinpath(*SCRATCH)

    @property
    def watch_lock(self) -> Path:
        return self.root.joinpath(*WATCH_LOCK)

    @property
    def templates(self) -> Path:
        return TEMPLATES
