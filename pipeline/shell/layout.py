"""The root folder: creating it (`sopipe init`) and wiring the adapters for it."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.core.routing import Party
from pipeline.settings import CONFIG_NAME, DEFAULT_CONFIG, Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "templates"
EXAMPLES = REPO / "examples"
DEMO_ORGANISATIE = "ArboNoord"
DEMO_DOCTORS = (("Dr. E. Visser", "39087654301"), ("Dr. K. Smit", "49011122201"), ("Dr. P. Bakker", "19012345601"))
"""DEMO identities: the example's SO doctors (first and second choice) and its own doctor (signs the request)."""
DEMO_SERVICES_URL = "http://127.0.0.1:8765"
"""Where `sopipe pki serve` runs the demo CRL/OCSP/TSA services; named in the demo certificates."""


def init_root(root: Path, *, pki: bool = True) -> Settings:
    """Create (idempotently) the folders, the state database, the config file and the demo PKI."""
    root = Path(root).resolve()
    root.mkdir(parents=True, exist_ok=True)
    config = root / CONFIG_NAME
    if not config.exists():
        config.write_text(DEFAULT_CONFIG, encoding="utf-8")
    settings = load_settings(root)
    for folder in (settings.inbox, settings.inbox / "processed", settings.inbox / "failed", settings.quarantine):
        folder.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.quarantine, 0o700)
    for party in Party:
        (settings.outbox / party.value).mkdir(parents=True, exist_ok=True)
        os.chmod(settings.outbox / party.value, 0o750)
    settings.database.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.database.parent, 0o700)
    from pipeline.adapters.store import Store
    Store(settings.database).close()
    if pki:
        from pipeline.adapters.pki import init_demo_pki, read_services_url
        existing = read_services_url(settings.pki_dir)  # keep a URL chosen earlier (another port)
        init_demo_pki(settings.pki_dir, organisatie=DEMO_ORGANISATIE, doctors=DEMO_DOCTORS,
                      services_url=existing.base if existing else DEMO_SERVICES_URL)
    return settings
