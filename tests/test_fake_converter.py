"""Issue 12: the FakeConverter keeps the Converter contract, and the pipeline logic runs on it without LibreOffice.

The contract tests are the real pool's own (tests/test_converter.py) run against the fake: text, metadata, no
template metadata, PDF/A identification; plus what the signer needs (the "Ondertekening" named destination) and
the failures of the real pool (refusal, hang, crash, outage). The pipeline tests run through `make_root`, i.e. the
production wiring (`open_pipeline`) with the fake injected: ordering, quarantine, crash-resume, signatures that
poppler's pdfsig validates, the archive's validation reports, a frozen signing clock and the thread-leak guard.
"""

from __future__ import annotations

import dataclasses
import io
import re
import threading
import zipfile

import docx
import pypdf
import pytest

from pipeline.adapters.converter import PdfMetadata
from pipeline.adapters.fake_converter import FakeConverter, Fault
from pipeline.adapters.signing import ANCHOR_TEXT, PadesSigner, SignatureAppearance, find_anchor
from pipeline.errors import ConversionError
from tests.casefactory import event, full_case
from tests.conftest import SIGNING_TIME, leaked_threads
from tests.pdf_signatures import pdfsig
from tests.pdfs import pdftotext
from tests.conversion_samples import METADATA, TEMPLATE_SECRETS, make_docx
from tests.pdfs import leaks, xmp
from tests.pdfs import pdf_text
from tests.processed_roots import snapshot

K = "SO-2026-0042"
APPEARANCE = SignatureAppearance(naam="ArboNoord", rol="arbodienst", big_nummer=None, organisatie="ArboNoord",
                                 reden="Test", locatie="Nederland")


def rich_docx() -> bytes:
    """A document with a header of its own on the first page, a table, hidden text and the signing anchor."""
    document = docx.Document()
    section = document.sections[0]
    section.different_first_page_header_footer = True
    section.first_page_header.paragraphs[0].text = "CONCEPT eerste pagina"
    section.header.paragraphs[0].text = "CONCEPT vervolgpagina"
    section.footer.paragraphs[0].text = "ArboNoord — voettekst"
    section.first_page_footer.paragraphs[0].text = "ArboNoord — voettekst"
    document.add_paragraph("Adviesrapport second opinion")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Werknemer", "Özdemir-Nguyễn"
    table.cell(1, 0).text, table.cell(1, 1).text = "Uitkomst", "arbeidsongeschikt"
    hidden = document.add_paragraph().add_run("VERBORGEN-TEKST")
    hidden.font.hidden = True
    for i in range(90):  # onto a second page
        document.add_paragraph(f"Overweging {i}: de belasting past bij de belastbaarheid.")
    anchor = document.add_paragraph(ANCHOR_TEXT)
    start = anchor._p.makeelement(docx.oxml.ns.qn("w:bookmarkStart"),
                                  {docx.oxml.ns.qn("w:id"): "0", docx.oxml.ns.qn("w:name"): ANCHOR_TEXT})
    anchor._p.insert(0, start)
    anchor._p.append(anchor._p.makeelement(docx.oxml.ns.qn("w:bookmarkEnd"), {docx.oxml.ns.qn("w:id"): "0"}))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- the Converter contract ---------------------------------------------------------------------------------------

def test_text_of_paragraphs_tables_and_headers_is_extractable_and_hidden_text_is_not(fake_converter):
    pdf = fake_converter.convert(rich_docx(), metadata=METADATA)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    first, last = reader.pages[0].extract_text(), reader.pages[-1].extract_text()
    assert "CONCEPT eerste pagina" in first and "CONCEPT vervolgpagina" not in first
    assert "CONCEPT vervolgpagina" in last and "voettekst" in last
    text = pdf_text(pdf)
    for needle in ("Adviesrapport second opinion", "Werknemer", "Özdemir-Nguyễn", "arbeidsongeschikt",
                   "Overweging 0:", "Overweging 89:", ANCHOR_TEXT):
        assert needle in text, needle
    assert "VERBORGEN-TEKST" not in text


