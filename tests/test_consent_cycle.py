"""The consent cycle end to end (NVAB step 4): the machtiging the employee is to sign goes to the employee's
mailbox; the medical data wait ("wacht op ondertekende machtiging") until the signed form comes back — a scan, or
PAdES over exactly that form — and is archived; then they go, with a sealed record that names the form; withdrawn,
the SO doctor is told. Real files, real signatures (pyHanko), the FakeConverter; one test with real LibreOffice
reads the form itself. Fictional case data only.
"""

from __future__ import annotations

import io
import json

import pytest

from pipeline.shell import status as st
from tests.casefactory import full_case, intrekking
from tests.pdfs import pdftotext
from tests.pdfs import flat
from tests.mailbox_paths import mailbox

K = "SO-2026-0042"
SMIT = "49011122201"
OLD_STYLE = {"bewijs": {"wijze": "papier_gescand", "datum": "2026-11-06",
                        "vastgelegd_door": "J. de Wit, secretariaat ArboNoord"}}
FORM = f"{K}_machtiging-medische-gegevens-formulier.pdf"
WAITS = "wacht op ondertekende machtiging (medische gegevens)"


def _scan() -> bytes:
    """A scan of the form signed on paper, as a scanner makes it: a PDF without any signature."""
    from fpdf import FPDF
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Machtiging medische gegevens - op papier ondertekend door M.A. Jansen")
    return bytes(pdf.output())


