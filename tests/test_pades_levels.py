"""PAdES levels B-B … B-LTA against the real demo PKI with its CRL/OCSP/TSA services on loopback.

Each level is signed, then validated offline by pyHanko's AdES validation (`verify_pdf`: nothing fetched) and
cross-checked with poppler's pdfsig (whose exit code says nothing: its text is parsed).
"""

from __future__ import annotations

import io
import statistics
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils import generic
from pypdf import PdfReader

from pipeline.adapters.signing import PadesSigner, renew_archival_timestamp
from pipeline.adapters.validation import etsi_validation_report, verify_pdf
from pipeline.core.pades import PadesLevel
from tests.pdf_signatures import pdfsig_report, needs_pdfsig
from tests.appearances import DOCTOR, SEAL, VISSER
from pipeline.errors import SigningError

LEVELS = [level.value for level in PadesLevel]



@pytest.fixture(scope="module")
def signed(document, services_keyring, pades_with_tsa) -> dict[str, bytes]:
    """The document signed by the doctor at each level, plus timings (ms) under key `timings`."""
    doctor = services_keyring.doctor(VISSER)
    out, timings = {}, {}
    for level in LEVELS:
        pades_with_tsa.sign(document, identity=doctor, appearance=DOCTOR, level=level)  # warm-up
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            out[level] = pades_with_tsa.sign(document, identity=doctor, appearance=DOCTOR, level=level)
            runs.append(time.perf_counter() - started)
        timings[level] = statistics.median(runs) * 1000
    out["timings"] = timings
    return out


@pytest.mark.parametrize("level", LEVELS)
def test_each_level_validates_offline_with_ades(signed, trust_services, level):
    started = time.perf_counter()
    report = verify_pdf(signed[level], trust_roots=[trust_services.ca])
    elapsed = (time.perf_counter() - started) * 1000
    [sig] = report.signatures
    assert sig.ok and sig.indication == "TOTAL-PASSED", (sig.sub_indication, sig.message)
    assert sig.level == level
    assert sig.big_nummer == VISSER and sig.trusted and sig.intact and sig.valid
    assert sig.revocation_checked is (level in ("B-LT", "B-LTA"))
    assert (sig.proven_time is not None) is (level != "B-B")  # a timestamp proves the time
    assert bool(report.document_timestamps) is (level == "B-LTA")
    reader = PdfReader(io.BytesIO(signed[level]))
    assert reader.pdf_header.startswith("%PDF-1.") and str(reader.trailer["/Root"].get("/Version", "/1.7")) \
        .startswith("/1."), "PDF/A-2b needs PDF 1.x"
    print(f"\n[pades] {level}: sign {signed['timings'][level]:.0f} ms, verify {elapsed:.0f} ms, "
          f"{len(signed[level]) // 1024} KiB")


@needs_pdfsig
@pytest.mark.parametrize("level", LEVELS)
def test_each_level_is_accepted_by_pdfsig(signed, tmp_path, level):
    path = tmp_path / f"{level}.pdf"
    path.write_bytes(signed[level])
    reports = [r for r in pdfsig_report(path) if r.get("signature_type") == "ETSI.CAdES.detached"]
    assert len(reports) == 1 and reports[0]["signature_valid"], reports
    assert reports[0]["common_name"] == "Dr. E. Visser"


@needs_pdfsig
@pytest.mark.parametrize("level", ["B-B", "B-LTA"])
def test_a_changed_byte_is_rejected_by_both(signed, trust_services, tmp_path, level):
    data = signed[level]
    at = data.index(b"Eerste regel")
    tampered = data[:at] + b"F" + data[at + 1:]
    [sig] = verify_pdf(tampered, trust_roots=[trust_services.ca]).signatures
    assert not sig.ok and not sig.intact and sig.indication == "TOTAL-FAILED"
    path = tmp_path / "tampered.pdf"
    path.write_bytes(tampered)
    assert not any(r["signature_valid"] for r in pdfsig_report(path)
                   if r.get("signature_type") == "ETSI.CAdES.detached")


def test_change_after_certification_is_a_docmdp_violation(document, services_keyring, pades_with_tsa,
                                                         trust_services):
    sealed = pades_with_tsa.sign(document, identity=services_keyring.seal(), appearance=SEAL, certify=True,
                                 level="B-LTA")
    [ok] = verify_pdf(sealed, trust_roots=[trust_services.ca]).signatures
    assert ok.ok and ok.certification and ok.changed_after == "toegestaan"  # DSS + document timestamp only
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))  # an incremental update that alters the page
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    stream = generic.StreamObject(stream_data=b"BT /F1 11 Tf 72 700 Td (Toegevoegd na certificering) Tj ET")
    page["/Contents"] = writer.add_object(stream)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    [sig] = verify_pdf(out.getvalue(), trust_roots=[trust_services.ca]).signatures
    assert not sig.ok and sig.changed_after == "niet toegestaan" and sig.docmdp_ok is False


