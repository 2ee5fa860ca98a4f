"""Issue 15, part 3: a verifier that tells the truth.

`verify_pdf` / `sopipe verify` against pyHanko's own test vectors (tests/data/pyhanko/, MIT, see NOTICE there) with
pyHanko's expectations, and against files made here with the demo PKI and its loopback TSA where no vector fits
(digest mismatch, expired signer, untrusted TSA, DocMDP violation, document timestamps valid / tampered /
untrusted). Each failure must carry its real reason: the ETSI indication and sub-indication, and Dutch words.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import socket
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from asn1crypto import crl as asn1_crl
from pyhanko.keys import load_cert_from_pemder, load_certs_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.signers import PdfTimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore

from pipeline.adapters import demo_services, validation
from pipeline.adapters.demo_pki import init_demo_pki
from pipeline.adapters.signing import KeyRing, PadesSigner, http_timestamper
from pipeline.adapters.validation import verify_pdf
from pipeline.cli import cli
from pipeline.errors import SigningError
from pipeline.shell.layout import DEMO_DOCTORS, DEMO_ORGANISATIE
from tests.config_variants import configure
from tests.appearances import DOCTOR, SEAL, VISSER

VECTORS = Path(__file__).parent / "data" / "pyhanko"
COVERAGE_VECTORS = ["tail-uncovered.pdf", "signature-gap-too-big.pdf", "one-byterange.pdf", "weird-byterange.pdf"]


def verify_cli(path: Path, *trust: Path, as_json: bool = False):
    args = ["verify", str(path), *[a for t in trust for a in ("--trust", str(t))]] + (["--json"] if as_json else [])
    return CliRunner().invoke(cli, args, env={"COLUMNS": "250"})  # one line per item, as on a wide terminal


@pytest.fixture(scope="module")
def signed_bb(document, services_keyring, pades_with_tsa) -> bytes:
    return pades_with_tsa.sign(document, identity=services_keyring.doctor(VISSER), appearance=DOCTOR, level="B-B")


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- pyHanko's vectors ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", COVERAGE_VECTORS)
def test_coverage_anomaly_is_a_format_failure_named_as_such(name, trust_services):
    [sig] = verify_pdf((VECTORS / name).read_bytes(), trust_roots=[trust_services.ca]).signatures
    # pyHanko: valid and intact, not trusted, non-standard coverage, bottom line false
    assert sig.valid and sig.intact and not sig.trusted
    assert sig.coverage not in ("ENTIRE_FILE", "ENTIRE_REVISION")
    assert (sig.indication, sig.sub_indication) == ("TOTAL-FAILED", "FORMAT_FAILURE")
    assert sig.reason == validation.COVERAGE_REASON and not sig.ok


def test_adobe_double_signature_is_labelled_pkcs7_with_its_own_reasons(tmp_path, trust_services):
    path = VECTORS / "minimal-signed-twice-both-created.pdf"
    report = verify_pdf(path.read_bytes(), trust_roots=[trust_services.ca])
    first, second = report.signatures
    # pyHanko: after the first signature only form filling (the second signature): allowed, DocMDP ok
    assert first.changed_after == "toegestaan" and first.docmdp_ok and second.changed_after is None
    for sig in (first, second):
        assert sig.subfilter == "adbe.pkcs7.detached" and sig.level == "PKCS#7 (adbe.pkcs7.detached)"
        assert sig.indication == "INDETERMINATE" and not sig.trusted and not sig.ok  # self-signed, not our CA
        assert sig.sub_indication != "SIG_CONSTRAINTS_FAILURE" and sig.reason
        assert not sig.signer_time_from_attrs  # Adobe puts no signingTime in the signed attributes: /M only
    out = verify_cli(path, trust_services.ca).output
    assert "PKCS#7 (adbe.pkcs7.detached)" in out and "PAdES B-B" not in out
    assert "alleen het PDF-veld /M" in out and "bewezen met tijdstempel" not in out


def test_encrypted_file_gets_a_clear_dutch_message(trust_services):
    path = VECTORS / "signed-encrypted-pubkey-with-catalog-ref.pdf"
    with pytest.raises(SigningError, match="versleuteld"):
        verify_pdf(path.read_bytes(), trust_roots=[trust_services.ca])
    result = verify_cli(path, trust_services.ca)
    assert result.exit_code != 0
    assert "versleuteld" in result.output and "authenticate" not in result.output


def test_unparsable_contents_is_a_structure_failure_and_the_other_signature_is_still_reported(tmp_path,
                                                                                                 trust_services):
    data = bytearray((VECTORS / "minimal-two-fields-signed-twice.pdf").read_bytes())
    last = [m.start(1) for m in re.finditer(rb"/Contents\s*<([0-9a-fA-F])", data)][-1]
    data[last:last + 8] = b"ffffffff"  # the last signature's CMS no longer parses (nothing signs it after)
    report = verify_pdf(bytes(data), trust_roots=[trust_services.ca])
    assert len(report.signatures) == 2
    broken = [s for s in report.signatures if s.sub_indication == "FORMAT_FAILURE"]
    readable = [s for s in report.signatures if s.sub_indication != "FORMAT_FAILURE"]
    assert len(broken) == 1 and broken[0].indication == "TOTAL-FAILED"
    assert broken[0].reason == validation.REASONS["FORMAT_FAILURE"]
    assert len(readable) == 1 and readable[0].intact and readable[0].valid  # still checked on its own merits
    result = verify_cli(write(tmp_path, "broken.pdf", bytes(data)), trust_services.ca)
    assert result.exit_code == 1 and "structuurfout" in result.output


# --- files made here --------------------------------------------------------------------------------------------

def test_changed_byte_is_a_hash_failure_not_an_unknown_ca(tmp_path, signed_bb, trust_services):
    data = bytearray(signed_bb)
    at = data.index(b"Definitief advies")
    data[at] = ord("d")  # inside the signed byte range
    [sig] = verify_pdf(bytes(data), trust_roots=[trust_services.ca]).signatures
    assert (sig.indication, sig.sub_indication) == ("TOTAL-FAILED", "HASH_FAILURE")
    assert not sig.intact and "gewijzigd" in sig.reason
    out = verify_cli(write(tmp_path, "tampered.pdf", bytes(data)), trust_services.ca).output
    assert "onbekende certificaatautoriteit" not in out and "HASH_FAILURE" in out


def test_expired_signer_is_reported_as_expired_even_with_the_right_trust(tmp_path, signed_bb, trust_services):
    [fresh] = verify_pdf(signed_bb, trust_roots=[trust_services.ca]).signatures
    assert fresh.ok  # the right trust root: the same file passes today
    later = fresh.signer_cert_not_after + timedelta(days=30)
    [sig] = verify_pdf(signed_bb, trust_roots=[trust_services.ca], at=later).signatures
    assert sig.indication == "INDETERMINATE"
    assert sig.sub_indication in ("OUT_OF_BOUNDS_NO_POE", "EXPIRED", "OUT_OF_BOUNDS_NOT_REVOKED")
    assert "verlopen" in sig.reason and "onbekende" not in sig.reason


def test_untrusted_signature_timestamp_is_never_vertrouwd_ja(tmp_path, document, keyring, shared_pki,
                                                            trust_services):
    # the signer's CA is trusted, the TSA (another PKI's) is not
    pades = PadesSigner(timestamper=http_timestamper(trust_services.tsa_url))
    signed = pades.sign(document, identity=keyring.doctor(VISSER), appearance=DOCTOR, level="B-T")
    [sig] = verify_pdf(signed, trust_roots=[shared_pki / "ca.pem"]).signatures
    assert sig.sub_indication == "NO_CERTIFICATE_CHAIN_FOUND" and not sig.ok
    assert sig.timestamp_trusted is False
    assert sig.reason == validation.UNTRUSTED_TSA_REASON
    out = verify_cli(write(tmp_path, "bt.pdf", signed), shared_pki / "ca.pem").output
    trust_line = next(line for line in out.splitlines() if "vertrouwd:" in line)
    assert "tijdstempel NEE" in trust_line and not trust_line.strip().endswith(": ja")


def test_docmdp_violation_and_coverage_anomaly_are_two_different_reasons(document, services_keyring,
                                                                         pades_with_tsa, trust_services):
    certified = pades_with_tsa.sign(document, identity=services_keyring.seal(), appearance=SEAL, certify=True,
                                    level="B-B")
    writer = IncrementalPdfFileWriter(io.BytesIO(certified))
    page = writer.root["/Pages"]["/Kids"][-1]
    del page["/Annots"]  # the signature's widget is removed from the page: not allowed by any DocMDP level
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    [sig] = verify_pdf(out.getvalue(), trust_roots=[trust_services.ca]).signatures
    assert sig.certification and sig.docmdp_ok is False and sig.changed_after == "niet toegestaan"
    assert (sig.indication, sig.sub_indication) == ("TOTAL-FAILED", "SIG_CONSTRAINTS_FAILURE")
    assert sig.reason == validation.DOCMDP_REASON != validation.COVERAGE_REASON


# --- document timestamps ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def timestamp_only(document, trust_services) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(document))
    out = PdfTimeStamper(http_timestamper(trust_services.tsa_url)).timestamp_pdf(writer, md_algorithm="sha256")
    return out.getvalue()


def test_valid_timestamp_only_file_passes_and_exits_0(tmp_path, timestamp_only, trust_services):
    report = verify_pdf(timestamp_only, trust_roots=[trust_services.ca])
    [stamp] = report.document_timestamps
    assert not report.signatures and report.ok
    assert stamp.intact and stamp.valid and stamp.trusted and stamp.indication == "TOTAL-PASSED"
    path = write(tmp_path, "ts.pdf", timestamp_only)
    result = verify_cli(path, trust_services.ca, as_json=True)
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.output)["documenttijdstempels"]
    assert entry["etsi"] == {"indication": "TOTAL-PASSED", "sub_indication": None} and entry["ongeschonden"]


def test_tampered_document_timestamp_is_a_hash_failure(tmp_path, timestamp_only, trust_services):
    data = bytearray(timestamp_only)
    at = data.index(b"Definitief advies")
    data[at] = ord("d")
    report = verify_pdf(bytes(data), trust_roots=[trust_services.ca])
    [stamp] = report.document_timestamps
    assert not report.ok and not stamp.intact
    assert (stamp.indication, stamp.sub_indication) == ("TOTAL-FAILED", "HASH_FAILURE")
    result = verify_cli(write(tmp_path, "ts-tampered.pdf", bytes(data)), trust_services.ca)
    assert result.exit_code == 1 and "HASH_FAILURE" in result.output and "gewijzigd" in result.output


def test_document_timestamp_from_an_untrusted_tsa_is_not_passed(tmp_path, timestamp_only, shared_pki):
    report = verify_pdf(timestamp_only, trust_roots=[shared_pki / "ca.pem"])
    [stamp] = report.document_timestamps
    assert stamp.intact and stamp.valid and not stamp.trusted and not report.ok
    assert (stamp.indication, stamp.sub_indication) == ("INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
    assert "niet vertrouwd" in stamp.reason
    result = verify_cli(write(tmp_path, "ts.pdf", timestamp_only), shared_pki / "ca.pem", as_json=True)
    assert result.exit_code == 1
    assert json.loads(result.output)["documenttijdstempels"][0]["vertrouwd"] is False


def test_lta_document_timestamp_is_validated_and_intact(signed_bb, document, services_keyring, pades_with_tsa,
                                                         trust_services):
    lta = pades_with_tsa.sign(document, identity=services_keyring.doctor(VISSER), appearance=DOCTOR,
                              level="B-LTA")
    report = verify_pdf(lta, trust_roots=[trust_services.ca])
    assert report.ok and report.document_timestamps
    assert all(t.intact and t.trusted and t.ok for t in report.document_timestamps)
    [sig] = report.signatures
    assert sig.revocation_checked  # a DSS with revocation data: checked, never "niet gecontroleerd"


# --- revocation -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def revoked_signature(tmp_path_factory, document):
    """(pdf, ca.pem): signed B-T by a doctor whose certificate is then revoked; the CRLs saying so in its DSS.

    An own PKI and services (revoking in the session's would touch every other test)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    pki = tmp_path_factory.mktemp("pki-revoked") / "pki"
    init_demo_pki(pki, organisatie=DEMO_ORGANISATIE, doctors=DEMO_DOCTORS, services_url=url)
    with demo_services.running(demo_services.DemoTrustServices(pki), port=port):
        doctor = KeyRing.from_pki_dir(pki).doctor(VISSER)
        pades = PadesSigner(timestamper=http_timestamper(f"{url}/tsa"),
                            trust_roots=[load_cert_from_pemder(str(pki / "ca.pem"))])
        signed = pades.sign(document, identity=doctor, appearance=DOCTOR, level="B-T")
        serial = doctor.certificate["tbs_certificate"]["serial_number"].native
        (pki / demo_services.REVOKED).write_text(f"{serial}\n")
        crls = [asn1_crl.CertificateList.load(urllib.request.urlopen(f"{url}/crl/{name}.crl", timeout=10).read())
                for name in ("intermediate", "root")]
    sig = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0]
    out = io.BytesIO(signed)
    DocumentSecurityStore.add_dss(out, sig.pkcs7_content, crls=crls,
                                  certs=list(load_certs_from_pemder([str(pki / "ca.pem"),
                                                                     str(pki / "intermediate.pem")])))
    return out.getvalue(), pki / "ca.pem"


