"""A consent form the employee returns is read as a PDF: active content is refused, no signature escapes the check by
how its name is spelled, a second form replaces the first only by an explicit, audited act, and `archive destroy`
removes every refused form of the case.

The attacks of a review, each as it was made; the FakeConverter, real signatures (pyHanko), real files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from click.testing import CliRunner

from pipeline.adapters.consent_form_pdf import read_consent_form
from pipeline.cli import cli
from tests.casefactory import full_case, scanned_pdf
from tests.processed_roots import failure_report

K = "SO-2026-0042"
FORM = f"{K}_machtiging-medische-gegevens"
ARCHIVED = "machtiging-medische-gegevens-ondertekend.pdf"


def _scan(text: str = "Machtiging medische gegevens - ondertekend door de werknemer") -> bytes:
    return scanned_pdf(text)


def _with(scan: bytes, change) -> bytes:
    """`scan` rewritten by pypdf after `change(writer)`."""
    from pypdf import PdfWriter
    writer = PdfWriter(clone_from=io.BytesIO(scan))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _open_action_js_and_exe(writer) -> None:
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject
    writer.add_attachment("scan.exe", b"MZ\x90\x00 dit is geen scan")
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('hallo')")})


def _launch(writer) -> None:
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("scan.exe")})


def _page_aa(writer) -> None:
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject
    writer.pages[0][NameObject("/AA")] = DictionaryObject({NameObject("/O"): DictionaryObject({
        NameObject("/S"): NameObject("/URI"), NameObject("/URI"): TextStringObject("https://example.invalid/")})})


def _attachment(writer) -> None:
    writer.add_attachment("scan.exe", b"MZ\x90\x00")


def _respell_byterange(raw: bytes) -> bytes:
    """`/ByteRange` written as `/Byte#52ange` (the same name to a PDF reader), two padding zeros of the same
    object's /Contents dropped so that every later object keeps its offset: a file readers open as before."""
    at = raw.index(b"/ByteRange")
    raw = raw[:at] + b"/Byte#52ange" + raw[at + len(b"/ByteRange"):]
    end, start = raw.find(b"endobj", at), raw.rfind(b" obj", 0, at)
    pad = raw.find(b"00>", at)
    if not 0 <= pad < end:
        pad = raw.rfind(b"00>", start, at)
    assert pad > start, "no padded /Contents in the signature's object"
    return raw[:pad] + raw[pad + 2:]


def _orphan_signature(writer) -> None:
    """A signature dictionary that no signature field points to."""
    from pypdf.generic import ArrayObject, ByteStringObject, DictionaryObject, NameObject, NumberObject
    writer._root_object[NameObject("/Extra")] = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Sig"), NameObject("/ByteRange"): ArrayObject([NumberObject(0)] * 4),
        NameObject("/Contents"): ByteStringObject(b"\x00" * 8)}))


