"""Doctors sign with their own key on a token: a real SoftHSM2 token, set up by the test, through PKCS#11."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pipeline.adapters.signing import PadesSigner, SignatureAppearance, SigningIdentity
from pipeline.adapters.validation import verify_pdf
from pipeline.errors import SigningError
from tests.conftest import SOFTHSM_BIG as VISSER
from tests.conftest import SOFTHSM_KEY as KEY
from tests.conftest import SOFTHSM_MODULE as MODULE
from tests.conftest import SOFTHSM_PIN as PIN
from tests.conftest import SOFTHSM_READY
from tests.conftest import SOFTHSM_TOKEN as TOKEN

pytestmark = pytest.mark.skipif(not SOFTHSM_READY, reason="SoftHSM2 / OpenSC not installed")


@pytest.fixture(scope="module")
def token(softhsm_token):
    return softhsm_token


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
