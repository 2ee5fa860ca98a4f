"""Tests for the DEMO PKI, PAdES signing and signature validation (real keys, real PDFs, real pdfsig)."""

from __future__ import annotations

import io
import shutil
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pypdf import PdfReader

from pipeline.adapters.demo_pki import (EKU_DOCUMENT_SIGNING, LEAF_VALIDITY, DemoPki, add_doctor, ca_dir_of,
                                        init_demo_pki)
from pipeline.adapters.signing import (
    BOX_HEIGHT,
    FALLBACK_BOTTOM,
    KeyRing,
    PadesSigner,
    SignatureAppearance,
    SigningIdentity,
    find_anchor,
)
from tests.pdf_signatures import pdfsig_report, validate_pdf, needs_pdfsig
from tests.pdfs import ANCHOR_Y, minimal_pdf
from tests.conversion_samples import libreoffice
from pipeline.errors import SigningError

ORGANISATIE = "Arbodienst Voorbeeld"
VISSER = ("Dr. E. Visser", "39087654301")
SO_FIELD = "SO-bedrijfsarts"


SEAL_APPEARANCE = SignatureAppearance(naam=f"{ORGANISATIE} DEMO zegel", rol="elektronisch zegel", big_nummer=None,
                                      organisatie=ORGANISATIE, reden="Machtiging vastgelegd", locatie="Utrecht")
DOCTOR_APPEARANCE = SignatureAppearance(naam="Dr. E. Visser", rol="second opinion-bedrijfsarts",
                                        big_nummer="39087654301", organisatie="Arbopraktijk Visser & Noël",
                                        reden="Definitief advies — second opinion", locatie="Zoetermeer")


# --- documents (`document`: the conftest's two pages, `tests/pdfs.py`) ---------------------------------------------

@pytest.fixture(scope="session")
def document_without_anchor() -> bytes:
    return minimal_pdf([[(72, 770, "Een brief zonder ondertekeningsruimte."), (72, 30, "voettekst")]])


# --- PKI ---------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def demo_pki(tmp_path_factory) -> DemoPki:
    return init_demo_pki(tmp_path_factory.mktemp("demo") / "pki", organisatie=ORGANISATIE, doctors=[VISSER])


@pytest.fixture(scope="session")
def foreign_pki(tmp_path_factory) -> DemoPki:
    return init_demo_pki(tmp_path_factory.mktemp("other") / "pki", organisatie="Andere Arbodienst",
                         doctors=[VISSER])


@pytest.fixture(scope="session")
def keyring(demo_pki) -> KeyRing:
    return KeyRing.from_pki_dir(demo_pki.pki_dir)


@pytest.fixture(scope="session")
def signer() -> PadesSigner:
    return PadesSigner()


@pytest.fixture(scope="session")
def certified_and_signed(document, keyring, signer) -> tuple[bytes, bytes]:
    """(machtiging certified by the seal with a reserved field, the same after the doctor signed that field)."""
    sealed = signer.sign(document, identity=keyring.seal(), appearance=SEAL_APPEARANCE, certify=True,
                         reserve_fields=[SO_FIELD])
    signed = signer.sign(sealed, identity=keyring.doctor(VISSER[1]), appearance=DOCTOR_APPEARANCE,
                         field_name=SO_FIELD)
    return sealed, signed


def snapshot(directory: Path) -> dict[str, tuple[bytes, int, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mode & 0o777, p.stat().st_mtime_ns) for p in directory.iterdir()}