def _root(make_root, upto="aanvraag"):
    root = make_root()
    for i, ev in enumerate(full_case(kenmerk=K, upto=upto), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    assert all(o.status == "processed" for o in root.run())
    return root


def _archive(root):
    return root.settings.outbox / "archief" / K


# --- the reader: parsed, names resolved ------------------------------------------------------------------------

def test_a_scan_has_no_signature_and_no_active_content():
    contents = read_consent_form(_scan())
    assert (contents.signature_dictionaries, contents.active) == (0, ())


@pytest.mark.parametrize("change, said", [
    (_open_action_js_and_exe, ("JavaScript", "/OpenAction", "scan.exe")),
    (_launch, ("Launch", "/OpenAction")),
    (_page_aa, ("/AA",)),
    (_attachment, ("ingesloten bestand (scan.exe)",)),
])
def test_active_content_is_found_and_named_in_dutch(change, said):
    found = "; ".join(read_consent_form(_with(_scan(), change)).active)
    assert all(s in found for s in said), found


def test_a_name_spelled_with_hex_escapes_is_the_same_name():
    raw = _with(_scan(), _open_action_js_and_exe)
    hidden = raw.replace(b"/JavaScript", b"/Java#53cript").replace(b"/JS ", b"/J#53 ")
    assert b"/JavaScript" not in hidden
    assert "JavaScript" in "; ".join(read_consent_form(hidden).active)


def test_a_signature_dictionary_is_counted_however_byterange_is_spelled():
    raw = _respell_byterange(_with(_scan(), _orphan_signature))
    assert b"/ByteRange" not in raw
    assert read_consent_form(raw).signature_dictionaries == 1


# --- through the pipeline ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("change", [_open_action_js_and_exe, _launch, _attachment])
def test_a_form_with_active_content_is_not_archived(make_root, change):
    root = _root(make_root)
    root.drop(f"{FORM}.pdf", _with(_scan(), change))
    [outcome] = root.run()
    assert outcome.status == "failed"
    report = failure_report(root, f"{FORM}.pdf")
    assert "actieve inhoud" in report and "niet in het dossier bewaard" in report and "Wat nu" in report
    assert not (_archive(root) / ARCHIVED).exists()


def test_a_sealed_form_changed_and_its_byterange_respelled_is_still_checked_and_refused(make_root):
    """The attack: a byte changed inside the seal's signed range, `/ByteRange` written as `/Byte#52ange` so that a
    byte search finds no signature and archives the changed form unchecked."""
    root = _root(make_root)
    sealed = next((root.settings.outbox / "werknemer").rglob(f"{K}_machtiging-medische-gegevens.pdf")).read_bytes()
    at = sealed.index(b"/Producer") if b"/Producer" in sealed else len(sealed) // 3
    changed = _respell_byterange(sealed[:at] + b"/Producxr" + sealed[at + 9:])
    assert b"/ByteRange" not in changed
    root.drop(f"{FORM}.pdf", changed)
    [outcome] = root.run()
    assert outcome.status == "failed", outcome.detail
    assert "handtekening" in failure_report(root, f"{FORM}.pdf").lower()
    assert not (_archive(root) / ARCHIVED).exists()


def test_a_signature_pyhanko_cannot_find_is_refused_not_skipped(make_root):
    root = _root(make_root)
    root.drop(f"{FORM}.pdf", _respell_byterange(_with(_scan(), _orphan_signature)))
    [outcome] = root.run()
    assert outcome.status == "failed"
    assert "maar er kunnen er maar 0 worden gecontroleerd" in failure_report(root, f"{FORM}.pdf")


# --- which form counts: an explicit, audited replacement -----------------------------------------------------

def _replace(root, name: str, reden: str):
    return CliRunner().invoke(cli, ["archive", "replace-form", "--root", str(root.path),
                                    str(root.settings.inbox / "failed" / name), "--reden", reden])


def test_a_second_form_is_not_silently_refused_and_replaces_the_first_only_when_allowed(make_root):
    root = _root(make_root)
    first, second, third = _scan("eerste exemplaar"), _scan("opnieuw ondertekend"), _scan("nog een")
    root.drop(f"{FORM}.pdf", first)
    assert [o.status for o in root.run()] == ["processed"]
    root.drop(f"{FORM}-2.pdf", second)
    [refused] = root.run()
    assert refused.status == "failed"
    report = failure_report(root, f"{FORM}-2.pdf")
    assert "niet door de volgorde van binnenkomst" in report and "sopipe archive replace-form" in report

    result = _replace(root, f"{FORM}-2.pdf", "werknemer heeft het formulier opnieuw ondertekend")
    assert result.exit_code == 0, result.output
    assert (root.settings.inbox / f"{FORM}-2.pdf").exists()
    assert not (root.settings.inbox / "failed" / f"{FORM}-2.pdf.error.txt").exists()
    [outcome] = root.run()
    assert outcome.status == "processed", outcome.detail
    assert (_archive(root) / ARCHIVED).read_bytes() == first  # the earlier one stays in the dossier
    assert (_archive(root) / "machtiging-medische-gegevens-ondertekend-vervanging-1.pdf").read_bytes() == second
    trail = root.pipeline.audit.trail(K)
    [grant] = [r for r in trail if r.details.get("wat") == "vervanging-toegestaan"]
    assert grant.details["bestand_sha256"] == hashlib.sha256(second).hexdigest()
    assert grant.details["reden"] == "werknemer heeft het formulier opnieuw ondertekend" and grant.gebruiker
    assert any(r.details.get("stap") == "machtiging_vervangen" for r in trail)

    root.drop(f"{FORM}-3.pdf", third)  # a grant is for those bytes only
    [again] = root.run()
    assert again.status == "failed"


def test_a_replacement_needs_an_archived_form_a_refused_file_and_a_reason_without_personal_data(make_root):
    root = _root(make_root)
    root.drop(f"{FORM}.pdf", _scan())
    root.run()
    root.drop(f"{FORM}-2.pdf", _scan("tweede"))
    root.run()
    assert _replace(root, f"{FORM}-2.pdf", "BSN 111222333 wilde dat").exit_code != 0
    assert _replace(root, f"{FORM}-2.pdf", "  ").exit_code != 0
    outside = CliRunner().invoke(cli, ["archive", "replace-form", "--root", str(root.path),
                                       str(root.settings.inbox / "processed" / f"{FORM}.pdf"), "--reden", "x"])
    assert outside.exit_code != 0 and "inbox/failed" in outside.output
    assert (root.settings.inbox / "failed" / f"{FORM}-2.pdf").exists()
    assert not [r for r in root.pipeline.audit.trail(K) if r.details.get("wat") == "vervanging-toegestaan"]


# --- destroy: every refused form of the case, found by its name too -------------------------------------------

def test_destroy_removes_a_refused_form_whose_content_names_no_case(make_root):
    root = _root(make_root)
    root.drop(f"{FORM}.pdf", b"%PDF-1.7 geen echte pdf, wel de naam van de werknemer")  # refused: no PDF
    root.drop(f"{FORM}-scan.pdf", _with(_scan(), _attachment))  # refused: an embedded file
    assert {o.status for o in root.run()} == {"failed"}
    failed = root.settings.inbox / "failed"
    assert len(list(failed.iterdir())) == 4  # two forms, two reports
    import json
    refused_request = failed / "99-verzoek.json"  # a refused request of this case with its letter to the requester
    refused_request.write_text(json.dumps({"kenmerk": K, "stap": "verzoek"}), encoding="utf-8")
    (failed / "99-verzoek.json.brief-aan-aanvrager.pdf").write_bytes(_scan("Geachte heer, mevrouw"))
    other = root.settings.inbox / "failed" / "SO-2026-00421_machtiging-medische-gegevens.pdf"
    other.write_bytes(_scan("een andere zaak"))  # a longer kenmerk is another case
    root.close()
    result = CliRunner().invoke(cli, ["archive", "destroy", K, "--root", str(root.path), "--yes", "--force",
                                      "--reden", "verzoek werknemer (art. 7:455 BW)",
                                      "--today", dt.date.today().isoformat()])
    assert result.exit_code == 0, result.output
    assert [p.name for p in failed.iterdir()] == [other.name]
