"""The archive's ETSI validation reports, made after delivery in the background (`ValidatingMailboxes(ledger=)`).

A delivery records the report as owed and returns; a writer thread writes it and strikes it off. What a crash
leaves owed is made at the next start; a PDF changed or removed meanwhile is struck off without a report.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from pipeline.adapters.signing import PadesSigner
from pipeline.adapters.store import ReportDue, Store
from pipeline.core.routing import Party
from pipeline.shell import validation_reports
from pipeline.shell.validation_reports import REPORT_SUFFIX, ValidatingMailboxes
from tests.pdfs import minimal_pdf
from tests.appearances import SEAL

K = "SO-2026-0042"
NAME = f"{K}_advies.pdf"


@pytest.fixture(scope="module")
def signed(keyring) -> bytes:
    return PadesSigner().sign(minimal_pdf([[(72, 400, "Ondertekening")]]), identity=keyring.seal(),
                              appearance=SEAL, certify=True, level="B-B")


def _boxes(tmp_path: Path, shared_pki: Path, store: Store, **kw) -> ValidatingMailboxes:
    return ValidatingMailboxes(tmp_path / "outbox", trust_roots=[shared_pki / "ca.pem"], ledger=store, **kw)


def _report(tmp_path: Path) -> Path:
    return tmp_path / "outbox" / "archief" / K / (NAME + REPORT_SUFFIX)


def test_delivery_returns_before_its_report_and_drain_waits_for_it(tmp_path, shared_pki, signed, monkeypatch):
    release = threading.Event()
    real = validation_reports.validation_xml

    def held(*args, **kw):
        assert release.wait(30)
        return real(*args, **kw)

    monkeypatch.setattr(validation_reports, "validation_xml", held)
    store = Store(tmp_path / "state.db")
    boxes = _boxes(tmp_path, shared_pki, store)
    try:
        target = boxes.deliver(Party.ARCHIEF, K, NAME, signed)
        assert target.read_bytes() == signed
        assert not _report(tmp_path).exists(), "the delivery waited for its report"
        assert [d.file_name for d in store.reports_due()] == [NAME]
        release.set()
        boxes.drain()
        assert b"ValidationReport" in _report(tmp_path).read_bytes()
        assert store.reports_due() == []
    finally:
        release.set()
        boxes.close()
        store.close()


def test_unsigned_and_non_archive_deliveries_owe_no_report(tmp_path, shared_pki, signed):
    store = Store(tmp_path / "state.db")
    boxes = _boxes(tmp_path, shared_pki, store)
    try:
        boxes.deliver(Party.WERKNEMER, K, NAME, signed)
        boxes.deliver(Party.ARCHIEF, K, f"{K}_brief.pdf", minimal_pdf([[(72, 400, "Brief")]]))
        assert store.reports_due() == []
        boxes.drain()
        assert not list((tmp_path / "outbox").rglob(f"*{REPORT_SUFFIX}"))
    finally:
        boxes.close()
        store.close()


def test_a_report_owed_by_a_killed_pipeline_is_made_at_the_next_start(tmp_path, shared_pki, signed):
    """kill -9 after the delivery, before the report: the ledger in the state database still owes it."""
    pdf = tmp_path / "signed.pdf"
    pdf.write_bytes(signed)
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from pipeline.adapters.store import Store\n"
        "from pipeline.core.routing import Party\n"
        "from pipeline.shell import validation_reports\n"
        "validation_reports.validation_xml = lambda *a, **k: time.sleep(600)\n"  # never done in time
        "store = Store(Path(sys.argv[1]) / 'state.db')\n"
        "boxes = validation_reports.ValidatingMailboxes(Path(sys.argv[1]) / 'outbox',\n"
        "    trust_roots=[Path(sys.argv[2])], ledger=store)\n"
        f"boxes.deliver(Party.ARCHIEF, '{K}', '{NAME}', Path(sys.argv[3]).read_bytes())\n"
        "print('delivered', flush=True)\n"
        "time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path), str(shared_pki / "ca.pem"), str(pdf)],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    try:
        assert proc.stdout.readline().strip() == "delivered"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not _report(tmp_path).exists()
    store = Store(tmp_path / "state.db")
    boxes = _boxes(tmp_path, shared_pki, store)
    try:
        assert boxes.resume() == 1
        boxes.drain()
        assert b"ValidationReport" in _report(tmp_path).read_bytes()
        assert store.reports_due() == []
    finally:
        boxes.close()
        store.close()


def test_an_owed_report_of_a_changed_or_removed_pdf_is_struck_off_without_a_report(tmp_path, shared_pki, signed):
    store = Store(tmp_path / "state.db")
    folder = tmp_path / "outbox" / "archief" / K
    folder.mkdir(parents=True)
    (folder / NAME).write_bytes(signed + b"\n% changed afterwards\n")
    store.report_due(ReportDue(K, NAME, None, (), hashlib.sha256(signed).hexdigest()))
    store.report_due(ReportDue(K, f"{K}_weg.pdf", None, (), hashlib.sha256(b"gone").hexdigest()))
    boxes = _boxes(tmp_path, shared_pki, store)
    try:
        assert boxes.resume() == 0
        boxes.drain()
        assert store.reports_due() == [] and not _report(tmp_path).exists()
    finally:
        boxes.close()
        store.close()


def test_the_pipeline_wiring_makes_reports_in_niced_children_and_watch_once_leaves_none_owed(make_root):
    from tests.casefactory import full_case
    root = make_root()
    assert root.pipeline.mailboxes._ledger is root.store
    for i, ev in enumerate(full_case(upto="aanvraag"), start=1):
        root.drop(f"{i:02d}.json", ev)
    assert {o.status for o in root.run()} == {"processed"}
    signed_in_archive = {p.name for p in (root.settings.outbox / "archief").rglob("*.pdf")
                         if b"/ByteRange" in p.read_bytes()}
    assert signed_in_archive and root.validation_reports() == {n + REPORT_SUFFIX for n in signed_in_archive}
    assert root.store.reports_due() == []


# --- a validation made already travels with the PDF ---------------------------------------------------------------

@pytest.mark.parametrize("background", [True, False])
def test_a_validation_of_exactly_these_bytes_is_the_report_and_any_other_is_not(tmp_path, shared_pki, signed,
                                                                                   monkeypatch, background):
    """A returned PDF validated on arrival brings its validation along: the archive's report is made from it, not
    from a second validation. A validation of other bytes (the PDF upgraded since) or against other trust roots is
    not the report of this delivery: the PDF is validated again."""
    from pipeline.adapters.validation import Validation, verify_pdf
    roots = (shared_pki / "ca.pem",)
    digest = hashlib.sha256(signed).hexdigest()
    known = Validation(verify_pdf(signed, trust_roots=roots), roots, digest)
    validated = []
    real = validation_reports.validation_xml

    def counted(*args, **kw):
        validated.append(args[1])
        return real(*args, **kw)

    monkeypatch.setattr(validation_reports, "validation_xml", counted)
    store = Store(tmp_path / "state.db")
    boxes = _boxes(tmp_path, shared_pki, store) if background else \
        ValidatingMailboxes(tmp_path / "outbox", trust_roots=list(roots))
    try:
        boxes.deliver(Party.ARCHIEF, K, NAME, signed, sha256=digest, validation=known)
        boxes.drain()
        assert validated == [] and "total-passed" in _report(tmp_path).read_text("utf-8")
        assert digest in _report(tmp_path).read_text("utf-8")
        other = [Validation(known.report, roots, "0" * 64),  # of other bytes
                 Validation(known.report, (shared_pki / "elsewhere.pem",), digest)]  # against other roots
        for i, validation in enumerate(other):
            boxes.deliver(Party.ARCHIEF, K, f"{K}_advies-{i}.pdf", signed, sha256=digest, validation=validation)
        boxes.drain()
        assert validated == [f"{K}_advies-0.pdf", f"{K}_advies-1.pdf"]
    finally:
        boxes.close()
        store.close()


def test_children_passed_in_make_the_reports_and_outlive_the_mailboxes(tmp_path, shared_pki, signed):
    """`pool=`: the validation children of another owner (the tests share one over the session) make the report
    in a child process, and closing the mailboxes leaves them running for the next root."""
    import os

    from tests.conftest import shared_validators
    pool = shared_validators()
    children, submitted = set(pool._processes), pool._queue_count  # the pool's own records
    store = Store(tmp_path / "state.db")
    boxes = _boxes(tmp_path, shared_pki, store, pool=pool)
    try:
        boxes.deliver(Party.ARCHIEF, K, NAME, signed)
        boxes.drain()
        assert b"ValidationReport" in _report(tmp_path).read_bytes() and store.reports_due() == []
        assert pool._queue_count == submitted + 1, "the report was not made by the children passed in"
    finally:
        boxes.close()
        store.close()
    assert pool.submit(os.getpid).result() in set(pool._processes) - {os.getpid()}
    assert children <= set(pool._processes), "closing the mailboxes stopped children it does not own"