def test_init_creates_demo_files_with_private_modes(demo_pki):
    d = demo_pki.pki_dir
    assert d.stat().st_mode & 0o777 == 0o700
    for name in ("ca.pem", "intermediate.pem", "README-DEMO.txt"):
        assert (d / name).is_file()
    for name in ("seal.p12", "doctor-39087654301.p12", "passphrase"):
        assert (d / name).stat().st_mode & 0o777 == 0o600, name
    assert not list(d.glob("*-key.pem")) or {p.name for p in d.glob("*-key.pem")} <= {"ocsp-key.pem", "tsa-key.pem"}
    ca = demo_pki.ca_dir
    assert ca.stat().st_mode & 0o777 == 0o700 and not ca.is_relative_to(d.parent)
    for name in ("ca-key.pem", "intermediate-key.pem", "ca-passphrase"):
        assert (ca / name).stat().st_mode & 0o777 == 0o600, name
    assert demo_pki.ca_cert == d / "ca.pem"
    assert demo_pki.doctor_p12 == {"39087654301": d / "doctor-39087654301.p12"}
    assert "NIET VOOR PRODUCTIE" in (d / "README-DEMO.txt").read_text(encoding="utf-8")
    assert not list(d.glob(".*.tmp"))


def test_init_is_idempotent(tmp_path):
    d = tmp_path / "pki"
    first = init_demo_pki(d, organisatie=ORGANISATIE, doctors=[VISSER])
    before = snapshot(d)
    second = init_demo_pki(d, organisatie=ORGANISATIE, doctors=[VISSER])
    assert {p.name for p in first.created if p.parent == d} == {
        "passphrase", "demo-ca", "ca.pem", "intermediate.pem", "seal.p12", "doctor-39087654301.p12",
        "README-DEMO.txt", "DEMO"}
    assert {p.name for p in first.created if p.parent == first.ca_dir} == {
        "ca-passphrase", "ca-key.pem", "intermediate-key.pem", "ca.sha256"}  # + the root's recorded fingerprint
    assert second.created == ()
    assert snapshot(d) == before


def test_init_recreates_only_missing_parts(tmp_path):
    d = tmp_path / "pki"
    init_demo_pki(d, organisatie=ORGANISATIE, doctors=[VISSER])
    before = snapshot(d)
    (d / "seal.p12").unlink()
    (d / "doctor-39087654301.p12").chmod(0o644)
    result = init_demo_pki(d, organisatie=ORGANISATIE, doctors=[VISSER])
    assert result.created == (d / "seal.p12",)
    after = snapshot(d)
    assert (d / "doctor-39087654301.p12").stat().st_mode & 0o777 == 0o600  # tightened again
    for name in ("ca.pem", "intermediate.pem", "doctor-39087654301.p12", "passphrase"):
        assert after[name][0] == before[name][0], name


def test_new_root_reissues_everything_below_it(tmp_path):
    d = tmp_path / "pki"
    init_demo_pki(d, organisatie=ORGANISATIE, doctors=[VISSER])
    before = snapshot(d)
    (ca_dir_of(d) / "ca-key.pem").unlink()
    result = init_demo_pki(d, organisatie=ORGANISATIE, doctors=[VISSER])
    assert {p.name for p in result.created} == {"ca.pem", "ca-key.pem", "intermediate.pem", "intermediate-key.pem",
                                                "seal.p12", "doctor-39087654301.p12",
                                                "ca.sha256"}  # a new root: its fingerprint recorded anew
    assert snapshot(d)["passphrase"][0] == before["passphrase"][0]


def test_expiring_signer_certificates_are_renewed(tmp_path):
    d = tmp_path / "pki"
    init_demo_pki(d, organisatie=ORGANISATIE, doctors=[VISSER])
    later = datetime.now(UTC) + LEAF_VALIDITY - timedelta(days=10)
    result = init_demo_pki(d, organisatie=ORGANISATIE, doctors=[VISSER], now=later)
    assert {p.name for p in result.created} == {"seal.p12", "doctor-39087654301.p12"}


def test_changed_organisatie_reissues_the_seal(tmp_path):
    d = tmp_path / "pki"
    init_demo_pki(d, organisatie=ORGANISATIE, doctors=[VISSER])
    result = init_demo_pki(d, organisatie="Arbodienst Nieuw", doctors=[VISSER])
    assert [p.name for p in result.created] == ["seal.p12"]
    assert KeyRing.from_pki_dir(d).seal().naam == "Arbodienst Nieuw DEMO zegel"


