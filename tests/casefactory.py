"""Building case events for tests from the shipped example case (fictional data), with overrides."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

from pipeline.core import model
from pipeline.package_data import EXAMPLE_CASE

EXAMPLE = EXAMPLE_CASE


def example_events() -> dict[str, dict]:
    """The example case's events by step name (extra_informatie once)."""
    out = {}
    for f in sorted(EXAMPLE.glob("*.json")):
        data = json.loads(f.read_text(encoding="utf-8"))
        out[data["stap"]] = data
    return out


def event(stap: str, *, kenmerk: str | None = None, **changes) -> dict:
    """One example event as a dict, with top-level fields changed (None removes a field)."""
    data = copy.deepcopy(example_events()[stap])
    if kenmerk:
        data["kenmerk"] = kenmerk
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


FULL_ORDER = ("verzoek", "beoordeling", "selectie", "beschikbaarheid", "aanvraag", "uitvoering", "extra_informatie",
              "conceptadvies", "definitief_advies", "beoordeling_advies", "facturatie")


def full_case(*, kenmerk: str = "SO-2026-0042", profiel: str = "nvab", overrides: dict | None = None,
              upto: str | None = None) -> list[dict]:
    """The whole example case as a list of event dicts; `overrides` maps step -> field changes."""
    overrides = overrides or {}
    events = []
    for stap in FULL_ORDER:
        changes = dict(overrides.get(stap, {}))
        if stap == "verzoek":
            changes.setdefault("profiel", profiel)
        if stap == "facturatie" and kenmerk != "SO-2026-0042":
            # an invoice number is unique per issuer, and never derived from the kenmerk (the employer's anonymous
            # copy would carry it: issue 20)
            changes.setdefault("factuurnummer", "F-" + hashlib.sha256(kenmerk.encode()).hexdigest()[:10].upper())
        events.append(event(stap, kenmerk=kenmerk, **changes))
        if stap == upto:
            break
    return events


def parse_all(events: list[dict]) -> list:
    return [model.parse_event(e) for e in events]


OLD_STYLE = {"bewijs": {"wijze": "papier_gescand", "datum": "2026-11-06",
                        "vastgelegd_door": "J. de Wit, secretariaat ArboNoord"}}
"""The example's request (`aanvraag` overrides) as it was before issue 20: the case file says the form was scanned,
not where it is."""


def received_form(machtiging: str, *, datum: str = "2026-11-07", gescand: bool = True,
                  kenmerk: str = "SO-2026-0042") -> dict:
    """The pipeline's own stored record (`machtiging_ontvangen`) that the employee's signed form for `machtiging`
    came back; no case file may carry it."""
    return {"schema": "so-pipeline/v1", "kenmerk": kenmerk, "stap": "machtiging_ontvangen", "datum": datum,
            "machtiging": machtiging, "bestand": f"machtiging-{machtiging.replace('_', '-').replace(':', '-')}"
            "-ondertekend.pdf", "ontvangen": "2026-12-07", "gescand": gescand, "sha256": "ab" * 32}


def intrekking(machtiging: str, *, datum: str, kenmerk: str = "SO-2026-0042", **extra) -> dict:
    return {"schema": "so-pipeline/v1", "kenmerk": kenmerk, "stap": "intrekking", "datum": datum,
            "machtiging": machtiging, **extra}


def scanned_pdf(text: str = "Machtiging medische gegevens - ondertekend door de werknemer") -> bytes:
    """A scanned form as a scanner makes it: a PDF without any signature."""
    from fpdf import FPDF
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text=text)
    return bytes(pdf.output())


def demo_facts():
    """The DEMO master data `sopipe init` writes (the example case's organisations), as the core's `Facts`."""
    import tempfile

    from pipeline.core.organisaties import Facts
    from pipeline.settings import CONFIG_NAME, DEFAULT_CONFIG, load_settings
    with tempfile.TemporaryDirectory(prefix="demo-facts-") as folder:
        (Path(folder) / CONFIG_NAME).write_text(DEFAULT_CONFIG, encoding="utf-8")
        return Facts(organisaties=load_settings(Path(folder)).organisaties)
