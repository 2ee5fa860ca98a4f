"""The employer's mailbox cannot link an anonymous invoice to the employee: no document that names the employee
shares a folder, a file name or a reference with an anonymous one. The layout files the employer's anonymous copies
under their own invoice reference in `outbox/werkgever/<code>/facturen/`, without the kenmerk; the privacy guard
checks the invariant on every finished file, so a template or a layout that would break it is stopped (quarantine).
"""

from __future__ import annotations


import dataclasses
from pathlib import Path

import pytest

from pipeline.adapters.fake_converter import FakeConverter
from pipeline.adapters.converter import PdfMetadata
from pipeline.core import privacy
from pipeline.core.model import parse_event
from pipeline.core.procedure import DocumentOrder, decide, fold
from pipeline.core.routing import INVOICE_FOLDER, Party
from pipeline.errors import ProcedureError
from pipeline.shell.guard import PrivacyGuard
from tests.casefactory import demo_facts, event, full_case, parse_all
from tests.pdfs import pdftotext
from tests.processed_roots import run_all
from tests.mailbox_paths import kind_of


K = "SO-2026-0042"


def employer_files(root) -> tuple[dict[Path, str], dict[Path, str]]:
    """({path: text} of the anonymous documents, {path: text} of the named ones) in the employer's mailbox, by the
    kinds the store recorded there."""
    anonymous, named = {}, {}
    for pdf in (root.settings.outbox / "werkgever").rglob("*.pdf"):
        text = " ".join(pdftotext(pdf).split())
        kind = kind_of(pdf.name)
        (anonymous if kind in ("doorbelasting-werkgever", "factuur-werkgever") else named)[pdf] = text
    return anonymous, named


def assert_cannot_link(root, kenmerk: str, factuurnummer: str) -> None:
    anonymous, named = employer_files(root)
    assert anonymous and named
    for pdf, text in anonymous.items():
        assert pdf.parent.name == INVOICE_FOLDER
        assert kenmerk not in str(pdf.relative_to(root.settings.outbox)) and kenmerk not in text, pdf
        assert "Jansen" not in text
    for pdf, text in named.items():
        assert pdf.parent.name == kenmerk and factuurnummer not in text and factuurnummer not in pdf.name
    assert not {p.parent for p in anonymous} & {p.parent for p in named}, "a shared folder"
    assert not {p.name for p in anonymous} & {p.name for p in named}


@pytest.mark.parametrize("profiel, overrides", [
    ("nvab", {}),  # in the contract: the arbodienst's pass-on specification beside the changed work advice
    ("vitaal", {"verzoek": {"via": "casemanager"}}),  # the notice at the choice of the SO doctor too
    ("vsd", {"definitief_advies": {"machtiging_advies_delen_werkgever": "verleend"}}),  # the completion notice
])
def test_employer_mailbox_of_a_whole_case_cannot_be_linked(make_root, profiel, overrides):
    root = make_root()
    kenmerk = f"LK-{profiel}"
    events = full_case(kenmerk=kenmerk, profiel=profiel, overrides=overrides)
    run_all(root, events)
    assert_cannot_link(root, kenmerk, events[-1]["factuurnummer"])
    records = {(r.kind, r.party): r for r in root.store.deliveries(kenmerk)}
    spec = records[("doorbelasting-werkgever", "werkgever")]
    assert spec.status == "delivered" and f"/{INVOICE_FOLDER}/" in spec.path
    # the archive keeps the whole case together under the kenmerk
    archived = records[("doorbelasting-werkgever", "archief")].path
    assert archived.endswith(f"{kenmerk}/{kenmerk}_doorbelasting-werkgever.pdf")


def test_the_employer_paying_outside_the_contract_gets_an_unlinkable_invoice(make_root):
    root = make_root()
    so = dict(event("selectie")["so_bedrijfsarts"], in_arbocontract=False)
    events = full_case(kenmerk="LK-OC", overrides={"selectie": {"so_bedrijfsarts": so, "werkgever_vergoedt": True}})
    run_all(root, events)
    assert_cannot_link(root, "LK-OC", events[-1]["factuurnummer"])
    (invoice,) = employer_files(root)[0].values()
    assert "Totaal te betalen" in invoice and "KP-310" in invoice
    assert "factuurnummer en de kostenplaats" in invoice and "het kenmerk" not in invoice  # may wrap over a page


# --- the guard: a template or a layout that would break the invariant is stopped ------------------------------

@pytest.fixture(scope="module")
def step10():
    """(state, the `doorbelasting-werkgever` order, the `gewijzigd-advies` order) of the example case."""
    events = parse_all(full_case())
    before = fold(events[:-2])
    advice = decide(before, events[-2])
    (changed,) = [o for o in advice.orders if o.kind == "gewijzigd-advies"]
    invoice = decide(advice.state, events[-1])
    (spec,) = [o for o in invoice.orders if o.kind == "doorbelasting-werkgever"]
    return invoice.state, spec, changed