def test_metadata_is_the_given_metadata_not_the_templates_and_pdfa_2b_is_declared(fake_converter):
    pdf = fake_converter.convert(make_docx("Inhoud."), metadata=METADATA)
    info = pypdf.PdfReader(io.BytesIO(pdf)).metadata
    assert (info["/Title"], info["/Author"], info["/Subject"], info["/Keywords"]) == (
        METADATA.title, METADATA.author, METADATA.subject, METADATA.keywords)
    packet = xmp(pdf)
    assert METADATA.title in packet and METADATA.author in packet
    assert "<pdfaid:part>2</pdfaid:part>" in packet and "<pdfaid:conformance>B</pdfaid:conformance>" in packet
    for secret in TEMPLATE_SECRETS.values():
        assert not leaks(pdf, secret), secret


def test_every_word_bookmark_is_a_named_destination_where_the_signer_puts_its_block(fake_converter, keyring):
    pdf = fake_converter.convert(rich_docx(), metadata=METADATA)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    dest = reader.named_destinations[ANCHOR_TEXT]  # a name tree entry (LibreOffice's /Dests dict gives "/name")
    assert reader.get_destination_page_number(dest) == len(reader.pages) - 1
    anchor = find_anchor(reader)
    assert anchor is not None and abs(anchor[1] - (float(dest.top) - 0.94 * 11)) < 0.01  # read from the name
    signed = PadesSigner().sign(pdf, identity=keyring.seal(), appearance=APPEARANCE, certify=True)
    out = pdfsig(signed)
    assert "Signature is Valid" in out and "Total document signed" in out, out
    widget = [a.get_object() for a in pypdf.PdfReader(io.BytesIO(signed)).pages[-1]["/Annots"]][0]
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    assert round(x1) == round(float(dest.left)) and y2 <= float(dest.top) - 11 and y2 > float(dest.top) - 40


def test_refuses_what_is_no_docx_at_once_without_retrying(fake_converter):
    with pytest.raises(ConversionError, match="Not a Word document"):
        fake_converter.convert(b"", metadata=METADATA)
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as z:
        z.writestr("word/document.xml", "<niet-af")
    with pytest.raises(ConversionError, match="LibreOffice could not convert the document"):
        fake_converter.convert(broken.getvalue(), metadata=METADATA)
    assert fake_converter.attempts == 1 and fake_converter.conversions == 0


@pytest.mark.parametrize("fault", [Fault.HANG, Fault.CRASH])
def test_a_hang_or_crash_is_retried_and_fails_only_when_every_attempt_failed(fault):
    fake = FakeConverter(retries=2, timeout=0.01)
    fake.fail(fault, times=2)
    assert fake.convert(make_docx("Inhoud."), metadata=METADATA).startswith(b"%PDF-")
    assert (fake.attempts, fake.conversions) == (3, 1)
    fake.fail(fault, times=3)
    with pytest.raises(ConversionError, match="LibreOffice failed 3 times on this document"):
        fake.convert(make_docx("Inhoud."), metadata=METADATA)
    assert fake.conversions == 1


def test_an_outage_fails_every_job_until_recovered_and_a_closed_converter_refuses():
    fake = FakeConverter()
    fake.fail(Fault.OUTAGE)
    for _ in range(2):
        with pytest.raises(ConversionError, match="LibreOffice not found"):
            fake.convert(make_docx("Inhoud."), metadata=METADATA)
    fake.recover()
    assert fake.convert(make_docx("Inhoud."), metadata=METADATA).startswith(b"%PDF-")
    fake.close()
    with pytest.raises(ConversionError, match="closed"):
        fake.convert(make_docx("Inhoud."), metadata=METADATA)


