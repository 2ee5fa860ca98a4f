"""Configuration: one documented file, `sopipe.toml` in the root, read once at the edge into frozen settings.

Every value has a default that works; an unknown key or a value of the wrong type is a clear error at start-up.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import PipelineError

CONFIG_NAME = "sopipe.toml"

DEFAULT_CONFIG = """\
# sopipe configuration. Every key is optional; the values shown are the defaults.

[intake]
# Largest case file accepted, in bytes; larger files go to inbox/failed/ with a report.
max_file_bytes = 1048576

[libreoffice]
# Warm LibreOffice workers (0 = one per CPU core).
workers = 0
# Seconds before a conversion is considered hung; the worker is killed and restarted.
timeout = 60
# A worker is restarted after this many conversions, or above this memory (MiB), to keep memory flat.
max_conversions = 200
max_rss_mb = 1024
# How often a failed conversion is retried on a fresh worker before the case file fails.
retries = 2

[signing]
# Folder with the PKI: ca.pem, seal.p12, doctor-<BIG>.p12 and the file `passphrase` (mode 0600).
pki_dir = "pki"
"""


@dataclass(frozen=True)
class Settings:
    root: Path
    max_file_bytes: int = 1_048_576
    lo_workers: int = 0
    lo_timeout: float = 60.0
    lo_max_conversions: int = 200
    lo_max_rss_mb: int = 1024
    lo_retries: int = 2
    pki_dir: Path = Path("pki")

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def database(self) -> Path:
        return self.root / "state" / "sopipe.db"


_KEYS = {
    ("intake", "max_file_bytes"): ("max_file_bytes", int),
    ("libreoffice", "workers"): ("lo_workers", int),
    ("libreoffice", "timeout"): ("lo_timeout", (int, float)),
    ("libreoffice", "max_conversions"): ("lo_max_conversions", int),
    ("libreoffice", "max_rss_mb"): ("lo_max_rss_mb", int),
    ("libreoffice", "retries"): ("lo_retries", int),
    ("signing", "pki_dir"): ("pki_dir", str),
}


def load_settings(root: Path) -> Settings:
    root = Path(root).resolve()
    path = root / CONFIG_NAME
    values: dict = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise PipelineError(f"{path}: not valid TOML: {e}") from e
        for section, table in data.items():
            if not isinstance(table, dict):
                raise PipelineError(f"{path}: '{section}' must be a [section]")
            for key, value in table.items():
                if (section, key) not in _KEYS:
                    raise PipelineError(f"{path}: unknown setting [{section}] {key}")
                attr, typ = _KEYS[(section, key)]
                if isinstance(value, bool) or not isinstance(value, typ):
                    raise PipelineError(f"{path}: [{section}] {key} has the wrong type ({value!r})")
                if isinstance(value, (int, float)) and value < 0:
                    raise PipelineError(f"{path}: [{section}] {key} must not be negative")
                values[attr] = value
    values["pki_dir"] = root / values.get("pki_dir", "pki")
    return Settings(root=root, **values)
