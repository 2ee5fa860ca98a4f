"""Issue 13, finding 1: personal keys stay personal, the seal's secret is not stored beside it, no CA key in the root.

Acted as the attacker: whoever writes case files into `inbox/` (and whoever finds every doctor's key and the DEMO
passphrase left in `pki/`) never gets a document signed in a doctor's name on a root that is not the DEMO; the
seal keeps working from a passphrase in the environment and from a real SoftHSM2 token. Checked with poppler's
`pdfsig` as the independent validator.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12
from cryptography.x509.oid import NameOID

from pipeline.adapters import demo_pki
from pipeline.adapters.signing import KeyRing, read_secret
from pipeline.cli import cli
from pipeline.errors import PipelineError, SigningError
from pipeline.settings import load_settings
from pipeline.shell.app import make_order_signer, open_pipeline
from pipeline.shell.layout import DEMO_DOCTORS, init_root
from tests.casefactory import full_case
from tests.config_variants import configure
from tests.pdf_signatures import pdfsig

K = "SO-2026-0042"
VISSER = "39087654301"
MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
SEAL_ENV = "SOPIPE_TEST_SEAL_PASSPHRASE"
ENV_SEAL = {"seal_passphrase": f"env:{SEAL_ENV}"}
"""The seal's passphrase from the environment: `[signing] seal_passphrase`."""


def _production_root(path: Path, shared_pki: Path, *, seal: Mapping[str, str], seal_p12: bool = True):
    """A root made by `init --no-demo`, its trust anchor and seal installed; and, as an attacker or a careless
    migration would leave them, every doctor's DEMO key with the passphrase that opens them, in `pki/`."""
    settings = init_root(path, demo=False)
    for name in ("ca.pem", "intermediate.pem", *(["seal.p12"] if seal_p12 else [])):
        shutil.copy(shared_pki / name, settings.pki_dir / name)
    for planted in [*shared_pki.glob("doctor-*.p12"), shared_pki / "passphrase"]:
        shutil.copy(planted, settings.pki_dir / planted.name)
    # No timestamp server in these tests: choose the lower level explicitly, as a production root must.
    configure(settings.root, {"signing": {**seal, "level_machtiging": "B-B", "level_advies": "B-B"}})
    return load_settings(path)


def _run(settings, converter, events: list[dict]):
    """`events` processed by the root's pipeline as `sopipe watch` wires it (its own signer, from its keys)."""
    from pipeline.shell.watcher import run_once
    with open_pipeline(settings, converter=converter) as pipeline:
        for i, ev in enumerate(events, start=1):
            (settings.inbox / f"{i:02d}-{ev['stap']}.json").write_text(json.dumps(ev, ensure_ascii=False),
                                                                     encoding="utf-8")
        return run_once(pipeline), pipeline.store.open_pending()


def _signers(path: Path) -> list[str]:
    """The signer common names pdfsig reports for a PDF (empty: not signed)."""
    return re.findall(r"Signer Certificate Common Name: (.*)", pdfsig(path))


@pytest.fixture(scope="module")
def env_seal_root(tmp_path_factory, shared_pki, converter):
    """Eleven invented case files selecting Dr. Visser's BIG number, on a production root whose seal passphrase
    comes from the environment."""
    passphrase = (shared_pki / "passphrase").read_text().strip()
    os.environ[SEAL_ENV] = passphrase
    try:
        settings = _production_root(tmp_path_factory.mktemp("prod") / "root", shared_pki, seal=ENV_SEAL)
        events = full_case(kenmerk=K)
        assert len(events) == 11 and events[2]["so_bedrijfsarts"]["big_nummer"] == VISSER
        outcomes, pending = _run(settings, converter, events)
    finally:
        os.environ.pop(SEAL_ENV, None)
    return settings, outcomes, pending, passphrase


