"""A returned signed document is exactly what was sent plus the expected signature.

The attacks first: after a genuine signature by the DEMO doctor, an incremental update adds an unsigned signature
field whose appearance covers page 1 with another advice (on the final advice, and on the request form signed by
the own doctor); an /Info Title/Subject change; an XMP change; a document timestamp from an untrusted TSA; a
visible "document timestamp"; a change before the signature. Each is refused with what was added, in Dutch; the
genuine returns (B-B, and B-LTA with validation data and a trusted document timestamp) are accepted. The pure
decision (`pipeline.core.revisions.judge`) is tested on plain values, the reader
(`pipeline.adapters.pdf_revisions.revision_changes`) on real PDFs.
"""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign.signers import PdfTimeStamper

from pipeline.adapters.pdf_revisions import revision_changes
from pipeline.adapters.signing import PadesSigner, http_timestamper
from pipeline.adapters.validation import verify_pdf
from pipeline.core.revisions import FieldChange, ObjectChange, RevisionChanges, Widget, judge
from tests.mailbox_paths import mailbox
from tests.appearances import ADVICE, BAKKER, DOCTOR, VISSER
from tests import role_roots
from tests.role_roots import K, send_in, unsigned_advice
from tests.pdfs import minimal_pdf
from tests.processed_roots import failure_report

OVERLAY = "Werknemer is per direct 100% arbeidsgeschikt. Eerder advies vervalt."


# --- the decision, on plain values ------------------------------------------------------------------------------

SIG = FieldChange("Handtekening1", "/Sig", "/Sig", (Widget(1, 0.03, True),), frozenset({"/FT", "/T", "/V", "/AP",
                                                                                          "/Rect", "/P"}))
SIGNED = RevisionChanges(1, "Handtekening1", (SIG,), catalog_keys=frozenset({"/AcroForm", "/Extensions"}),
                         form_keys=frozenset({"/SigFlags"}), info_keys=frozenset({"/ModDate", "/Producer"}),
                         metadata_keys=frozenset({"xmp:ModifyDate", "pdf:Producer"}))
STAMP = FieldChange("TS1", "/Sig", "/DocTimeStamp", (Widget(1, 0.0, False),), frozenset({"/FT", "/T", "/V"}))
LTA = RevisionChanges(2, "TS1", (STAMP,), catalog_keys=frozenset({"/DSS"}), validation_data=True)
DSS_ONLY = RevisionChanges(3, None, validation_data=True)


def test_the_signature_then_validation_data_and_trusted_timestamps_pass():
    assert judge([SIGNED], signature="Handtekening1", trusted_timestamps=frozenset()).accepted
    verdict = judge([SIGNED, LTA, DSS_ONLY], signature="Handtekening1", trusted_timestamps=frozenset({"TS1"}))
    assert verdict.accepted and verdict.timestamps == ("TS1",)


@pytest.mark.parametrize("later, words, rule", [
    (RevisionChanges(2, None, (FieldChange("Overlay", "/Sig", None, (Widget(1, 1.0, True),)),)),
     "handtekeningveld zonder handtekening ('Overlay') met een zichtbare weergave op pagina 1 die 100%", "toevoeging"),
    (RevisionChanges(2, None, info_keys=frozenset({"/Title", "/Subject", "/ModDate"})),
     "documenteigenschappen (onderwerp, titel)", "toevoeging"),
    (RevisionChanges(2, None, metadata_keys=frozenset({"dc:title"})), "XMP-metadata van het document (dc:title)",
     "toevoeging"),
    (RevisionChanges(2, "TS1", (STAMP,)), "niet-vertrouwde tijdstempeldienst", "tijdstempel-niet-vertrouwd"),
    (RevisionChanges(2, None, annotations=((1, "/FreeText"),)), "aantekening (annotatie van de soort FreeText) op "
     "pagina 1", "toevoeging"),
    (RevisionChanges(2, None, pages=((1, frozenset({"/Contents"})),)), "pagina 1 (/Contents)", "pagina-gewijzigd"),
    (RevisionChanges(2, None, objects=(ObjectChange(4, "pagina-inhoud"),)), "de inhoud van een pagina gewijzigd",
     "pagina-gewijzigd"),
    (RevisionChanges(2, None, objects=(ObjectChange(4, "object", removed=True),)), "verwijderd", "toevoeging"),
    (RevisionChanges(2, None, catalog_keys=frozenset({"/OpenAction"})), "catalogus: /OpenAction", "toevoeging"),
    (RevisionChanges(2, None, (FieldChange("Tekst", "/Tx", None, (Widget(1, 0.1, True),)),)),
     "formulierveld ('Tekst', soort Tx)", "toevoeging"),
    (RevisionChanges(2, "Tweede", (FieldChange("Tweede", "/Sig", "/Sig", (Widget(1, 0.03, True),)),)),
     "nog een handtekening ('Tweede')", "toevoeging"),
])
def test_anything_else_after_the_signature_is_refused_and_named(later, words, rule):
    verdict = judge([SIGNED, later], signature="Handtekening1", trusted_timestamps=frozenset())
    assert not verdict.accepted and verdict.rule == rule
    assert words in " ".join(f.text for f in verdict.findings), verdict.findings