def _sign(pdf: bytes, keyring) -> bytes:
    """The employee signs a PDF electronically (a DEMO key stands in for the employee's own)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    return signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)),
                            signers.PdfSignatureMetadata(field_name="Werknemer"),
                            signer=keyring.doctor(SMIT).signer).getvalue()


def _waiting_root(make_root, *, upto="uitvoering"):
    root = make_root()
    for i, ev in enumerate(full_case(kenmerk=K, upto=upto, overrides={"aanvraag": OLD_STYLE}), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed"] * len(outcomes), [(o.file_name, o.detail) for o in outcomes]
    return root, outcomes


def _so_files(root) -> set[str]:
    return {p.name for p in mailbox(root, "so-bedrijfsarts", K).iterdir() if p.is_file()}


def _status(root):
    return st.case_status(root.store, K, today=root.pipeline.clock.now().date())


def test_the_form_goes_to_the_employee_and_the_case_waits_for_it(make_root):
    root, outcomes = _waiting_root(make_root)
    aanvraag = next(o for o in outcomes if o.file_name.endswith("aanvraag.json"))
    assert aanvraag.detail == WAITS  # what `sopipe watch` prints beside the processed file
    assert (mailbox(root, "werknemer", K) / FORM).is_file() and (mailbox(root, "archief", K) / FORM).is_file()
    assert not list(root.settings.outbox.rglob(f"*/so-bedrijfsarts/**/{FORM}"))
    assert _so_files(root) == {f"{K}_aanvraagformulier-zonder-medische-gegevens.pdf", f"{K}_uitnodiging.pdf"}
    text = flat(pdftotext(mailbox(root, "so-bedrijfsarts", K) / f"{K}_aanvraagformulier-zonder-medische-gegevens.pdf"))
    assert "Lumbosacraal" not in text and "Zodra de ondertekende machtiging in het dossier is" in text
    form = flat(pdftotext(mailbox(root, "werknemer", K) / FORM))
    for needed in ("Ik geef toestemming dat mijn bedrijfsarts, Dr. P. Bakker",
                   "mogelijk niet genoeg informatie om de second opinion uit te voeren",
                   "U kunt deze toestemming op elk moment", "Stuur het ondertekende formulier"):
        assert needed in form, needed
    one = _status(root)
    assert one.wacht_op == [WAITS] and one.toestemmingen == {"medische_gegevens": "gevraagd"}
    [listed] = st.all_status(root.store, today=root.pipeline.clock.now().date())
    assert listed.wacht_op == [WAITS]


def test_a_scan_releases_the_medical_data_with_a_record_that_names_it(make_root):
    root, _ = _waiting_root(make_root)
    scan = _scan()
    root.drop(f"{K}_machtiging-medische-gegevens scan.pdf", scan)
    [outcome] = root.run()
    assert outcome.status == "processed", outcome.detail
    assert outcome.detail == ""  # nothing waits any more
    assert (mailbox(root, "archief", K) / "machtiging-medische-gegevens-ondertekend.pdf").read_bytes() == scan
    assert _so_files(root) >= {f"{K}_medische-gegevens.pdf", f"{K}_machtiging-medische-gegevens.pdf"}
    medisch = flat(pdftotext(mailbox(root, "so-bedrijfsarts", K) / f"{K}_medische-gegevens.pdf"))
    assert "Lumbosacraal radiculair syndroom" in medisch
    record = flat(pdftotext(mailbox(root, "so-bedrijfsarts", K) / f"{K}_machtiging-medische-gegevens.pdf"))
    assert "het gescande formulier is op" in record and "machtiging-medische-gegevens-ondertekend.pdf" in record
    assert not list((root.settings.outbox / "werkgever").rglob("*.pdf"))
    one = _status(root)
    assert one.wacht_op == [] and one.toestemmingen == {"medische_gegevens": "ondertekend"}
    assert one.stap == "machtiging_ontvangen"
    # the case goes on: later case files keep their order, the fold of the stored events agrees
    rest = full_case(kenmerk=K, overrides={"aanvraag": OLD_STYLE})[6:7]
    root.drop("07-extra-informatie.json", rest[0])
    assert [o.status for o in root.run()] == ["processed"]
    root.pipeline._states.clear()
    assert root.pipeline.case_state(K).consent("medische_gegevens").value == "ondertekend"


def test_pades_over_exactly_the_form_releases_and_any_other_signed_pdf_is_refused(make_root, keyring):
    root, _ = _waiting_root(make_root)
    other = _sign(_scan(), keyring)
    root.drop(f"{K}_machtiging-medische-gegevens.pdf", other)
    [refused] = root.run()
    assert refused.status == "failed"
    report = (root.settings.inbox / "failed" / f"{K}_machtiging-medische-gegevens.pdf.error.txt").read_text()
    assert "niet precies het formulier dat de werknemer is toegestuurd" in report
    assert f"{K}_medische-gegevens.pdf" not in _so_files(root)
    signed = _sign((mailbox(root, "werknemer", K) / FORM).read_bytes(), keyring)
    root.drop(FORM, signed)  # back under the name it was sent with
    [outcome] = root.run()
    assert outcome.status == "processed", outcome.detail
    assert f"{K}_medische-gegevens.pdf" in _so_files(root)
    record = flat(pdftotext(mailbox(root, "werknemer", K) / f"{K}_machtiging-medische-gegevens.pdf"))
    assert "elektronisch ondertekend; het ondertekende bestand is op" in record
    assert _status(root).toestemmingen == {"medische_gegevens": "ondertekend"}


def test_withdrawn_after_release_the_so_doctor_is_told(make_root):
    root, _ = _waiting_root(make_root)
    root.drop(f"{K}_machtiging-medische-gegevens.pdf", _scan())
    assert [o.status for o in root.run()] == ["processed"]
    root.drop("90-intrekking.json", intrekking("medische_gegevens", datum="2026-11-20"))
    assert [o.status for o in root.run()] == ["processed"]
    assert f"{K}_intrekking-melding-medische-gegevens.pdf" in _so_files(root)
    assert (mailbox(root, "werknemer", K) / f"{K}_intrekking-medische-gegevens.pdf").is_file()
    assert _status(root).toestemmingen == {"medische_gegevens": "ingetrokken"}


def test_a_crash_while_releasing_delivers_the_same_documents_once(make_root, monkeypatch):
    root, _ = _waiting_root(make_root)
    calls = {"n": 0}
    real_accept = root.store.accept

    def crash_once(**kw):  # the documents are made and delivered; the recording fails (power cut)
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt("power cut")
        return real_accept(**kw)

    monkeypatch.setattr(root.store, "accept", crash_once)
    root.drop(f"{K}_machtiging-medische-gegevens.pdf", _scan())
    with pytest.raises(KeyboardInterrupt):
        root.run()
    first = (mailbox(root, "so-bedrijfsarts", K) / f"{K}_medische-gegevens.pdf").read_bytes()
    outcomes = root.pipeline.resume()
    assert [o.status for o in outcomes] == ["processed"], [(o.file_name, o.detail) for o in outcomes]
    assert (mailbox(root, "so-bedrijfsarts", K) / f"{K}_medische-gegevens.pdf").read_bytes() == first
    released = [d for d in root.store.deliveries(K) if d.kind == "medische-gegevens" and d.status == "delivered"]
    assert len(released) == 2  # SO doctor and archive, recorded once
    assert [e.stap for e in root.store.events(K)].count("machtiging_ontvangen") == 1


def test_a_case_file_cannot_pretend_to_be_the_pipelines_record(make_root):
    root, _ = _waiting_root(make_root, upto="aanvraag")
    fake = {"schema": "so-pipeline/v1", "kenmerk": K, "stap": "machtiging_ontvangen", "datum": "2026-11-07",
            "machtiging": "medische_gegevens", "bestand": "x.pdf", "ontvangen": "2026-11-07", "gescand": True,
            "sha256": "0" * 64}
    root.drop("99-trucje.json", json.dumps(fake))
    [outcome] = root.run()
    assert outcome.status == "failed"
    assert _status(root).toestemmingen == {"medische_gegevens": "gevraagd"}


@pytest.mark.libreoffice
def test_the_form_to_sign_as_libreoffice_lays_it_out(make_root):
    root, _ = _waiting_root(make_root, upto="aanvraag")
    text = flat(pdftotext(mailbox(root, "werknemer", K) / FORM))
    for needed in ("Machtiging om te ondertekenen", "Persoonlijk en vertrouwelijk", "M.A. Jansen",
                   "Verstrekken van medische gegevens aan de second opinion-bedrijfsarts",
                   "Welke gegevens", "Van Dr. P. Bakker (ArboNoord), eigen bedrijfsarts",
                   "Aan Dr. E. Visser (Arbopraktijk Visser), second opinion-bedrijfsarts",
                   "Geldig tot de afronding van de second opinion",
                   "mogelijk niet genoeg informatie om de second opinion uit te voeren",
                   "Intrekken", "Terugsturen", "Handtekening van de werknemer", "Handtekening"):
        assert needed in text, needed
    import subprocess
    pages = subprocess.run(["pdfinfo", str(mailbox(root, "werknemer", K) / FORM)], capture_output=True,
                           text=True, check=True).stdout
    assert "Pages:           2" in pages or "Pages:           1" in pages
    # the signature block is not split from its heading: both on the last page
    last = pdftotext(mailbox(root, "werknemer", K) / FORM).split("\f")[-2]
    assert "Handtekening van de werknemer" in last and "Plaats" in last


def test_sopipe_status_says_what_the_case_waits_for(make_root):
    from click.testing import CliRunner
    from pipeline.cli import cli
    root, _ = _waiting_root(make_root, upto="aanvraag")
    for args in (["status", "--root", str(root.path)], ["status", "--root", str(root.path), K]):
        result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, args)  # a wide terminal: one line a cell
        assert result.exit_code == 0, result.output
        assert "wacht op ondertekende machtiging" in " ".join(result.output.split()), result.output
    data = json.loads(CliRunner().invoke(cli, ["status", "--root", str(root.path), "--json"]).output)
    assert data["zaken"][0]["wacht_op"] == [WAITS]
    # the employee's own view of the trail says it too, in plain Dutch
    log = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["audit", K, "--root", str(root.path), "--for", "werknemer"])
    assert log.exit_code == 0, log.output
    assert ("u is gevraagd de machtiging voor het delen van medische gegevens te ondertekenen"
            in " ".join(log.output.split())), log.output


def test_a_case_file_stating_where_the_signed_form_is_kept_releases_in_the_same_batch(make_root):
    root = make_root()
    events = full_case(kenmerk=K, upto="aanvraag", overrides={"aanvraag": OLD_STYLE})
    events.append({"schema": "so-pipeline/v1", "kenmerk": K, "stap": "machtiging_ondertekend", "datum": "2026-11-07",
                   "machtiging": "medische_gegevens",
                   "bewijs": {"wijze": "papier_gescand", "datum": "2026-11-07", "vastgelegd_door": "J. de Wit",
                              "vindplaats": "papieren dossier ArboNoord Utrecht, map SO-2026-0042"}})
    for i, ev in enumerate(events, start=1):  # the names sort the signature first: the batch orders by procedure
        root.drop(f"{'00' if ev['stap'] == 'machtiging_ondertekend' else f'{i:02d}'}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed"] * len(events), [(o.file_name, o.detail) for o in outcomes]
    assert f"{K}_medische-gegevens.pdf" in _so_files(root)
    record = flat(pdftotext(mailbox(root, "so-bedrijfsarts", K) / f"{K}_machtiging-medische-gegevens.pdf"))
    assert "Het ondertekende formulier wordt bewaard: papieren dossier ArboNoord Utrecht" in record
    assert _status(root).wacht_op == []
