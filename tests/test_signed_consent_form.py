"""Issue 14: a consent form signed by the employee comes back (a scan or PAdES-signed) and is archived beside the
sealed record of the consent, through the same skeleton as every inbox file; never delivered to the employer.

The FakeConverter, real signatures (pyHanko), real files; fictional case data only.
"""

from __future__ import annotations

import os

import pytest

from pipeline.adapters.signing import PadesSigner, SignatureAppearance
from pipeline.core.returns import check_consent_form, consent_form_of
from tests.casefactory import full_case, scanned_pdf as _scan
from tests.processed_roots import failure_report

K = "SO-2026-0042"
SMIT = "49011122201"
FORM = f"{K}_machtiging-medische-gegevens"
ARCHIVED = "machtiging-medische-gegevens-ondertekend.pdf"


def _root(make_root, upto="aanvraag", overrides=None):
    root = make_root()
    for i, ev in enumerate(full_case(kenmerk=K, upto=upto, overrides=overrides), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert all(o.status == "processed" for o in outcomes), [(o.file_name, o.detail) for o in outcomes]
    return root


def _archive(root):
    return root.settings.outbox / "archief" / K


def _all_files(root) -> dict[str, bytes]:
    return {str(p.relative_to(root.settings.outbox)): p.read_bytes()
            for p in root.settings.outbox.rglob("*") if p.is_file()}


# --- the name ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    (f"{K}_machtiging-medische-gegevens.pdf", (K, "medische_gegevens", "medische-gegevens")),
    (f"{K}_machtiging-medische_gegevens scan.pdf", (K, "medische_gegevens", "medische-gegevens")),
    (f"{K}_machtiging-extra-informatie-werkgever.pdf", (K, "extra_informatie:werkgever",
                                                        "extra-informatie-werkgever")),
    (f"{K}_machtiging-advies-delen-bedrijfsarts-ondertekend.PDF", (K, "advies_delen_bedrijfsarts",
                                                                   "advies-delen-bedrijfsarts")),
    (f"{K}_machtiging-iets-anders.pdf", None), (f"{K}_advies.pdf", None), ("machtiging-medische-gegevens.pdf", None)])
def test_the_file_name_says_case_and_consent(name, expected):
    form = consent_form_of(name)
    assert (None if form is None else (form.kenmerk, form.consent, form.label)) == expected


def test_a_withdrawn_consent_still_takes_its_signed_form_but_a_refused_one_does_not():
    from pipeline.core.procedure import fold
    from pipeline.core.state import Consent
    from tests.casefactory import parse_all
    state = fold(parse_all(full_case(kenmerk=K, upto="aanvraag")))
    form = consent_form_of(f"{FORM}.pdf")
    check_consent_form(form, state=state.with_consent("medische_gegevens", Consent.INGETROKKEN), signatures=(),
                       archived=False)
    with pytest.raises(Exception) as refused:
        check_consent_form(form, state=state.with_consent("medische_gegevens", Consent.GEWEIGERD), signatures=(),
                           archived=False)
    assert refused.value.rule == "machtiging-geweigerd"


# --- through the pipeline ------------------------------------------------------------------------------------

def test_a_scanned_form_is_archived_beside_the_sealed_record_and_nowhere_else(make_root):
    root = _root(make_root)
    before = _all_files(root)
    scan = _scan()
    root.drop(f"{FORM}-scan.pdf", scan)
    [outcome] = root.run()
    assert outcome.status == "processed", outcome.detail
    assert (_archive(root) / f"{K}_machtiging-medische-gegevens.pdf").exists()  # the sealed record it belongs to
    assert (_archive(root) / ARCHIVED).read_bytes() == scan
    new = {k: v for k, v in _all_files(root).items() if k not in before}
    assert list(new) == [f"archief/{K}/{ARCHIVED}"]  # not to werkgever/, nor to any other party
    assert (root.settings.inbox / "processed" / f"{FORM}-scan.pdf").exists()
    [record] = [d for d in root.store.deliveries(K) if d.kind == "machtiging-medische-gegevens-ondertekend"]
    assert (record.party, record.status) == ("archief", "delivered")
    import hashlib
    digest = hashlib.sha256(scan).hexdigest()
    assert root.store.journal_status(digest) == "done"
    trail = [(r.gebeurtenis, r.details.get("stap"), r.details.get("document")) for r in root.pipeline.audit.trail(K)
             if r.details.get("bestand_sha256") == digest]
    assert ("intake", "machtiging_ondertekend", None) in trail
    assert ("bezorging", None, "machtiging-medische-gegevens-ondertekend") in trail


