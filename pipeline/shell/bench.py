"""`sopipe bench`: the pipeline against the naive way, on realistic generated cases, in one run.

The pipeline run: a temporary root, N generated cases (every step, all five profiles, consent branches
varied), all dropped at once and processed as `watch --once` does. Measured: documents, wall time,
documents/s, latency from drop to delivered (p50/p95), single-event latency with a warm pool, peak RSS of the
pipeline including its LibreOffice children, and per-stage time (render, convert, sign).

The naive way, as a secretariat's script would do it: docxtpl, one `soffice --headless --convert-to pdf`
process per document, pyHanko's `SimpleSigner.load_pkcs12` per signature. It costs ~1.7 s per document, so it
runs on a sample of the same documents (`naive_sample`); its documents/s is that sample's rate.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import random
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import psutil

from pipeline.core import model
from pipeline.core.kinds import Signer
from pipeline.core.procedure import DocumentOrder, decide
from pipeline.settings import Settings
from pipeline.shell.layout import EXAMPLES, TEMPLATES

RunCommand = Callable[[Sequence[str]], tuple[int, str]]
"""Runs one `sopipe` command line (arguments without the program name) in-process: (exit status, output)."""

SURNAMES = ("Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
            "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit",
            "Dijkstra", "Smits", "van Dijk", "Özdemir", "El Amrani", "Çelik", "Nguyễn")
INITIALS = ("M.A.", "J.", "P.H.", "A.", "S.", "E.M.", "K.", "L.J.", "R.", "T.W.")
STREETS = ("Lindenlaan", "Kerkstraat", "Dorpsweg", "Molenweg", "Stationsstraat", "Beukenlaan", "Julianastraat")
PLACES = (("3521 AB", "Utrecht"), ("1012 JS", "Amsterdam"), ("3011 AD", "Rotterdam"), ("9711 LM", "Groningen"),
          ("5611 EM", "Eindhoven"), ("6511 KK", "Nijmegen"))
PROFILES = ("nvab", "lpbso", "vitaal", "vsd", "preventix")
SO_DOCTORS = ({"naam": "Dr. E. Visser", "big_nummer": "39087654301", "organisatie": "Arbopraktijk Visser",
               "email": "e.visser@arbopraktijkvisser.example", "praktijk": "arbopraktijk-visser"},
              {"naam": "Dr. K. Smit", "big_nummer": "49011122201", "organisatie": "Smit Bedrijfsgeneeskunde",
               "email": "k.smit@smitbg.example", "praktijk": "smit-bg"})
"""The DEMO root's two SO practices (`[organisaties]` of `sopipe init`): an invoice needs their master data."""


def _example() -> list[dict]:
    case = sorted((EXAMPLES / "case-SO-2026-0042").glob("*.json"))
    return [json.loads(p.read_text(encoding="utf-8")) for p in case]


def _bsn(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(8)]
        total = sum(d * w for d, w in zip(digits, range(9, 1, -1)))
        last = total % 11
        if last < 10 and digits[0] != 0:
            return "".join(map(str, digits)) + str(last)


