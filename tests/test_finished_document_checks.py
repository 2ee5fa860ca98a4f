"""Issue 14: a test per finding, each reading the finished document (PDF text) or the report.

Where a test elsewhere already proves a finding closed, it is not repeated here; this table says which one
(`test_every_finding_has_a_test` checks that each named test exists). The tests below cover what no other test did.

| finding | sub-point | test |
|---|---|---|
| 1 | machtiging states how, when, from whom, what, until when, refusing, withdrawing | `tests/test_consent_evidence.py::test_machtiging_states_how_when_by_whom_and_exactly_what` |
| 1 | the request form claims no consent beyond the recorded one | `tests/test_finished_document_checks.py::test_finding_1_request_form_states_the_recorded_consent_only` |
| 1 | a refused machtiging reads as a refusal | `tests/test_consent_evidence.py::test_refused_machtiging_pdf_has_no_consent_sentence` |
| 1 | the information request mentions the enclosed machtiging | `tests/test_consent_evidence.py::test_information_request_mentions_the_enclosed_machtiging` |
| 1 | a withdrawal is confirmed and notified | `tests/test_consent_evidence.py::test_withdrawal_letters_are_delivered_and_archived` |
| 2 | no assessment of an advice never received | `tests/test_own_doctor_assessment_and_signature.py::test_step9_refused_through_the_pipeline_sends_nothing` |
| 2 | handed over personally: the reaction says so | `tests/test_own_doctor_assessment_and_signature.py::test_signed_request_form_and_handed_over_reaction` |
| 3 | sender block complete, KvK, IBAN, date of service | `tests/test_invoices_and_master_data.py::test_invoice_to_the_arbodienst_is_payable_and_complete` |
| 3 | an invoice number once per issuer | `tests/test_invoices_and_master_data.py::test_duplicate_invoice_number_through_the_pipeline` |
| 3 | the employer's pass-on copy is not a second invoice | `tests/test_invoices_and_master_data.py::test_employer_gets_a_pass_on_specification_not_a_second_invoice` |
| 3 | the employee's document says one thing about who pays | `tests/test_invoices_and_master_data.py::test_employee_document_says_one_thing_about_who_pays` |
| 3 | the VAT line only when configured | `tests/test_invoices_and_master_data.py::test_no_vat_line_unless_configured` |
| 4 | SO doctor's street and phone in the invitation, postal address in the information request | `tests/test_letter_wording.py::test_so_doctor_address_and_phone_on_invitation_and_information_request` |
| 4 | the information request addresses a practice with its address | `tests/test_finished_document_checks.py::test_finding_4_information_request_addresses_the_practice_at_its_address` |
| 5 | the Vitaal! notice promises only what happens, no free text in werkgever/ | `tests/test_letter_wording.py::test_vitaal_notice_carries_no_free_text_and_promises_only_what_happens` |
| 5 | Preventix: the medical-data form with the consultation | `tests/test_preventix_medical_data_timing.py::test_the_form_goes_with_the_consultation_event_dated_as_the_request` |
| 6 | draft advice: reply deadline, second person | `tests/test_letter_wording.py::test_draft_advice_has_a_reply_deadline_in_the_second_person` |
| 6 | final advice: may be handed over; complaints route in advice and reaction | `tests/test_letter_wording.py::test_final_advice_allows_handing_over_and_names_the_complaints_route` |
| 6 | the request form is signed by the own doctor | `tests/test_own_doctor_assessment_and_signature.py::test_signed_request_form_and_handed_over_reaction` |
| 6 | no BSN or personnel number to the SO doctor | `tests/test_letter_wording.py::test_request_form_sends_no_bsn_or_personnel_number` |
| 6 | ... and the docs say why (docs/fg.md) | `tests/test_finished_document_checks.py::test_finding_6_the_docs_say_why_the_so_doctor_gets_no_bsn` |
| 7 | salutation to the named contact | `tests/test_typography.py::test_letters_to_the_employer_greet_the_named_contact` |
| 7 | no "B.V.." | `tests/test_typography.py::test_no_doubled_full_stop_after_a_name_ending_in_one` |
| 7 | signature with its heading on the last page (layout: t14's typography work) | `tests/test_renderer.py::test_ondertekening_lands_on_the_last_page_with_room_below` |
| 7 | signature dates in Dutch | `tests/test_own_doctor_assessment_and_signature.py::test_signed_request_form_and_handed_over_reaction` |
| 8 | employer / aanstellingskeuring: inform the requester, with a ready letter | `tests/test_requester_letter.py::test_employer_gets_a_letter_with_the_legal_ground_and_what_to_do_instead` |
| 8 | ... the aanstellingskeuring's own route | `tests/test_requester_letter.py::test_aanstellingskeuring_candidate_gets_the_own_route` |
| 8 | same organisation: points to the second choice | `tests/test_failure_reports.py::test_same_organisation_points_to_the_second_choice` |
| 8 | no schema jargon or rule slugs | `tests/test_failure_reports.py::test_schema_error_in_plain_words_and_no_bsn_echoed` |
| 8 | never the BSN | `tests/test_failure_reports.py::test_a_bsn_quoted_by_a_rule_message_is_redacted` |

Line breaks inside names and dates (finding 7) are t14's typography work on the templates and `dutch.py`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.casefactory import full_case
from tests.processed_roots import processed_root, read

K = "SO-2026-0042"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def example(tmp_path_factory, shared_fake_converter, shared_pki):
    """The example case, every step, through the production wiring (fake converter: the text is what counts)."""
    root = processed_root(tmp_path_factory, "w14-findings", full_case(), converter=shared_fake_converter,
                          shared_pki=shared_pki)
    yield root
    root.close()


def test_every_finding_has_a_test():
    table = re.findall(r"^\| (\d) \| .+ \| `(tests/[\w/]+\.py)::(\w+)` \|$", __doc__, flags=re.M)
    assert {finding for finding, _, _ in table} == {str(n) for n in range(1, 9)}
    for _, path, name in table:
        tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
        assert name in {f.name for f in tree.body if isinstance(f, ast.FunctionDef)}, f"{path}::{name}"


def test_finding_1_request_form_states_the_recorded_consent_only(example):
    """The form claimed "De werknemer heeft schriftelijk toestemming gegeven" whatever the evidence was; now it
    states the date of the recorded decision and points to the machtiging that says how it was given."""
    for party in ("so-bedrijfsarts", "werknemer", "bedrijfsarts"):
        form = read(example, party, "aanvraagformulier", K)
        assert "schriftelijk toestemming" not in form
        assert ("De werknemer heeft op 6 november 2026 toestemming gegeven om de onderstaande medische gegevens aan "
                "de second opinion-bedrijfsarts te verstrekken; zie de bijgevoegde machtiging (medische gegevens)"
                ) in form


def test_finding_4_information_request_addresses_the_practice_at_its_address(example):
    """The request to the treating physician named the practice without an address (it was to go by post)."""
    for party in ("so-bedrijfsarts", "werknemer", "archief"):
        letter = read(example, party, "informatieverzoek", K)
        assert "Vertrouwelijk Fysiotherapie Centrum Oost Kastanjelaan 30 3581 KL Utrecht" in letter
        assert "per post aan Arbopraktijk Visser, Stadsring 88, 3811 HR Amersfoort" in letter


def test_finding_6_the_docs_say_why_the_so_doctor_gets_no_bsn(example):
    readme = " ".join((REPO / "docs" / "fg.md").read_text(encoding="utf-8").split())
    section = readme[readme.index("**What the SO doctor receives (data minimisation).**"):][:900]
    assert "does not carry the BSN or the employer's personnel number" in section
    assert "AVG art. 5 lid 1 sub c" in section
    form = read(example, "so-bedrijfsarts", "aanvraagformulier", K)
    assert "111222333" not in form and "P-20417" not in form