def test_certificates_are_demo_with_proper_extensions(demo_pki):
    d = demo_pki.pki_dir
    root = x509.load_pem_x509_certificate((d / "ca.pem").read_bytes())
    inter = x509.load_pem_x509_certificate((d / "intermediate.pem").read_bytes())
    assert root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == \
        "sopipe DEMO Root CA — NIET VOOR PRODUCTIE"
    assert inter.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "sopipe DEMO Signing CA"
    inter.verify_directly_issued_by(root)
    assert inter.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0

    key, cert, chain = pkcs12.load_key_and_certificates((d / "doctor-39087654301.p12").read_bytes(),
                                                        demo_pki.passphrase())
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "39087654301"
    assert cert.subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "bedrijfsarts"
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Dr. E. Visser"
    cert.verify_directly_issued_by(inter)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert EKU_DOCUMENT_SIGNING in eku and ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == inter.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert [c.subject for c in chain] == [inter.subject, root.subject]

    _, seal, _ = pkcs12.load_key_and_certificates((d / "seal.p12").read_bytes(), demo_pki.passphrase())
    assert seal.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == ORGANISATIE
    assert seal.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == f"{ORGANISATIE} DEMO zegel"


def test_invalid_big_number_is_refused(tmp_path):
    with pytest.raises(SigningError, match="BIG"):
        init_demo_pki(tmp_path / "pki", organisatie=ORGANISATIE, doctors=[("Dr. X", "../../etc")])


def test_add_doctor_needs_an_initialised_pki(tmp_path):
    with pytest.raises(SigningError):
        add_doctor(tmp_path / "nothing", "Dr. A. de Boer", "12345678901")


# --- identities --------------------------------------------------------------------------------------------------

def test_keyring_finds_doctor_by_big(keyring):
    doctor = keyring.doctor("39087654301")
    assert doctor is not None and doctor.naam == "Dr. E. Visser" and doctor.big_nummer == "39087654301"
    assert keyring.doctor("11111111111") is None
    assert keyring.seal().naam == f"{ORGANISATIE} DEMO zegel" and keyring.seal().big_nummer is None


def test_added_doctor_appears_in_a_new_keyring(tmp_path, document, signer):
    d = tmp_path / "pki"
    init_demo_pki(d, organisatie=ORGANISATIE, doctors=[VISSER])
    path = add_doctor(d, "Dr. Ë. de Vriës", "12345678901")
    assert path == d / "doctor-12345678901.p12" and path.stat().st_mode & 0o777 == 0o600
    ring = KeyRing.from_pki_dir(d)
    assert set(ring.doctor_big_nummers) == {"39087654301", "12345678901"}
    doctor = ring.doctor("12345678901")
    assert doctor.naam == "Dr. Ë. de Vriës"
    signed = signer.sign(document, identity=doctor, appearance=DOCTOR_APPEARANCE)
    [report] = validate_pdf(signed, trust_roots=[d / "ca.pem"])
    assert report.ok and report.big_nummer == "12345678901"


def test_wrong_passphrase_and_missing_file_raise_signing_error(demo_pki, tmp_path):
    with pytest.raises(SigningError, match="wachtwoord"):
        SigningIdentity.from_pkcs12(demo_pki.seal_p12, b"not the passphrase")
    with pytest.raises(SigningError, match="gelezen"):
        SigningIdentity.from_pkcs12(tmp_path / "missing.p12", demo_pki.passphrase())


# --- signing and validation --------------------------------------------------------------------------------------

