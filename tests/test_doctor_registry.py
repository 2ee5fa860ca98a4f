"""Doctors as they really are: a UZI-pas carries the UZI number, the registry binds it to the BIG number.

The decision (`pipeline.core.artsen.signer_mismatch`) on plain values; DEMO certificates shaped like the UZI
register's profiles (`pipeline.adapters.demo_pki.add_uzi_doctor`: UZI number in serialNumber, the otherName
2.5.5.5 in SubjectAltName) read back by `certificate_holder`; the registry in sopipe.toml; and through the pipeline: a
returned advice signed with Dr. Visser's UZI-pas, by sopipe's signer and by pyHanko's own CLI, is accepted, a
UZI-pas of another number or of the wrong pass type is refused with the reason in Dutch.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.adapters import demo_pki
from pipeline.adapters.keys import SigningIdentity, certificate_holder
from pipeline.adapters.signing import PadesSigner
from pipeline.core.artsen import Arts, Certificaathouder, parse_uzi_name, signer_mismatch
from pipeline.errors import PipelineError
from pipeline.settings import load_settings
from tests.config_variants import configure
from tests.appearances import ADVICE, VISSER
from tests.role_roots import K, held_root, send_in, unsigned_advice
from tests.processed_roots import failure_report

UZI = "12345678"
OTHER = f"2.16.528.1.1003.1.3.5.5.2-1-{UZI}-Z-90000123-01.015-03001234"


# --- the decision ------------------------------------------------------------------------------------------------

def _holder(serial: str | None, other: str | None = OTHER, sha: str = "0" * 64) -> Certificaathouder:
    return Certificaathouder("Dr. E. Visser", serial, sha, parse_uzi_name(other) if other else None)


REGISTERED = Arts(VISSER, "Dr. E. Visser", uzi_nummer=UZI, certificaten=frozenset({"f" * 64}))


def test_the_uzi_other_name_is_read_part_by_part():
    name = parse_uzi_name(OTHER)
    assert (name.uzi_nummer, name.pastype, name.abonneenummer, name.rol, name.agb) == \
        (UZI, "Z", "90000123", "01.015", "03001234")
    assert parse_uzi_name("iets anders") is None


@pytest.mark.parametrize("holder, arts, expected", [
    (_holder(UZI), REGISTERED, None),                                  # the UZI-pas of the registered number
    (_holder(UZI, other=None), REGISTERED, None),                      # a profile without the otherName
    (_holder("99999999", sha="f" * 64), REGISTERED, None),             # a registered certificate fingerprint
    (_holder(VISSER, other=None), None, None),                         # not registered: BIG in serialNumber (DEMO)
    (_holder(UZI), None, "staat niet in het artsenregister"),          # a real UZI-pas needs the registry
    (_holder("87654321"), REGISTERED, "hoort niet bij Dr. E. Visser"),  # another doctor's pass
    (_holder(UZI, other=OTHER.replace(f"-{UZI}-", "-87654321-")), REGISTERED, "noemen UZI-nummer 87654321"),
    (_holder(UZI, other=OTHER.replace("-Z-", "-M-")), REGISTERED, "medewerkerpas niet op naam"),
    (_holder(UZI, other=OTHER.replace("01.015", "02.000")), REGISTERED, "niet die van een arts"),
])
def test_signer_is_recognised_by_the_registry(holder, arts, expected):
    why = signer_mismatch(holder, big=VISSER, naam="Dr. E. Visser", arts=arts)
    assert (why is None) if expected is None else (why is not None and expected in why), why


# --- DEMO certificates shaped like a UZI-pas -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def uzi_pki(tmp_path_factory, shared_pki) -> Path:
    """A copy of the session's PKI (same CA) with UZI-shaped identities for Dr. Visser and a medewerkerpas."""
    import shutil
    d = tmp_path_factory.mktemp("uzi") / "pki"
    shutil.copytree(shared_pki, d)
    demo_pki.add_uzi_doctor(d, "Dr. E. Visser", uzi_nummer=UZI, abonneenummer="90000123", agb="03001234")
    demo_pki.add_uzi_doctor(d, "M. de Vries", uzi_nummer="55555555", abonneenummer="90000123", agb="03001234",
                            pastype="M", rol="30.000")
    return d


