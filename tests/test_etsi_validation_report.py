"""Loose end of issue 15: the ETSI TS 119 102-2 report (`.validatie.xml`) also reports each document timestamp as
its own validation object with indication and sub-indication, and carries the reasons `sopipe verify` prints.

A real B-LTA document (the DEMO PKI's TSA, OCSP and CRL on loopback), and the same document with one byte changed,
validated offline by pyHanko; the XML is parsed, not searched."""

from __future__ import annotations

import base64
import hashlib
import json
import xml.etree.ElementTree as ET

import pytest
from asn1crypto import x509 as asn1_x509
from click.testing import CliRunner

from pipeline.adapters import validation
from pipeline.adapters.validation import etsi_validation_report, verify_pdf
from pipeline.cli import cli
from tests.appearances import DOCTOR, VISSER
from tests.pdfs import minimal_pdf

NS = {"v": "http://uri.etsi.org/19102/v1.2.1#", "ds": "http://www.w3.org/2000/09/xmldsig#"}
SUB = "urn:etsi:019102:subindication:"


@pytest.fixture(scope="module")
def lta(services_keyring, pades_with_tsa) -> bytes:
    document = minimal_pdf([[(72, 770, "Definitief advies SO-2026-0042"), (72, 740, "Eerste regel."),
                             (72, 30, "Pagina 1 van 1")]])
    return pades_with_tsa.sign(document, identity=services_keyring.doctor(VISSER), appearance=DOCTOR,
                               level="B-LTA")


@pytest.fixture(scope="module")
def tampered(lta) -> bytes:
    data = bytearray(lta)
    data[data.index(b"Definitief advies")] = ord("d")  # inside both byte ranges
    return bytes(data)


def _xml(pdf: bytes, trust):
    report = verify_pdf(pdf, trust_roots=[trust])
    return report, ET.fromstring(etsi_validation_report(report, document_name="advies.pdf",
                                                        document_sha256=hashlib.sha256(pdf).hexdigest()))


def _timestamp_objects(root):
    return [vo for vo in root.findall("v:SignatureValidationObjects/v:ValidationObject", NS)
            if vo.findtext("v:ObjectType", namespaces=NS) == "urn:etsi:019102:validationObject:timestamp"]


def _status(node):
    status = node.find("v:SignatureValidationStatus", NS)
    main = status.findtext("v:MainIndication", namespaces=NS).rsplit(":", 1)[1]
    sub = status.findtext("v:SubIndication", namespaces=NS)
    data = {d.findtext("v:Type", namespaces=NS): d.findtext("v:Value", namespaces=NS)
            for d in status.findall("v:AssociatedValidationReportData/v:AdditionalValidationReportData/v:ReportData",
                                    NS)}
    return main, sub.removeprefix(SUB) if sub else None, data


def _verify_json(tmp_path, pdf: bytes, trust) -> dict:
    path = tmp_path / "advies.pdf"
    path.write_bytes(pdf)
    result = CliRunner().invoke(cli, ["verify", str(path), "--trust", str(trust), "--json"])
    return json.loads(result.output)


def test_a_b_lta_document_reports_its_document_timestamp_as_a_passed_validation_object(lta, trust_services,
                                                                                          tmp_path):
    report, root = _xml(lta, trust_services.ca)
    [stamp] = report.document_timestamps
    assert stamp.ok
    [vo] = _timestamp_objects(root)
    # the token, by the digest of its /Contents
    token_digest = vo.findtext("v:ValidationObjectRepresentation/v:DigestAlgAndValue/ds:DigestValue", namespaces=NS)
    assert base64.b64decode(token_digest).hex() == stamp.token_digest and len(stamp.token_digest) == 64
    # a passed timestamp is a proof of existence of the document at its time
    assert vo.findtext("v:POE/v:POETime", namespaces=NS) == \
        stamp.time.astimezone(validation.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    tvr = vo.find("v:ValidationReport", NS)
    assert tvr.findtext("v:SignatureIdentifier/v:DAIdentifier", namespaces=NS) == stamp.field_name
    assert _status(tvr) == ("total-passed", None, {})
    # its signer: the TSA certificate, itself a validation object
    ref = tvr.find("v:SignerInformation/v:SignerCertificate", NS).get("VOReference")
    [cert_vo] = [o for o in root.findall("v:SignatureValidationObjects/v:ValidationObject", NS) if o.get("id") == ref]
    der = base64.b64decode(cert_vo.findtext("v:ValidationObjectRepresentation/v:base64", namespaces=NS))
    tsa = asn1_x509.Certificate.load(der)
    assert tsa.subject.native["common_name"] == stamp.tsa_naam == tvr.findtext("v:SignerInformation/v:Signer",
                                                                              namespaces=NS)
    # the signature beside it passes with no reason, as `sopipe verify` says
    [svr] = root.findall("v:SignatureValidationReport", NS)
    assert _status(svr)[:2] == ("total-passed", None) and "urn:sopipe:reden" not in _status(svr)[2]
    verdict = _verify_json(tmp_path, lta, trust_services.ca)
    [entry] = verdict["documenttijdstempels"]
    assert entry["etsi"] == {"indication": "TOTAL-PASSED", "sub_indication": None}


def test_a_tampered_b_lta_document_names_the_failure_of_the_signature_and_of_the_timestamp(tampered,
                                                                                              trust_services,
                                                                                              tmp_path):
    report, root = _xml(tampered, trust_services.ca)
    [sig], [stamp] = report.signatures, report.document_timestamps
    [svr] = root.findall("v:SignatureValidationReport", NS)
    main, sub, data = _status(svr)
    assert (main, sub) == ("total-failed", "HASH_FAILURE")
    assert data["urn:sopipe:reden"] == sig.reason == validation.REASONS["HASH_FAILURE"]
    [vo] = _timestamp_objects(root)
    assert vo.find("v:POE", NS) is None, "a failed timestamp proves nothing"
    main, sub, data = _status(vo.find("v:ValidationReport", NS))
    assert (main, sub) == ("total-failed", "HASH_FAILURE")
    assert data["urn:sopipe:reden"] == stamp.reason == validation.TIMESTAMP_REASONS["HASH_FAILURE"]
    # the same verdicts and reasons as `sopipe verify`
    verdict = _verify_json(tmp_path, tampered, trust_services.ca)
    [ts_entry] = verdict["documenttijdstempels"]
    assert ts_entry["etsi"] == {"indication": "TOTAL-FAILED", "sub_indication": "HASH_FAILURE"}
    assert ts_entry["reden"] == data["urn:sopipe:reden"]
    sig_reasons = [s["reden"] for d in [verdict] for s in d.get("handtekeningen", [])]
    assert sig.reason in sig_reasons, verdict


def test_a_timestamp_from_an_untrusted_tsa_is_indeterminate_in_the_report(lta, shared_pki):
    report, root = _xml(lta, shared_pki / "ca.pem")
    [stamp] = report.document_timestamps
    [vo] = _timestamp_objects(root)
    main, sub, data = _status(vo.find("v:ValidationReport", NS))
    assert (main, sub) == ("indeterminate", "NO_CERTIFICATE_CHAIN_FOUND")
    assert data["urn:sopipe:reden"] == stamp.reason and "niet vertrouwd" in stamp.reason
    assert vo.find("v:POE", NS) is None
