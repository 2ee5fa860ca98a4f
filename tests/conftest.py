"""Shared fixtures: one warm LibreOffice pool and one demo PKI for the whole session (they are slow to start)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from pipeline.adapters.child_env import secrets_hidden
from pipeline.adapters.converter import UnoConverterPool
from pipeline.errors import ConversionError
from pipeline.adapters.fake_converter import FakeConverter
from pipeline.adapters.demo_pki import init_demo_pki
from pipeline.adapters.renderer import DocxRenderer
from pipeline.adapters.signing import KeyRing
from pipeline.shell.app import OrderSigner, make_order_signer, open_pipeline
from pipeline.shell.layout import DEMO_DOCTORS, DEMO_ORGANISATIE, TEMPLATES, init_root
from pipeline.shell.validation_reports import REPORT_SUFFIX, validation_pool
from tests import role_roots
from tests.pdfs import DOCUMENT_PAGES, minimal_pdf
from pipeline.settings import load_settings

# Property tests are deterministic by default (the same examples on every run and every machine: a red CI run is
# red again locally); `SOPIPE_HYPOTHESIS=explore` draws fresh examples and keeps failures in .hypothesis/.
from hypothesis import settings as _hypothesis

_hypothesis.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
_hypothesis.register_profile("explore", derandomize=False)
_hypothesis.load_profile(os.environ.get("SOPIPE_HYPOTHESIS", "deterministic"))

SIGNING_TIME = dt.datetime(2027, 3, 15, 9, 30, tzinfo=dt.UTC)
"""The moment `frozen_signing_clock` stops the clock at (inside the demo PKI's validity)."""


@pytest.fixture(scope="session", autouse=True)
def demo_ca_home(tmp_path_factory) -> Path:
    """DEMO CA keys go to $XDG_DATA_HOME/sopipe/demo-ca (outside every root): a session folder, not the home."""
    import os
    old = os.environ.get("XDG_DATA_HOME")
    path = tmp_path_factory.mktemp("xdg-data")
    os.environ["XDG_DATA_HOME"] = str(path)
    yield path
    if old is None:
        os.environ.pop("XDG_DATA_HOME", None)
    else:
        os.environ["XDG_DATA_HOME"] = old


def pytest_collection_modifyitems(config, items):
    """A test that uses the real LibreOffice pool must say so (`@pytest.mark.libreoffice`): the fast tier
    (`-m "not libreoffice"`) has to pass on a machine where LibreOffice cannot start (`make test` runs it so)."""
    unmarked = [item.nodeid for item in items if "converter" in getattr(item, "fixturenames", ())
                and item.get_closest_marker("libreoffice") is None]
    if unmarked:
        raise pytest.UsageError("these tests use the real LibreOffice pool (`converter`) without "
                                "@pytest.mark.libreoffice:\n  " + "\n  ".join(unmarked))


@pytest.fixture(scope="session")
def converter(tmp_path_factory):
    """The real LibreOffice pool (started on first use): only for tests marked `libreoffice`. Its scratch (the
    documents being converted) lives in the session's own tmp_path, never in the shared /tmp."""
    pool = UnoConverterPool(workers=2, timeout=60, scratch_dir=tmp_path_factory.mktemp("libreoffice-scratch"))
    try:
        pool.start()  # a worker whose soffice aborts at its first start is started again (tests/test_fresh_start.py)
    except ConversionError as e:
        pool.close()
        # One short reason for every test that needs LibreOffice, not a traceback each; the others still run.
        pytest.fail(f"LibreOffice is not usable here, so this test cannot run: {e.message}", pytrace=False)
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def shared_pki(tmp_path_factory) -> Path:
    pki = tmp_path_factory.mktemp("pki")
    init_demo_pki(pki, organisatie=DEMO_ORGANISATIE, doctors=DEMO_DOCTORS)
    return pki


@pytest.fixture(scope="session")
def document() -> bytes:
    """The PDF the signing tests sign (`tests/pdfs.DOCUMENT_PAGES`: two pages, `Ondertekening` on the last)."""
    return minimal_pdf(DOCUMENT_PAGES)


@pytest.fixture(scope="session")
def keyring(shared_pki) -> KeyRing:
    return KeyRing.from_pki_dir(shared_pki)


@pytest.fixture(scope="session")
def renderer() -> DocxRenderer:
    return DocxRenderer(TEMPLATES)


_SIGNERS: dict[Path, OrderSigner] = {}
_VALIDATORS: list[ProcessPoolExecutor] = []


def shared_validators() -> ProcessPoolExecutor:
    """The validation children every test root shares (`open_pipeline(validators=)`), as production starts them
    (`validation_pool`: two, spawned without the secrets, in the background); shut down at the session's end.
    Started at once, so that no test sees the pool's manager thread appear as a leak."""
    if not _VALIDATORS:
        pool = validation_pool(2, background=True)
        with secrets_hidden():
            pool.submit(os.getpid).result()
        _VALIDATORS.append(pool)
    return _VALIDATORS[0]


@pytest.fixture(scope="session", autouse=True)
def _shared_validators_stop():
    yield
    while _VALIDATORS:
        _VALIDATORS.pop().shutdown(wait=True)


class Root:
    """A fresh root made by `init_root` and wired as `sopipe watch` wires it (`open_pipeline`), with the session's
    PKI and `converter`.

    The signer is `make_order_signer`'s for the first root with that PKI, shared by the later ones (loading the
    keys and preparing the signature font cost seconds per root), and so are the validation children
    (`shared_validators`: starting two interpreters per root cost more than their validations). `signer`
    injects another through `open_pipeline` (e.g. `OrderSigner(keyring, auto_sign_doctors=False)`: the doctors
    sign themselves).
    `config`: TOML appended to the root's sopipe.toml before its settings are read (e.g. an `[artsen.<BIG>]`
    entry)."""

    def __init__(self, path: Path, *, converter, pki: Path, guard=None, signer: OrderSigner | None = None,
                 config: str = "") -> None:
        self.path = path
        self.settings = init_root(path, pki=False)
        shutil.copytree(pki, self.settings.pki_dir, dirs_exist_ok=True)
        if config:
            with self.settings.config_file.open("a", encoding="utf-8") as f:
                f.write("\n" + config)
            self.settings = load_settings(path)
        self.converter = converter
        if signer is None:
            signer = _SIGNERS.get(Path(pki)) or _SIGNERS.setdefault(Path(pki), make_order_signer(self.settings))
        self._wiring = ExitStack()
        self.pipeline = self._wiring.enter_context(open_pipeline(self.settings, guard=guard, converter=converter,
                                                                 signer=signer, validators=shared_validators()))
        self.store = self.pipeline.store

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
        """{party: {file names}} of the delivered documents over every kenmerk folder (the archive's ETSI
        validation reports beside its signed PDFs are `validation_reports()`)."""
        out: dict[str, set[str]] = {}
        for party_dir in sorted(self.settings.outbox.iterdir()):
            files = {p.name for p in party_dir.rglob("*") if p.is_file() and not p.name.endswith(REPORT_SUFFIX)}
            if files:
                out[party_dir.name] = files
        return out

    def validation_reports(self) -> set[str]:
        """Names of the `.validatie.xml` reports in the archive mailbox."""
        return {p.name for p in (self.settings.outbox / "archief").rglob(f"*{REPORT_SUFFIX}")}

    def close(self) -> None:
        self._wiring.close()


@pytest.fixture(scope="session")
def shared_fake_converter() -> FakeConverter:
    """One FakeConverter for module-scoped roots; never give it faults (use `fake_converter` for that)."""
    with FakeConverter() as fake:
        yield fake


@pytest.fixture
def fake_converter() -> FakeConverter:
    """A FakeConverter of this test's own (its faults do not reach other tests)."""
    with FakeConverter() as fake:
        yield fake


@pytest.fixture
def make_root(request, tmp_path, shared_pki, fake_converter):
    """Roots for this test: with the real LibreOffice pool when the test is marked `libreoffice`, else with
    `fake_converter` (so `-m "not libreoffice"` never starts soffice)."""
    real = request.node.get_closest_marker("libreoffice") is not None
    converter = request.getfixturevalue("converter") if real else fake_converter
    roots = []

    def make(name: str = "root", **kw) -> Root:
        r = Root(tmp_path / name, converter=converter, pki=shared_pki, **kw)
        roots.append(r)
        return r

    yield make
    for r in roots:
        r.close()


@pytest.fixture(scope="module")
def held_root(tmp_path_factory, shared_fake_converter, keyring, shared_pki):
    """A root whose pipeline does not sign the advice itself; the case has reached the final advice (one per test
    module: the returns tried in it must not meet those of another module)."""
    root = role_roots.held_root(tmp_path_factory.mktemp("returns") / "root", converter=shared_fake_converter,
                                pki=shared_pki, keyring=keyring)
    yield root
    root.close()


@pytest.fixture
def frozen_signing_clock():
    """Signing time frozen as pyHanko's own tests do (freezegun): signatures made now carry SIGNING_TIME."""
    from freezegun import freeze_time
    with freeze_time(SIGNING_TIME) as frozen:
        yield frozen


def leaked_threads(before: set[threading.Thread], *, grace: float = 5.0) -> list[threading.Thread]:
    """Threads started since `before` that are still running after `grace` seconds."""
    deadline = time.monotonic() + grace
    while (leaked := [t for t in threading.enumerate() if t not in before and t.is_alive()]) \
            and time.monotonic() < deadline:
        time.sleep(0.02)
    return leaked


@pytest.fixture
def no_thread_leak():
    """Fail the test when it leaves threads running (watchdog's conftest does the same around its observers)."""
    before = set(threading.enumerate())
    yield
    leaked = leaked_threads(before)
    assert not leaked, f"threads left running: {[t.name for t in leaked]}"


@pytest.fixture(autouse=True)
def _thread_leak_guard_for_watcher_tests(request):
    if request.node.get_closest_marker("watcher") is None:
        yield
        return
    request.getfixturevalue("no_thread_leak")
    yield


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
    signer = PadesSigner(timestamper=http_timestamper(trust_services.tsa_url),
                         trust_roots=[load_cert_from_pemder(str(trust_services.ca))])
    yield signer
    signer.close()


# --- a SoftHSM2 token (PKCS#11) holding a DEMO doctor's key -------------------------------------------------------

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
SOFTHSM_PIN, SOFTHSM_SO_PIN, SOFTHSM_TOKEN, SOFTHSM_KEY = "4711", "271828", "sopipe-uzi-test", "visser-handtekening"
SOFTHSM_BIG = "39087654301"
SOFTHSM_READY = SOFTHSM_MODULE.exists() and bool(shutil.which("softhsm2-util")) and bool(shutil.which("pkcs11-tool"))


@pytest.fixture(scope="module")
def softhsm_token(tmp_path_factory, shared_pki):
    """A fresh SoftHSM2 token holding Dr. Visser's key and certificate (from the demo PKI's p12)."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # the PKCS#11 library reads it when it is initialised, in-process
    run = lambda *args: subprocess.run(args, check=True, capture_output=True, env=env, timeout=60)  # noqa: E731
    run("softhsm2-util", "--init-token", "--free", "--label", SOFTHSM_TOKEN, "--pin", SOFTHSM_PIN,
        "--so-pin", SOFTHSM_SO_PIN)
    passphrase = (shared_pki / "passphrase").read_text().strip().encode()
    key, cert, _ = pkcs12.load_key_and_certificates((shared_pki / f"doctor-{SOFTHSM_BIG}.p12").read_bytes(),
                                                    passphrase)
    (base / "key.der").write_bytes(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))
    (base / "cert.der").write_bytes(cert.public_bytes(Encoding.DER))
    for path, kind in (("key.der", "privkey"), ("cert.der", "cert")):
        run("pkcs11-tool", "--module", str(SOFTHSM_MODULE), "--token-label", SOFTHSM_TOKEN, "--login", "--pin",
            SOFTHSM_PIN, "--write-object", str(base / path), "--type", kind, "--id", "01", "--label", SOFTHSM_KEY)
    (base / "key.der").unlink()
    yield base
    if old is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = old