def generate_case(i: int, rng: random.Random) -> list[dict]:
    """One fictional case, every step, with a profile and consent choices drawn from `rng`."""
    events = copy.deepcopy(_example())
    kenmerk = f"BENCH-{i:05d}"
    profiel = PROFILES[i % len(PROFILES)]
    postcode, plaats = rng.choice(PLACES)
    so = dict(rng.choice(SO_DOCTORS), in_arbocontract=rng.random() < 0.8)
    for ev in events:
        ev["kenmerk"] = kenmerk
        stap = ev["stap"]
        if stap == "verzoek":
            ev["profiel"] = profiel
            ev["via"] = {"vitaal": "casemanager", "vsd": "servicedesk", "preventix": "servicedesk"}.get(
                profiel, "bedrijfsarts")
            w = ev["werknemer"]
            w["naam"] = rng.choice(SURNAMES)
            w["voorletters"] = rng.choice(INITIALS)
            w["geboortedatum"] = f"{rng.randint(1960, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            w["bsn"] = _bsn(rng)
            w["adres"] = {"straat": f"{rng.choice(STREETS)} {rng.randint(1, 200)}", "postcode": postcode,
                          "plaats": plaats}
            w["email"] = f"werknemer{i}@voorbeeld.nl"
            w["telefoon"] = f"06-{rng.randint(10000000, 99999999)}"
            w["personeelsnummer"] = f"P-{rng.randint(10000, 99999)}"
        elif stap == "selectie":
            ev["so_bedrijfsarts"] = so
            ev.pop("tweede_keuze", None)
            ev["werkgever_vergoedt"] = (not so["in_arbocontract"]) and rng.random() < 0.5
        elif stap == "aanvraag":
            ev["machtiging_medische_gegevens"] = "verleend" if rng.random() < 0.85 else "geweigerd"
        elif stap == "extra_informatie":
            ev["bron"] = rng.choice(("behandelaar", "bedrijfsarts", "werkgever"))
            ev["toestemming"] = "verleend" if rng.random() < 0.8 else "geweigerd"
        elif stap == "definitief_advies":
            ev["machtiging_advies_delen_bedrijfsarts"] = "verleend" if rng.random() < 0.8 else "geweigerd"
            if profiel == "vsd":
                ev["machtiging_advies_delen_werkgever"] = rng.choice(("verleend", "geweigerd"))
        elif stap == "beoordeling_advies" and next(e for e in events if e["stap"] == "definitief_advies")[
                "machtiging_advies_delen_bedrijfsarts"] == "geweigerd":
            ev["advies_overhandigd"] = True  # step 9 needs the advice: without sharing, the employee handed it over
        elif stap == "facturatie":
            ev["factuurnummer"] = f"AV-2026-{i:05d}"
    return events


def generate_cases(n: int, *, seed: int = 2026) -> list[list[dict]]:
    rng = random.Random(seed)
    return [generate_case(i, rng) for i in range(n)]


def count_documents(cases: list[list[dict]]) -> int:
    total = 0
    for case in cases:
        state = None
        for ev in case:
            d = decide(state, model.parse_event(ev))
            state = d.state
            total += len(d.orders)
    return total


class RssSampler:
    """Peak resident memory of this process and all its children (LibreOffice included), sampled."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class BenchResult:
    cases: int
    events: int
    documents: int
    wall_seconds: float
    documents_per_second: float
    latency_p50: float
    latency_p95: float
    single_event_latency_p50: float
    peak_rss_mib: float
    stage_ms: dict[str, float]
    failed: int
    naive_documents: int
    naive_seconds: float
    naive_documents_per_second: float
    ratio: float
    notes: list[str] = field(default_factory=list)
    levels: dict[str, dict] = field(default_factory=dict)
    """With `levels`: per PAdES level the same cases' documents/s, wall seconds and median signing ms."""
    level_ratio: float = 0.0
    """documents/s at B-LTA divided by documents/s at B-B (1.0: no cost; the goal is at least 0.85)."""
    scale: dict[str, float] = field(default_factory=dict)
    """With `scale`: status and audit-trail figures on a large generated database (`bench_scale`)."""
    outside_lo_ms: dict[str, float] = field(default_factory=dict)
    """Per document, in ms, everything but LibreOffice (`run_outside_libreoffice`): render, sign, guard,
    bookkeeping (intake, state, store, delivery, validation reports, moves) and their total."""
    reports_done_seconds: float = 0.0
    """From the drop until the archive's last validation report was written (after `wall_seconds`)."""
    libreoffice_busy: list[float] = field(default_factory=list)
    """Per LibreOffice worker, the share of `wall_seconds` it spent converting (1.0: never idle)."""
    fs_us: dict[str, float] = field(default_factory=dict)
    """Median microseconds per event of the file-system steps (issue 13): the plain-path way before, the stage
    and descriptor-based delivery after (`file_system_costs`)."""

    def as_dict(self) -> dict:
        return asdict(self)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


