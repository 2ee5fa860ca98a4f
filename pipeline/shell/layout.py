"""The root folder: creating it (`sopipe init`) and wiring the adapters for it."""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.core.routing import Party
from pipeline.errors import PipelineError
from pipeline.settings import CONFIG_NAME, DEFAULT_CONFIG, Settings, load_settings

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "templates"
EXAMPLES = REPO / "examples"
DEMO_ORGANISATIE = "ArboNoord"
DEMO_DOCTORS = (("Dr. E. Visser", "39087654301"), ("Dr. K. Smit", "49011122201"))
DEMO_SERVICES_URL = "http://127.0.0.1:8765"
"""Where `sopipe pki serve` runs the demo CRL/OCSP/TSA services; named in the demo certificates."""


PRODUCTION_CONFIG = DEFAULT_CONFIG.replace("\nauto_sign_doctors = true\n", "\nauto_sign_doctors = false\n")
"""What `sopipe init --no-demo` writes: doctors sign themselves."""


def init_root(root: Path, *, pki: bool = True, demo: bool = True, demo_ca_dir: Path | None = None) -> Settings:
    """Create (idempotently) the folders, the state database, the config file and the demo PKI.

    `demo=False`: a production root: an empty `pki/` (0700) for the identities the operator installs, and a
    config in which doctors sign themselves. `demo_ca_dir`: where the DEMO CA keys go (outside the root).
    """
    root = Path(root).resolve()
    if demo_ca_dir is not None and Path(demo_ca_dir).resolve().is_relative_to(root):
        raise PipelineError(f"The DEMO CA keys must be kept outside the root ({root}): {demo_ca_dir}")
    root.mkdir(parents=True, exist_ok=True)
    config = root / CONFIG_NAME
    if not config.exists():
        config.write_text(DEFAULT_CONFIG if demo else PRODUCTION_CONFIG, encoding="utf-8")
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
    if pki and not demo:
        from pipeline.adapters.pki import DEMO_MARKER
        if (settings.pki_dir / DEMO_MARKER).exists():
            raise PipelineError(f"{settings.pki_dir} holds the DEMO PKI; move it away before making a production root")
        settings.pki_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(settings.pki_dir, 0o700)
    elif pki:
        from pipeline.adapters.pki import DEMO_MARKER, README, init_demo_pki, read_services_url
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