def test_a_pades_signed_form_is_archived_with_its_validation_report(make_root, keyring):
    root = _root(make_root)
    # the employee signs the form electronically (a DEMO key stands in for the employee's own)
    signed = PadesSigner().sign(_scan(), identity=keyring.doctor(SMIT), appearance=SignatureAppearance(
        naam="J. de Vries", rol="werknemer", big_nummer=None, organisatie="", reden="Toestemming",
        locatie="Nederland"))
    root.drop(f"{FORM}.pdf", signed)
    [outcome] = root.run()
    assert outcome.status == "processed", outcome.detail
    assert (_archive(root) / ARCHIVED).read_bytes() == signed
    assert (_archive(root) / f"{ARCHIVED}.validatie.xml").exists()
    trail = [r for r in root.pipeline.audit.trail(K) if r.gebeurtenis == "verificatie"
             and r.details.get("document") == "machtiging-medische-gegevens-ondertekend"]
    assert len(trail) == 1


def test_a_form_whose_signature_is_broken_is_refused(make_root):
    root = _root(make_root)
    sealed = next((root.settings.outbox / "werknemer").rglob(f"{K}_machtiging-medische-gegevens.pdf")).read_bytes()
    at = sealed.index(b"Machtiging") if b"Machtiging" in sealed else len(sealed) // 3
    tampered = sealed[:at] + b"X" + sealed[at + 1:]  # a byte inside the signed range
    root.drop(f"{FORM}.pdf", tampered)
    [outcome] = root.run()
    assert outcome.status == "failed"
    report = failure_report(root, f"{FORM}.pdf")
    assert "NIET gearchiveerd" in report and "handtekening" in report.lower()
    assert not (_archive(root) / ARCHIVED).exists()


@pytest.mark.parametrize("case, name, data, rule_words", [
    ("aanvraag", "ONBEKEND-9_machtiging-medische-gegevens.pdf", "scan", "Er is geen zaak met kenmerk ONBEKEND-9"),
    ("selectie", f"{FORM}.pdf", "scan", "geen machtiging voor het delen van medische gegevens vastgelegd"),
    ("aanvraag", f"{K}_machtiging-advies-delen-bedrijfsarts.pdf", "scan", "geen machtiging"),
    ("aanvraag", f"{FORM}.pdf", "garbage", "geen leesbare PDF"),
])
def test_what_cannot_be_archived_goes_to_failed_with_a_dutch_report(make_root, case, name, data, rule_words):
    root = _root(make_root, upto=case)
    before = _all_files(root)
    root.drop(name, _scan() if data == "scan" else b"%PDF-1.7 dit is geen echte pdf")
    [outcome] = root.run()
    assert outcome.status == "failed"
    report = failure_report(root, name)
    assert rule_words in report and "Wat nu" in report
    assert "111222333" not in report
    assert _all_files(root) == before  # nothing archived, nothing delivered


def test_a_refused_machtiging_takes_no_signed_form(make_root):
    root = _root(make_root, overrides={"aanvraag": {"machtiging_medische_gegevens": "geweigerd",
                                                    "medische_gegevens": None}})
    before = _all_files(root)
    root.drop(f"{FORM}.pdf", _scan())
    [outcome] = root.run()
    assert outcome.status == "failed"
    assert "geweigerd" in failure_report(root, f"{FORM}.pdf")
    assert _all_files(root) == before