@pytest.mark.parametrize("level, survives", [("B-LTA", True), ("B-B", False), ("B-T", False)])
def test_years_later_only_the_archive_level_survives(signed, trust_services, level, survives):
    later = datetime.now(UTC) + timedelta(days=3 * 365)  # the doctor's certificate (2 years) has expired
    [sig] = verify_pdf(signed[level], trust_roots=[trust_services.ca], at=later, simulate_future=True).signatures
    assert sig.signer_cert_not_after < later
    assert sig.ok is survives, (sig.indication, sig.sub_indication, sig.message)


def test_untrusted_root_is_indeterminate(signed, shared_pki):
    [sig] = verify_pdf(signed["B-LTA"], trust_roots=[shared_pki / "ca.pem"]).signatures
    assert not sig.ok and not sig.trusted and sig.indication == "INDETERMINATE"


def test_level_above_bb_without_timestamp_server_is_refused(document, services_keyring):
    with pytest.raises(SigningError, match="tijdstempelserver"):
        PadesSigner().sign(document, identity=services_keyring.doctor(VISSER), appearance=DOCTOR, level="B-T")


def test_etsi_report_has_the_main_elements(signed, trust_services):
    report = verify_pdf(signed["B-LTA"], trust_roots=[trust_services.ca])
    xml = etsi_validation_report(report, document_name="advies.pdf", document_sha256="00" * 32)
    ns = {"v": "http://uri.etsi.org/19102/v1.2.1#"}
    root = ET.fromstring(xml)
    assert root.tag == "{http://uri.etsi.org/19102/v1.2.1#}ValidationReport"
    svr = root.find("v:SignatureValidationReport", ns)
    assert svr.find("v:SignatureIdentifier/v:DAIdentifier", ns).text == "Handtekening1"
    assert svr.find("v:SignatureValidationStatus/v:MainIndication", ns).text == \
        "urn:etsi:019102:mainindication:total-passed"
    assert svr.find("v:SignerInformation/v:Signer", ns).text == f"Dr. E. Visser (BIG {VISSER})"
    assert svr.find("v:ValidationTimeInfo/v:ValidationTime", ns).text.endswith("Z")
    assert svr.find("v:ValidationTimeInfo/v:BestSignatureTime/v:POETime", ns) is not None
    assert svr.find("v:SignatureAttributes/v:SigningTime/v:Time", ns) is not None
    assert root.find("v:SignatureValidationObjects/v:ValidationObject", ns) is not None


def test_archive_timestamp_renewal_adds_a_document_timestamp(signed, trust_services, pades_with_tsa):
    from pyhanko.keys import load_cert_from_pemder
    renewed = renew_archival_timestamp(signed["B-LTA"], timestamper=pades_with_tsa.timestamper,
                                       trust_roots=[load_cert_from_pemder(str(trust_services.ca))])
    assert renewed.startswith(signed["B-LTA"])  # incremental: nothing before it changed
    report = verify_pdf(renewed, trust_roots=[trust_services.ca])
    assert len(report.document_timestamps) == 2 and report.ok
    [sig] = report.signatures
    assert sig.level == "B-LTA" and sig.ok


def test_cli_verify_exit_status_and_json(signed, trust_services, tmp_path):
    import json

    from click.testing import CliRunner

    from pipeline.cli import cli
    good, bad = tmp_path / "advies.pdf", tmp_path / "gewijzigd.pdf"
    good.write_bytes(signed["B-LTA"])
    at = signed["B-LTA"].index(b"Eerste regel")
    bad.write_bytes(signed["B-LTA"][:at] + b"F" + signed["B-LTA"][at + 1:])
    ok = CliRunner().invoke(cli, ["verify", str(good), "--trust", str(trust_services.ca)])
    assert ok.exit_code == 0, ok.output
    assert "GELDIG" in ok.output and "Dr. E. Visser, BIG 39087654301" in ok.output and "PAdES B-LTA" in ok.output
    result = CliRunner().invoke(cli, ["verify", str(bad), "--trust", str(trust_services.ca), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["geldig"] is False and data["handtekeningen"][0]["uitkomst"] == "TOTAL-FAILED"