def test_a_visible_document_timestamp_and_a_huge_signature_block_are_refused():
    visible = FieldChange("TS1", "/Sig", "/DocTimeStamp", (Widget(1, 0.9, True),), frozenset({"/FT", "/T", "/V"}))
    verdict = judge([SIGNED, RevisionChanges(2, "TS1", (visible,))], signature="Handtekening1",
                    trusted_timestamps=frozenset({"TS1"}))
    assert "documenttijdstempel ('TS1') met een zichtbare weergave op pagina 1" in verdict.findings[0].text
    huge = RevisionChanges(1, "Handtekening1", (FieldChange("Handtekening1", "/Sig", "/Sig",
                                                            (Widget(1, 0.8, True),), frozenset({"/FT"})),))
    assert "80% van pagina 1" in judge([huge], signature="Handtekening1", trusted_timestamps=frozenset()
                                       ).findings[0].text
    action = FieldChange("Handtekening1", "/Sig", "/Sig", (Widget(1, 0.03, True),), frozenset({"/FT", "/AA"}))
    assert "/AA" in judge([RevisionChanges(1, "Handtekening1", (action,))], signature="Handtekening1",
                          trusted_timestamps=frozenset()).findings[0].text


def test_a_change_before_the_signature_is_named_as_such():
    edit = RevisionChanges(1, None, pages=((1, frozenset({"/Contents"})),))
    verdict = judge([edit, SIGNED], signature="Handtekening1", trusted_timestamps=frozenset())
    assert verdict.rule == "pagina-gewijzigd" and verdict.findings[0].text.startswith("vóór de handtekening: pagina 1")
    empty = judge([RevisionChanges(1, None), SIGNED], signature="Handtekening1", trusted_timestamps=frozenset())
    assert "extra bewerking" in empty.findings[0].text


# --- the attacks, made as an attacker would -------------------------------------------------------------------