@pytest.mark.libreoffice
def test_no_case_file_gets_a_doctor_signed_advice_on_a_production_root(env_seal_root):
    settings, outcomes, pending, _ = env_seal_root
    assert [o.status for o in outcomes[:9]] == ["processed"] * 9, [(o.file_name, o.detail) for o in outcomes]
    pdfs = sorted(settings.root.rglob("*.pdf"))
    assert pdfs
    doctor_signed = {str(p.relative_to(settings.root)): s for p in pdfs
                     if (s := [n for n in _signers(p) if "zegel" not in n])}
    assert doctor_signed == {}, "no document may carry a doctor's personal signature"
    waiting = [p for p in pdfs if p.parent.name == "te-ondertekenen" and p.name == f"{K}_advies.pdf"]
    assert len(waiting) == 1 and _signers(waiting[0]) == []
    assert not [p for p in pdfs if p.name == f"{K}_advies.pdf" and p.parent.name != "te-ondertekenen"]
    # the own doctor's request form waits for Dr. Bakker as the advice waits for Dr. Visser
    assert sorted((p.kenmerk, p.kind, p.signer_big) for p in pending) == [
        (K, "aanvraagformulier", "19012345601"), (K, "advies", VISSER)]


@pytest.mark.libreoffice
def test_the_seal_works_with_its_passphrase_from_the_environment(env_seal_root):
    settings, *_ = env_seal_root
    sealed = [p for p in settings.outbox.rglob(f"{K}_machtiging-*.pdf") if "archief" in p.parts]
    assert len(sealed) >= 2
    for path in sealed:
        out = pdfsig(path)
        assert "Signature is Valid" in out, out
        assert all("DEMO zegel" in n for n in _signers(path)), out


def test_auto_signing_doctors_on_a_production_pki_stops_start_up_naming_the_setting(tmp_path, shared_pki):
    settings = _production_root(tmp_path / "root", shared_pki, seal=ENV_SEAL)
    configure(settings.root, {"signing": {"auto_sign_doctors": True}})
    with pytest.raises(PipelineError, match=r"auto_sign_doctors") as e:
        make_order_signer(load_settings(settings.root))
    assert e.value.field == "auto_sign_doctors"
    result = subprocess.run([sys.executable, "-m", "pipeline", "watch", "--once", "--root", str(settings.root)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "auto_sign_doctors" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_a_production_root_without_a_configured_seal_does_not_start(tmp_path, shared_pki):
    settings = _production_root(tmp_path / "root", shared_pki, seal={})
    with pytest.raises(PipelineError, match="seal_pkcs11_module.*seal_passphrase"):
        make_order_signer(settings)  # the planted pki/passphrase is never used for the seal either


def test_a_stray_demo_marker_beside_a_production_trust_anchor_is_not_a_demo(tmp_path):
    d = tmp_path / "pki"
    d.mkdir()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Voorbeeld Vertrouwensdienst Root CA")])
    from datetime import UTC, datetime, timedelta
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + timedelta(days=10))
            .sign(key, hashes.SHA256()))
    (d / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    assert not demo_pki.is_demo_pki(d)
    (d / "DEMO").write_text("planted\n")
    assert not demo_pki.is_demo_pki(d)


def test_keyring_outside_the_demo_loads_no_doctor(shared_pki):
    ring = KeyRing.from_pki_dir(shared_pki, doctors=False)
    assert ring.doctor_big_nummers == () and ring.seal() is not None
    assert set(KeyRing.from_pki_dir(shared_pki).doctor_big_nummers) == {big for _, big in DEMO_DOCTORS}


# --- secrets: never in sopipe.toml, never beside the key ---------------------------------------------------------

def test_secret_sources(tmp_path, monkeypatch):
    monkeypatch.setenv("SOPIPE_TEST_SECRET", "geheim")
    assert read_secret("env:SOPIPE_TEST_SECRET", setting="seal_passphrase") == b"geheim"
    (tmp_path / "seal.pass").write_text("uit-bestand\n")
    (tmp_path / "seal.pass").chmod(0o600)  # a file: secret others may read is refused (test_secrets_stay_private)
    assert read_secret(f"file:{tmp_path / 'seal.pass'}", setting="seal_passphrase") == b"uit-bestand"
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "seal-passphrase").write_text("systemd")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert read_secret("credential:seal-passphrase", setting="seal_passphrase") == b"systemd"
    monkeypatch.delenv("SOPIPE_TEST_SECRET")
    with pytest.raises(SigningError, match="SOPIPE_TEST_SECRET.*seal_passphrase"):
        read_secret("env:SOPIPE_TEST_SECRET", setting="seal_passphrase")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    with pytest.raises(SigningError, match="CREDENTIALS_DIRECTORY"):
        read_secret("credential:seal-passphrase", setting="seal_passphrase")