def test_the_same_form_twice_is_a_duplicate_and_another_one_is_refused(make_root):
    root = _root(make_root)
    scan = _scan()
    root.drop(f"{FORM}.pdf", scan)
    assert [o.status for o in root.run()] == ["processed"]
    root.drop(f"{FORM}.pdf", scan)
    assert [o.status for o in root.run()] == ["duplicate"]
    root.drop(f"{FORM}-2.pdf", _scan("een ander exemplaar"))
    [outcome] = root.run()
    assert outcome.status == "failed"
    assert "al eerder ontvangen" in failure_report(root, f"{FORM}-2.pdf")
    assert (_archive(root) / ARCHIVED).read_bytes() == scan  # the first one is kept


def test_a_planted_link_named_as_a_form_archives_nothing(make_root, tmp_path):
    root = _root(make_root)
    secret = tmp_path / "elders.pdf"
    secret.write_bytes(_scan("iets van iemand anders"))
    os.symlink(secret, root.settings.inbox / f"{FORM}.pdf")
    [outcome] = root.run()
    assert outcome.status == "failed"
    assert not (_archive(root) / ARCHIVED).exists()
    assert secret.read_bytes() == _scan("iets van iemand anders")


# --- found in review: the name it was sent with, the case inside the file, changes after the seal ------------

@pytest.mark.parametrize("name, expected", [
    (f"{K}_machtiging-advies-delen.pdf", (K, "advies_delen", "advies-delen")),
    (f"{K}_machtiging-extra-informatie scan.pdf", (K, "extra_informatie", "extra-informatie"))])
def test_the_name_a_form_was_sent_with_names_its_consents(name, expected):
    form = consent_form_of(name)
    assert (form.kenmerk, form.consent, form.label) == expected


def test_a_form_returned_under_the_name_it_was_sent_with_is_archived(make_root):
    root = _root(make_root, upto="definitief_advies")
    sent = next((root.settings.outbox / "werknemer").rglob(f"{K}_machtiging-advies-delen.pdf"))
    scan = _scan("Machtiging delen advies - ondertekend door de werknemer")
    root.drop(sent.name, scan)
    [outcome] = root.run()
    assert outcome.status == "processed", outcome.detail
    assert (_archive(root) / "machtiging-advies-delen-ondertekend.pdf").read_bytes() == scan


def test_a_form_of_another_case_under_this_cases_name_is_refused(make_root):
    root = _root(make_root)
    before = _all_files(root)
    from fpdf import FPDF
    pdf = FPDF()
    pdf.set_keywords("SO-2026-0099")  # what our converter writes: the form belongs to another case
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Machtiging medische gegevens")
    root.drop(f"{FORM}.pdf", bytes(pdf.output()))
    [outcome] = root.run()
    assert outcome.status == "failed"
    assert "zaak SO-2026-0099" in failure_report(root, f"{FORM}.pdf")
    assert _all_files(root) == before


def test_a_sealed_form_changed_after_the_seal_and_signed_again_is_refused(make_root, keyring):
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.stamp import TextStamp, TextStampStyle

    root = _root(make_root)
    sealed = next((root.settings.outbox / "werknemer").rglob(f"{K}_machtiging-medische-gegevens.pdf")).read_bytes()
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    TextStamp(writer, TextStampStyle(stamp_text="Ik geef GEEN toestemming")).apply(0, 40, 40)  # new page content
    out = io.BytesIO()
    writer.write(out)
    # the employee's signature over it, made with pyHanko itself (our signer refuses a new field on a certified file)
    from pyhanko.sign import signers
    signed = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(out.getvalue())),
                              signers.PdfSignatureMetadata(field_name="Werknemer"),
                              signer=keyring.doctor(SMIT).signer).getvalue()
    root.drop(f"{FORM}.pdf", signed)
    [outcome] = root.run()
    assert outcome.status == "failed", outcome.detail
    assert not (_archive(root) / ARCHIVED).exists()
