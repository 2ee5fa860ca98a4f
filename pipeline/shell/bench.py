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
from typing import Callable

import psutil

from pipeline.core import model
from pipeline.core.procedure import DocumentOrder, decide
from pipeline.shell.layout import EXAMPLES, TEMPLATES

SURNAMES = ("Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
            "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit",
            "Dijkstra", "Smits", "van Dijk", "Özdemir", "El Amrani", "Çelik", "Nguyễn")
INITIALS = ("M.A.", "J.", "P.H.", "A.", "S.", "E.M.", "K.", "L.J.", "R.", "T.W.")
STREETS = ("Lindenlaan", "Kerkstraat", "Dorpsweg", "Molenweg", "Stationsstraat", "Beukenlaan", "Julianastraat")
PLACES = (("3521 AB", "Utrecht"), ("1012 JS", "Amsterdam"), ("3011 AD", "Rotterdam"), ("9711 LM", "Groningen"),
          ("5611 EM", "Eindhoven"), ("6511 KK", "Nijmegen"))
PROFILES = ("nvab", "lpbso", "vitaal", "vsd", "preventix")
SO_DOCTORS = ({"naam": "Dr. E. Visser", "big_nummer": "39087654301", "organisatie": "Arbopraktijk Visser",
               "email": "e.visser@arbopraktijkvisser.example"},
              {"naam": "Dr. K. Smit", "big_nummer": "49011122201", "organisatie": "Smit Bedrijfsgeneeskunde",
               "email": "k.smit@smitbg.example"})


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


def run_pipeline(root: Path, cases: list[list[dict]], *, single_events: int = 5,
                 progress: Callable[[int], None] | None = None) -> dict:
    from pipeline.shell.app import open_pipeline
    from pipeline.shell.layout import init_root
    from pipeline.shell.watcher import run_once, watch

    settings = init_root(root)
    timed = _Timed()
    with RssSampler() as rss, open_pipeline(settings) as pipeline:
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
        started = time.monotonic()

        def on_outcome(outcome) -> None:
            nonlocal failed
            if outcome.file_name in dropped:
                latencies.append(time.monotonic() - dropped[outcome.file_name])
            failed += outcome.status == "failed"
            if progress:
                progress(1)

        run_once(pipeline, workers=settings.parallel_cases, on_outcome=on_outcome)
        wall = time.monotonic() - started
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
            settle=settings.settle, rescan=settings.rescan, workers=settings.parallel_cases, stop=stop,
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
    return {"wall": wall, "latencies": latencies, "single": single, "peak_rss": rss.peak, "failed": failed,
            "stages": timed.medians_ms()}


def run_naive(root: Path, orders: list[DocumentOrder], *, pki_dir: Path) -> tuple[int, float]:
    """The naive script on the given documents; returns (documents, seconds)."""
    from docxtpl import DocxTemplate
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    from pipeline.adapters.pki import read_passphrase

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
            p12 = pki_dir / ("seal.p12" if order.sign.wie == "zegel" else f"doctor-{order.sign.big_nummer}.p12")
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
          progress: Callable[[int], None] | None = None) -> BenchResult:
    cases = generate_cases(n_cases, seed=seed)
    events = sum(len(c) for c in cases)
    documents = count_documents(cases)
    base = Path(tempfile.mkdtemp(prefix="sopipe-bench-"))
    try:
        p = run_pipeline(base / "root", cases, progress=progress)
        naive_docs, naive_s = run_naive(base, sample_orders(cases, naive_sample), pki_dir=base / "root" / "pki") \
            if naive_sample else (0, 0.0)
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
        else:
            shutil.move(str(base), str(keep))
    dps = documents / p["wall"] if p["wall"] else 0.0
    naive_dps = naive_docs / naive_s if naive_s else 0.0
    return BenchResult(
        cases=n_cases, events=events, documents=documents, wall_seconds=round(p["wall"], 2),
        documents_per_second=round(dps, 2), latency_p50=round(_percentile(p["latencies"], 0.5), 3),
        latency_p95=round(_percentile(p["latencies"], 0.95), 3),
        single_event_latency_p50=round(_percentile(p["single"], 0.5), 3),
        peak_rss_mib=round(p["peak_rss"] / 2**20, 1), stage_ms=p["stages"], failed=p["failed"],
        naive_documents=naive_docs, naive_seconds=round(naive_s, 2),
        naive_documents_per_second=round(naive_dps, 3), ratio=round(dps / naive_dps, 1) if naive_dps else 0.0,
        notes=["latency_p50/p95: from dropping all files at once to each file's documents delivered",
               "single_event_latency_p50: one 'aanvraag' event (2 documents, 1 sealed) dropped into a running watcher "
               "(warm pool, settle delay included) until its documents are delivered",
               f"naive: measured on the first {naive_docs} of the same documents (1 soffice process each, "
               "key reloaded per signature)"])
