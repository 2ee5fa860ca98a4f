"""Issue 14, item 7 (finding 8): error reports say what to do next per rule, in plain Dutch, never a BSN."""

from __future__ import annotations

import pytest

from tests.casefactory import event, full_case
from tests.processed_roots import failure_report, run_all

BSN = "111222333"


def run_one(root, name: str, data) -> str:
    root.drop(name, data)
    outcomes = root.run()
    assert outcomes[-1].status == "failed"
    return failure_report(root, name)


def assert_plain(report: str) -> None:
    assert "Regel:" not in report and "so-pipeline/v1 (zie" not in report and "schema/" not in report
    assert BSN not in report


@pytest.mark.parametrize("changes, needle", [
    ({"verzocht_door": "werkgever"}, "Alleen de werknemer"),
    ({"betreft": "aanstellingskeuring"}, "aanstellingskeuring"),
])
def test_request_that_cannot_be_handled_says_inform_the_requester(make_root, changes, needle):
    report = run_one(make_root(), "01.json", event("verzoek", **changes))
    assert needle in report and "Laat de aanvrager dit weten" in report and "brief" in report
    assert "Corrigeer het bestand" not in report
    assert_plain(report)


def test_same_organisation_points_to_the_second_choice(make_root):
    root = make_root()
    run_all(root, full_case(upto="beoordeling"))
    so = dict(event("selectie")["so_bedrijfsarts"], organisatie="ArboNoord")
    report = run_one(root, "03.json", event("selectie", so_bedrijfsarts=so))
    assert "tweede keuze" in report and "andere organisatie" in report
    assert_plain(report)


def test_schema_error_in_plain_words_and_no_bsn_echoed(make_root):
    verzoek = event("verzoek")
    verzoek["werknemer"]["bsn"] = "111222334"  # fails the 11-test: the report must not repeat it
    verzoek["verzocht_door"] = 12
    report = run_one(make_root(), "01.json", verzoek)
    assert "werknemer.bsn" in report and "elfproef" in report and "111222334" not in report
    assert "Corrigeer het bestand" in report
    assert_plain(report)


def test_a_bsn_quoted_by_a_rule_message_is_redacted(make_root):
    report = run_one(make_root(), "01.json", event("verzoek", verzocht_door=BSN))
    assert "[BSN]" in report
    assert_plain(report)
