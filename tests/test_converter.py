"""UnoConverterPool against a real LibreOffice: PDF/A-2b output, deliberate metadata, and worker lifecycle
(timeouts, crashes, recycling). Slow-ish: deselect with `-m "not libreoffice"`.
"""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from pathlib import Path

import psutil
import pypdf
import pytest

from pipeline.adapters.converter import PdfMetadata, UnoConverterPool, find_uno_python
from pipeline.errors import ConversionError
from tests.conversion_samples import METADATA, TEMPLATE_SECRETS, libreoffice, make_docx
from tests.pdfs import leaks, pdf_text, xmp

pytestmark = pytest.mark.timeout(180)  # a hang must fail the test, not the CI job


def gone(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE  # orphans may wait for a busy init
    except psutil.NoSuchProcess:
        return True


def wait_until(condition, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("uno-scratch")


@pytest.fixture(scope="module")
def pool(scratch):
    with UnoConverterPool(workers=2, timeout=60, scratch_dir=scratch) as shared:
        yield shared


@pytest.fixture
def hang_file(tmp_path, monkeypatch) -> Path:
    """Each request that finds a number > 0 here decrements it and hangs (worker test hook)."""
    path = tmp_path / "hang"
    path.write_text("0")
    monkeypatch.setenv("SOPIPE_UNO_TEST_HOOKS", "1")
    monkeypatch.setenv("SOPIPE_UNO_TEST_HANG_FILE", str(path))
    return path


@libreoffice
def test_converts_to_pdf_with_the_documents_text(pool):
    pdf = pool.convert(make_docx("De werknemer is volgens de bedrijfsarts arbeidsongeschikt."), metadata=METADATA)

    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Adviesrapport" in text
    assert "arbeidsongeschikt" in text


@libreoffice
def test_pdf_metadata_is_the_given_metadata_not_the_templates(pool):
    pdf = pool.convert(make_docx("Inhoud."), metadata=METADATA)

    info = pypdf.PdfReader(io.BytesIO(pdf)).metadata
    assert info["/Title"] == METADATA.title
    assert info["/Author"] == METADATA.author
    assert info["/Subject"] == METADATA.subject
    assert info["/Keywords"] == METADATA.keywords
    assert METADATA.title in xmp(pdf)
    for secret in TEMPLATE_SECRETS.values():
        assert not leaks(pdf, secret), secret


@libreoffice
def test_pdf_is_pdfa_2b(pool):
    pdf = pool.convert(make_docx("Inhoud."), metadata=METADATA)

    metadata = xmp(pdf)
    assert "<pdfaid:part>2</pdfaid:part>" in metadata
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in metadata


@libreoffice
def test_rejects_bytes_that_are_not_a_docx_and_keeps_working(pool):
    with pytest.raises(ConversionError):
        pool.convert(b"", metadata=METADATA)
    broken_zip = make_docx("Inhoud.")[:2000]
    with pytest.raises(ConversionError, match="could not convert"):
        pool.convert(broken_zip, metadata=METADATA)

    assert pool.convert(make_docx("Nog steeds goed."), metadata=METADATA).startswith(b"%PDF-")


@libreoffice
def test_concurrent_conversions_each_get_their_own_result(pool):
    texts = ["Eerste document over verzuim.", "Tweede document over re-integratie."]
    results: dict[int, bytes | BaseException] = {}

    def run(i: int) -> None:
        try:
            results[i] = pool.convert(make_docx(texts[i]), metadata=PdfMetadata(title=f"Doc {i}", author="A"))
        except BaseException as exc:  # surfaced by the assertions below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for i, text in enumerate(texts):
        assert isinstance(results[i], bytes), results[i]
        assert text.split()[0] in pdf_text(results[i])
        assert pypdf.PdfReader(io.BytesIO(results[i])).metadata["/Title"] == f"Doc {i}"


@libreoffice
def test_temporary_files_are_removed_after_each_conversion(pool, scratch):
    pool.convert(make_docx("Inhoud."), metadata=METADATA)

    assert list(scratch.glob("*/jobs/*")) == []


@libreoffice
def test_hung_worker_is_killed_and_the_job_retried(hang_file, tmp_path):
    with UnoConverterPool(workers=1, timeout=3, retries=1, scratch_dir=tmp_path) as pool:
        (hung,) = pool.workers_info()
        hung_processes = [hung.pid, *(p.pid for p in psutil.Process(hung.pid).children(recursive=True))]
        hang_file.write_text("1")  # the first attempt hangs, the retry does not

        started = time.monotonic()
        pdf = pool.convert(make_docx("Na een hang."), metadata=METADATA)

        assert time.monotonic() - started >= 3
        assert "hang" in pdf_text(pdf)
        assert all(wait_until(lambda: gone(pid)) for pid in hung_processes)  # soffice killed with its worker
        assert pool.workers_info()[0].pid != hung.pid


@libreoffice
def test_worker_hanging_on_every_attempt_gives_conversion_error_then_pool_recovers(hang_file, tmp_path):
    with UnoConverterPool(workers=1, timeout=2, retries=1, scratch_dir=tmp_path) as pool:
        hang_file.write_text("2")  # both attempts hang

        with pytest.raises(ConversionError, match="failed 2 times"):
            pool.convert(make_docx("Hangt altijd."), metadata=METADATA)

        assert pool.convert(make_docx("Weer goed."), metadata=METADATA).startswith(b"%PDF-")


@libreoffice
def test_worker_whose_soffice_is_killed_is_replaced(tmp_path):
    with UnoConverterPool(workers=1, scratch_dir=tmp_path) as pool:
        pool.convert(make_docx("Voor."), metadata=METADATA)
        (before,) = pool.workers_info()
        soffice = [p for p in psutil.Process(before.pid).children(recursive=True) if p.name() == "soffice.bin"]
        assert soffice, "no soffice.bin under the worker"

        os.kill(soffice[0].pid, signal.SIGKILL)
        assert wait_until(lambda: gone(before.pid))  # the worker notices and exits

        pdf = pool.convert(make_docx("Na de crash."), metadata=METADATA)
        assert "crash" in pdf_text(pdf)
        assert pool.workers_info()[0].pid not in (None, before.pid)


@libreoffice
def test_worker_is_recycled_after_max_conversions(tmp_path):
    with UnoConverterPool(workers=1, max_conversions=2, scratch_dir=tmp_path) as pool:
        first = pool.workers_info()[0].pid
        pool.convert(make_docx("Een."), metadata=METADATA)
        assert pool.workers_info()[0].pid == first
        pool.convert(make_docx("Twee."), metadata=METADATA)

        pool.convert(make_docx("Drie."), metadata=METADATA)  # waits for the replacement

        assert pool.workers_info()[0].pid not in (None, first)
        assert wait_until(lambda: gone(first))


@libreoffice
def test_worker_is_recycled_above_the_memory_threshold(tmp_path):
    with UnoConverterPool(workers=1, max_rss_mb=1, scratch_dir=tmp_path) as pool:
        first = pool.workers_info()[0].pid

        pool.convert(make_docx("Een."), metadata=METADATA)  # every worker is above 1 MiB

        assert wait_until(lambda: pool.workers_info()[0].pid not in (None, first))  # replaced in the background
        assert wait_until(lambda: gone(first))


@libreoffice
def test_close_stops_every_process_and_removes_scratch_files(tmp_path):
    pool = UnoConverterPool(workers=2, scratch_dir=tmp_path)
    pool.convert(make_docx("Inhoud."), metadata=METADATA)  # starts lazily
    processes = [pid for info in pool.workers_info()
                 for pid in (info.pid, *(p.pid for p in psutil.Process(info.pid).children(recursive=True)))]

    pool.close()

    assert all(wait_until(lambda: gone(pid)) for pid in processes)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ConversionError, match="closed"):
        pool.convert(make_docx("Te laat."), metadata=METADATA)


def test_missing_uno_python_names_the_packages_to_install(tmp_path):
    not_python = tmp_path / "python3"
    not_python.write_text("#!/bin/sh\nexit 1\n")
    not_python.chmod(0o755)

    with pytest.raises(ConversionError, match="apt-get install python3-uno libreoffice-writer-nogui"):
        find_uno_python(str(not_python))