def _write(writer) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def overlay(signed: bytes, text: str = OVERLAY) -> bytes:
    """An incremental update adding an unsigned signature field whose appearance covers page 1 with `text`."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    page_ref = writer.root["/Pages"]["/Kids"].raw_get(0)
    page = page_ref.get_object()
    box = page.get("/MediaBox") or page["/Parent"]["/MediaBox"]  # inherited from the page tree
    x1, y1, x2, y2 = (float(v) for v in box)
    font = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Font"), generic.NameObject("/Subtype"):
            generic.NameObject("/Type1"), generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica")}))
    ops = b"1 1 1 rg 0 0 %d %d re f 0 0 0 rg BT /F1 14 Tf 40 %d Td (%s) Tj ET" % (
        x2 - x1, y2 - y1, (y2 - y1) / 2, text.encode("latin-1"))
    stream = generic.StreamObject({
        generic.NameObject("/Type"): generic.NameObject("/XObject"), generic.NameObject("/Subtype"):
            generic.NameObject("/Form"), generic.NameObject("/BBox"): generic.ArrayObject(
                [generic.FloatObject(v) for v in (0, 0, x2 - x1, y2 - y1)]),
        generic.NameObject("/Resources"): generic.DictionaryObject({generic.NameObject("/Font"): generic.DictionaryObject(
            {generic.NameObject("/F1"): font})})}, stream_data=ops)
    field = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/FT"): generic.NameObject("/Sig"), generic.NameObject("/T"):
            generic.TextStringObject("Opmerking"), generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/Widget"), generic.NameObject("/F"):
            generic.NumberObject(4), generic.NameObject("/Rect"): generic.ArrayObject(
                [generic.FloatObject(v) for v in (x1, y1, x2, y2)]),
        generic.NameObject("/P"): page_ref, generic.NameObject("/AP"): generic.DictionaryObject(
            {generic.NameObject("/N"): writer.add_object(stream)})}))
    annots = page.get("/Annots")
    annots = annots.get_object() if annots is not None else generic.ArrayObject()
    annots.append(field)
    page["/Annots"] = annots
    writer.update_container(page)
    form = writer.root["/AcroForm"]
    form["/Fields"].append(field)
    writer.update_container(form)
    if isinstance(form.raw_get("/Fields"), generic.IndirectObject):
        writer.update_container(form["/Fields"])
    return _write(writer)


def retitled(signed: bytes) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    info = writer.trailer["/Info"]
    info["/Title"] = generic.TextStringObject("Advies: volledig arbeidsgeschikt")
    info["/Subject"] = generic.TextStringObject("Eerder advies vervalt")
    writer.update_container(info)
    return _write(writer)


def untrusted_timestamp(signed: bytes, tsa_url: str) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    return PdfTimeStamper(http_timestamper(tsa_url)).timestamp_pdf(writer, md_algorithm="sha256").getvalue()


@pytest.fixture(scope="module")
def prepared() -> bytes:
    return minimal_pdf([[(72, 770, "Definitief advies SO-2026-0042"), (72, 400, "Ondertekening")]])


@pytest.fixture(scope="module")
def signed_bb(prepared, services_keyring) -> bytes:
    return PadesSigner().sign(prepared, identity=services_keyring.doctor(VISSER), appearance=DOCTOR, level="B-B")


def _signed(pdf: bytes, trust) -> dict:
    """The signed revisions, as the validation finds them."""
    return verify_pdf(pdf, trust_roots=[trust]).signed_fields


def _verdict(pdf: bytes, prepared: bytes, trust) -> tuple:
    report = verify_pdf(pdf, trust_roots=[trust])
    [sig] = report.signatures
    return judge(revision_changes(pdf, prepared_size=len(prepared), signed=report.signed_fields),
                 signature=sig.field_name,
                 trusted_timestamps=frozenset(t.field_name for t in report.document_timestamps if t.ok)), sig


def test_reader_sees_a_genuine_signature_and_a_b_lta_as_allowed(prepared, signed_bb, services_keyring,
                                                                pades_with_tsa, trust_services):
    verdict, _sig = _verdict(signed_bb, prepared, trust_services.ca)
    assert verdict.accepted, verdict.findings
    lta = pades_with_tsa.sign(prepared, identity=services_keyring.doctor(VISSER), appearance=DOCTOR, level="B-LTA")
    verdict, sig = _verdict(lta, prepared, trust_services.ca)
    assert verdict.accepted and len(verdict.timestamps) == 1, verdict.findings
    assert sig.ok and sig.level == "B-LTA"


def test_reader_names_the_overlay_the_new_title_and_the_untrusted_timestamp(prepared, signed_bb, trust_services,
                                                                             shared_pki):
    verdict, sig = _verdict(overlay(signed_bb), prepared, trust_services.ca)
    [finding] = verdict.findings
    assert "handtekeningveld zonder handtekening ('Opmerking') met een zichtbare weergave op pagina 1 die 100%" \
        in finding.text
    verdict, _ = _verdict(retitled(signed_bb), prepared, trust_services.ca)
    assert [f.text for f in verdict.findings] == ["de documenteigenschappen (onderwerp, titel)"]
    # a TSA of another PKI: with the services' root trusted the same stamp passes
    stamped = untrusted_timestamp(signed_bb, trust_services.tsa_url)
    report = verify_pdf(stamped, trust_roots=[shared_pki / "ca.pem", trust_services.ca])
    assert report.document_timestamps[0].ok
    changes = revision_changes(stamped, prepared_size=len(prepared), signed=report.signed_fields)
    assert judge(changes, signature="Handtekening1", trusted_timestamps=frozenset()).rule == \
        "tijdstempel-niet-vertrouwd"


def test_reader_names_an_xmp_change_but_not_the_signers_own_update(prepared, services_keyring, trust_services):
    xmp = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
           b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
           b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title><rdf:Alt><rdf:li xml:lang="x-default">%s'
           b'</rdf:li></rdf:Alt></dc:title></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>')
    writer = IncrementalPdfFileWriter(io.BytesIO(prepared))
    writer.root["/Metadata"] = writer.add_object(generic.StreamObject(
        {generic.NameObject("/Type"): generic.NameObject("/Metadata"),
         generic.NameObject("/Subtype"): generic.NameObject("/XML")}, stream_data=xmp % b"Advies"))
    writer.update_root()
    with_xmp = _write(writer)
    signed = PadesSigner().sign(with_xmp, identity=services_keyring.doctor(VISSER), appearance=DOCTOR)
    # pyHanko rewrites the packet (producer, modification date): that is the signing, not a change
    assert judge(revision_changes(signed, prepared_size=len(with_xmp), signed=_signed(signed, trust_services.ca)),
                 signature="Handtekening1",
                 trusted_timestamps=frozenset()).accepted
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    meta = writer.root["/Metadata"]
    writer.update_container(meta)
    meta._data, meta._encoded_data = xmp % b"Volledig arbeidsgeschikt", None
    changed = _write(writer)
    verdict = judge(revision_changes(changed, prepared_size=len(with_xmp), signed=_signed(changed, trust_services.ca)),
                    signature="Handtekening1",
                    trusted_timestamps=frozenset())
    assert [f.text for f in verdict.findings] == ["de XMP-metadata van het document (dc:title)"]


def test_a_file_that_does_not_build_on_the_prepared_document_cannot_be_read(prepared, signed_bb):
    with pytest.raises(ValueError):
        revision_changes(signed_bb, prepared_size=len(prepared) - 10, signed={})
    with pytest.raises(ValueError, match="na het einde"):  # bytes after the last revision, outside any xref
        revision_changes(signed_bb + b"\n9 0 obj (Eerder advies vervalt) endobj\n", prepared_size=len(prepared),
                         signed={})


# --- through the pipeline --------------------------------------------------------------------------------------

def _refused(root, name: str, data: bytes) -> str:
    outcome = send_in(root, name, data)
    assert outcome.status == "failed", outcome.detail
    return failure_report(root, name)


def test_overlay_after_the_so_doctors_signature_is_refused(held_root, keyring):
    signed = PadesSigner().sign(unsigned_advice(held_root), identity=keyring.doctor(VISSER), appearance=ADVICE)
    report = _refused(held_root, f"{K}_advies-overlay.pdf", overlay(signed))
    assert "NIET aangenomen" in report and "Reden: meer toegevoegd dan de handtekening" in report
    assert "Dr. E. Visser" in report and "zonder handtekening ('Opmerking')" in report, report
    report = _refused(held_root, f"{K}_advies-titel.pdf", retitled(signed))
    assert "documenteigenschappen (onderwerp, titel)" in report
    assert any(p.kind == "advies" for p in held_root.store.open_pending()), "the advice still waits"
    assert f"{K}_advies.pdf" not in held_root.mailboxes().get("werknemer", set())


def test_untrusted_document_timestamp_after_the_signature_is_refused(held_root, keyring, trust_services):
    signed = PadesSigner().sign(unsigned_advice(held_root), identity=keyring.doctor(VISSER), appearance=ADVICE)
    report = _refused(held_root, f"{K}_advies-tsa.pdf", untrusted_timestamp(signed, trust_services.tsa_url))
    assert "Reden: documenttijdstempel niet vertrouwd" in report and "niet-vertrouwde tijdstempeldienst" in report


def test_overlay_on_the_request_form_signed_by_the_own_doctor_is_refused(held_root, keyring):
    from pipeline.adapters.signing import SignatureAppearance
    form = mailbox(held_root, "bedrijfsarts", K) / "te-ondertekenen" / f"{K}_aanvraagformulier.pdf"
    signed = PadesSigner().sign(form.read_bytes(), identity=keyring.doctor(BAKKER), appearance=SignatureAppearance(
        naam="Dr. P. Bakker", rol="bedrijfsarts (aanvrager)", big_nummer=BAKKER, organisatie="",
        reden="Aanvraag second opinion", locatie="Nederland"))
    report = _refused(held_root, f"{K}_aanvraagformulier-overlay.pdf", overlay(signed))
    assert "Dr. P. Bakker" in report and "zonder handtekening ('Opmerking')" in report, report
    assert any(p.kind == "aanvraagformulier" for p in held_root.store.open_pending())


def test_sopipe_verify_names_what_was_added_after_the_signature(prepared, signed_bb, trust_services, tmp_path):
    """pyHanko's diff policy calls the overlay "form filling"; `sopipe verify` compares the revisions."""
    from click.testing import CliRunner

    from pipeline.cli import cli
    [sig] = verify_pdf(overlay(signed_bb), trust_roots=[trust_services.ca]).signatures
    assert not sig.ok and sig.changed_after == "niet toegestaan" and sig.sub_indication == "SIG_CONSTRAINTS_FAILURE"
    assert "handtekeningveld zonder handtekening ('Opmerking')" in sig.reason and "DocMDP" not in sig.reason
    path = tmp_path / "overlay.pdf"
    path.write_bytes(overlay(signed_bb))
    result = CliRunner().invoke(cli, ["verify", str(path), "--trust", str(trust_services.ca)], env={"COLUMNS": "250"})
    assert result.exit_code == 1 and "alleen toegestane toevoegingen" not in result.output, result.output
    assert "zonder handtekening ('Opmerking')" in result.output
    [genuine] = verify_pdf(signed_bb, trust_roots=[trust_services.ca]).signatures
    assert genuine.ok