def test_converts_from_several_threads_at_once(fake_converter):
    results: dict[int, bytes] = {}

    def work(i: int) -> None:
        results[i] = fake_converter.convert(make_docx(f"Document {i}"), metadata=PdfMetadata(title=f"Doc {i}",
                                                                                             author="A"))
    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        assert f"Document {i}" in pdf_text(results[i])
        assert pypdf.PdfReader(io.BytesIO(results[i])).metadata["/Title"] == f"Doc {i}"


# --- the pipeline on the fake, through the production wiring ------------------------------------------------------

def test_roots_are_wired_as_sopipe_watch_with_the_fake_converter(make_root, fake_converter):
    from pipeline.shell.returns import ReturnPolicy
    from pipeline.shell.validation_reports import ValidatingMailboxes
    root = make_root()
    assert root.pipeline.converter is fake_converter
    assert isinstance(root.pipeline.mailboxes, ValidatingMailboxes)
    assert isinstance(root.pipeline.returns, ReturnPolicy)
    assert root.pipeline.max_file_bytes == root.settings.intake.max_file_bytes


def test_files_dropped_in_reverse_order_are_processed_in_procedure_order(make_root):
    root = make_root()
    events = full_case(kenmerk="OR-1", upto="aanvraag")
    for i, ev in enumerate(reversed(events)):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed"] * 5, [(o.file_name, o.detail) for o in outcomes]
    assert [e.stap for e in root.store.events("OR-1")] == [ev["stap"] for ev in events]


def test_signed_documents_from_the_fake_validate_with_pdfsig_and_carry_their_archive_report(make_root):
    root = make_root()
    for i, ev in enumerate(full_case(upto="definitief_advies"), start=1):
        root.drop(f"{i:02d}.json", ev)
    assert {o.status for o in root.run()} == {"processed"}
    advies = root.settings.outbox / "werknemer" / K / f"{K}_advies.pdf"
    out = pdfsig(advies)
    assert "Signature is Valid" in out and "Dr. E. Visser" in out, out
    assert "CONCEPT" not in pdftotext(advies)
    assert "CONCEPT" in pdftotext(root.settings.outbox / "werknemer" / K / f"{K}_conceptadvies.pdf")
    signed_in_archive = {p.name for p in (root.settings.outbox / "archief" / K).glob("*.pdf")
                         if b"/ByteRange" in p.read_bytes()}
    for name in signed_in_archive:  # the block went under "Ondertekening", as with LibreOffice's output
        assert find_anchor(pypdf.PdfReader(root.settings.outbox / "archief" / K / name)) is not None, name
    assert signed_in_archive and root.validation_reports() == {f"{n}.validatie.xml" for n in signed_in_archive}


class LeakingConverter(FakeConverter):
    """A converter (think: a template with the name in its properties) that writes the employee's name into the
    PDF's keywords: the privacy guard must stop it for the recipients who may not see it."""

    def convert(self, docx: bytes, *, metadata: PdfMetadata) -> bytes:
        return super().convert(docx, metadata=dataclasses.replace(metadata, keywords="Jansen"))


def test_a_finished_file_that_names_the_employee_is_quarantined_for_the_employer_only(tmp_path, shared_pki):
    from tests.conftest import Root
    root = Root(tmp_path / "root", converter=LeakingConverter(), pki=shared_pki)
    try:
        for i, ev in enumerate(full_case(kenmerk="QU-1"), start=1):
            root.drop(f"{i:02d}.json", ev)
        assert {o.status for o in root.run()} == {"processed"}
        records = root.store.deliveries("QU-1")
        quarantined = {(r.kind, r.party) for r in records if r.status == "quarantined"}
        assert ("doorbelasting-werkgever", "werkgever") in quarantined  # the employer's pass-on specification
        assert all(party in ("werkgever", "arbodienst") for _, party in quarantined), quarantined
        # the employer's copy is named by its invoice reference (issue 20), the archive's by the kenmerk
        employer_name = f"arbopraktijk-visser_{full_case(kenmerk='QU-1')[-1]['factuurnummer']}_doorbelasting-werkgever.pdf"
        assert employer_name not in root.mailboxes().get("werkgever", set())
        assert "QU-1_doorbelasting-werkgever.pdf" in root.mailboxes()["archief"]
        report = (root.settings.quarantine / "QU-1" /
                  f"werkgever_{employer_name}.report.txt").read_text("utf-8")
        assert "Keywords" in report or "XMP" in report, report
        assert "111222333" not in report
    finally:
        root.close()


