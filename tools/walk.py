"""The walk of a case file: which rooms of the house each inbox file enters, in which order, and how often it is
read, parsed and hashed on the way from the watcher to delivery.

Each case file of the example case is dropped alone into the inbox of a fresh DEMO root, wired as `sopipe watch`
wires it (`signing_services`, `open_pipeline`) but with the FakeConverter instead of LibreOffice, and processed by
the watcher's `run_once`. While that file is processed, a profile hook (`sys.setprofile`, in every thread)
notes each call of the functions that make up a room, and a few counters:

    rooms        watcher, stage (taken out of the inbox, read once), journal, decide, make (render + convert),
                 sign, guard, deliver, record, move — a room is noted when it is entered from another room
                 (the archive's validation report of a signed PDF is written afterwards by a background
                 writer, `ValidatingMailboxes`, through `Mailboxes.write`: not a room of the file's walk)
    read         calls that read the file's bytes (`Path.read_bytes`/`read_text` of it, `safefs.read_at` of it)
    parsed       `json.loads` of exactly its bytes or text
    sha256       `hashlib.sha256` over exactly its bytes (hashlib.sha256 is wrapped: a C function has no frame)
    pdf_hashed   per delivered PDF, how often `hashlib.sha256` ran over its bytes: the most for any one PDF
    validated    `model.parse_event` of stored payloads (pydantic), i.e. other than the file's own
    folds        `procedure.fold` calls (a fold re-applies every stored event of a case)
    consent      consent checks of deliveries (`CaseState.heeft_toestemming` from the runner's delivery, and
                 the guard's `privacy.consent_hits`), against `deliveries` (copies delivered, withheld or held)

The walk of a returned signed PDF (`--returned`): the example case is taken to the final advice on a root where
doctors sign themselves (`auto_sign_doctors = false`), Dr. Visser signs the advice waiting in te-ondertekenen/ as
`sopipe sign --p12 …` does (at the root's level, or `--signed-level`), and that signed PDF is walked from the
watcher to delivery (`--document machtiging`: the consent form the employee signed electronically instead). Besides the rooms and the reads it counts

    name_parsed  parses of its file name (`<kenmerk>_advies….pdf`, `<kenmerk>_machtiging-….pdf`; the outermost
                 call of a name parser, so one parser calling another is one parse)
    pypdf        `pypdf.PdfReader` over exactly its bytes
    pyhanko      pyHanko `PdfFileReader` over exactly its bytes (the check's reading; the archive upgrade's
                 reading of it to append to it is counted too)
    validated    pyHanko validations (`verify_pdf`, in this process, or `validation_xml` handed to a validation
                 child) of its bytes or of its bytes grown by the archive upgrade (B-LTA): `validated_as` names
                 which (`file`, `upgraded`)
    modules      the shell modules entered, in order (a module is noted when entered from another), and
                 `runner_returns`: how often the flow went from the runner to the returns module and back

Usage:
    python tools/walk.py                         # this tree, the example case, a table
    python tools/walk.py --tree /path/to/other   # another checkout of sopipe (e.g. an older commit)
    python tools/walk.py --json                  # one JSON object per file (for tests)
    python tools/walk.py --returned              # a returned signed PDF instead (with --json: one object)
    python tools/walk.py --returned --signed-level B-B   # signed below the root's level: upgraded on arrival
    python tools/walk.py --returned --document machtiging   # the employee's signed consent form coming back
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

ROOMS = ("watcher", "stage", "journal", "read", "decide", "make", "sign", "guard", "deliver", "record", "move")
"""`read`: a returned PDF read as a PDF, once, before its checks (a tree from before that room reads it in decide)."""

# (module, qualified name) -> room; a name a version of the code does not have is simply not watched
TARGETS = {
    ("pipeline.shell.watcher", "run_once"): "watcher",
    ("pipeline.shell.watcher", "process_batch"): "watcher",
    ("pipeline.shell.watcher", "stable_files"): "watcher",
    ("pipeline.shell.watcher", "_case_key"): "watcher",
    ("pipeline.shell.runner", "inbox_files"): "watcher",
    ("pipeline.shell.watcher", "inbox_files"): "watcher",
    ("pipeline.shell.runner", "peek_event"): "watcher",
    ("pipeline.shell.intake", "Stage.take"): "stage",
    ("pipeline.shell.intake", "Stage.read"): "stage",
    ("pipeline.shell.intake", "read_intake"): "stage",
    ("pipeline.shell.runner", "Pipeline._intake"): "stage",
    ("pipeline.shell.runner", "Pipeline._parse"): "stage",
    ("pipeline.shell.intake", "decode_case_file"): "stage",
    ("pipeline.adapters.store", "Store.journal_status"): "journal",
    ("pipeline.adapters.store", "Store.journal_start"): "journal",
    ("pipeline.adapters.store", "Store.journal_file_name"): "journal",
    ("pipeline.shell.runner", "Pipeline.case_state"): "decide",
    ("pipeline.core.procedure", "decide"): "decide",
    ("pipeline.core.signatures", "hold_for_signature"): "decide",
    ("pipeline.core.signatures", "returned_signed"): "decide",
    ("pipeline.shell.runner", "ReturnedPdfWork.decide"): "decide",
    ("pipeline.shell.runner", "ConsentFormWork.decide"): "decide",
    ("pipeline.adapters.renderer", "DocxRenderer.render"): "make",
    ("pipeline.adapters.fake_converter", "FakeConverter.convert"): "make",
    ("pipeline.shell.app", "OrderSigner.sign"): "sign",
    ("pipeline.shell.guard", "PrivacyGuard.check"): "guard",
    ("pipeline.adapters.mailbox", "Mailboxes.deliver"): "deliver",
    ("pipeline.shell.validation_reports", "ValidatingMailboxes.deliver"): "deliver",
    ("pipeline.adapters.store", "Store.accept"): "record",
    ("pipeline.adapters.store", "Store.complete_pending"): "record",
    ("pipeline.adapters.store", "Store.record_document"): "record",
    ("pipeline.shell.intake", "Stage.move_on"): "move",
}


# a returned PDF: the functions that parse its name, read it as a PDF or validate it, in any version of the tree
RETURN_TARGETS = {
    ("pipeline.shell.runner", "Pipeline.read_returned"): "read",
    ("pipeline.shell.runner", "ReturnedPdfWork.decide"): "decide",
    ("pipeline.shell.runner", "ConsentFormWork.decide"): "decide",
    ("pipeline.shell.app", "OrderSigner.extend"): "sign",
}
NAME_PARSERS = {
    ("pipeline.core.signatures", "kenmerk_from_file_name"), ("pipeline.shell.returns", "consent_form_of"),
    ("pipeline.shell.returns", "kind_of"), ("pipeline.shell.intake", "_case_of_pdf"),
    ("pipeline.core.returns", "consent_form_of"), ("pipeline.core.returns", "returned_name"),
}
PDF_READERS = {("pypdf", "PdfReader.__init__"): "pypdf",
               ("pyhanko.pdf_utils.reader", "PdfFileReader.__init__"): "pyhanko"}
VALIDATIONS = {("pipeline.adapters.validation", "verify_pdf"): "verify",
               ("pipeline.adapters.validation", "verify_and_read"): "verify",
               ("concurrent.futures.process", "ProcessPoolExecutor.submit"): "submit"}


class Walker:
    """The profile hook and the counters of the file being walked."""

    def __init__(self, codes: dict, special: dict) -> None:
        self.codes = codes
        """code object -> room."""
        self.special = special
        """code object -> counter name (reads, parses, validations, folds, consent checks)."""
        self.lock = threading.Lock()
        self.active = False

    def start(self, name: str, raw: bytes) -> None:
        self.name, self.raw = name, raw
        self.pdf = raw[:5] == b"%PDF-"
        self.text = None if self.pdf else raw.decode("utf-8-sig")
        self.data = None if self.pdf else json.loads(self.text)
        self.rooms: list[str] = []
        self.modules: list[str] = []
        self.validated_as: list[str] = []
        self.counts: collections.Counter = collections.Counter()
        self.pdf_hashes: collections.Counter = collections.Counter()
        self.active = True

    def stop(self) -> None:
        self.active = False

    def profile(self, frame, event, arg) -> None:
        if event != "call" or not self.active:
            return
        code = frame.f_code
        if self.pdf:
            self._module(frame)
        room = self.codes.get(code)
        if room is not None:
            with self.lock:
                if not self.rooms or self.rooms[-1] != room:
                    self.rooms.append(room)
            if room not in ("read", "decide", "sign"):  # the returned PDF's own functions also count below
                return
        what = self.special.get(code)
        if what is not None:
            self._count(what, frame)

    def _module(self, frame) -> None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("pipeline.shell."):
            return
        short = module.removeprefix("pipeline.shell.")
        with self.lock:
            if not self.modules or self.modules[-1] != short:
                self.modules.append(short)

    def _count(self, what: str, frame) -> None:
        loc = frame.f_locals
        if what == "read_path":
            hit = getattr(loc.get("self"), "name", None) == self.name
            what = "read"
        elif what == "read_at":
            hit = loc.get("name") == self.name
            what = "read"
        elif what == "parse":
            s = loc.get("s")
            hit = s == self.raw or s == self.text
        elif what == "validate":
            hit = loc.get("data") != self.data  # the file's own event is validated once, by design
        elif what == "consent":
            hit = frame.f_back is not None and frame.f_back.f_code.co_name == "_deliver"
        elif what == "name":
            outer = frame.f_back is None or self.special.get(frame.f_back.f_code) != "name"
            hit = outer and self.name in [v for v in loc.values() if isinstance(v, str)]
            what = "name_parsed"
        elif what in ("pypdf", "pyhanko"):
            stream = loc.get("stream")
            hit = hasattr(stream, "getvalue") and stream.getvalue() == self.raw
        elif what in ("verify", "submit"):
            data = loc.get("pdf") if what == "verify" else (loc.get("args") or (None,))[0]
            if what == "submit" and getattr(loc.get("fn"), "__name__", "") != "validation_xml":
                return
            caller = frame.f_back.f_code if frame.f_back is not None else None
            if caller is not None and (caller.co_name == "validation_xml" or self.special.get(caller) == "verify"):
                return  # counted as the validation_xml (or the verify_pdf) it serves
            hit = isinstance(data, bytes) and data.startswith(self.raw)
            if hit:
                with self.lock:
                    self.validated_as.append("file" if data == self.raw else "upgraded")
            what = "validated"
        else:
            hit = True
        if hit:
            with self.lock:
                self.counts[what] += 1

    def hashed(self, data) -> None:
        if not self.active or not isinstance(data, (bytes, bytearray, memoryview)):
            return
        data = bytes(data)
        with self.lock:
            if data == self.raw:
                self.counts["sha256"] += 1
            elif data[:5] == b"%PDF-":
                self.pdf_hashes[_REAL_SHA256(data).hexdigest()] += 1


_REAL_SHA256 = hashlib.sha256


def _codes(targets: dict) -> dict:
    import importlib
    out = {}
    for (module, qualname), value in targets.items():
        try:
            obj = importlib.import_module(module)
            for part in qualname.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError):
            continue
        out[getattr(obj, "__wrapped__", obj).__code__] = value
    return out


@contextlib.contextmanager
def _house(*, returned: bool = False):
    """A fresh DEMO root wired as `sopipe watch` wires it (FakeConverter), the profile hook set on every thread;
    yields (settings, pipeline, walker). `returned`: doctors sign themselves (`auto_sign_doctors = false`)."""
    from pipeline.adapters.fake_converter import FakeConverter
    from pipeline.shell.app import open_pipeline, signing_services
    from pipeline.shell.layout import init_root

    codes = _codes({**TARGETS, **RETURN_TARGETS}) if returned else _codes(TARGETS)
    special = _codes({
        ("pathlib", "Path.read_bytes"): "read_path", ("pathlib", "Path.read_text"): "read_path",
        ("pipeline.adapters.safefs", "read_at"): "read_at", ("json", "loads"): "parse",
        ("pipeline.core.model", "parse_event"): "validate", ("pipeline.core.model", "parse_stored"): "validate",
        ("pipeline.core.procedure", "fold"): "folds",
        ("pipeline.core.state", "CaseState.heeft_toestemming"): "consent",
        ("pipeline.core.privacy", "consent_hits"): "consent_guard",
        **({key: "name" for key in NAME_PARSERS} if returned else {}),
        **(PDF_READERS if returned else {}), **(VALIDATIONS if returned else {}),
    })
    walker = Walker(codes, special)

    def counting_sha256(*args, **kw):
        if args:
            walker.hashed(args[0])
        return _REAL_SHA256(*args, **kw)

    with tempfile.TemporaryDirectory(prefix="sopipe-walk-") as tmp:
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "xdg")  # the DEMO CA keys: not in the home
        settings = init_root(Path(tmp) / "root")
        if returned:
            settings = settings.replace(signing={"auto_sign_doctors": False})
        # the hook is set before the pipeline starts its threads (the validation reports' writer among them)
        hashlib.sha256 = counting_sha256
        threading.setprofile(walker.profile)
        sys.setprofile(walker.profile)
        try:
            with FakeConverter() as fake, signing_services(settings) as signing, \
                    open_pipeline(signing, converter=fake) as pipeline:
                yield signing, pipeline, walker
        finally:
            sys.setprofile(None)
            threading.setprofile(None)
            hashlib.sha256 = _REAL_SHA256


def walk(case: Path) -> list[dict]:
    """Walk every case file of `case` (a folder of `NN-stap.json`), each alone; one result per file."""
    from pipeline.shell.watcher import run_once

    results = []
    with _house() as (settings, pipeline, walker):
        for path in sorted(case.glob("*.json")):
            raw = path.read_bytes()
            kenmerk = json.loads(raw)["kenmerk"]
            before = len(pipeline.store.deliveries(kenmerk))
            shutil.copyfile(path, settings.inbox / path.name)
            walker.start(path.name, raw)
            outcomes = run_once(pipeline, workers=1)
            walker.stop()
            delivered = [r for r in pipeline.store.deliveries(kenmerk)[before:]]
            finals = {r.sha256 for r in delivered if r.sha256}
            results.append({
                "file": path.name,
                "status": [o.status for o in outcomes],
                "rooms": walker.rooms,
                "read": walker.counts["read"],
                "parsed": walker.counts["parse"],
                "sha256": walker.counts["sha256"],
                "pdfs": len(finals),
                "pdf_hashed_max": max((walker.pdf_hashes[d] for d in finals), default=0),
                "pdf_hashed_min": min((walker.pdf_hashes[d] for d in finals), default=0),
                "validated_stored": walker.counts["validate"],
                "folds": walker.counts["folds"],
                "consent_checks": walker.counts["consent"] + walker.counts["consent_guard"],
                "deliveries": len(delivered),
            })
    return results


KENMERK, VISSER = "SO-2026-0042", "39087654301"


def walk_returned(case: Path, *, signed_level: str | None = None, document: str = "advies") -> dict:
    """Take the example case to the final advice with doctors signing themselves and walk one signed PDF coming
    back: `advies`, the waiting advice signed as Dr. Visser does (`sopipe sign --p12 …`, at the root's level or
    `signed_level`); `machtiging`, the consent form for the medical data as the employee signs it electronically
    (a DEMO key stands in for the employee's own, as in the tests)."""
    from pipeline.shell.watcher import run_once

    with _house(returned=True) as (settings, pipeline, walker):
        for path in sorted(case.glob("*.json")):
            shutil.copyfile(path, settings.inbox / path.name)
            if "definitief" in path.name:
                break
        assert all(o.status == "processed" for o in run_once(pipeline, workers=1))
        if document == "advies":
            name, archived_as, level = f"{KENMERK}_advies-ondertekend.pdf", f"{KENMERK}_advies.pdf", \
                _doctor_signs(settings, signed_level)
        else:
            name, archived_as, level = _employee_signs(settings)
        raw = (settings.inbox.parent / name).read_bytes()
        before = len(pipeline.store.deliveries(KENMERK))
        os.replace(settings.inbox.parent / name, settings.inbox / name)
        walker.start(name, raw)
        outcomes = run_once(pipeline, workers=1)
        walker.stop()
        delivered = pipeline.store.deliveries(KENMERK)[before:]
        report = settings.outbox / "archief" / KENMERK / f"{archived_as}.validatie.xml"
        archive_report = report.is_file() and b"total-passed" in report.read_bytes()
    modules = walker.modules
    return {
        "file": name, "signed_level": level,
        "status": [o.status for o in outcomes], "detail": [o.detail for o in outcomes],
        "rooms": walker.rooms, "modules": modules,
        "runner_returns": sum(1 for a, b in zip(modules, modules[1:]) if {a, b} == {"runner", "returns"}),
        "read": walker.counts["read"], "sha256": walker.counts["sha256"],
        "name_parsed": walker.counts["name_parsed"], "pypdf": walker.counts["pypdf"],
        "pyhanko": walker.counts["pyhanko"], "validated": walker.counts["validated"],
        "validated_as": walker.validated_as,
        "deliveries": len(delivered),
        "archived": sum(1 for r in delivered if r.party == "archief" and r.status == "delivered"),
        "archive_report": archive_report,
    }


def _doctor_signs(settings, level: str | None) -> str:
    """Dr. Visser signs the advice waiting in te-ondertekenen/ as `sopipe sign` does, beside the inbox; the level."""
    from click.testing import CliRunner

    from pipeline.cli import cli
    from pipeline.core.kinds import Signer
    waiting = settings.outbox.joinpath("so-bedrijfsarts", VISSER, KENMERK, "te-ondertekenen", f"{KENMERK}_advies.pdf")
    level = level or settings.signing_level(Signer.SO_BEDRIJFSARTS)
    done = CliRunner().invoke(cli, [
        "sign", str(waiting), "--p12", str(settings.pki_dir / f"doctor-{VISSER}.p12"),
        "--out", str(settings.inbox.parent / f"{KENMERK}_advies-ondertekend.pdf"),
        "--level", level, *(["--tsa-url", settings.signing.tsa_url] if settings.signing.tsa_url else []),
        *[a for root in settings.trust_roots for a in ("--trust", str(root))]],
        env={"SOPIPE_P12_PASSPHRASE": (settings.pki_dir / "passphrase").read_text().strip()})
    assert done.exit_code == 0, done.output
    return level


def _employee_signs(settings) -> tuple[str, str, str]:
    """The employee signs their consent for the medical data electronically (a DEMO doctor's key stands in for
    theirs; the example case keeps the signed paper, so no form was sent and the PDF is their own), beside the
    inbox; (its name, its name in the archive, its level)."""
    import io

    from fpdf import FPDF
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    from pipeline.adapters.keys import KeyRing
    page = FPDF()
    page.add_page()
    page.set_font("helvetica", size=12)
    page.cell(text="Machtiging medische gegevens - ondertekend door M.A. Jansen")
    identity = KeyRing.from_pki_dir(settings.pki_dir, doctors=True).doctor(VISSER)
    signed = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(bytes(page.output()))),
                              signers.PdfSignatureMetadata(field_name="Werknemer"), signer=identity.signer)
    name = f"{KENMERK}_machtiging-medische-gegevens.pdf"
    (settings.inbox.parent / name).write_bytes(signed.getvalue())
    return name, "machtiging-medische-gegevens-ondertekend.pdf", "B-B"