@pytest.mark.parametrize("key, value, message", [
    ("seal_passphrase", "hunter2", "never the secret itself"),
    ("seal_passphrase", "file:pki/passphrase", "absolute path outside the root"),
    ("seal_passphrase", "file:{root}/pki/passphrase", "absolute path outside the root"),
    ("seal_pkcs11_module", "/usr/lib/softhsm/libsofthsm2.so", "needs seal_token_label, seal_key_label, seal_pin"),
])
def test_settings_refuse_a_secret_beside_the_key(tmp_path, key, value, message):
    settings = init_root(tmp_path / "root", demo=False)
    configure(settings.root, {"signing": {key: value.format(root=settings.root)}})
    with pytest.raises(PipelineError, match=message):
        load_settings(settings.root)


# --- the seal on a real SoftHSM2 token ---------------------------------------------------------------------------

@pytest.mark.libreoffice
@pytest.mark.skipif(not MODULE.exists() or not shutil.which("softhsm2-util") or not shutil.which("pkcs11-tool"),
                    reason="SoftHSM2 / OpenSC not installed")
def test_the_seal_works_from_a_softhsm2_token(tmp_path, shared_pki):
    # In a separate `sopipe watch` process: the PKCS#11 library reads SOFTHSM2_CONF once per process, and the
    # test session's own token (tests/test_pkcs11.py) must not be disturbed.
    base = tmp_path / "softhsm"
    (base / "tokens").mkdir(parents=True)
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf), "SOPIPE_TEST_SEAL_PIN": "1234"}
    run = lambda *args: subprocess.run(args, check=True, capture_output=True, timeout=60, env=env)  # noqa: E731
    run("softhsm2-util", "--init-token", "--free", "--label", "arbodienst", "--pin", "1234", "--so-pin", "5678")
    passphrase = (shared_pki / "passphrase").read_text().strip().encode()
    key, cert, _ = pkcs12.load_key_and_certificates((shared_pki / "seal.p12").read_bytes(), passphrase)
    (base / "key.der").write_bytes(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))
    (base / "cert.der").write_bytes(cert.public_bytes(Encoding.DER))
    for path, kind in (("key.der", "privkey"), ("cert.der", "cert")):
        run("pkcs11-tool", "--module", str(MODULE), "--token-label", "arbodienst", "--login", "--pin", "1234",
            "--write-object", str(base / path), "--type", kind, "--id", "02", "--label", "zegel")
    (base / "key.der").unlink()
    settings = _production_root(tmp_path / "root", shared_pki, seal_p12=False, seal={
        "seal_pkcs11_module": str(MODULE), "seal_token_label": "arbodienst", "seal_key_label": "zegel",
        "seal_pin": "env:SOPIPE_TEST_SEAL_PIN"})
    assert not (settings.pki_dir / "seal.p12").exists()
    for i, ev in enumerate(full_case(kenmerk=K, upto="aanvraag"), start=1):
        (settings.inbox / f"{i:02d}-{ev['stap']}.json").write_text(json.dumps(ev, ensure_ascii=False))
    watch = subprocess.run([sys.executable, "-m", "pipeline", "watch", "--once", "--root", str(settings.root)],
                           capture_output=True, text=True, timeout=600, env=env)
    assert watch.returncode == 0 and "5 processed" in watch.stdout, watch.stdout + watch.stderr
    [sealed] = [p for p in settings.outbox.rglob(f"{K}_machtiging-medische-gegevens.pdf") if "archief" in p.parts]
    out = pdfsig(sealed)
    assert "Signature is Valid" in out and _signers(sealed) == ["ArboNoord DEMO zegel"], out