def _pdf(order: DocumentOrder, renderer, *, context: dict | None = None, title: str | None = None) -> bytes:
    docx = renderer.render(order.row.template, context or order.context)
    with FakeConverter() as fake:
        return fake.convert(docx, metadata=PdfMetadata(title=title or order.title, author=order.author,
                                                       keywords=order.reference))


def _check(pdf: bytes, order: DocumentOrder, state, path: str):
    return PrivacyGuard().check(pdf, order=order, party=Party.WERKGEVER, state=state, path=path)


def _path(order: DocumentOrder) -> str:
    return f"outbox/werkgever/devries-bouw/{order.folder_key(Party.WERKGEVER)}/{order.file_name(Party.WERKGEVER)}"


def test_the_finished_specification_passes_where_the_layout_puts_it(step10, renderer):
    state, spec, _ = step10
    assert _path(spec) == ("outbox/werkgever/devries-bouw/facturen/"
                           "arbopraktijk-visser_AV-2026-118_doorbelasting-werkgever.pdf")
    assert _check(_pdf(spec, renderer), spec, state, _path(spec)) == []


def test_the_old_layout_is_stopped(step10, renderer):
    """The anonymous specification in the case's folder, named by the kenmerk (the layout before issue 20)."""
    state, spec, _ = step10
    old = f"outbox/werkgever/devries-bouw/{K}/{K}_doorbelasting-werkgever.pdf"
    findings = _check(_pdf(spec, renderer), spec, state, old)
    assert {f.where for f in findings} >= {"mapnaam", "bestandsnaam"}
    assert any(f"map {INVOICE_FOLDER}/" in f.what for f in findings)


def test_a_template_printing_the_kenmerk_on_the_employers_copy_is_stopped(step10, renderer):
    state, spec, _ = step10
    leaky = dict(spec.context, kenmerk=K, factuur=dict(spec.context["factuur"], kenmerk_tonen=True))
    findings = _check(_pdf(spec, renderer, context=leaky), spec, state, _path(spec))
    assert findings and all(f.where.startswith("tekst pagina") for f in findings)
    assert "het kenmerk van de zaak in een anoniem document" in findings[0].what


def test_the_kenmerk_in_the_pdf_metadata_is_stopped(step10, renderer):
    state, spec, _ = step10
    findings = _check(_pdf(spec, renderer, title=f"Specificatie {K}"), spec, state, _path(spec))
    assert findings and not any(f.where.startswith("tekst pagina") for f in findings)


def test_a_named_letter_carrying_the_invoice_number_or_filed_with_the_invoices_is_stopped(step10, renderer):
    state, _, changed = step10
    good = f"outbox/werkgever/devries-bouw/{K}/{K}_gewijzigd-advies.pdf"
    assert _check(_pdf(changed, renderer), changed, state, good) == []
    leaky = dict(changed.context, aangepast_werkadvies=changed.context["aangepast_werkadvies"] +
                 " Zie factuur AV-2026-118.")
    (finding,) = _check(_pdf(changed, renderer, context=leaky), changed, state, good)
    assert "het factuurnummer in een document dat de werknemer noemt" in finding.what
    wrong = f"outbox/werkgever/devries-bouw/{INVOICE_FOLDER}/{K}_gewijzigd-advies.pdf"
    assert any(f.where == "mapnaam" for f in _check(_pdf(changed, renderer), changed, state, wrong))


@pytest.mark.parametrize("nummer", [f"{K}-F1", "FSO20260042"])
def test_an_invoice_number_derived_from_the_kenmerk_is_stopped(renderer, nummer):
    events = full_case(overrides={"facturatie": {"factuurnummer": nummer}})
    parsed = parse_all(events)
    # the core refuses the file with a clear reason ...
    with pytest.raises(ProcedureError) as e:
        decide(fold(parsed[:-1]), parsed[-1], facts=demo_facts())
    assert e.value.rule == "factuurnummer-kenmerk"
    # ... and should such a document be made anyway (a stored case folded again), the guard stops its delivery
    decision = decide(fold(parsed[:-1]), parsed[-1])
    (spec,) = [o for o in decision.orders if o.kind == "doorbelasting-werkgever"]
    findings = _check(_pdf(spec, renderer), spec, decision.state, _path(spec))
    assert {"bestandsnaam", "tekst pagina 1"} <= {f.where for f in findings}


def test_rules_only_for_the_employers_mailbox(step10):
    state, spec, changed = step10
    assert privacy.link_rules(spec, Party.ARCHIEF, state) is None
    assert privacy.link_rules(changed, Party.WERKNEMER, state) is None
    assert privacy.link_rules(spec, Party.WERKGEVER, state).anonymous
    short = dataclasses.replace(state, facturatie=parse_event(dict(event("facturatie"), factuurnummer="118")))
    assert privacy.link_rules(changed, Party.WERKGEVER, short).forbidden == ()  # too short to search safely


def test_a_case_cannot_be_called_like_the_invoice_folder():
    with pytest.raises(Exception) as e:
        parse_event(event("verzoek", kenmerk="Facturen"))
    assert "facturen" in str(e.value)