def test_a_refused_change_after_a_plain_signature_is_not_called_docmdp(signed_bb, trust_services):
    from pipeline.adapters import validation
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_bb))
    page = writer.root["/Pages"]["/Kids"][0]
    page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 11 Tf 72 700 Td (Ander) Tj ET"))
    writer.update_container(page)
    [sig] = verify_pdf(_write(writer), trust_roots=[trust_services.ca]).signatures
    assert not sig.certification and not sig.ok and sig.changed_after == "niet toegestaan"
    assert sig.reason == validation.MODIFIED_REASON and "DocMDP" not in (sig.reason or "") + (sig.message or "")


# --- after acceptance: the level configured for that signer ------------------------------------------------------

@pytest.fixture(scope="module")
def lta_root(tmp_path_factory, shared_fake_converter, trust_services, services_keyring, pades_with_tsa):
    """A root whose SO doctor signs elsewhere, configured for B-LTA, with live DEMO trust services."""
    from pipeline.shell.app import OrderSigner
    root = role_roots.held_root(tmp_path_factory.mktemp("lta") / "root", converter=shared_fake_converter,
                                pki=trust_services.pki_dir,
                                signer=OrderSigner(services_keyring, pades_with_tsa, level_for=lambda signer: "B-LTA",
                                                   auto_sign_doctors=False))
    yield root
    root.close()