def test_certification_and_approval_both_validate(certified_and_signed, demo_pki):
    _, signed = certified_and_signed
    seal, doctor = validate_pdf(signed, trust_roots=[demo_pki.ca_cert])
    assert seal.certification and seal.signer_naam == f"{ORGANISATIE} DEMO zegel"
    assert seal.intact and seal.valid and seal.trusted and seal.docmdp_ok
    assert seal.coverage == "ENTIRE_REVISION"
    assert not doctor.certification and doctor.field_name == SO_FIELD
    assert doctor.intact and doctor.valid and doctor.trusted and doctor.docmdp_ok
    assert doctor.coverage == "ENTIRE_FILE"
    assert doctor.signer_naam == "Dr. E. Visser" and doctor.big_nummer == "39087654301"
    assert doctor.signing_time is not None
    assert abs(doctor.signing_time - datetime.now(UTC)) < timedelta(minutes=10)


@needs_pdfsig
def test_pdfsig_accepts_the_last_signature(certified_and_signed, tmp_path):
    _, signed = certified_and_signed
    path = tmp_path / "advies.pdf"
    path.write_bytes(signed)
    reports = {r["field_name"]: r for r in pdfsig_report(path)}
    assert set(reports) == {SO_FIELD, "Handtekening1"}
    last = reports[SO_FIELD]
    assert last["signature_validation"] == "Signature is Valid." and last["signature_valid"]
    assert last["total_document_signed"]
    assert last["common_name"] == "Dr. E. Visser"
    assert last["signature_type"] == "ETSI.CAdES.detached"
    assert reports["Handtekening1"]["signature_valid"] and not reports["Handtekening1"]["total_document_signed"]


@needs_pdfsig
def test_unsigned_pdf_has_no_reports(document, demo_pki, tmp_path):
    path = tmp_path / "unsigned.pdf"
    path.write_bytes(document)
    assert pdfsig_report(path) == []
    assert validate_pdf(document, trust_roots=[demo_pki.ca_cert]) == []


def test_signature_from_another_pki_is_not_trusted(foreign_pki, demo_pki, document, signer):
    stranger = KeyRing.from_pki_dir(foreign_pki.pki_dir).doctor(VISSER[1])  # same name and BIG, other CA
    signed = signer.sign(document, identity=stranger, appearance=DOCTOR_APPEARANCE)
    [report] = validate_pdf(signed, trust_roots=[demo_pki.ca_cert])
    assert report.intact and report.valid and not report.trusted and not report.ok


@needs_pdfsig
def test_flipped_byte_is_rejected_by_pyhanko_and_pdfsig(certified_and_signed, demo_pki, tmp_path):
    _, signed = certified_and_signed
    at = signed.index(b"Eerste pagina")  # inside the first signed byte range of every signature
    tampered = signed[:at] + b"F" + signed[at + 1:]
    reports = validate_pdf(tampered, trust_roots=[demo_pki.ca_cert])
    assert reports and not any(r.intact for r in reports)
    path = tmp_path / "tampered.pdf"
    path.write_bytes(tampered)
    assert not any(r["signature_valid"] for r in pdfsig_report(path))


def test_visible_block_is_below_ondertekening_on_the_last_page(certified_and_signed):
    _, signed = certified_and_signed
    reader = PdfReader(io.BytesIO(signed))
    x, baseline, _ = find_anchor(reader)
    assert round(baseline) == ANCHOR_Y
    rects = _widget_rects(reader.pages[-1])
    assert set(rects) == {"Handtekening1", SO_FIELD}
    for x1, y1, x2, y2 in rects.values():
        assert y2 < baseline and y1 > 30 + 11  # below the word, above the footer line
        assert 200 < x2 - x1 < 250 and 65 < y2 - y1 < 75  # about 8 x 2.5 cm
    seal, doctor = rects["Handtekening1"], rects[SO_FIELD]
    assert seal[0] == round(x) and (seal[2] <= doctor[0] or doctor[2] <= seal[0])  # side by side, no overlap
    assert not _widget_rects(reader.pages[0])


def test_without_anchor_the_block_sits_at_the_bottom(document_without_anchor, keyring, signer):
    signed = signer.sign(document_without_anchor, identity=keyring.seal(), appearance=SEAL_APPEARANCE)
    [(x1, y1, x2, y2)] = _widget_rects(PdfReader(io.BytesIO(signed)).pages[-1]).values()
    assert y1 == round(FALLBACK_BOTTOM) and y2 == round(FALLBACK_BOTTOM + BOX_HEIGHT)