# --- the DEMO CA keys are not in the root --------------------------------------------------------------------------

def test_demo_init_leaves_no_ca_key_in_the_root_and_the_demo_passphrase_opens_none(tmp_path, demo_ca_home):
    result = CliRunner().invoke(cli, ["init", "--root", str(tmp_path / "root")])
    assert result.exit_code == 0, result.output
    root = tmp_path / "root"
    assert not list(root.rglob("ca-key.pem")) and not list(root.rglob("intermediate-key.pem"))
    pki_dir = root / "pki"
    ca_dir = demo_pki.ca_dir_of(pki_dir)
    assert not ca_dir.is_relative_to(root) and ca_dir.is_relative_to(demo_ca_home)
    assert str(ca_dir) in result.output
    assert ca_dir.stat().st_mode & 0o777 == 0o700
    demo_passphrase = demo_pki.read_passphrase(pki_dir)
    for name in ("ca-key.pem", "intermediate-key.pem"):
        assert (ca_dir / name).stat().st_mode & 0o777 == 0o600
        with pytest.raises((ValueError, TypeError)):
            serialization.load_pem_private_key((ca_dir / name).read_bytes(), password=demo_passphrase)
    # every private key still in the root opens with the DEMO passphrase and none of them is a CA
    for path in pki_dir.glob("*-key.pem"):
        key = serialization.load_pem_private_key(path.read_bytes(), password=demo_passphrase)
        cert = x509.load_pem_x509_certificate((pki_dir / path.name.replace("-key", "")).read_bytes())
        assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        assert key is not None
    assert demo_pki.is_demo_pki(pki_dir)


def test_adding_a_demo_doctor_later_works_and_says_what_to_do_without_the_ca_keys(tmp_path):
    d = tmp_path / "pki"
    made = demo_pki.init_demo_pki(d, organisatie="ArboNoord", doctors=[], ca_dir=tmp_path / "elders" / "ca")
    assert made.ca_dir == (tmp_path / "elders" / "ca").resolve()
    path = demo_pki.add_doctor(d, "Dr. A. de Boer", "12345678901")
    assert KeyRing.from_pki_dir(d).doctor("12345678901").naam == "Dr. A. de Boer" and path.parent == d
    shutil.rmtree(made.ca_dir)
    with pytest.raises(SigningError, match=r"buiten de root.*sopipe init"):
        demo_pki.add_doctor(d, "Dr. B. Bakker", "12345678902")


def test_ca_keys_inside_the_pki_folder_are_refused(tmp_path):
    with pytest.raises(SigningError, match="niet in de PKI-map"):
        demo_pki.init_demo_pki(tmp_path / "pki", organisatie="ArboNoord", doctors=[], ca_dir=tmp_path / "pki" / "ca")
    with pytest.raises(PipelineError, match="outside the root"):
        init_root(tmp_path / "root", demo_ca_dir=tmp_path / "root" / "ca")


def test_an_older_root_gets_its_ca_keys_moved_out_and_keeps_its_ca(tmp_path):
    d, ca_dir = tmp_path / "pki", tmp_path / "ca"
    demo_pki.init_demo_pki(d, organisatie="ArboNoord", doctors=[], ca_dir=ca_dir)
    ca_before = (d / "ca.pem").read_bytes()
    # the layout before this change: CA keys in pki/, encrypted with the DEMO passphrase
    ca_passphrase = demo_pki.read_passphrase(ca_dir, name=demo_pki.CA_PASSPHRASE)
    for name in (demo_pki.CA_KEY, demo_pki.INTERMEDIATE_KEY):
        key = serialization.load_pem_private_key((ca_dir / name).read_bytes(), password=ca_passphrase)
        (d / name).write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                 serialization.BestAvailableEncryption(demo_pki.read_passphrase(d))))
        (ca_dir / name).unlink()
    demo_pki.init_demo_pki(d, organisatie="ArboNoord", doctors=[], ca_dir=ca_dir)
    assert not (d / demo_pki.CA_KEY).exists() and not (d / demo_pki.INTERMEDIATE_KEY).exists()
    assert (ca_dir / demo_pki.CA_KEY).exists() and (d / "ca.pem").read_bytes() == ca_before


