"""Doctors sign with their own key on a token: a real SoftHSM2 token, set up by the test, through PKCS#11."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12

from pipeline.adapters.signing import PadesSigner, SignatureAppearance, SigningIdentity
from pipeline.adapters.validation import verify_pdf
from pipeline.errors import SigningError
from tests.test_signing import minimal_pdf

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
PIN, SO_PIN, TOKEN, KEY = "4711", "271828", "sopipe-uzi-test", "visser-handtekening"
VISSER = "39087654301"

pytestmark = pytest.mark.skipif(not MODULE.exists() or not shutil.which("softhsm2-util")
                                or not shutil.which("pkcs11-tool"), reason="SoftHSM2 / OpenSC not installed")


@pytest.fixture(scope="module")
def token(tmp_path_factory, shared_pki):
    """A fresh SoftHSM2 token holding Dr. Visser's key and certificate (from the demo PKI's p12)."""
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # the PKCS#11 library reads it when it is initialised, in-process
    run = lambda *args: subprocess.run(args, check=True, capture_output=True, env=env, timeout=60)  # noqa: E731
    run("softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN)
    passphrase = (shared_pki / "passphrase").read_text().strip().encode()
    key, cert, _ = pkcs12.load_key_and_certificates((shared_pki / f"doctor-{VISSER}.p12").read_bytes(), passphrase)
    (base / "key.der").write_bytes(key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))
    (base / "cert.der").write_bytes(cert.public_bytes(Encoding.DER))
    for path, kind in (("key.der", "privkey"), ("cert.der", "cert")):
        run("pkcs11-tool", "--module", str(MODULE), "--token-label", TOKEN, "--login", "--pin", PIN,
            "--write-object", str(base / path), "--type", kind, "--id", "01", "--label", KEY)
    (base / "key.der").unlink()
    yield base
    if old is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = old


@pytest.fixture(scope="module")
def document() -> bytes:
    return minimal_pdf([[(72, 770, "Definitief advies SO-2026-0042"), (72, 400, "Ondertekening")]])


def test_signs_with_the_key_on_the_token(token, shared_pki, document):
    identity = SigningIdentity.from_pkcs11(MODULE, token_label=TOKEN, key_label=KEY, pin=PIN,
                                           chain=[shared_pki / "intermediate.pem"])
    try:
        assert identity.big_nummer == VISSER and identity.source == f"pkcs11:{TOKEN}/{KEY}"
        appearance = SignatureAppearance(naam=identity.naam, rol="second opinion-bedrijfsarts", big_nummer=VISSER,
                                         organisatie="", reden="Definitief advies second opinion", locatie="")
        signer = PadesSigner()
        first = signer.sign(document, identity=identity, appearance=appearance)
        second = signer.sign(document, identity=identity, appearance=appearance)  # same session, no new login
    finally:
        identity.close()
    for signed in (first, second):
        [sig] = verify_pdf(signed, trust_roots=[shared_pki / "ca.pem"]).signatures
        assert sig.ok and sig.big_nummer == VISSER and sig.trusted


def test_wrong_pin_is_a_clear_error(token):
    with pytest.raises(SigningError, match="pincode"):
        SigningIdentity.from_pkcs11(MODULE, token_label=TOKEN, key_label=KEY, pin="0000")


def test_unknown_key_label_is_a_clear_error(token):
    with pytest.raises(SigningError, match="staat niet op token"):
        SigningIdentity.from_pkcs11(MODULE, token_label=TOKEN, key_label="niet-bestaand", pin=PIN)


def test_cli_sign_takes_the_pin_from_the_environment_never_an_argument(token, shared_pki, document, tmp_path):
    from pipeline.cli import cli
    src = tmp_path / "SO-2026-0042_advies.pdf"
    src.write_bytes(document)
    result = CliRunner().invoke(cli, ["sign", str(src), "--pkcs11-module", str(MODULE), "--token-label", TOKEN,
                                      "--key-label", KEY, "--chain", str(shared_pki / "intermediate.pem")],
                                env={"SOPIPE_PIN": PIN})
    assert result.exit_code == 0, result.output
    out = tmp_path / "SO-2026-0042_advies-ondertekend.pdf"
    [sig] = verify_pdf(out.read_bytes(), trust_roots=[shared_pki / "ca.pem"]).signatures
    assert sig.ok and sig.big_nummer == VISSER
    sign_params = {p.name for p in cli.commands["sign"].params}
    assert not sign_params & {"pin", "passphrase", "password"}