def test_appearance_font_is_embedded_and_has_dutch_characters(certified_and_signed):
    _, signed = certified_and_signed
    reader = PdfReader(io.BytesIO(signed))
    [font] = _appearance_fonts(_widget(reader.pages[-1], SO_FIELD))
    descendant = font["/DescendantFonts"][0].get_object()
    assert "/FontFile2" in descendant["/FontDescriptor"] or "/FontFile3" in descendant["/FontDescriptor"]
    assert any(name in font["/BaseFont"] for name in ("LiberationSans", "DejaVuSans"))
    widths = [w for w in descendant["/W"] if isinstance(w, list) for w in w]
    assert max(widths) <= 1000  # in 1/1000 em, as PDF wants (pyHanko would write 2048-unit widths)
    to_unicode = font["/ToUnicode"].get_object().get_data()
    assert b"<00eb>" in to_unicode.lower()  # ë of "Noël" has a glyph and maps back to text


def test_pdf_version_stays_1x(certified_and_signed):
    _, signed = certified_and_signed
    reader = PdfReader(io.BytesIO(signed))
    assert reader.pdf_header.startswith("%PDF-1.")
    assert str(reader.trailer["/Root"].get("/Version", "/1.7")).startswith("/1.")


def test_certification_refuses_new_field_and_second_certification(certified_and_signed, keyring, signer):
    sealed, signed = certified_and_signed
    doctor = keyring.doctor(VISSER[1])
    with pytest.raises(SigningError, match="gecertificeerd"):
        signer.sign(sealed, identity=doctor, appearance=DOCTOR_APPEARANCE, field_name="Ergens anders")
    with pytest.raises(SigningError, match="al ondertekend|ondertekend"):
        signer.sign(signed, identity=doctor, appearance=DOCTOR_APPEARANCE, field_name=SO_FIELD)
    with pytest.raises(SigningError, match="eerste"):
        signer.sign(signed, identity=keyring.seal(), appearance=SEAL_APPEARANCE, certify=True)


def test_broken_pdf_raises_signing_error(keyring, signer):
    with pytest.raises(SigningError, match="PDF"):
        signer.sign(b"%PDF-1.7\nthis is not a pdf", identity=keyring.seal(), appearance=SEAL_APPEARANCE)


def test_concurrent_signing_from_threads(document, keyring, signer, demo_pki):
    identities = [keyring.seal(), keyring.doctor(VISSER[1])] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(
            lambda ident: signer.sign(document, identity=ident, appearance=DOCTOR_APPEARANCE), identities))
    for signed in results:
        [report] = validate_pdf(signed, trust_roots=[demo_pki.ca_cert])
        assert report.ok


def test_identity_is_loaded_once_and_signs_20_documents(demo_pki, document, signer, tmp_path, capsys):
    copy = tmp_path / "doctor.p12"
    shutil.copy(demo_pki.doctor_p12[VISSER[1]], copy)
    load_times = []
    for _ in range(5):
        started = time.perf_counter()
        identity = SigningIdentity.from_pkcs12(copy, demo_pki.passphrase())
        load_times.append(time.perf_counter() - started)
    copy.unlink()  # every signature below must come from memory

    signer.sign(document, identity=identity, appearance=DOCTOR_APPEARANCE)  # warm-up
    sign_times, outputs = [], []
    for n in range(20):
        started = time.perf_counter()
        outputs.append(signer.sign(document.replace(b"SO-2026-0042", b"SO-2026-%04d" % n), identity=identity,
                                   appearance=DOCTOR_APPEARANCE))
        sign_times.append(time.perf_counter() - started)
    for signed in outputs:
        [report] = validate_pdf(signed, trust_roots=[demo_pki.ca_cert])
        assert report.ok
    per_signature = statistics.median(sign_times)
    assert per_signature < 1.0
    with capsys.disabled():
        print(f"\n[signing figures] p12 load median {statistics.median(load_times) * 1000:.0f} ms; "
              f"signature median of 20 (warm) {per_signature * 1000:.0f} ms, "
              f"max {max(sign_times) * 1000:.0f} ms")


