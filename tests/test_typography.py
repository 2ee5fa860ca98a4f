"""Issue 14, finding 7 (typography): the salutation to the named contact, and no doubled full stop after a name
that ends in one ("B.V..").

The example case is taken through the production wiring (FakeConverter: the real templates rendered by docxtpl,
PDF text read back with poppler's pdftotext); the werkgever's contact H. de Vries, and the additional
information asked of the employer, Bouwbedrijf De Vries B.V.
"""

from __future__ import annotations

import pytest

from pipeline.core.dutch import aanhef, zinseinde
from tests.casefactory import full_case
from tests.pdfs import pdftotext
from tests.mailbox_paths import mailbox

K = "SO-2026-0242"


@pytest.mark.parametrize("contact, expected", [
    ("H. de Vries", "Geachte heer/mevrouw De Vries"),
    ("mevrouw H. de Vries", "Geachte mevrouw De Vries"),
    ("de heer J.P. Kramer", "Geachte heer Kramer"),
    ("Sanne Bakker", "Geachte heer/mevrouw Sanne Bakker"),
    (None, "Geachte heer, mevrouw"), ("  ", "Geachte heer, mevrouw"), ("H.", "Geachte heer, mevrouw")])
def test_salutation_to_the_named_contact(contact, expected):
    assert aanhef(contact) == expected


@pytest.mark.parametrize("text, expected", [("Bouwbedrijf De Vries B.V.", "Bouwbedrijf De Vries B.V."),
                                            ("Fysiotherapie Centrum Oost", "Fysiotherapie Centrum Oost.")])
def test_one_full_stop_at_the_end_of_a_sentence(text, expected):
    assert zinseinde(text) == expected


@pytest.fixture(scope="module")
def letters(tmp_path_factory, shared_fake_converter, shared_pki):
    from tests.conftest import Root
    root = Root(tmp_path_factory.mktemp("typo") / "root", converter=shared_fake_converter, pki=shared_pki)
    events = full_case(kenmerk=K, overrides={"extra_informatie": {
        "bron": "werkgever", "bron_naam": "Bouwbedrijf De Vries B.V."}})
    for i, ev in enumerate(events, start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed"] * len(events), [(o.file_name, o.detail) for o in outcomes]
    texts = {party: {p.name: pdftotext(p) for p in mailbox(root, party, K).glob("*.pdf")}
             for party in ("werkgever", "werknemer", "bedrijfsarts", "so-bedrijfsarts")}
    yield texts
    root.close()


def test_letters_to_the_employer_greet_the_named_contact(letters):
    werkgever = letters["werkgever"]
    greeted = [name for name, text in werkgever.items() if "Geachte heer/mevrouw De Vries," in text]
    assert f"{K}_informatieverzoek-werkgever.pdf" in greeted, sorted(werkgever)
    assert not [name for name, text in werkgever.items() if "Geachte heer, mevrouw," in text]


def test_no_doubled_full_stop_after_a_name_ending_in_one(letters):
    everything = {f"{party}/{name}": text for party, docs in letters.items() for name, text in docs.items()}
    assert any("Bouwbedrijf De Vries B.V." in t for t in everything.values())
    assert [name for name, text in everything.items() if "B.V.." in text] == []
