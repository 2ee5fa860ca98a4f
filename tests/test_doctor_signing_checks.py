"""`sopipe doctor` tries what `watch` will do with the trust services and the seal, so that it is red when production
would fail: no timestamp server for the level, an untrusted TSA, a wrong token PIN, a seal without revocation
information (whose seals would be INDETERMINATE), and DEMO organisations in a production root.

Real DEMO trust services on loopback, a real SoftHSM2 token, real signatures.
"""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from pipeline.adapters import demo_pki
from pipeline.cli import cli
from pipeline.settings import load_settings
from pipeline.shell import doctor
from pipeline.shell.layout import init_root
from tests.conftest import (SOFTHSM_KEY, SOFTHSM_MODULE, SOFTHSM_PIN, SOFTHSM_READY, SOFTHSM_TOKEN)


def _by_name(checks) -> dict[str, doctor.Check]:
    return {c.name: c for c in checks}


def _copied_demo_root(tmp_path, shared_pki):
    settings = init_root(tmp_path / "root", pki=False)
    shutil.copytree(shared_pki, settings.pki_dir, dirs_exist_ok=True)
    return load_settings(settings.root)


def test_a_fresh_demo_root_gets_a_real_timestamp_and_a_valid_b_lta_test_seal(tmp_path):
    root = tmp_path / "demo"
    assert CliRunner().invoke(cli, ["init", "--root", str(root)]).exit_code == 0
    result = CliRunner().invoke(cli, ["doctor", "--root", str(root), "--no-convert", "--json"])
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}  # the log goes to stderr
    assert checks["signing: seal"]["status"] == "ok"
    assert checks["signing: timestamp"]["status"] == "ok" and "DEMO TSA" in checks["signing: timestamp"]["detail"]
    assert checks["signing: test seal PAdES B-LTA"]["status"] == "ok", checks["signing: test seal PAdES B-LTA"]
    assert "master data" not in checks  # DEMO organisations belong in a DEMO root


def test_no_tsa_url_while_the_level_needs_one_fails(tmp_path):
    root = tmp_path / "prod"
    assert CliRunner().invoke(cli, ["init", "--root", str(root)]).exit_code == 0
    (root / "pki" / demo_pki.DEMO_MARKER).unlink()  # a production PKI to sopipe
    settings = load_settings(root)
    assert settings.signing.tsa_url is None
    [level] = doctor.check_signing(settings)
    assert level.name == "signing: level" and level.status is doctor.Status.FAIL and "tsa_url" in level.detail


def test_an_untrusted_tsa_fails_the_timestamp_check(tmp_path, shared_pki, trust_services):
    settings = _copied_demo_root(tmp_path, shared_pki).replace(signing={"tsa_url": trust_services.tsa_url})
    checks = _by_name(doctor.check_signing(settings))
    assert checks["signing: timestamp"].status is doctor.Status.FAIL
    assert "does not chain to a trusted root" in checks["signing: timestamp"].detail


def test_a_seal_without_revocation_information_fails_at_b_lta(tmp_path, shared_pki, trust_services):
    """The shared DEMO PKI was made without trust services: its seal names no OCSP responder and no CRL."""
    settings = _copied_demo_root(tmp_path, shared_pki).replace(signing={"tsa_url": trust_services.tsa_url,
                                                                         "extra_trust_roots": (str(trust_services.ca),)})
    assert settings.signing_level("machtiging-medische-gegevens") == "B-LTA"
    checks = _by_name(doctor.check_signing(settings))
    assert checks["signing: timestamp"].status is doctor.Status.OK  # the TSA itself is fine
    seal = checks["signing: test seal PAdES B-LTA"]
    assert seal.status is doctor.Status.FAIL and "revocation" in seal.fix


@pytest.mark.skipif(not SOFTHSM_READY, reason="SoftHSM2 / OpenSC not installed")
@pytest.mark.parametrize("pin, status", [(SOFTHSM_PIN, doctor.Status.OK), ("0000", doctor.Status.FAIL)])
def test_the_token_is_opened_with_the_configured_pin(tmp_path, shared_pki, softhsm_token, monkeypatch, pin, status):
    settings = init_root(tmp_path / "prod", demo=False)
    for name in ("ca.pem", "intermediate.pem"):
        shutil.copy(shared_pki / name, settings.pki_dir / name)
    monkeypatch.setenv("ARBO_SEAL_PIN", pin)
    settings = load_settings(settings.root).replace(
        signing={"seal_pkcs11_module": str(SOFTHSM_MODULE), "seal_token_label": SOFTHSM_TOKEN,
                 "seal_key_label": SOFTHSM_KEY, "seal_pin": "env:ARBO_SEAL_PIN", "level_machtiging": "B-B",
                 "level_advies": "B-B"})
    checks = _by_name(doctor.check_signing(settings))
    assert checks["signing: seal"].status is status, checks["signing: seal"]
    if status is doctor.Status.OK:
        assert checks["signing: test seal PAdES B-B"].status is doctor.Status.OK
    else:
        assert "pincode" in checks["signing: seal"].detail


def test_demo_organisations_in_a_production_root_are_a_warning(tmp_path):
    settings = init_root(tmp_path / "prod", demo=False)
    check = doctor.check_demo_organisations(load_settings(settings.root), demo=False)
    assert check.status is doctor.Status.WARN and "arbonoord" in check.detail
    assert doctor.check_demo_organisations(load_settings(settings.root), demo=True) is None
