"""Issue 14, item 4 (findings 2 and 6): step 9 needs the advice in the own doctor's hands, and the own doctor
signs the request form personally (real PAdES signature, checked with poppler's pdfsig)."""

from __future__ import annotations

import re

import pytest

from pipeline.core.model import parse_event
from pipeline.core.procedure import decide, fold
from pipeline.errors import ProcedureError
from tests.casefactory import full_case, parse_all
from tests.pdf_signatures import pdfsig
from tests.pdfs import pdftotext
from tests.processed_roots import run_all
from tests.pdfs import flat
from tests.mailbox_paths import mailbox

REFUSED = {"definitief_advies": {"machtiging_advies_delen_bedrijfsarts": "geweigerd"},
           "beoordeling_advies": {"advies_aangepast": False, "aangepast_werkadvies": None}}


def test_step9_without_the_advice_is_refused():
    events = full_case(upto="beoordeling_advies", overrides=REFUSED)
    state = fold(parse_all(events[:-1]))
    with pytest.raises(ProcedureError) as e:
        decide(state, parse_event(events[-1]))
    assert e.value.field == "advies_overhandigd" and "geen toestemming" in e.value.message


def test_step9_with_the_advice_handed_over_by_the_employee():
    overrides = {**REFUSED, "beoordeling_advies": {**REFUSED["beoordeling_advies"], "advies_overhandigd": True}}
    events = full_case(upto="beoordeling_advies", overrides=overrides)
    d = decide(fold(parse_all(events[:-1])), parse_event(events[-1]))
    (reactie,) = [o for o in d.orders if o.kind == "reactie-bedrijfsarts"]
    assert reactie.context["advies_overhandigd"] is True


def test_request_form_is_signed_by_the_own_doctor():
    events = full_case(upto="aanvraag")
    d = decide(fold(parse_all(events[:-1])), parse_event(events[-1]))
    (form,) = [o for o in d.orders if o.kind == "aanvraagformulier"]
    assert form.sign.wie == "bedrijfsarts" and form.sign.big_nummer == "19012345601"


@pytest.mark.libreoffice
def test_signed_request_form_and_handed_over_reaction(make_root):
    root = make_root()
    overrides = {**REFUSED, "beoordeling_advies": {**REFUSED["beoordeling_advies"], "advies_overhandigd": True}}
    events = full_case(kenmerk="HO-1", upto="beoordeling_advies", overrides=overrides)
    run_all(root, events)
    form = mailbox(root, "so-bedrijfsarts", "HO-1") / "HO-1_aanvraagformulier.pdf"
    sig = pdfsig(form)
    assert "Signer Certificate Common Name: Dr. P. Bakker" in sig and "Signature is Valid" in sig
    text = flat(pdftotext(form))
    assert "Aanvrager Dr. P. Bakker bedrijfsarts BIG-nummer 19012345601" in text and "Ondertekening" in text
    # the signature block writes its date as the documents do: "1 december 2026, 21:27", after the place of the
    # arbodienst in the master data (issue 12: not a literal "Nederland")
    plaats = root.settings.organisaties["arbonoord"].plaats
    assert re.search(re.escape(plaats) + r", \d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|"
                     r"november|december) 20\d\d, \d\d:\d\d", text), text[-400:]
    reactie = flat(pdftotext(mailbox(root, "werknemer", "HO-1") / "HO-1_reactie-bedrijfsarts.pdf"))
    assert "U heeft mij het advies van de second opinion-bedrijfsarts, Dr. E. Visser" in reactie
    assert "zelf overhandigd" in reactie and "ontvangen en beoordeeld" not in reactie


@pytest.mark.libreoffice
def test_step9_refused_through_the_pipeline_sends_nothing(make_root):
    root = make_root()
    events = full_case(kenmerk="NO-9", upto="beoordeling_advies", overrides=REFUSED)
    for i, ev in enumerate(events, start=1):
        root.drop(f"{i:02d}.json", ev)
    outcomes = {o.file_name: o.status for o in root.run()}
    assert outcomes[f"{len(events):02d}.json"] == "failed"
    report = (root.settings.inbox / "failed" / f"{len(events):02d}.json.error.txt").read_text(encoding="utf-8")
    assert "advies_overhandigd" in report and "111222333" not in report
    assert not list(root.settings.outbox.rglob("*reactie-bedrijfsarts*"))
    assert not list(root.settings.outbox.rglob("*gewijzigd-advies*"))