def test_a_b_b_return_is_archived_with_validation_data_and_an_archive_timestamp(lta_root, services_keyring,
                                                                                trust_services):
    """A doctor signing on a laptop without a TSA: the archive gets DSS + a document timestamp, so `archive renew`
    (which renews documents by their newest document timestamp) covers it."""
    unsigned = unsigned_advice(lta_root)
    signed = PadesSigner().sign(unsigned, identity=services_keyring.doctor(VISSER), appearance=ADVICE)
    outcome = send_in(lta_root, f"{K}_advies-ondertekend.pdf", signed)
    assert outcome.status == "processed", outcome.detail
    archived = (lta_root.settings.outbox / "archief" / K / f"{K}_advies.pdf").read_bytes()
    assert archived.startswith(signed) and len(archived) > len(signed)
    report = verify_pdf(archived, trust_roots=[trust_services.ca])
    [sig] = report.signatures
    assert report.ok and sig.revocation_data and report.last_timestamp_expiry is not None
    # years later, the doctor's certificate expired (DEMO: 2 years), the archive timestamp still proves it
    from datetime import UTC, datetime, timedelta
    later = verify_pdf(archived, trust_roots=[trust_services.ca], at=datetime.now(UTC) + timedelta(days=4 * 365))
    [old] = later.signatures
    assert old.indication == "TOTAL-PASSED" and old.proven_time is not None and old.proven_time < datetime.now(UTC)
    # what is delivered is recorded by its own hash, not the inbox file's
    import hashlib
    rows = [r for r in lta_root.store.deliveries(K) if r.kind == "advies" and r.status == "delivered"]
    assert rows and {r.sha256 for r in rows} == {hashlib.sha256(archived).hexdigest()}
    # and the archived document itself passes the same revision check (the additions are all allowed)
    verdict = judge(revision_changes(archived, prepared_size=len(unsigned), signed=report.signed_fields),
                    signature=sig.field_name,
                    trusted_timestamps=frozenset(t.field_name for t in report.document_timestamps if t.ok))
    assert verdict.accepted, verdict.findings


