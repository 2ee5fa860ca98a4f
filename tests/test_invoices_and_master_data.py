"""Issue 14, items 1 and 2: organisation master data from sopipe.toml, and invoices an accountant can pay.

The core tests feed `decide` the facts directly; the end-to-end tests read the finished PDFs (real LibreOffice).
"""

from __future__ import annotations

import re

import pytest

from tests.config_variants import configure
from tests.mailbox_paths import mailbox, mailbox_file

from pipeline.core.model import parse_event
from pipeline.core.organisaties import Facts
from pipeline.core.procedure import decide, fold
from pipeline.errors import PipelineError, ProcedureError
from pipeline.settings import CONFIG_NAME, DEFAULT_CONFIG, load_settings
from tests.casefactory import event, full_case, parse_all
from tests.pdfs import pdftotext
from tests.processed_roots import processed_root, run_all
from tests.pdfs import flat

K = "SO-2026-0042"
EMPLOYEE = ("Jansen", "M.A.", "111222333", "P-20417", "Lindenlaan", "3521", "m.jansen", "06-12345678", "1984")


def demo_facts(**kw) -> Facts:
    return Facts(organisaties=demo_settings().organisaties, **kw)


def demo_settings(tmp_path_factory=None):
    import tempfile
    from pathlib import Path
    root = Path(tempfile.mkdtemp(prefix="w14-settings-"))
    (root / CONFIG_NAME).write_text(DEFAULT_CONFIG, encoding="utf-8")
    return load_settings(root)


# --- master data as configuration -----------------------------------------------------------------------------

def test_default_config_holds_the_demo_organisations_of_the_example():
    orgs = demo_settings().organisaties
    assert {"arbonoord", "arbopraktijk-visser", "smit-bg"} <= set(orgs)
    visser = orgs["arbopraktijk-visser"]
    assert visser.kvk_nummer == "87654321" and visser.iban.startswith("NL") and visser.klachten


@pytest.mark.parametrize("extra, message", [
    ('[organisaties.x-y]\nnaam = "X"\nstraat = "A 1"\npostcode = "1234 AB"\nplaats = "P"\nfax = "1"\n',
     "unknown setting [organisaties.x-y] fax"),
    ('[organisaties.x-y]\nnaam = "X"\nstraat = "A 1"\npostcode = "1234 AB"\nplaats = "P"\niban = "NL00 ABNA 0417 1643 00"\n',
     "not a valid IBAN"),
    ('[organisaties.x-y]\nnaam = "X"\n', "needs straat, postcode, plaats"),
    ('[organisaties.X]\nnaam = "X"\nstraat = "A 1"\npostcode = "1234 AB"\nplaats = "P"\n', "lower-case"),
    ('[organisaties.x-y]\nnaam = "X"\nstraat = "A 1"\npostcode = "1234 AB"\nplaats = "P"\nbtw_tarief = "21"\n',
     "btw_tarief needs btw_nummer"),
])
def test_bad_master_data_stops_at_start_up(tmp_path, extra, message):
    (tmp_path / CONFIG_NAME).write_text(extra, encoding="utf-8")
    with pytest.raises(PipelineError, match=re.escape(message)):
        load_settings(tmp_path)


def _decide_all(events, facts):
    state = None
    for ev in parse_all(events):
        state = decide(state, ev, facts=facts).state
    return state


def test_unknown_arbodienst_code_is_a_clear_refusal():
    verzoek = event("verzoek")
    verzoek["arbodienst"]["code"] = "arbozuid"
    with pytest.raises(ProcedureError) as e:
        decide(None, parse_event(verzoek), facts=demo_facts())
    assert e.value.field == "arbodienst.code" and "arbozuid" in e.value.message
    assert "arbonoord" in e.value.message  # names the codes that do exist


def test_unknown_practice_of_the_second_choice_is_refused():
    events = full_case(upto="selectie")
    events[-1]["tweede_keuze"]["praktijk"] = "onbekend"
    state = _decide_all(events[:-1], demo_facts())
    with pytest.raises(ProcedureError) as e:
        decide(state, parse_event(events[-1]), facts=demo_facts())
    assert e.value.field == "tweede_keuze.praktijk"


def test_old_case_files_without_codes_keep_working():
    events = full_case()
    del events[0]["arbodienst"]["code"]
    for key in ("so_bedrijfsarts", "tweede_keuze"):
        del events[2][key]["praktijk"]
    state = _decide_all(events[:-1], demo_facts())  # every step before the invoice is accepted as before
    # issue 20: an invoice without the issuer's master data cannot be paid or booked, so it is not made; the
    # refusal names the table to configure and the code to refer to (it used to print "IBAN —")
    with pytest.raises(ProcedureError) as e:
        decide(state, parse_event(events[-1]), facts=demo_facts())
    assert e.value.rule == "factuur-onvolledig" and e.value.field == "praktijk"
    assert "[organisaties.arbopraktijk-visser]" in e.value.message and '"praktijk": "arbopraktijk-visser"' in \
        e.value.message
    # naming the practice in the invoice file itself is enough for an old case
    events[-1]["praktijk"] = "arbopraktijk-visser"
    (order,) = [o for o in decide(state, parse_event(events[-1]), facts=demo_facts()).orders if o.kind == "factuur"]
    assert order.context["organisatie"]["naam"] == "Arbopraktijk Visser"
    assert order.context["factuur"]["uitgever"]["iban"] == "NL20 INGB 0001 2345 67"


# --- invoice numbers unique per issuer -------------------------------------------------------------------------

