"""Configuration and the root's layout, in four rooms:

- `models`: the tables of `sopipe.toml` (one frozen pydantic model per table, each key declared once), their
  validators, the `Settings` of one root and `load_settings`, which reads the file once at the edge;
- `layout`: every folder and file below a root (`STAGE`, `SCRATCH`, ...) and `RootLayout`, their paths as
  properties of `Settings` (`settings.stage`, ...);
- `demo`: the DEMO master data of the fictional example case that `sopipe init` writes;
- `generate`: the default sopipe.toml and the settings table of docs/configuration.md, generated from the models
  (`python -m pipeline.settings`, `make settings-table`).

The names the rest of the program uses are importable from here.
"""

from pipeline.settings.generate import DEFAULT_CONFIG
from pipeline.settings.layout import (ARCHIVE, CONFIG_NAME, DATABASE, FAILED, INBOX, OUTBOX, PRIVATE_FOLDERS, PROCESSED,
                                      QUARANTINE, SCRATCH, STAGE, STAGING, STATE, TEMPLATES, WATCH_LOCK)
from pipeline.settings.models import Settings, load_settings

__all__ = ["ARCHIVE", "CONFIG_NAME", "DATABASE", "DEFAULT_CONFIG", "FAILED", "INBOX", "OUTBOX", "PRIVATE_FOLDERS",
           "PROCESSED", "QUARANTINE", "SCRATCH", "STAGE", "STAGING", "STATE", "TEMPLATES", "WATCH_LOCK", "Settings",
           "load_settings"]