def test_a_certificate_without_revocation_service_is_refused_with_that_reason(prepared, keyring, shared_pki,
                                                                            trust_services):
    """The session's PKI names no CRL or OCSP service in its certificates: B-LTA cannot be reached, and the error
    says why in Dutch (not pyHanko's words)."""
    from pyhanko.keys import load_cert_from_pemder

    from pipeline.errors import SigningError, TrustServiceOutage
    signed = PadesSigner().sign(prepared, identity=keyring.doctor(VISSER), appearance=DOCTOR)
    pades = PadesSigner(timestamper=http_timestamper(trust_services.tsa_url),
                        trust_roots=[load_cert_from_pemder(str(p)) for p in (shared_pki / "ca.pem", trust_services.ca)])
    try:
        with pytest.raises(SigningError) as caught:
            pades.extend(signed, level="B-LTA")
    finally:
        pades.close()
    assert not isinstance(caught.value, TrustServiceOutage)
    assert caught.value.rule == "validatiegegevens"
    assert "geen intrekkingsinformatie" in caught.value.message, caught.value.message


@pytest.mark.libreoffice
def test_real_libreoffice_advice_signed_is_accepted_and_the_overlay_refused(tmp_path, converter, keyring,
                                                                            shared_pki):
    """The prepared document as production makes it (LibreOffice PDF/A, XMP metadata that pyHanko rewrites on
    signing): the genuine return passes the revision check, the overlay does not."""
    root = role_roots.held_root(tmp_path / "root", converter=converter, pki=shared_pki, keyring=keyring)
    try:
        signed = PadesSigner().sign(unsigned_advice(root), identity=keyring.doctor(VISSER), appearance=ADVICE)
        report = _refused(root, f"{K}_advies-overlay.pdf", overlay(signed))
        assert "zonder handtekening ('Opmerking')" in report
        outcome = send_in(root, f"{K}_advies-ondertekend.pdf", signed)
        assert outcome.status == "processed", outcome.detail
    finally:
        root.close()


def test_archive_renew_covers_the_returned_document(lta_root, services_keyring, trust_services):
    """The returned advice (extended on acceptance, test above) is renewed by `archive renew` like any B-LTA
    document, and still passes afterwards (the renewal's additions are validation data and a timestamp)."""
    from pipeline.shell.renew import renew_archive_timestamps
    path = lta_root.settings.outbox / "archief" / K / f"{K}_advies.pdf"
    if not path.exists():  # run on its own: the return the test above makes
        signed = PadesSigner().sign(unsigned_advice(lta_root), identity=services_keyring.doctor(VISSER),
                                    appearance=ADVICE)
        outcome = send_in(lta_root, f"{K}_advies-ondertekend.pdf", signed)
        assert outcome.status == "processed", outcome.detail
    before = path.read_bytes()
    settings = lta_root.settings.replace(signing={"tsa_url": trust_services.tsa_url})
    result = renew_archive_timestamps(settings, days=20 * 365)
    assert result.refused == 0, result.items
    after = path.read_bytes()
    assert after.startswith(before) and len(after) > len(before)
    report = verify_pdf(after, trust_roots=[trust_services.ca])
    assert report.ok and len(report.document_timestamps) == 2, report