def _identity(d: Path, uzi: str) -> SigningIdentity:
    return SigningIdentity.from_pkcs12(d / f"uzi-{uzi}.p12", demo_pki.read_passphrase(d))


def test_demo_uzi_certificate_carries_the_uzi_number_not_the_big_number(uzi_pki):
    cert = _identity(uzi_pki, UZI).certificate
    holder = certificate_holder(cert.dump())
    assert holder.serial_number == UZI and holder.serial_number != VISSER
    assert holder.uzi.uzi_nummer == UZI and holder.uzi.pastype == "Z" and holder.uzi.rol == "01.015"
    assert cert.key_usage_value.native == {"digital_signature", "non_repudiation"}
    with pytest.raises(PipelineError):
        demo_pki.add_uzi_doctor(uzi_pki, "X", uzi_nummer="12a", abonneenummer="1", agb="1")


def test_the_registry_is_read_from_sopipe_toml(tmp_path):
    (tmp_path / "sopipe.toml").write_text(f'[artsen.{VISSER}]\nnaam = "Dr. E. Visser"\nuzi_nummer = "{UZI}"\n'
                                          f'certificaat_sha256 = ["{":".join(["AB"] * 32)}"]\n', encoding="utf-8")
    arts = load_settings(tmp_path).artsen[VISSER]
    assert arts == Arts(VISSER, "Dr. E. Visser", UZI, frozenset({"ab" * 32}))
    (tmp_path / "sopipe.toml").write_text(f'[artsen.{VISSER}]\nnaam = "Dr. E. Visser"\n', encoding="utf-8")
    with pytest.raises(PipelineError, match=r"\[artsen.39087654301\]: needs uzi_nummer or certificaat_sha256"):
        load_settings(tmp_path)


# --- through the pipeline --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def uzi_root(tmp_path_factory, shared_fake_converter, keyring, shared_pki, uzi_pki):
    """A root whose registry (sopipe.toml) binds Dr. Visser's BIG number to the UZI number of his (DEMO) UZI-pas."""
    root = held_root(tmp_path_factory.mktemp("uzi-root") / "root", converter=shared_fake_converter,
                     pki=shared_pki, keyring=keyring,
                     config=f'[artsen.{VISSER}]\nnaam = "Dr. E. Visser"\nuzi_nummer = "{UZI}"\n')
    assert root.settings.artsen[VISSER] == Arts(VISSER, "Dr. E. Visser", uzi_nummer=UZI)
    yield root
    root.close()


def test_a_registered_doctors_demo_key_without_the_uzi_number_is_refused(uzi_root, keyring):
    signed = PadesSigner().sign(unsigned_advice(uzi_root), identity=keyring.doctor(VISSER), appearance=ADVICE)
    assert send_in(uzi_root, f"{K}_advies-bigsleutel.pdf", signed).status == "failed"
    report = failure_report(uzi_root, f"{K}_advies-bigsleutel.pdf")
    assert "verkeerde ondertekenaar" in report and "volgens het artsenregister (UZI-nummer 12345678)" in report


def test_a_medewerkerpas_is_refused(uzi_root, uzi_pki):
    signed = PadesSigner().sign(unsigned_advice(uzi_root), identity=_identity(uzi_pki, "55555555"), appearance=ADVICE)
    assert send_in(uzi_root, f"{K}_advies-medewerker.pdf", signed).status == "failed"
    assert "hoort niet bij Dr. E. Visser" in failure_report(uzi_root, f"{K}_advies-medewerker.pdf")


@pytest.mark.skipif(not shutil.which("pk12util") or not shutil.which("certutil"),
                    reason="libnss3-tools (pk12util, certutil) missing: make system-deps installs it")