def test_invoice_number_used_by_another_case_of_the_same_issuer_is_refused():
    events = full_case()
    state = fold(parse_all(events[:-1]))
    used = {("arbopraktijk-visser", "AV-2026-118"): "SO-2026-0001"}
    with pytest.raises(ProcedureError) as e:
        decide(state, parse_event(events[-1]), facts=demo_facts(factuurnummers=used))
    assert e.value.rule == "factuurnummer-dubbel" and "SO-2026-0001" in e.value.message
    # another issuer may use the same number; the same case is not a duplicate of itself
    for other in ({("smit-bg", "AV-2026-118"): "SO-2026-0001"}, {("arbopraktijk-visser", "AV-2026-118"): K}):
        decide(state, parse_event(events[-1]), facts=demo_facts(factuurnummers=other))


@pytest.mark.libreoffice
def test_duplicate_invoice_number_through_the_pipeline(make_root):
    root = make_root()
    first = full_case(kenmerk="DUP-1")
    second = full_case(kenmerk="DUP-2", overrides={"facturatie": {"factuurnummer": first[-1]["factuurnummer"]}})
    for i, ev in enumerate(first):
        root.drop(f"{ev['kenmerk']}-{i:02d}.json", ev)
    assert all(o.status == "processed" for o in root.run())
    for i, ev in enumerate(second, start=11):
        root.drop(f"{ev['kenmerk']}-{i:02d}.json", ev)
    outcomes = {o.file_name: o for o in root.run()}
    assert outcomes["DUP-2-21.json"].status == "failed"
    report = (root.settings.inbox / "failed" / "DUP-2-21.json.error.txt").read_text(encoding="utf-8")
    assert "al gebruikt" in report and "DUP-1" in report and "nieuw" in report
    assert not (mailbox(root, "arbodienst", "DUP-2")).exists()


# --- the finished invoices --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def example_root(tmp_path_factory, converter, shared_pki):
    root = processed_root(tmp_path_factory, "w14-invoice", full_case(), converter=converter, shared_pki=shared_pki)
    yield root
    root.close()


@pytest.mark.libreoffice
def test_invoice_to_the_arbodienst_is_payable_and_complete(example_root):
    text = flat(pdftotext(mailbox(example_root, "arbodienst", K) / f"{K}_factuur.pdf"))
    for needed in ("Arbopraktijk Visser", "Stadsring 88", "3811 HR Amersfoort", "KvK 87654321",
                   "NL20 INGB 0001 2345 67", "Factuurnummer", "factuurnummer AV-2026-118", "Datum dienst", "24 november 2026",
                   "Totaal te betalen", "art. 11 lid 1 sub g", "ArboNoord Stationsplein 1 3511 ED Utrecht"):
        assert needed in text, needed
    for identifier in EMPLOYEE:
        assert identifier not in text


@pytest.mark.libreoffice
def test_employer_gets_a_pass_on_specification_not_a_second_invoice(example_root):
    assert not (mailbox(example_root, "werkgever", K) / f"{K}_factuur.pdf").exists()
    spec_pdf = mailbox_file(example_root, "werkgever", K, "doorbelasting-werkgever")
    invoice_pdf = mailbox(example_root, "arbodienst", K) / f"{K}_factuur.pdf"
    assert spec_pdf.read_bytes() != invoice_pdf.read_bytes()
    spec = flat(pdftotext(spec_pdf))
    assert "Specificatie doorbelasting – geen factuur" in spec and "Dit is geen factuur" in spec
    assert "te betalen" not in spec.replace("niets te betalen", "")
    assert "IBAN" not in spec and "Factuurnummer" not in spec and "Vervaldatum" not in spec
    for identifier in EMPLOYEE:
        assert identifier not in spec


@pytest.mark.libreoffice
def test_no_vat_line_unless_configured(make_root):
    root = make_root()
    # issue 20: an invoice states a VAT number or the exemption it claims, or it is not made (it used to go out
    # without either); so the practice here has a VAT number and no rate: no VAT line is invented
    configure(root.settings.root,
              {"organisaties": {"arbopraktijk-visser": {"btw_vrijstelling": None, "btw_nummer": "NL001234567B01"}}})
    root.pipeline.organisaties = load_settings(root.settings.root).organisaties
    run_all(root, full_case(kenmerk="GV-1"))
    invoice = flat(pdftotext(mailbox(root, "arbodienst", "GV-1") / "GV-1_factuur.pdf"))
    assert "Btw-nr. NL001234567B01" in invoice and "Totaal te betalen € 485,00" in invoice
    assert "Btw 21%" not in invoice and "vrijgesteld" not in invoice.lower()


@pytest.mark.libreoffice
@pytest.mark.parametrize("vergoedt", [False, True])
def test_employee_document_says_one_thing_about_who_pays(make_root, vergoedt):
    so = dict(event("selectie")["so_bedrijfsarts"], in_arbocontract=False)
    k = f"WP-{int(vergoedt)}"
    root = make_root()
    run_all(root, full_case(kenmerk=k, overrides={"selectie": {"so_bedrijfsarts": so, "werkgever_vergoedt": vergoedt}}))
    werknemer = mailbox(root, "werknemer", k)
    if vergoedt:
        text = flat(pdftotext(werknemer / f"{k}_kostenoverzicht-werknemer.pdf"))
        assert "geen factuur" in text and "u hoeft niets te betalen" in text
        assert "Totaal te betalen" not in text and "verschuldigd" not in text and "IBAN" not in text
        employer = flat(pdftotext(mailbox_file(root, "werkgever", k, "factuur-werkgever")))
        assert "Totaal te betalen" in employer and "Jansen" not in employer
    else:
        text = flat(pdftotext(werknemer / f"{k}_factuur-werknemer.pdf"))
        assert "Totaal te betalen" in text and "verschuldigd" in text and "voor uw rekening" in text
        assert "niet te betalen" not in text and "niets te betalen" not in text
        assert "Jansen" in text
