"""Issue 14, finding 7: no line break inside a name, a date, an amount, a postcode or a number.

The renderer sets every printed value with no-break spaces (U+00A0) where a careful secretary would
(`dutch.onbreekbaar`); pdftotext shows them as spaces, pypdf (which the privacy guard reads with) keeps them. The
guard's normalisation (NFKC) treats a no-break space as a space, so a name planted with one is still caught.
Documents here go through the production wiring with the FakeConverter; the real LibreOffice line breaks are
tested in test_signature_block_layout.py.
"""

from __future__ import annotations


import pytest

from pipeline.core import model
from pipeline.core.dutch import NBSP, onbreekbaar
from pipeline.core.privacy import case_rules, find_identifiers
from pipeline.core.procedure import fold
from tests.casefactory import full_case
from tests.mailbox_paths import mailbox
from tests.pdfs import pypdf_text

K = "SO-2026-0342"


@pytest.mark.parametrize("text, expected", [  # "~" marks a no-break space
    ("Dr. P. Bakker", "Dr.~P.~Bakker"),
    ("M.A. Jansen schreef", "M.A.~Jansen schreef"),
    ("t.a.v. H. de Vries", "t.a.v. H.~de~Vries"),
    ("J.P. van der Berg", "J.P.~van~der~Berg"),
    ("op 7 november 2026 en 17 maart", "op 7~november~2026 en 17~maart"),
    ("dinsdag 17 november 2026 om 10.30 uur", "dinsdag 17~november~2026 om 10.30~uur"),
    ("Totaal € 485,00", "Totaal €~485,00"),
    ("Stadsring 88, 3811 HR Amersfoort", "Stadsring~88, 3811~HR Amersfoort"),
    ("BIG-nummer 19012345601 · KvK 12345678", "BIG-nummer~19012345601 · KvK~12345678"),
    ("T 030 123 45 67", "T~030~123~45~67"),
    # what must stay breakable
    ("Bouwbedrijf De Vries B.V. Het werk", "Bouwbedrijf De Vries B.V. Het werk"),
    ("Start met 3 x 4 uur per week", "Start met 3 x 4 uur per week"),
    ("de werknemer is per week 50% inzetbaar", "de werknemer is per week 50% inzetbaar"),
])
def test_no_break_spaces_where_a_line_may_not_break(text, expected):
    assert onbreekbaar(text) == expected.replace("~", NBSP)


def test_the_guard_finds_a_name_written_with_no_break_spaces():
    state = fold(model.parse_event(e) for e in full_case(kenmerk=K, upto="definitief_advies"))
    rules = case_rules(state)
    for planted in ("M.A.\u00a0Jansen", "mevrouw\u00a0Jansen", "M.\u00a0A.\u00a0Jansen", "M.A.\u202fJansen"):
        assert find_identifiers(rules, f"Omschrijving: second opinion {planted}", where="tekst pagina 1"), planted


@pytest.fixture(scope="module")
def root(tmp_path_factory, shared_fake_converter, shared_pki):
    from tests.conftest import Root
    r = Root(tmp_path_factory.mktemp("nbsp") / "root", converter=shared_fake_converter, pki=shared_pki)
    events = full_case(kenmerk=K, overrides={"facturatie": {
        # planted by whoever writes the case file: the employee's name, with a no-break space, on the invoice
        "omschrijving": "Second opinion bedrijfsarts voor M.A.\u00a0Jansen"}})
    for i, ev in enumerate(events, start=1):
        r.drop(f"{i:02d}-{ev['stap']}.json", ev)
    r.outcomes = r.run()
    yield r
    r.close()


def test_an_employee_name_with_a_no_break_space_on_an_anonymous_invoice_is_quarantined(root):
    for party in ("arbodienst", "werkgever"):
        delivered = {p.name for p in mailbox(root, party, K).glob("*.pdf")}
        assert not [n for n in delivered if "factuur" in n or "doorbelasting" in n], (party, delivered)
    reports = sorted((root.settings.quarantine / K).glob("*.report.txt"))
    names = {r.name for r in reports}
    assert any(n.startswith("arbodienst_") for n in names) and any(n.startswith("werkgever_") for n in names), names
    assert all("naam van de werknemer" in r.read_text(encoding="utf-8") for r in reports), names


def test_names_dates_and_amounts_in_the_pdf_text_carry_no_break_spaces(root):
    advies = pypdf_text(mailbox(root, "werknemer", K) / f"{K}_advies.pdf")
    for phrase in ("Dr. E. Visser", "Dr. P. Bakker", "M.A. Jansen", "24 november 2026", "17 maart 1984",
                   "BIG-nummer 39087654301", "3811 HR", "Stadsring 88"):
        assert phrase.replace(" ", NBSP) in advies, phrase
        assert phrase not in advies, phrase
    uitnodiging = pypdf_text(mailbox(root, "werknemer", K) / f"{K}_uitnodiging.pdf")
    assert "17\u00a0november\u00a02026 om 10.30\u00a0uur" in uitnodiging
    factuur = pypdf_text(mailbox(root, "archief", K) / f"{K}_factuur.pdf")
    assert "€\u00a0485,00" in factuur and "€ 485,00" not in factuur