class _Timed:
    """Wraps an adapter method to sum its wall time per call (per-stage figures)."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def wrap(self, name: str, fn: Callable) -> Callable:
        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                with self.lock:
                    self.totals.setdefault(name, []).append(time.perf_counter() - t)
        return timed

    def medians_ms(self) -> dict[str, float]:
        return {k: round(statistics.median(v) * 1000, 1) for k, v in self.totals.items() if v}

    def sums(self) -> dict[str, float]:
        return {k: sum(v) for k, v in self.totals.items()}


def run_outside_libreoffice(root: Path, cases: list[list[dict]]) -> dict[str, float]:
    """Per-document cost of everything but LibreOffice, in ms: the cases through the production wiring with the
    FakeConverter instead of the pool, one stage at a time (a lock serialises the timed stages, so their sums and
    the rest add up to the wall time). Bookkeeping is the wall time less render, conversion, sign and guard."""
    from pipeline.adapters.fake_converter import FakeConverter
    from pipeline.shell.app import open_pipeline, signing_services
    from pipeline.shell.layout import init_root
    from pipeline.shell.watcher import run_once

    settings = init_root(root, demo_ca_dir=root.parent / "demo-ca-outside")  # a throw-away CA beside the root
    timed = _Timed()
    one_at_a_time = threading.Lock()

    def serial(name: str, fn: Callable) -> Callable:
        timed_fn = timed.wrap(name, fn)

        def run(*a, **kw):
            with one_at_a_time:
                return timed_fn(*a, **kw)
        return run

    with FakeConverter() as fake, signing_services(settings) as settings, \
            open_pipeline(settings, converter=fake) as pipeline:
        pipeline.renderer.render = serial("render", pipeline.renderer.render)
        pipeline.converter.convert = serial("convert", fake.convert)
        pipeline.signer.sign = serial("sign", pipeline.signer.sign)
        pipeline.guard.check = serial("guard", pipeline.guard.check)
        n = 0
        for case in cases:
            for ev in case:
                n += 1
                (settings.inbox / f"{n:06d}.json").write_text(json.dumps(ev, ensure_ascii=False), encoding="utf-8")
        started = time.perf_counter()
        run_once(pipeline, workers=1)
        wall = time.perf_counter() - started
    documents = max(1, fake.conversions)
    sums = timed.sums()
    per_doc = {k: round(sums.get(k, 0.0) / documents * 1000, 1) for k in ("render", "sign", "guard")}
    per_doc["bookkeeping"] = round((wall - sum(sums.values())) / documents * 1000, 1)
    per_doc["total"] = round((wall - sums.get("convert", 0.0)) / documents * 1000, 1)
    per_doc["fake_convert"] = round(sums.get("convert", 0.0) / documents * 1000, 1)
    return per_doc


def at_level(settings, level: str | None):
    """`settings` signing every document at `level` (None: as configured; the DEMO root's default is B-LTA)."""
    if level is None:
        return settings
    if level == "B-B":  # no timestamp server needed, so none is started
        return settings.replace(signing={"tsa_url": None, "level_machtiging": "B-B", "level_advies": "B-B"},
                                demo_services=False)
    return settings.replace(signing={"level_machtiging": level, "level_advies": level})


def run_pipeline(root: Path, cases: list[list[dict]], *, single_events: int = 5, level: str | None = None,
                 progress: Callable[[int], None] | None = None) -> dict:
    from pipeline.shell.app import open_pipeline, signing_services
    from pipeline.shell.layout import init_root
    from pipeline.shell.watcher import run_once, watch

    timed = _Timed()
    with RssSampler() as rss, signing_services(at_level(
            init_root(root, demo_ca_dir=root.parent / "demo-ca"), level)) as settings, \
            open_pipeline(settings) as pipeline:
        pipeline.renderer.render = timed.wrap("render", pipeline.renderer.render)
        pipeline.converter.convert = timed.wrap("convert", pipeline.converter.convert)
        pipeline.signer.sign = timed.wrap("sign", pipeline.signer.sign)
        pipeline.converter.start()  # a warm pool, as a running watcher has
        # single-event cases: everything up to the request, processed before the clock starts
        warm = [generate_case(900_000 + i, random.Random(i)) for i in range(single_events)]
        dropped: dict[str, float] = {}
        n = 0
        for case in cases:
            for ev in case:
                n += 1
                name = f"{n:06d}-{ev['kenmerk']}-{ev['stap']}.json"
                (settings.inbox / name).write_text(json.dumps(ev, ensure_ascii=False), encoding="utf-8")
                dropped[name] = time.monotonic()
        for case in warm:
            for ev in case[:4]:
                (settings.inbox / f"warm-{ev['kenmerk']}-{ev['stap']}.json").write_text(json.dumps(ev))
        latencies: list[float] = []
        failed = 0
        started, cpu_started = time.monotonic(), _cpu_seconds()

        last_delivered = started

        def on_outcome(outcome) -> None:
            nonlocal failed, last_delivered
            last_delivered = time.monotonic()
            if outcome.file_name in dropped:
                latencies.append(last_delivered - dropped[outcome.file_name])
            failed += outcome.status == "failed"
            if progress:
                progress(1)

        run_once(pipeline, workers=settings.parallel_cases, on_outcome=on_outcome)
        wall, cpu = time.monotonic() - started, _cpu_seconds() - cpu_started
        delivered = last_delivered - started
        info = getattr(pipeline.converter, "workers_info", lambda: [])()
        busy = [round(w.busy_seconds / delivered, 3) if delivered else 0.0 for w in info]
        # single events through the real watcher (events, settle delay, processing), one at a time
        single: list[float] = []
        done = threading.Event()
        finished: dict[str, float] = {}

        def on_single(outcome) -> None:
            nonlocal failed
            finished[outcome.file_name] = time.monotonic()
            failed += outcome.status != "processed"
            done.set()

        stop = threading.Event()
        watcher = threading.Thread(target=watch, args=(pipeline,), kwargs=dict(
            settle=settings.intake.settle, rescan=settings.intake.rescan, workers=settings.parallel_cases, stop=stop,
            on_outcome=on_single), daemon=True)
        watcher.start()
        time.sleep(0.5)  # the observer is up
        for case in warm:
            ev = case[4]  # aanvraag: two documents, one of them sealed
            name = f"single-{ev['kenmerk']}.json"
            tmp = settings.inbox / f".{name}.tmp"
            tmp.write_text(json.dumps(ev))
            done.clear()
            t = time.monotonic()
            tmp.rename(settings.inbox / name)  # as a copy tool finishing a file
            done.wait(timeout=60)
            single.append(finished.get(name, time.monotonic()) - t)
        stop.set()
        watcher.join()
    return {"wall": delivered, "wall_with_reports": wall, "cpu": cpu, "latencies": latencies, "single": single,
            "peak_rss": rss.peak, "failed": failed, "stages": timed.medians_ms(), "lo_busy": busy}


def _cpu_seconds() -> float:
    """CPU seconds of this process and its children (LibreOffice, validation), ended or still running: unlike
    wall time, not inflated by whatever else the machine runs."""
    import resource
    own = resource.getrusage(resource.RUSAGE_SELF)
    ended = resource.getrusage(resource.RUSAGE_CHILDREN)
    running = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
            running += times.user + times.system
        except psutil.Error:
            pass
    return own.ru_utime + own.ru_stime + ended.ru_utime + ended.ru_stime + running


def file_system_costs(base: Path, *, n: int = 200) -> dict[str, float]:
    """Median µs per event: taking a case file in and delivering one PDF, before and after issue 13.

    before: read the inbox file by path and os.replace it into processed/; a path-based atomic write (mkstemp,
    fsync, os.replace, fsync the folder). after: rename into the private stage, read once by descriptor
    (O_NOFOLLOW), move on without clobbering (link+unlink, fsyncs); delivery walks every folder from the root
    with O_NOFOLLOW|O_DIRECTORY and sets mode and group explicitly."""
    import os

    from pipeline.adapters.mailbox import Mailboxes
    from pipeline.core.routing import Party
    from pipeline.shell.intake import Stage
    from pipeline.shell.layout import init_root

    root = base / "fs-costs"
    settings = init_root(root, pki=False)
    inbox, processed = settings.inbox, settings.processed
    data = json.dumps(_example()[0], ensure_ascii=False).encode("utf-8")
    pdf = b"%PDF-1.7\n" + random.Random(0).randbytes(60_000)
    stage, mailboxes = Stage(root), Mailboxes(settings.outbox)
    times: dict[str, list[float]] = {k: [] for k in ("take_before", "take_after", "deliver_before",
                                                      "deliver_after")}

    def timed(key: str, fn: Callable[[], object]) -> None:
        t = time.perf_counter()
        fn()
        times[key].append(time.perf_counter() - t)

    def take_before(name: str) -> None:
        (inbox / name).read_bytes()
        os.replace(inbox / name, processed / name)

    def take_after(name: str) -> None:
        stage_id = stage.take(name)
        stage.read(stage_id, name, limit=1 << 20)
        stage.move_on(stage_id, name, "processed")

    def deliver_before(kenmerk: str) -> None:
        folder = settings.outbox / "werkgever" / kenmerk
        folder.mkdir(parents=True, exist_ok=True, mode=0o750)
        fd, tmp = tempfile.mkstemp(prefix=".x.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pdf)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o640)
        os.replace(tmp, folder / "x.pdf")
        dir_fd = os.open(folder, os.O_RDONLY)
        os.fsync(dir_fd)
        os.close(dir_fd)

    for i in range(n):
        for when in ("before", "after"):
            name = f"{when}-{i:05d}.json"
            (inbox / name).write_bytes(data)
            timed(f"take_{when}", lambda: (take_before if when == "before" else take_after)(name))
        timed("deliver_before", lambda: deliver_before(f"B{i:05d}"))
        timed("deliver_after", lambda: mailboxes.deliver(Party.WERKGEVER, f"A{i:05d}", "x.pdf", pdf, code="acme"))
    return {k: round(statistics.median(v) * 1e6, 1) for k, v in times.items()}


def run_naive(root: Path, orders: list[DocumentOrder], *, pki_dir: Path) -> tuple[int, float]:
    """The naive script on the given documents; returns (documents, seconds)."""
    from docxtpl import DocxTemplate
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from pipeline.adapters.demo_pki import read_passphrase

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    passphrase = read_passphrase(pki_dir)
    work = Path(tempfile.mkdtemp(prefix="naive-", dir=root))
    profile = work / "profile"
    started = time.monotonic()
    for i, order in enumerate(orders):
        tpl = DocxTemplate(TEMPLATES / order.row.template)
        tpl.render(dict(order.context), autoescape=True)
        docx = work / f"doc{i}.docx"
        tpl.save(docx)
        subprocess.run([soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                        "--outdir", str(work), str(docx)], check=True, capture_output=True, timeout=120)
        pdf = docx.with_suffix(".pdf")
        if order.sign is not None:
            p12 = pki_dir / ("seal.p12" if order.sign.wie is Signer.ZEGEL else f"doctor-{order.sign.big_nummer}.p12")
            signer = signers.SimpleSigner.load_pkcs12(str(p12), passphrase=passphrase)
            with pdf.open("rb") as fh:
                out = signers.sign_pdf(IncrementalPdfFileWriter(fh), signers.PdfSignatureMetadata(
                    field_name="Handtekening", subfilter=fields.SigSeedSubFilter.PADES), signer=signer)
            pdf.write_bytes(out.getvalue())
    seconds = time.monotonic() - started
    shutil.rmtree(work, ignore_errors=True)
    return len(orders), seconds


def sample_orders(cases: list[list[dict]], k: int) -> list[DocumentOrder]:
    """The first k documents the pipeline makes for these cases (same templates, same contexts)."""
    out: list[DocumentOrder] = []
    for case in cases:
        state = None
        for ev in case:
            d = decide(state, model.parse_event(ev))
            state = d.state
            out.extend(d.orders)
            if len(out) >= k:
                return out[:k]
    return out


def bench(n_cases: int, *, naive_sample: int = 20, seed: int = 2026, keep: Path | None = None,
          levels: bool = False, scale: bool = False,
          progress: Callable[[int], None] | None = None, outside_cases: int = 10,
          run_command: RunCommand | None = None) -> BenchResult:
    """`levels`: the same cases once more at B-B, to compare with the default (B-LTA on the DEMO root).
    `scale`: also the status and audit figures of `bench_scale` (10,000 cases, a million audit records), with
    `run_command` running the commands (the CLI passes its own group in: the shell never imports the CLI)."""
    if scale and run_command is None:
        raise ValueError("bench(scale=True) needs run_command: the commands to time are the CLI's")
    cases = generate_cases(n_cases, seed=seed)
    events = sum(len(c) for c in cases)
    documents = count_documents(cases)
    base = Path(tempfile.mkdtemp(prefix="sopipe-bench-"))
    by_level: dict[str, dict] = {}
    try:
        outside = run_outside_libreoffice(base / "outside", cases[:outside_cases]) if outside_cases else {}
        if levels:
            by_level["B-B"] = run_pipeline(base / "root-b-b", cases, level="B-B", progress=progress)
        p = run_pipeline(base / "root", cases, level="B-LTA" if levels else None, progress=progress)
        if levels:
            by_level["B-LTA"] = p
        scale_figures = bench_scale(base / "scale", run_command=run_command) if scale else {}
        fs = file_system_costs(base)
        naive_docs, naive_s = run_naive(base, sample_orders(cases, naive_sample),
                                        pki_dir=Settings(root=base / "root").pki_dir) if naive_sample else (0, 0.0)
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
        else:
            shutil.move(str(base), str(keep))
    dps = documents / p["wall"] if p["wall"] else 0.0
    naive_dps = naive_docs / naive_s if naive_s else 0.0
    level_figures = {name: {"documents_per_second": round(documents / r["wall"], 2),
                            "wall_seconds": round(r["wall"], 2),
                            "reports_done_seconds": round(r["wall_with_reports"], 2),
                            "cpu_seconds": round(r["cpu"], 1),
                            "documents_per_cpu_second": round(documents / r["cpu"], 2),
                            "sign_ms": r["stages"].get("sign", 0.0), "failed": r["failed"]}
                     for name, r in by_level.items()}
    # same documents in both runs: the ratio of documents/s is the inverse ratio of the wall times
    level_ratio = round(by_level["B-B"]["wall"] / by_level["B-LTA"]["wall"], 3) if levels else 0.0
    return BenchResult(
        cases=n_cases, events=events, documents=documents, wall_seconds=round(p["wall"], 2),
        documents_per_second=round(dps, 2), latency_p50=round(_percentile(p["latencies"], 0.5), 3),
        latency_p95=round(_percentile(p["latencies"], 0.95), 3),
        single_event_latency_p50=round(_percentile(p["single"], 0.5), 3),
        peak_rss_mib=round(p["peak_rss"] / 2**20, 1), stage_ms=p["stages"], failed=p["failed"],
        reports_done_seconds=round(p["wall_with_reports"], 2), libreoffice_busy=p["lo_busy"],
        naive_documents=naive_docs, naive_seconds=round(naive_s, 2), fs_us=fs,
        naive_documents_per_second=round(naive_dps, 3), ratio=round(dps / naive_dps, 1) if naive_dps else 0.0,
        notes=["wall_seconds and documents/s: from dropping all files at once until the last file's documents are "
               "delivered; the archive's validation reports are made after delivery, at the lowest CPU priority, "
               "and reports_done_seconds is when the last of them was written (what `watch --once` waits for)",
               "libreoffice_busy: per LibreOffice worker, the share of wall_seconds it spent converting",
               "latency_p50/p95: from dropping all files at once to each file's documents delivered",
               "single_event_latency_p50: one 'aanvraag' event (2 documents, 1 sealed) dropped into a running watcher "
               "(warm pool, settle delay included) until its documents are delivered",
               "fs_us: median µs per event, take = inbox file to processed/ (after: via the stage, read once), "
               "deliver = one 60 kB PDF into a mailbox (after: descriptor walk without following links)",
               f"naive: measured on the first {naive_docs} of the same documents (1 soffice process each, "
               "key reloaded per signature)",
               f"outside_lo_ms: the first {min(outside_cases, n_cases)} cases once more with the FakeConverter, one "
               "stage at a time; per document: render, sign, guard, bookkeeping (the rest), total"],
        levels=level_figures, level_ratio=level_ratio, scale=scale_figures, outside_lo_ms=outside)


# --- status and audit trail at scale (`sopipe bench --scale`) ----------------------------------------------------

SCALE_CASES = 10_000
SCALE_AUDIT_RECORDS = 1_000_000
_TEMPLATES = 40
"""Distinct generated cases folded for the scale figures; the 10,000 are copies of them under their own kenmerk,
each stopped at its own step (the fold does not depend on the kenmerk, so each copy's summary is its template's)."""


def fill_scale_root(root: Path, *, cases: int = SCALE_CASES, audit_records: int = SCALE_AUDIT_RECORDS,
                    seed: int = 2026) -> list[str]:
    """A root whose database holds `cases` cases (events, deliveries, summaries) and `audit_records` audit
    records, inserted directly through the store and audit APIs in large transactions; returns the kenmerken."""
    from pipeline.adapters.audit import Audit
    from pipeline.adapters.store import DeliveryRecord, Store
    from pipeline.core.trail import Actie, Gebeurtenis, Uitkomst
    from pipeline.shell.layout import init_root
    from pipeline.shell.status import summary_row

    settings = init_root(root, pki=False)
    rng = random.Random(seed)
    templates = []  # per template case: [(event, summary row after it, deliveries it made)]
    for i in range(_TEMPLATES):
        state, steps = None, []
        for ev in generate_case(i, rng):
            decision = decide(state, model.parse_event(ev))
            state = decision.state
            steps.append((ev, summary_row(state), [(o.kind, d.party.value) for o in decision.orders
                                                   for d in o.deliveries]))
        templates.append(steps)
    store = Store(settings.database)
    kenmerken = []
    now = "2026-11-25T10:00:00+00:00"
    try:
        with store.transaction():
            for n in range(cases):
                kenmerk = f"SCALE-{n:05d}"
                kenmerken.append(kenmerk)
                steps = templates[n % _TEMPLATES]
                for j, (ev, row, made) in enumerate(steps[:rng.randint(1, len(steps))]):
                    store.accept(kenmerk=kenmerk, stap=ev["stap"], datum=ev["datum"],
                                 payload={**ev, "kenmerk": kenmerk}, sha256=hashlib.sha256(f"{kenmerk}-{j}".encode()).hexdigest(),
                                 file_name=f"{kenmerk}-{j}.json", ingediend_door=ev.get("ingediend_door"),
                                 deliveries=[DeliveryRecord(kenmerk, kind, party, f"outbox/{party}/{kenmerk}/{kind}.pdf",
                                                            None, "delivered", None, now) for kind, party in made],
                                 summary=dataclasses.replace(row, kenmerk=kenmerk,
                                                             record={**row.record, "kenmerk": kenmerk}))
        audit = Audit(store, user="bench", system="bench")
        for start in range(0, audit_records, 20_000):
            with audit.batch():
                for i in range(start, min(start + 20_000, audit_records)):
                    audit.record(Gebeurtenis.INZAGE, kenmerk=kenmerken[i % len(kenmerken)], actie=Actie.READ,
                                 uitkomst=Uitkomst.GESLAAGD, wat="status")
    finally:
        store.close()
    return kenmerken


def bench_scale(root: Path, *, run_command: RunCommand, cases: int = SCALE_CASES,
                audit_records: int = SCALE_AUDIT_RECORDS) -> dict:
    """Seconds for `sopipe status` over `cases` cases (all, --overdue, one case) and `audit --verify` over
    `audit_records` records, run in-process as the CLI runs them (output rendered, views recorded in the trail),
    with the audit verification's peak memory. `run_command(args)` runs one `sopipe` command line in this process
    and returns (exit status, output)."""
    started = time.monotonic()
    kenmerken = fill_scale_root(root, cases=cases, audit_records=audit_records)
    figures = {"scale_cases": cases, "scale_audit_records": audit_records,
               "scale_generate_seconds": round(time.monotonic() - started, 1)}

    def timed(name: str, *args: str) -> None:
        t, cpu = time.perf_counter(), time.process_time()
        exit_code, output = run_command([*args, "--root", str(root)])
        if exit_code not in (0, 1):
            raise RuntimeError(f"{' '.join(args)}: {output[-500:]}")
        figures[name] = round(time.perf_counter() - t, 3)
        figures[name.replace("_seconds", "_cpu_seconds")] = round(time.process_time() - cpu, 3)

    timed("status_all_seconds", "status", "--today", "2026-12-15")
    timed("status_overdue_seconds", "status", "--overdue", "--today", "2026-12-15")
    timed("status_one_case_seconds", "status", kenmerken[len(kenmerken) // 2], "--today", "2026-12-15")
    with RssSampler(interval=0.05) as rss:
        before = psutil.Process().memory_info().rss
        timed("audit_verify_seconds", "audit", "--verify")
    figures["audit_verify_peak_rss_growth_mib"] = round(max(0, rss.peak - before) / 2**20, 1)
    return figures
