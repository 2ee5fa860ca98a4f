"""An invoice goes out only when it can be paid and booked: the issuing practice's name, address, KvK number, IBAN
and VAT number or exemption text. Otherwise the `facturatie` file is refused with a report naming exactly what to
configure; the earlier steps of an old case file keep working. Core rules fed plain facts; the pipeline (FakeConverter)
for the report and the finished invoice.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

import pytest

from pipeline.core.model import parse_event
from pipeline.core.organisaties import Facts, missing_for_invoice
from pipeline.core.procedure import decide
from pipeline.errors import ProcedureError
from pipeline.settings import load_settings
from tests.casefactory import demo_facts, event, full_case, parse_all
from tests.config_variants import configure
from tests.processed_roots import failure_report, run_all
from tests.pdfs import pdf_text
from tests.mailbox_paths import mailbox_file


IDENTIFIERS = ("Jansen", "111222333", "P-20417", "Lindenlaan", "m.jansen")


def _without_practice_codes(events: list[dict]) -> list[dict]:
    for key in ("so_bedrijfsarts", "tweede_keuze"):
        events[2][key].pop("praktijk", None)
    return events


def _state_before_invoice(events, facts):
    state = None
    for ev in parse_all(events[:-1]):
        state = decide(state, ev, facts=facts).state
    return state


def _facts_with(**changes) -> Facts:
    orgs = dict(demo_facts().organisaties)
    orgs["arbopraktijk-visser"] = dataclasses.replace(orgs["arbopraktijk-visser"], **changes)
    return Facts(organisaties=MappingProxyType(orgs))


@pytest.mark.parametrize("changes, missing", [
    ({"iban": None}, ("iban",)),
    ({"kvk_nummer": None}, ("kvk_nummer",)),
    ({"btw_vrijstelling": None}, ("btw_nummer of btw_vrijstelling",)),
    ({"iban": None, "kvk_nummer": None, "btw_vrijstelling": None},
     ("kvk_nummer", "iban", "btw_nummer of btw_vrijstelling")),
    ({}, ()),
    ({"btw_vrijstelling": None, "btw_nummer": "NL001234567B01", "btw_tarief": "21"}, ()),
])
def test_what_an_invoice_needs_from_the_master_data(changes, missing):
    org = _facts_with(**changes).organisaties["arbopraktijk-visser"]
    assert missing_for_invoice(org) == missing


@pytest.mark.parametrize("vergoedt, in_contract", [(False, True), (False, False), (True, False)])
def test_incomplete_practice_data_refuses_every_invoice_variant(vergoedt, in_contract):
    """In the contract (to the arbodienst), outside it with the employer paying, and the named invoice the employee
    pays: each holds a payable invoice of the practice."""
    so = dict(event("selectie")["so_bedrijfsarts"], in_arbocontract=in_contract)
    events = full_case(overrides={"selectie": {"so_bedrijfsarts": so, "werkgever_vergoedt": vergoedt}})
    facts = _facts_with(iban=None)
    state = _state_before_invoice(events, facts)
    with pytest.raises(ProcedureError) as e:
        decide(state, parse_event(events[-1]), facts=facts)
    assert e.value.rule == "factuur-onvolledig" and e.value.field == "so_bedrijfsarts.praktijk"
    assert "[organisaties.arbopraktijk-visser]" in e.value.message and "iban" in e.value.message
    assert "kvk_nummer" not in e.value.message  # only what is missing


def test_a_practice_code_given_at_the_invoice_must_match_the_selection():
    events = full_case()
    events[-1]["praktijk"] = "smit-bg"
    state = _state_before_invoice(events, demo_facts())
    with pytest.raises(ProcedureError) as e:
        decide(state, parse_event(events[-1]), facts=demo_facts())
    assert e.value.rule == "praktijk-tegenstrijdig" and "arbopraktijk-visser" in e.value.message


def test_an_unknown_practice_code_at_the_invoice_is_refused_by_name():
    events = _without_practice_codes(full_case())
    events[-1]["praktijk"] = "arbopraktijk-vissser"
    state = _state_before_invoice(events, demo_facts())
    with pytest.raises(ProcedureError) as e:
        decide(state, parse_event(events[-1]), facts=demo_facts())
    assert e.value.rule == "onbekende-organisatie" and e.value.field == "praktijk"


def test_report_names_the_table_and_the_code_and_the_rest_of_the_case_stands(make_root):
    root = make_root()
    events = _without_practice_codes(full_case(kenmerk="PAY-1"))
    run_all(root, events[:-1])  # an old case file without codes: every step before the invoice works as before
    root.drop("11.json", events[-1])
    (outcome,) = root.run()
    assert outcome.status == "failed"
    report = failure_report(root, "11.json")
    assert "Er wordt geen factuur gemaakt" in report
    assert "[organisaties.arbopraktijk-visser]" in report and '"praktijk": "arbopraktijk-visser"' in report
    assert "kvk_nummer, iban en btw_nummer of btw_vrijstelling" in report
    assert "Er is niets verstuurd" in report
    assert not mailbox_file(root, "arbodienst", "PAY-1", "factuur").exists()
    assert root.pipeline.case_state("PAY-1").beoordeling_advies is not None

    # the corrected file names the practice: the invoice goes out, complete
    root.drop("11.json", dict(events[-1], praktijk="arbopraktijk-visser"))
    assert [o.status for o in root.run()] == ["processed"]
    text = pdf_text(mailbox_file(root, "arbodienst", "PAY-1", "factuur"))
    for needed in ("Arbopraktijk Visser", "Stadsring 88", "3811 HR Amersfoort", "KvK 87654321",
                   "NL20 INGB 0001 2345 67", "art. 11 lid 1 sub g Wet op de omzetbelasting 1968"):
        assert needed in text, needed
    assert "IBAN) —" not in text and "Op rekening (IBAN) —" not in text


def test_the_named_invoice_the_employee_pays_is_complete(make_root):
    root = make_root()
    so = dict(event("selectie")["so_bedrijfsarts"], in_arbocontract=False)
    run_all(root, full_case(kenmerk="PAY-2", overrides={"selectie": {"so_bedrijfsarts": so}}))
    text = pdf_text(mailbox_file(root, "werknemer", "PAY-2", "factuur-werknemer"))
    for needed in ("Stadsring 88", "KvK 87654321", "NL20 INGB 0001 2345 67", "Totaal te betalen",
                   "Vrijgesteld van omzetbelasting op grond van art. 11 lid 1 sub g"):
        assert needed in text, needed


def test_a_practice_missing_its_account_in_sopipe_toml_refuses_through_the_pipeline(make_root):
    root = make_root()
    configure(root.settings.root, {"organisaties": {"arbopraktijk-visser": {"iban": None}}})
    root.pipeline.organisaties = load_settings(root.settings.root).organisaties
    events = full_case(kenmerk="PAY-3")
    run_all(root, events[:-1])
    root.drop("11.json", events[-1])
    assert [o.status for o in root.run()] == ["failed"]
    report = failure_report(root, "11.json")
    assert "ontbreekt iban" in report and "[organisaties.arbopraktijk-visser]" in report
    assert "de zaak verwijst al naar de code 'arbopraktijk-visser'" in report
    for identifier in IDENTIFIERS:
        assert identifier not in report
