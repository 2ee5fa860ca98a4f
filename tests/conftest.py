"""Shared fixtures: one warm LibreOffice pool and one demo PKI for the whole session (they are slow to start)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.adapters.converter import UnoConverterPool
from pipeline.adapters.pki import init_demo_pki
from pipeline.adapters.renderer import DocxRenderer
from pipeline.adapters.signing import KeyRing
from pipeline.adapters.audit import Audit
from pipeline.adapters.store import Store
from pipeline.shell.app import OrderSigner
from pipeline.shell.layout import DEMO_DOCTORS, DEMO_ORGANISATIE, TEMPLATES, init_root
from pipeline.shell.runner import Pipeline


@pytest.fixture(scope="session")
def converter():
    pool = UnoConverterPool(workers=2, timeout=60)
    pool.start()
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def shared_pki(tmp_path_factory) -> Path:
    pki = tmp_path_factory.mktemp("pki")
    init_demo_pki(pki, organisatie=DEMO_ORGANISATIE, doctors=DEMO_DOCTORS)
    return pki


@pytest.fixture(scope="session")
def keyring(shared_pki) -> KeyRing:
    return KeyRing.from_pki_dir(shared_pki)


@pytest.fixture(scope="session")
def renderer() -> DocxRenderer:
    return DocxRenderer(TEMPLATES)


class Root:
    """A fresh root wired to the session's LibreOffice pool and PKI."""

    def __init__(self, path: Path, *, converter, keyring, renderer, pki: Path, guard=None) -> None:
        self.path = path
        self.settings = init_root(path, pki=False)
        shutil.copytree(pki, self.settings.pki_dir, dirs_exist_ok=True)
        self.store = Store(self.settings.database)
        from pipeline.shell.guard import PrivacyGuard
        self.pipeline = Pipeline(inbox=self.settings.inbox, outbox=self.settings.outbox,
                                 quarantine=self.settings.quarantine, store=self.store, renderer=renderer,
                                 converter=converter, signer=OrderSigner(keyring),
                                 guard=guard if guard is not None else PrivacyGuard(),
                                 audit=Audit(self.store),  # wired as in open_pipeline
                                 organisaties=self.settings.organisaties)

    def drop(self, name: str, data: dict | bytes | str) -> Path:
        target = self.settings.inbox / name
        if isinstance(data, dict):
            data = json.dumps(data, ensure_ascii=False, indent=2)
        if isinstance(data, str):
            data = data.encode("utf-8")
        target.write_bytes(data)
        return target

    def run(self):
        from pipeline.shell.watcher import run_once
        return run_once(self.pipeline)

    def mailboxes(self) -> dict[str, set[str]]:
        """{party: {file names}} over every kenmerk folder."""
        out: dict[str, set[str]] = {}
        for party_dir in sorted(self.settings.outbox.iterdir()):
            files = {p.name for p in party_dir.rglob("*") if p.is_file()}
            if files:
                out[party_dir.name] = files
        return out

    def close(self) -> None:
        self.pipeline.close()
        self.store.close()


@pytest.fixture
def make_root(tmp_path, converter, keyring, renderer, shared_pki):
    roots = []

    def make(name: str = "root", **kw) -> Root:
        r = Root(tmp_path / name, converter=converter, keyring=keyring, renderer=renderer, pki=shared_pki, **kw)
        roots.append(r)
        return r

    yield make
    for r in roots:
        r.close()


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def pdfsig(path: Path) -> str:
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout


# --- issue 5: a demo PKI with live trust services (CRL, OCSP, TSA) on loopback ---------------------------------

class TrustServices:
    """A DEMO PKI whose certificates point at CRL/OCSP/TSA services running on 127.0.0.1 for this session."""

    def __init__(self, pki_dir: Path, url: str) -> None:
        self.pki_dir = pki_dir
        self.url = url
        self.tsa_url = f"{url}/tsa"
        self.ca = pki_dir / "ca.pem"


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def trust_services(tmp_path_factory):
    from pipeline.adapters import demo_services
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    pki_dir = tmp_path_factory.mktemp("pki-services") / "pki"
    init_demo_pki(pki_dir, organisatie=DEMO_ORGANISATIE, doctors=DEMO_DOCTORS, services_url=url)
    with demo_services.running(demo_services.DemoTrustServices(pki_dir), port=port):
        yield TrustServices(pki_dir, url)


@pytest.fixture(scope="session")
def services_keyring(trust_services) -> KeyRing:
    return KeyRing.from_pki_dir(trust_services.pki_dir)


@pytest.fixture(scope="session")
def pades_with_tsa(trust_services):
    """A PadesSigner with the loopback TSA and the PKI's root as trust anchor (all four levels available)."""
    from pyhanko.keys import load_cert_from_pemder
    from pipeline.adapters.signing import PadesSigner, http_timestamper
    return PadesSigner(timestamper=http_timestamper(trust_services.tsa_url),
                       trust_roots=[load_cert_from_pemder(str(trust_services.ca))])