@libreoffice
@needs_pdfsig
def test_real_pdfa_document_from_libreoffice(tmp_path, keyring, signer, demo_pki):
    docx = pytest.importorskip("docx")
    doc = docx.Document()
    doc.add_paragraph("Definitief advies second opinion — één pagina met ë en é.")
    doc.add_page_break()
    doc.add_paragraph("Met vriendelijke groet,")
    doc.add_paragraph("Ondertekening")
    doc.save(tmp_path / "advies.docx")
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                    "--convert-to", 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}',
                    "--outdir", str(tmp_path), str(tmp_path / "advies.docx")],
                   check=True, capture_output=True, timeout=180)
    pdf = (tmp_path / "advies.pdf").read_bytes()
    signed = signer.sign(pdf, identity=keyring.doctor(VISSER[1]), appearance=DOCTOR_APPEARANCE)
    [report] = validate_pdf(signed, trust_roots=[demo_pki.ca_cert])
    assert report.ok and report.coverage == "ENTIRE_FILE"
    reader = PdfReader(io.BytesIO(signed))
    _, baseline, _ = find_anchor(reader)
    [(_, _, _, top)] = _widget_rects(reader.pages[-1]).values()
    assert top < baseline
    assert b"pdfaid:part" in reader.trailer["/Root"]["/Metadata"].get_object().get_data()  # PDF/A claim kept
    assert str(reader.trailer["/Root"].get("/Version", "/1.7")).startswith("/1.")
    (tmp_path / "signed.pdf").write_bytes(signed)
    [sig] = pdfsig_report(tmp_path / "signed.pdf")
    assert sig["signature_valid"] and sig["total_document_signed"]


# --- helpers -----------------------------------------------------------------------------------------------------

def _widget(page, name: str):
    for ref in page.get("/Annots") or []:
        annot = ref.get_object()
        if annot.get("/Subtype") == "/Widget" and annot.get("/T") == name:
            return annot
    raise AssertionError(f"no widget {name}")


def _widget_rects(page) -> dict[str, tuple[float, float, float, float]]:
    rects = {}
    for ref in page.get("/Annots") or []:
        annot = ref.get_object()
        if annot.get("/Subtype") == "/Widget":
            rects[str(annot["/T"])] = tuple(float(v) for v in annot["/Rect"])
    return rects


def _appearance_fonts(widget) -> list:
    """Type0 fonts used anywhere in the widget's normal appearance (it nests form XObjects)."""
    found, stack = [], [widget["/AP"]["/N"].get_object()]
    while stack:
        xobj = stack.pop()
        resources = xobj.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            if font.get_object().get("/Subtype") == "/Type0":
                found.append(font.get_object())
        stack.extend(x.get_object() for x in (resources.get("/XObject") or {}).values())
    return found


def test_signature_space_is_measured_once_then_reused_and_remeasured_when_too_small(document, keyring, demo_pki):
    fresh = PadesSigner()
    doctor = keyring.doctor(VISSER[1])
    first = fresh.sign(document, identity=doctor, appearance=DOCTOR_APPEARANCE)
    (key, measured), = fresh._reserved.items()
    second = fresh.sign(document, identity=doctor, appearance=DOCTOR_APPEARANCE)
    fresh._reserved[key] = 64  # far too small: the signer must notice and measure again, not fail
    third = fresh.sign(document, identity=doctor, appearance=DOCTOR_APPEARANCE)
    assert fresh._reserved[key] == measured
    for signed in (first, second, third):
        [report] = validate_pdf(signed, trust_roots=[demo_pki.ca_cert])
        assert report.ok