def table(results: list[dict]) -> str:
    head = ("file", "read", "parsed", "sha256", "pdf hashed", "validated", "folds", "consent/deliv", "rooms")
    rows = [head] + [(r["file"], str(r["read"]), str(r["parsed"]), str(r["sha256"]),
                      f"{r['pdf_hashed_max']}x{r['pdfs']}" if r["pdfs"] else "-", str(r["validated_stored"]),
                      str(r["folds"]), f"{r['consent_checks']}/{r['deliveries']}", " > ".join(r["rooms"]))
                     for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in rows)


def returned_table(r: dict) -> str:
    lines = [f"{r['file']} (signed {r['signed_level']}): {', '.join(r['status'])}, {r['deliveries']} deliveries",
             f"  reads {r['read']}, sha256 {r['sha256']}, name parsed {r['name_parsed']}, pypdf {r['pypdf']}, "
             f"pyHanko read {r['pyhanko']}, pyHanko validations {r['validated']} ({', '.join(r['validated_as'])})",
             f"  rooms    {' > '.join(r['rooms'])}",
             f"  modules  {' > '.join(r['modules'])}  (runner <-> returns: {r['runner_returns']})"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=REPO, help="the sopipe checkout to walk (default: this one)")
    parser.add_argument("--case", type=Path, default=None,
                        help="folder of case files (default: the tree's pipeline/examples/case-SO-2026-0042)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file")
    parser.add_argument("--returned", action="store_true", help="walk a returned signed PDF (the final advice)")
    parser.add_argument("--signed-level", choices=("B-B", "B-T", "B-LT", "B-LTA"), default=None,
                        help="with --returned: the level the doctor signs at (default: the root's level)")
    parser.add_argument("--document", choices=("advies", "machtiging"), default="advies",
                        help="with --returned: the signed advice (default) or the employee's signed consent form")
    args = parser.parse_args(argv)
    tree = args.tree.resolve()
    sys.path.insert(0, str(tree))
    for name in [m for m in sys.modules if m == "pipeline" or m.startswith("pipeline.")]:
        del sys.modules[name]
    import pipeline
    if not Path(pipeline.__file__).resolve().is_relative_to(tree):
        parser.error(f"pipeline imported from {pipeline.__file__}, not from {tree}")
    logging.disable(logging.CRITICAL)
    case = tree / "pipeline" / "examples" / "case-SO-2026-0042"
    if not case.is_dir():  # a tree from before the example case became package data
        case = tree / "examples" / "case-SO-2026-0042"
    if args.returned:
        result = walk_returned(args.case or case, signed_level=args.signed_level, document=args.document)
        print(json.dumps(result) if args.json else returned_table(result))
        return 0
    results = walk(args.case or case)
    if args.json:
        for r in results:
            print(json.dumps(r))
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
