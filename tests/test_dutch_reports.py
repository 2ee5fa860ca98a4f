"""What a secretariat reads when a file is refused, and in `sopipe status`: Dutch only (no English from pydantic or
the JSON parser), the allowed values listed, the BSN said to be optional, an unknown field answered with the field
meant, the form of a kenmerk given; the list of failed files clears once a file is corrected or removed.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from tests.casefactory import event, full_case
from tests.processed_roots import failure_report, run_all

ENGLISH = re.compile(r"\b(Input should|Field required|Expecting|Extra inputs|String should|Value error|"
                     r"delimiter|enclosed|property name|Unterminated|not permitted)\b")


def refused(root, name: str, data) -> str:
    root.drop(name, data)
    outcomes = root.run()
    assert outcomes[-1].status == "failed", outcomes[-1]
    report = failure_report(root, name)
    assert not ENGLISH.search(report), report
    assert "111222333" not in report
    return report


def test_a_wrong_consent_value_lists_the_allowed_values_in_dutch(make_root):
    root = make_root()
    run_all(root, full_case(upto="beschikbaarheid"))
    report = refused(root, "05.json", event("aanvraag", machtiging_medische_gegevens="ja"))
    assert "machtiging_medische_gegevens: heeft een ongeldige waarde; toegestaan: 'verleend' of 'geweigerd'" in report


def test_a_missing_consent_lists_the_allowed_values(make_root):
    root = make_root()
    run_all(root, full_case(upto="beschikbaarheid"))
    report = refused(root, "05.json", event("aanvraag", machtiging_medische_gegevens=None))
    assert "machtiging_medische_gegevens: ontbreekt (verplicht veld); toegestaan: 'verleend' of 'geweigerd'" in report


def test_an_unknown_field_suggests_the_field_meant(make_root):
    root = make_root()
    run_all(root, full_case(upto="beschikbaarheid"))
    aanvraag = event("aanvraag")
    aanvraag["vraagstellnig"] = aanvraag.pop("vraagstelling")
    report = refused(root, "05.json", aanvraag)
    assert "vraagstellnig: is een onbekend veld; onbekende velden zijn niet toegestaan. Bedoelt u 'vraagstelling'?" \
        in report
    verzoek = event("verzoek", kenmerk="RP-2")
    verzoek["werknemer"]["geboortedatun"] = verzoek["werknemer"].pop("geboortedatum")
    assert "Bedoelt u 'geboortedatum'?" in refused(root, "01.json", verzoek)


def test_a_mistyped_bsn_says_the_bsn_is_optional(make_root):
    verzoek = event("verzoek")
    verzoek["werknemer"]["bsn"] = "111222334"
    report = refused(make_root(), "01.json", verzoek)
    assert "elfproef" in report and "Het BSN is niet verplicht: laat het veld 'bsn' weg" in report


def test_a_kenmerk_of_the_wrong_form_gives_the_form(make_root):
    report = refused(make_root(), "01.json", event("verzoek", kenmerk="SO 2026/42"))
    assert "kenmerk: heeft niet de juiste vorm: 3 tot 40 letters, cijfers, - of _, zonder spaties (bijvoorbeeld " \
           "SO-2026-0042)" in report


def test_an_unknown_step_lists_the_steps_and_suggests_one(make_root):
    report = refused(make_root(), "01.json", dict(event("verzoek"), stap="verzoekk"))
    assert "stap: is geen bekende stap; toegestaan: 'verzoek', 'beoordeling'" in report and \
        "Bedoelt u 'verzoek'?" in report


@pytest.mark.parametrize("raw, dutch", [
    (b'{\n  "kenmerk": "SO-1",\n}\n', "hier wordt een veldnaam tussen dubbele aanhalingstekens verwacht"),
    (b'{"kenmerk": "SO-1" "stap": "verzoek"}', "hier ontbreekt een komma"),
    (b'{"kenmerk" "SO-1"}', "hier ontbreekt de dubbele punt"),
    (b'{"kenmerk": }', "hier wordt een waarde verwacht"),
    (b'{"kenmerk": "SO-1', "een tekst tussen aanhalingstekens wordt niet afgesloten"),
    (b'{"kenmerk": "SO-1"} {', "na het afsluitende } staat nog tekst"),
])
def test_json_errors_in_dutch_with_line_and_column(make_root, raw, dutch):
    report = refused(make_root(), "01.json", raw)
    assert "Het bestand is geen geldige JSON: " + dutch in report and re.search(r"\(regel \d+, kolom \d+\)", report)


# --- sopipe status: the failed list ------------------------------------------------------------------------------

def _failed_listed(root) -> list[str]:
    result = CliRunner().invoke(cli, ["status", "--root", str(root.settings.root), "--json"])
    assert result.exit_code == 0, result.output
    return [f["file_name"] for f in json.loads(result.output)["mislukte_bestanden"]]


def test_status_forgets_a_failed_file_once_corrected_or_removed(make_root):
    root = make_root()
    bad = event("verzoek", kenmerk="ST-1", profiel="nvabx")
    root.drop("01.json", bad)
    root.drop("02.json", b"{ not json")
    assert {o.status for o in root.run()} == {"failed"}
    assert sorted(_failed_listed(root)) == ["01.json", "02.json"]

    root.drop("01.json", event("verzoek", kenmerk="ST-1"))  # corrected, same name
    assert [o.status for o in root.run()] == ["processed"]
    assert _failed_listed(root) == ["02.json"]

    for leftover in (root.settings.inbox / "failed").glob("02.json*"):  # the secretariat removes it
        leftover.unlink()
    assert _failed_listed(root) == []


def test_a_file_refused_twice_is_listed_once(make_root):
    root = make_root()
    for _ in range(2):
        root.drop("01.json", event("verzoek", kenmerk="ST-2", profiel="nvabx" + "x" * _))
        assert [o.status for o in root.run()] == ["failed"]
    assert _failed_listed(root) == ["01.json"]


def test_status_path_hint_includes_the_recipient_level(make_root):
    root = make_root()
    run_all(root, full_case(kenmerk="ST-3", upto="aanvraag"))
    result = CliRunner().invoke(cli, ["status", "ST-3", "--root", str(root.settings.root)],
                                env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    hint = " ".join(result.output.split())
    assert "bezorgd in outbox/<aan>/<ontvanger>/ST-3/ST-3_<document>.pdf" in hint
    assert "outbox/werkgever/<ontvanger>/facturen/" in hint