def test_poppler_pdfsig_output_is_refused_with_a_reason_a_doctor_understands(uzi_root, uzi_pki, tmp_path):
    """poppler's `pdfsig -add-signature` writes an update that reuses an object number without freeing it (and a
    PKCS#7, not PAdES, signature): not a valid incremental update, so it cannot be checked; the report says so in
    Dutch, without pyHanko's English."""
    nss = tmp_path / "nss"
    nss.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["pk12util", "-i", str(uzi_pki / f"uzi-{UZI}.p12"), "-d", f"sql:{nss}", "-W",
                    demo_pki.read_passphrase(uzi_pki).decode(), "-K", ""], check=True, capture_output=True)
    unsigned = tmp_path / "advies.pdf"
    unsigned.write_bytes(unsigned_advice(uzi_root))
    out = tmp_path / f"{K}_advies-pdfsig.pdf"
    subprocess.run(["pdfsig", "-add-signature", "-nssdir", f"sql:{nss}", "-nick", "Dr. E. Visser", "-reason",
                    "Definitief advies", str(unsigned), str(out)], check=True, capture_output=True, timeout=120)
    assert send_in(uzi_root, out.name, out.read_bytes()).status == "failed"
    report = failure_report(uzi_root, out.name)
    assert "niet volgens de PDF-norm bijgewerkt" in report and "pdfsig" in report, report
    assert "orphaned" not in report and "Object with id" not in report


def test_pyhankos_own_cli_signature_with_the_uzi_pas_is_accepted(uzi_root, uzi_pki, tmp_path):
    """Another implementation: `pyhanko sign addsig pkcs12` (the doctor's own tool), a new visible field. Last in
    this module: it closes the pending signature the refusals above leave open."""
    unsigned = tmp_path / "advies.pdf"
    unsigned.write_bytes(unsigned_advice(uzi_root))
    out = tmp_path / f"{K}_advies-pyhanko.pdf"
    passfile = tmp_path / "pass"
    passfile.write_bytes(demo_pki.read_passphrase(uzi_pki))
    cli = Path(sys.executable).with_name("pyhanko")
    result = subprocess.run([str(cli), "sign", "addsig", "--field", "1/60,60,260,120/Handtekening", "--use-pades",
                             "--reason", "Definitief advies", "pkcs12", "--passfile", str(passfile), str(unsigned),
                             str(out), str(uzi_pki / f"uzi-{UZI}.p12")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    outcome = send_in(uzi_root, out.name, out.read_bytes())
    assert outcome.status == "processed", outcome.detail
    delivered = (uzi_root.settings.outbox / "werknemer" / K / f"{K}_advies.pdf").read_bytes()
    assert delivered == out.read_bytes()


def test_sopipe_sign_with_a_uzi_pas_and_the_registry_in_sopipe_toml_end_to_end(make_root, keyring, tmp_path):
    """The registry as configured reaches the check: `[artsen.<BIG>] uzi_nummer` in sopipe.toml, the doctor signs
    with `sopipe sign --p12 <UZI-pas identity> --root`, the signature block names the BIG number of the case (not
    the UZI number), and the pipeline accepts it."""
    from click.testing import CliRunner

    from pipeline.cli import cli
    from pipeline.shell.app import OrderSigner, open_pipeline
    from pipeline.shell.watcher import run_once
    from tests.casefactory import full_case
    from tests.mailbox_paths import mailbox
    root = make_root()
    root.close()
    configure(root.path, {"artsen": {VISSER: {"naam": "Dr. E. Visser", "uzi_nummer": UZI}}})
    p12 = demo_pki.add_uzi_doctor(root.settings.pki_dir, "Dr. E. Visser", uzi_nummer=UZI, abonneenummer="90000123",
                             agb="03001234")
    settings = load_settings(root.path)
    with open_pipeline(settings, converter=root.converter,
                       signer=OrderSigner(keyring, auto_sign_doctors=False)) as pipeline:
        for i, ev in enumerate(full_case(kenmerk=K, upto="definitief_advies"), start=1):
            root.drop(f"{i:02d}-{ev['stap']}.json", ev)
        assert {o.status for o in run_once(pipeline)} == {"processed"}
        root.pipeline = pipeline
        waiting = mailbox(root, "so-bedrijfsarts", K) / "te-ondertekenen" / f"{K}_advies.pdf"
        result = CliRunner().invoke(cli, ["sign", str(waiting), "--p12", str(p12), "--root", str(root.path)],
                                    env={"SOPIPE_P12_PASSPHRASE":
                                         demo_pki.read_passphrase(root.settings.pki_dir).decode()})
        assert result.exit_code == 0, result.output
        assert f"BIG {VISSER}" in result.output and UZI not in result.output
        [outcome] = run_once(pipeline)
        assert outcome.status == "processed", outcome.detail
