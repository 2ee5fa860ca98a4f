"""No file can stop the pipeline: whatever one inbox file does while it is processed, it ends in inbox/failed/ with a
Dutch report and the files after it are processed; a file that keeps the process from finishing is resumed a
bounded number of times, then set aside. The attacks are reproduced as they were found (returned PDFs carrying a
document timestamp without a certificate, a 5,000-digit number, a name that is not UTF-8), then the general rule.

FakeConverter wiring (`make_root`), real signatures and real files; fictional case data only.
"""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.shell.app import OrderSigner
from pipeline.shell.runner import MAX_RESUMES
from pipeline.adapters.signing import PadesSigner
from tests.casefactory import event, full_case
from tests.hostile_pdfs import document_timestamp, scanned_form as _scan, without_certificates
from tests.mailbox_paths import mailbox
from tests.processed_roots import failure_report
from tests.appearances import AKKOORD

K = "SO-2026-0042"
VISSER = "39087654301"


def _case(root, *, upto: str, kenmerk: str = K) -> None:
    for i, ev in enumerate(full_case(kenmerk=kenmerk, upto=upto), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert all(o.status == "processed" for o in outcomes), [(o.file_name, o.detail) for o in outcomes]


def _good(kenmerk: str) -> dict:
    """A request that starts a new case: the file that must still be processed beside a hostile one."""
    return event("verzoek", kenmerk=kenmerk)


def _stage_is_empty(root) -> bool:
    stage = root.path / "state" / "intake"
    return not stage.exists() or not any(p for p in stage.rglob("*") if p.is_file())


def _by_name(outcomes) -> dict:
    return {o.file_name: o for o in outcomes}


# --- the attacks as found ------------------------------------------------------------------------------------

def test_a_consent_form_with_a_timestamp_without_certificate_is_refused_and_the_next_file_goes_on(make_root,
                                                                                                   keyring):
    root = make_root()
    _case(root, upto="aanvraag")
    form = without_certificates(document_timestamp(_scan(), keyring.seal()))
    name = f"{K}_machtiging-medische-gegevens.pdf"
    root.drop(name, form)
    root.drop("99-verzoek.json", _good("SO-2026-0077"))
    outcomes = _by_name(root.run())
    assert outcomes["99-verzoek.json"].status == "processed", outcomes["99-verzoek.json"].detail
    assert outcomes[name].status == "failed"
    report = failure_report(root, name)
    assert "NIET gearchiveerd" in report and "tijdstempel" in report, report
    assert (root.settings.inbox / "failed" / name).read_bytes() == form  # kept unchanged
    assert not (root.settings.outbox / "archief" / K / "machtiging-medische-gegevens-ondertekend.pdf").exists()
    assert _stage_is_empty(root)


@pytest.fixture
def held_root(make_root, keyring):
    """A case at its final advice, which waits unsigned for Dr. Visser (the pipeline does not sign it)."""
    root = make_root(signer=OrderSigner(keyring, auto_sign_doctors=False))
    _case(root, upto="definitief_advies")
    return root


def test_a_returned_advice_with_a_timestamp_without_certificate_fails_with_a_report(held_root, keyring):
    root = held_root
    unsigned = (mailbox(root, "so-bedrijfsarts", K) / "te-ondertekenen" / f"{K}_advies.pdf").read_bytes()
    signed = PadesSigner().sign(unsigned, identity=keyring.doctor(VISSER), appearance=AKKOORD)
    returned = without_certificates(document_timestamp(signed, keyring.seal()))
    name = f"{K}_advies-ondertekend.pdf"
    root.drop(name, returned)
    root.drop("99-verzoek.json", _good("SO-2026-0078"))
    outcomes = _by_name(root.run())
    assert outcomes["99-verzoek.json"].status == "processed", outcomes["99-verzoek.json"].detail
    assert outcomes[name].status == "failed", outcomes[name].detail
    report = failure_report(root, name)
    assert "NIET aangenomen" in report and "Traceback" not in report, report
    assert root.store.open_pending(), "the advice still waits for a valid signature"
    assert _stage_is_empty(root)


def test_a_case_file_with_a_five_thousand_digit_number_fails_with_a_report(make_root):
    root = make_root()
    text = json.dumps(event("verzoek", kenmerk="SO-2026-0080"))
    hostile = text[:-1] + ', "aantal": ' + "9" * 5000 + "}"
    root.drop("01-verzoek.json", hostile)
    root.drop("02-verzoek.json", _good("SO-2026-0081"))
    outcomes = _by_name(root.run())
    assert outcomes["02-verzoek.json"].status == "processed"
    assert outcomes["01-verzoek.json"].status == "failed"
    report = failure_report(root, "01-verzoek.json")
    assert "getal van 5000 tekens" in report and "NIET verwerkt" in report, report
    assert _stage_is_empty(root)


@pytest.mark.parametrize("number", ["1" + "0" * 60, "1e400", "-" + "7" * 41, "0." + "3" * 80, "NaN", "-Infinity"])
def test_every_overlong_or_endless_number_is_refused_in_dutch(number):
    from pipeline.errors import CaseFileError
    from pipeline.shell.intake import decode_case_file
    with pytest.raises(CaseFileError, match="getal"):
        decode_case_file(f'{{"n": {number}}}'.encode())


def test_a_file_whose_name_is_not_utf8_is_refused_under_an_escaped_name(make_root):
    root = make_root()
    raw_name = "01-verzoek-caf\udce9.json"  # "café" as Latin-1 bytes, as os.listdir shows them
    with open(os.fsencode(root.settings.inbox) + b"/01-verzoek-caf\xe9.json", "wb") as fh:
        fh.write(json.dumps(event("verzoek", kenmerk="SO-2026-0082")).encode())
    root.drop("02-verzoek.json", _good("SO-2026-0083"))
    outcomes = _by_name(root.run())
    shown = "01-verzoek-caf\\xe9.json"
    assert raw_name not in outcomes
    assert outcomes["02-verzoek.json"].status == "processed"
    assert outcomes[shown].status == "failed"
    report = failure_report(root, shown)
    assert "geen geldige UTF-8-tekst" in report and shown in report, report
    assert (root.settings.inbox / "failed" / shown).exists()
    assert _stage_is_empty(root)
    # the operator's view of the failures names it too, without an encoding error
    result = CliRunner().invoke(cli, ["status", "--root", str(root.path), "--json"])
    assert result.exit_code == 0, result.output
    assert shown in [f["file_name"] for f in json.loads(result.output)["mislukte_bestanden"]], result.output


def test_a_name_at_the_file_systems_limit_is_shortened_so_its_report_fits(make_root):
    root = make_root()
    name = "01-verzoek-" + "é" * 119 + ".json"  # 254 bytes: no room for ".error.txt"
    root.drop(name, b"{ dit is geen json")
    root.drop("02-verzoek.json", _good("SO-2026-0079"))
    outcomes = root.run()
    [outcome] = [o for o in outcomes if o.file_name.startswith("01-verzoek-")]
    assert outcome.status == "failed" and outcome.file_name.endswith("….json")
    assert len(outcome.file_name.encode()) <= 255 - 32
    assert "geen geldige JSON" in failure_report(root, outcome.file_name)
    assert _stage_is_empty(root)


# --- the rule: whatever goes wrong inside, the file is set aside and the loop goes on -------------------------

@pytest.mark.parametrize("where", ["decide", "record", "deliver"])
def test_an_internal_error_sets_the_file_aside_with_a_report_and_the_loop_goes_on(make_root, monkeypatch, where):
    root = make_root()
    pipeline = root.pipeline
    target = {"decide": (pipeline._case_files, "decide"), "record": (pipeline._case_files, "record"),
              "deliver": (pipeline, "_deliver")}[where]
    original = getattr(*target)

    def broken(*args, **kwargs):
        # decide/record get the intake, _deliver the decision: either way only the first file's case breaks
        kenmerk = args[0].state.kenmerk if where == "deliver" else args[0].kenmerk
        if kenmerk == "SO-2026-0084":
            raise KeyError("een fout die niemand voorzag")
        return original(*args, **kwargs)
    monkeypatch.setattr(*target, broken)
    root.drop("01-verzoek.json", event("verzoek", kenmerk="SO-2026-0084"))
    root.drop("02-verzoek.json", _good("SO-2026-0085"))
    outcomes = _by_name(root.run())
    assert outcomes["01-verzoek.json"].status == "failed"
    assert outcomes["02-verzoek.json"].status == "processed", outcomes["02-verzoek.json"].detail
    report = failure_report(root, "01-verzoek.json")
    assert "Interne fout" in report and "KeyError" in report and "ongewijzigd bewaard" in report, report
    assert "Beheerder" in report and "Secretariaat" in report
    assert "niemand voorzag" not in report  # the exception's own (English, possibly personal) text stays out
    assert (root.settings.inbox / "failed" / "01-verzoek.json").read_bytes() == \
        json.dumps(event("verzoek", kenmerk="SO-2026-0084"), ensure_ascii=False, indent=2).encode()
    assert _stage_is_empty(root)


def test_an_error_while_reading_sets_the_file_aside(make_root, monkeypatch):
    root = make_root()
    import pipeline.shell.intake as intake

    def crash(raw):
        raise MemoryError
    monkeypatch.setattr(intake, "decode_case_file", crash)
    root.drop("01-verzoek.json", _good("SO-2026-0086"))
    [outcome] = root.run()
    assert outcome.status == "failed"
    assert "Interne fout" in failure_report(root, "01-verzoek.json")
    assert _stage_is_empty(root)


class _Killed(BaseException):
    """Stands in for the process dying (a segfault, the OOM killer, a kill -9) while a file is in progress."""


def test_a_file_that_keeps_killing_the_process_is_resumed_a_bounded_number_of_times(make_root, monkeypatch):
    root = make_root()
    root.drop("01-verzoek.json", _good("SO-2026-0087"))
    root.drop("02-verzoek.json", _good("SO-2026-0088"))
    original = root.pipeline._carry_out

    def dies_on_the_first(intake, work):  # once its processing started (journaled)
        if intake.name == "01-verzoek.json":
            raise _Killed
        return original(intake, work)
    monkeypatch.setattr(root.pipeline, "_carry_out", dies_on_the_first)
    with pytest.raises(_Killed):  # the first run: the process dies with 01 in progress
        root.run()
    for _ in range(MAX_RESUMES):  # each start resumes it first, and dies again
        with pytest.raises(_Killed):
            root.run()
    outcomes = _by_name(root.run())  # the next start sets it aside instead of trying again
    assert outcomes["01-verzoek.json"].status == "failed"
    assert outcomes["01-verzoek.json"].kenmerk == "SO-2026-0087"
    assert (root.settings.inbox / "processed" / "02-verzoek.json").exists()  # another case: never held up
    report = failure_report(root, "01-verzoek.json")
    assert f"{MAX_RESUMES + 1} keer achter elkaar" in report and "ongewijzigd bewaard" in report, report
    assert _stage_is_empty(root)
    assert root.run() == []  # no restart loop: nothing is left to resume


def test_a_returned_pdf_that_kills_the_process_while_it_is_read_is_resumed_a_bounded_number_of_times(
        make_root, monkeypatch):
    """A returned PDF is read as a PDF (pypdf, pyHanko) only after the journal recorded its start, so a file that
    kills the process in that reading is counted like any other and set aside, never read at every restart."""
    root = make_root()
    name, scan = f"{K}_advies-ondertekend.pdf", _scan()
    root.drop(name, scan)
    root.drop("02-verzoek.json", _good("SO-2026-0090"))
    reader = root.pipeline.return_reader

    class Deadly:
        def read(self, raw, **kw):
            raise _Killed
    monkeypatch.setattr(root.pipeline, "return_reader", Deadly())
    with pytest.raises(_Killed):
        root.run()
    for _ in range(MAX_RESUMES):
        with pytest.raises(_Killed):
            root.run()
    monkeypatch.setattr(root.pipeline, "return_reader", reader)
    outcomes = _by_name(root.run())
    assert outcomes[name].status == "failed"
    assert (root.settings.inbox / "processed" / "02-verzoek.json").exists()
    report = failure_report(root, name)
    assert f"{MAX_RESUMES + 1} keer achter elkaar" in report and "ongewijzigd bewaard" in report, report
    assert (root.settings.inbox / "failed" / name).read_bytes() == scan
    assert _stage_is_empty(root)


def test_a_file_interrupted_once_is_resumed_and_processed(make_root, monkeypatch):
    root = make_root()
    root.drop("01-verzoek.json", _good("SO-2026-0089"))
    original = root.pipeline._carry_out
    calls = []

    def dies_once(intake, work):
        calls.append(intake.name)
        if len(calls) == 1:
            raise _Killed
        return original(intake, work)
    monkeypatch.setattr(root.pipeline, "_carry_out", dies_once)
    with pytest.raises(_Killed):
        root.run()
    [outcome] = root.run()
    assert outcome.status == "processed", outcome.detail
    assert root.store.journal_interrupted(outcome_sha(root, "01-verzoek.json")) == 0  # ended: the count is done


def outcome_sha(root, name: str) -> str:
    import hashlib
    return hashlib.sha256((root.settings.inbox / "processed" / name).read_bytes()).hexdigest()


def test_a_file_only_waiting_in_the_stage_is_not_counted_as_interrupted(make_root, monkeypatch):
    """A batch is taken into the stage at once; a kill stops it with many files staged that never started. Those
    are resumed as often as it takes: only a file whose processing started counts."""
    root = make_root()
    for i in range(3):
        root.drop(f"0{i}-verzoek.json", _good(f"SO-2026-009{i}"))
    monkeypatch.setattr(root.pipeline, "_process_intake", lambda intake: (_ for _ in ()).throw(_Killed()))
    for _ in range(MAX_RESUMES + 3):  # the process dies before any file starts, again and again
        with pytest.raises(_Killed):
            root.run()
    monkeypatch.undo()
    outcomes = root.run()
    assert sorted(o.status for o in outcomes) == ["processed"] * 3, [(o.file_name, o.detail) for o in outcomes]


# --- the archive commands: a bad document is a finding, the others are still handled ---------------------------

def test_archive_renew_export_and_verify_report_a_bad_archived_form_and_go_on(make_root, keyring, tmp_path):
    root = make_root()
    _case(root, upto="aanvraag")
    archive = root.settings.outbox / "archief" / K
    bad = archive / "machtiging-medische-gegevens-ondertekend.pdf"
    # as it was archived before the intake refused such forms
    bad.write_bytes(without_certificates(document_timestamp(_scan(), keyring.seal())))
    runner = CliRunner()
    renew = runner.invoke(cli, ["archive", "renew", "--root", str(root.path), "--dry-run"])
    assert renew.exception is None or isinstance(renew.exception, SystemExit), renew.output
    assert "machtiging-medische-gegevens-ondertekend.pdf" in renew.output and "not renewed" in renew.output, \
        renew.output
    out = tmp_path / f"{K}.zip"
    export = runner.invoke(cli, ["archive", "export", K, "--root", str(root.path), "--out", str(out)])
    assert export.exit_code == 0, export.output
    verify = runner.invoke(cli, ["archive", "verify", str(out), "--trust", str(root.settings.pki_dir / "ca.pem")])
    assert verify.exception is None or isinstance(verify.exception, SystemExit), verify.output
    assert verify.exit_code != 0
    assert "machtiging-medische-gegevens-ondertekend.pdf" in verify.output and "tijdstempel" in verify.output, \
        verify.output
    # that document is the one problem; the sealed documents beside it were checked as usual
    import re
    assert "NIET OK (1 problemen)" in verify.output, verify.output
    assert int(re.search(r"(\d+) controles geslaagd", verify.output).group(1)) > 1


def test_sopipe_verify_names_a_timestamp_without_certificate(keyring, shared_pki, tmp_path):
    bad = tmp_path / "formulier.pdf"
    bad.write_bytes(without_certificates(document_timestamp(_scan(), keyring.seal())))
    result = CliRunner().invoke(cli, ["verify", str(bad), "--trust", str(shared_pki / "ca.pem")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "NIET GELDIG" in result.output and "archieftijdstempel onleesbaar" in result.output, result.output