# --- init --no-demo and doctor ---------------------------------------------------------------------------------------

def test_init_no_demo_makes_a_root_without_keys_and_says_what_to_install(tmp_path):
    root = tmp_path / "root"
    result = CliRunner().invoke(cli, ["init", "--root", str(root), "--no-demo"])
    assert result.exit_code == 0, result.output
    assert list((root / "pki").iterdir()) == [] and (root / "pki").stat().st_mode & 0o777 == 0o700
    assert load_settings(root).signing.auto_sign_doctors is False
    for needed in ("ca.pem", "seal_pkcs11_module", "seal_passphrase", "tsa_url", "te-ondertekenen"):
        assert needed in result.output
    assert not list(root.rglob("*.p12")) and not list(root.rglob("*-key.pem"))


def test_init_without_no_demo_never_turns_a_production_root_into_a_demo(tmp_path, shared_pki):
    settings = _production_root(tmp_path / "root", shared_pki, seal=ENV_SEAL)
    (settings.pki_dir / "passphrase").unlink()
    for p in settings.pki_dir.glob("doctor-*.p12"):
        p.unlink()
    before = {p.name: p.read_bytes() for p in settings.pki_dir.iterdir()}
    result = subprocess.run([sys.executable, "-m", "pipeline", "init", "--root", str(settings.root)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "--no-demo" in result.stderr and "Traceback" not in result.stderr
    assert {p.name: p.read_bytes() for p in settings.pki_dir.iterdir()} == before
    again = CliRunner().invoke(cli, ["init", "--root", str(settings.root), "--no-demo"])
    assert again.exit_code == 0 and {p.name: p.read_bytes() for p in settings.pki_dir.iterdir()} == before


def _pki_checks(root: Path) -> list[dict]:
    result = CliRunner().invoke(cli, ["doctor", "--root", str(root), "--no-convert", "--json"])
    # stdout only: the log (e.g. the DEMO trust services moving off a taken port) goes to stderr
    return [c for c in json.loads(result.stdout)["checks"] if c["name"].startswith("PKI")]


def test_doctor_tells_a_demo_root_from_a_production_one(tmp_path, shared_pki, monkeypatch):
    demo = tmp_path / "demo"
    init_root(demo)
    [demo_line] = [c for c in _pki_checks(demo) if c["name"] == "PKI"]
    assert demo_line["status"] == "warn" and "DEMO" in demo_line["detail"]

    monkeypatch.setenv(SEAL_ENV, (shared_pki / "passphrase").read_text().strip())
    prod = _production_root(tmp_path / "prod", shared_pki, seal=ENV_SEAL)
    checks = {c["name"]: c for c in _pki_checks(prod.root)}
    assert checks["PKI"]["status"] == "ok" and "production" in checks["PKI"]["detail"]
    assert checks["PKI: seal"]["status"] == "ok"
    assert checks["PKI: passphrase"]["status"] == "fail"  # the planted pki/passphrase
    assert checks["PKI: doctors"]["status"] == "warn"
    (prod.pki_dir / "passphrase").unlink()
    for p in prod.pki_dir.glob("doctor-*.p12"):
        p.unlink()
    checks = {c["name"]: c for c in _pki_checks(prod.root)}
    assert "PKI: passphrase" not in checks and "PKI: doctors" not in checks
    assert all(c["status"] == "ok" for c in checks.values()), checks
