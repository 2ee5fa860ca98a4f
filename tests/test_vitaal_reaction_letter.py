"""Issue 14, read-through: in the Vitaal! profile the own doctor's reaction letter says what the Vitaal! procedure
promises after a second opinion (seed 002, step 9): the employee may ask for another doctor, who always works for
the arbodienst itself. The other profiles' letters do not say so."""

from __future__ import annotations

import pytest

from tests.casefactory import full_case
from tests.pdfs import pdftotext
from tests.mailbox_paths import mailbox

PROMISE = "Die andere bedrijfsarts werkt wel altijd voor ArboNoord."


def reactie_text(root, kenmerk: str, profiel: str) -> str:
    events = full_case(kenmerk=kenmerk, profiel=profiel,
                       overrides={"verzoek": {"via": "casemanager"}} if profiel == "vitaal" else None)
    for i, ev in enumerate(events, start=1):
        root.drop(f"{kenmerk}-{i:02d}.json", ev)
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed"] * len(events), [(o.file_name, o.detail) for o in outcomes]
    pdf = mailbox(root, "werknemer", kenmerk) / f"{kenmerk}_reactie-bedrijfsarts.pdf"
    return " ".join(pdftotext(pdf).split()).replace("\u00a0", " ")


def test_the_vitaal_reaction_letter_says_another_doctor_is_always_of_the_arbodienst(make_root):
    text = reactie_text(make_root(), "VI-R1", "vitaal")
    assert "ArboNoord doet dan haar best om dat te regelen. " + PROMISE in text


@pytest.mark.parametrize("profiel", ["nvab", "lpbso"])
def test_other_profiles_make_no_such_promise(make_root, profiel):
    text = reactie_text(make_root(), f"{profiel.upper()}-R1", profiel)
    assert "andere bedrijfsarts" in text  # the general right to ask for another doctor stays
    assert PROMISE not in text
