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

Usage:
    python tools/walk.py                         # this tree, the example case, a table
    python tools/walk.py --tree /path/to/other   # another checkout of sopipe (e.g. an older commit)
    python tools/walk.py --json                  # one JSON object per file (for tests)
"""

from __future__ import annotations

import argparse
import collections
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

ROOMS = ("watcher", "stage", "journal", "decide", "make", "sign", "guard", "deliver", "record", "move")

# (module, qualified name) -> room; a name a version of the code does not have is simply not watched
TARGETS = {
    ("pipeline.shell.watcher", "run_once"): "watcher",
    ("pipeline.shell.watcher", "process_batch"): "watcher",
    ("pipeline.shell.watcher", "stable_files"): "watcher",
    ("pipeline.shell.watcher", "_case_key"): "watcher",
    ("pipeline.shell.runner", "inbox_files"): "watcher",
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
        self.text = raw.decode("utf-8-sig")
        self.data = json.loads(self.text)
        self.rooms: list[str] = []
        self.counts: collections.Counter = collections.Counter()
        self.pdf_hashes: collections.Counter = collections.Counter()
        self.active = True

    def stop(self) -> None:
        self.active = False

    def profile(self, frame, event, arg) -> None:
        if event != "call" or not self.active:
            return
        code = frame.f_code
        room = self.codes.get(code)
        if room is not None:
            with self.lock:
                if not self.rooms or self.rooms[-1] != room:
                    self.rooms.append(room)
            return
        what = self.special.get(code)
        if what is not None:
            self._count(what, frame)

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


def walk(case: Path) -> list[dict]:
    """Walk every case file of `case` (a folder of `NN-stap.json`), each alone; one result per file."""
    from pipeline.adapters.fake_converter import FakeConverter
    from pipeline.shell.app import open_pipeline, signing_services
    from pipeline.shell.layout import init_root
    from pipeline.shell.watcher import run_once

    codes = _codes(TARGETS)
    special = _codes({
        ("pathlib", "Path.read_bytes"): "read_path", ("pathlib", "Path.read_text"): "read_path",
        ("pipeline.adapters.safefs", "read_at"): "read_at", ("json", "loads"): "parse",
        ("pipeline.core.model", "parse_event"): "validate", ("pipeline.core.model", "parse_stored"): "validate",
        ("pipeline.core.procedure", "fold"): "folds",
        ("pipeline.core.state", "CaseState.heeft_toestemming"): "consent",
        ("pipeline.core.privacy", "consent_hits"): "consent_guard",
    })
    walker = Walker(codes, special)

    def counting_sha256(*args, **kw):
        if args:
            walker.hashed(args[0])
        return _REAL_SHA256(*args, **kw)

    results = []
    with tempfile.TemporaryDirectory(prefix="sopipe-walk-") as tmp:
        os.environ["XDG_DATA_HOME"] = str(Path(tmp) / "xdg")  # the DEMO CA keys: not in the home
        settings = init_root(Path(tmp) / "root")
        with FakeConverter() as fake, signing_services(settings) as signing, \
                open_pipeline(signing, converter=fake) as pipeline:
            hashlib.sha256 = counting_sha256
            threading.setprofile(walker.profile)
            sys.setprofile(walker.profile)
            try:
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
            finally:
                sys.setprofile(None)
                threading.setprofile(None)
                hashlib.sha256 = _REAL_SHA256
    return results


def table(results: list[dict]) -> str:
    head = ("file", "read", "parsed", "sha256", "pdf hashed", "validated", "folds", "consent/deliv", "rooms")
    rows = [head] + [(r["file"], str(r["read"]), str(r["parsed"]), str(r["sha256"]),
                      f"{r['pdf_hashed_max']}x{r['pdfs']}" if r["pdfs"] else "-", str(r["validated_stored"]),
                      str(r["folds"]), f"{r['consent_checks']}/{r['deliveries']}", " > ".join(r["rooms"]))
                     for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=REPO, help="the sopipe checkout to walk (default: this one)")
    parser.add_argument("--case", type=Path, default=None,
                        help="folder of case files (default: the tree's pipeline/examples/case-SO-2026-0042)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file")
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
    results = walk(args.case or case)
    if args.json:
        for r in results:
            print(json.dumps(r))
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