class Killed(BaseException):
    """What kill -9 looks like from inside: nothing after this point runs."""


def test_a_crash_at_any_conversion_resumes_to_exactly_the_clean_result(tmp_path, shared_pki):
    from tests.conftest import Root
    files = [(f"CR-{i:02d}.json", ev) for i, ev in enumerate(full_case(kenmerk="CR-1"))]

    def fresh(name: str, converter) -> Root:
        root = Root(tmp_path / name, converter=converter, pki=shared_pki)
        for file_name, ev in files:
            root.drop(file_name, ev)
        return root

    counting = FakeConverter()
    clean = fresh("clean", counting)
    clean.run()
    clean.close()
    expected = snapshot(clean.path)
    assert len(expected["events"]) == 11 and expected["failed"] == []
    assert counting.conversions >= 10

    for kill_at in (1, 3, 6, 9, counting.conversions):  # the first, some in between, the very last document
        fake = FakeConverter()
        real_convert = fake.convert

        def dying(docx: bytes, *, metadata: PdfMetadata, _left=[kill_at]) -> bytes:
            _left[0] -= 1
            if _left[0] == 0:
                raise Killed()
            return real_convert(docx, metadata=metadata)

        fake.convert = dying
        crashed = fresh(f"crashed-{kill_at}", fake)
        with pytest.raises(Killed):
            crashed.run()
        crashed.close()
        resumed = Root(crashed.path, converter=FakeConverter(), pki=shared_pki)  # the watcher started again
        resumed.run()
        resumed.close()
        assert snapshot(crashed.path) == expected, f"killed at conversion {kill_at}"


# --- the frozen signing clock and the thread-leak guard -----------------------------------------------------------

def test_frozen_signing_clock_sets_the_signing_time_of_a_signature(frozen_signing_clock, fake_converter, keyring):
    pdf = fake_converter.convert(rich_docx(), metadata=METADATA)
    signed = PadesSigner().sign(pdf, identity=keyring.seal(), appearance=APPEARANCE, certify=True)
    out = pdfsig(signed)
    assert "Signature is Valid" in out, out
    when = re.search(r"Signing Time: (.*)", out).group(1)
    assert SIGNING_TIME.strftime("%b %d %Y %H:%M:%S") in when, when
    frozen_signing_clock.tick(3600)
    again = pdfsig(PadesSigner().sign(pdf, identity=keyring.seal(), appearance=APPEARANCE, certify=True))
    assert SIGNING_TIME.replace(hour=10).strftime("%b %d %Y %H:%M:%S") in again, again


def test_the_thread_leak_check_names_a_thread_left_running_and_passes_once_it_ends():
    before = set(threading.enumerate())
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, name="left-behind", daemon=True)
    thread.start()
    try:
        assert [t.name for t in leaked_threads(before, grace=0.1)] == ["left-behind"]
    finally:
        stop.set()
        thread.join()
    assert leaked_threads(before, grace=0.1) == []


@pytest.mark.watcher
def test_the_watcher_stops_with_all_its_threads(make_root):
    from pipeline.shell.watcher import watch
    root = make_root()
    stop = threading.Event()
    done = threading.Event()
    watcher = threading.Thread(target=watch, args=(root.pipeline,), kwargs=dict(
        settle=0.2, rescan=0.5, stop=stop, on_outcome=lambda outcome: done.set()), name="test-watch")
    watcher.start()
    root.drop("01.json", event("verzoek"))
    assert done.wait(timeout=30), "the watcher processed the file"
    stop.set()
    watcher.join(timeout=30)
    assert not watcher.is_alive()  # and the autouse guard (mark `watcher`) fails the test if its observer lingers