def test_revoked_signer_is_reported_as_revoked(tmp_path, revoked_signature):
    pdf, ca = revoked_signature
    [sig] = verify_pdf(pdf, trust_roots=[ca]).signatures
    assert sig.indication in ("INDETERMINATE", "TOTAL-FAILED") and not sig.ok
    assert sig.sub_indication in ("REVOKED", "REVOKED_NO_POE")
    assert "ingetrokken" in sig.reason and sig.revocation_data
    out = verify_cli(write(tmp_path, "revoked.pdf", pdf), ca).output
    revocation = next(line for line in out.splitlines() if "intrekking:" in line)
    assert "INGETROKKEN" in revocation and "niet gecontroleerd" not in out


# --- archive renew: the same verdicts -----------------------------------------------------------------------------

def test_archive_renew_refuses_to_retimestamp_an_invalid_document(tmp_path, document, services_keyring,
                                                                   pades_with_tsa, trust_services):
    root = tmp_path / "root"
    assert CliRunner().invoke(cli, ["init", "--root", str(root)]).exit_code == 0
    shutil.copy(trust_services.ca, root / "pki" / "ca.pem")  # trust the services' PKI, as a real root would
    configure(root, {"signing": {"tsa_url": trust_services.tsa_url}})
    lta = pades_with_tsa.sign(document, identity=services_keyring.doctor(VISSER), appearance=DOCTOR,
                              level="B-LTA")
    tampered = bytearray(lta)
    tampered[tampered.index(b"Definitief advies")] = ord("d")
    folder = root / "outbox" / "archief" / "SO-2026-0042"
    folder.mkdir(parents=True)
    (folder / "SO-2026-0042_advies.pdf").write_bytes(lta)
    (folder / "SO-2026-0042_machtiging.pdf").write_bytes(bytes(tampered))
    result = CliRunner().invoke(cli, ["archive", "renew", "--root", str(root), "--days", "100000"])
    assert result.exit_code == 1, result.output
    assert "[RENEW ] SO-2026-0042_advies.pdf" in result.output
    fail = next(line for line in result.output.splitlines() if "SO-2026-0042_machtiging.pdf" in line)
    assert fail.startswith("[  FAIL]") and "not renewed" in fail and "gewijzigd" in fail
    assert (folder / "SO-2026-0042_machtiging.pdf").read_bytes() == bytes(tampered)  # left as it was
    renewed = verify_pdf((folder / "SO-2026-0042_advies.pdf").read_bytes(), trust_roots=[trust_services.ca])
    assert renewed.ok and len(renewed.document_timestamps) == 2
