"""Issue 14 (finding 8, first point): a request refused outright gets a ready letter to the requester.

A request from the employer, or about an aanstellingskeuring, has nothing to correct. The case file still ends in
`inbox/failed/` with its report; beside it lies `<file>.brief-aan-aanvrager.pdf`, made by the normal
render/convert path and checked by the privacy guard, and the report tells the secretariat to send it.
"""

from __future__ import annotations

import datetime as dt
import os
import stat

import pytest

from pipeline.core import model
from pipeline.core.requester import letter_to_requester
from pipeline.shell.guard import PrivacyGuard
from tests.casefactory import event
from tests.pdfs import pdftotext
from tests.pdfs import pdf_text

BSN = "111222333"
MEDICAL = "Hernia L5-S1 met uitstraling naar het linkerbeen; gebruikt zware pijnstillers."
LETTER = "01.json.brief-aan-aanvrager.pdf"


def refuse(root, data: dict, name: str = "01.json"):
    root.drop(name, data)
    [outcome] = root.run()
    assert outcome.status == "failed"
    failed = root.settings.inbox / "failed"
    assert (failed / name).is_file()  # the case file itself ends in failed/, beside its report
    return failed, (failed / f"{name}.error.txt").read_text(encoding="utf-8")


def test_employer_gets_a_letter_with_the_legal_ground_and_what_to_do_instead(make_root):
    root = make_root()
    failed, report = refuse(root, event("verzoek", verzocht_door="werkgever", betwist_advies=MEDICAL))
    letter = pdf_text(failed / LETTER)
    assert "Bouwbedrijf De Vries B.V." in letter and "t.a.v. H. de Vries" in letter
    assert "Geachte heer/mevrouw De Vries," in letter
    assert "Alleen de werknemer kan om een second opinion vragen" in letter
    assert "artikel 2.14d Arbeidsomstandighedenbesluit" in letter
    assert "deskundigenoordeel" in letter and "het verzoek moet van de werknemer zelf komen" in letter
    assert "2 november 2026" in letter and "SO-2026-0042" in letter  # the employer's own request: date, reference
    assert "aanstellingskeuring" not in letter.lower()
    # nothing of the employee: no name, no BSN, no medical text (the employer sent them, the answer needs none)
    for secret in ("Jansen", BSN, "Hernia", "pijnstillers", "Lindenlaan", "17 maart 1984"):
        assert secret not in letter, secret
    # the report tells the secretariat to send it, and there is nothing to correct
    assert LETTER in report and "stuur de brief" in report and "Bouwbedrijf De Vries B.V." in report
    assert "Corrigeer het bestand" not in report and BSN not in report and "B.V.." not in report
    # no case was opened and nothing reached a mailbox
    assert root.store.events("SO-2026-0042") == [] and root.mailboxes() == {}


def test_the_privacy_guard_passes_on_the_employer_letter_and_would_stop_an_employee_name(make_root):
    root = make_root()
    failed, _ = refuse(root, event("verzoek", verzocht_door="werkgever", betwist_advies=MEDICAL))
    ev = model.parse_event(event("verzoek", verzocht_door="werkgever", betwist_advies=MEDICAL))
    letter = letter_to_requester(ev, rule="alleen-werknemer", datum=dt.date(2026, 11, 3))
    guard = PrivacyGuard()
    pdf = (failed / LETTER).read_bytes()
    assert guard.check(pdf, order=letter.order, party=letter.party, state=letter.state,
                       path=f"inbox/failed/{LETTER}") == []
    # the same guard on a letter that names the employee: an anonymous document, so it is stopped
    other = (failed / LETTER).with_name("x.pdf")
    named = root.pipeline._make_one(letter_to_requester(
        model.parse_event(event("verzoek", verzocht_door="werkgever",
                                werkgever={**event("verzoek")["werkgever"], "contactpersoon": "M.A. Jansen"})),
        rule="alleen-werknemer", datum=dt.date(2026, 11, 3)).order)
    other.write_bytes(named)
    assert "Jansen" in pdftotext(other)
    assert guard.check(named, order=letter.order, party=letter.party, state=letter.state, path="inbox/failed/x.pdf")


class _StoppingGuard:
    """A guard that finds something in every document (as it would after a careless template edit)."""

    def __init__(self) -> None:
        self.checked: list[str] = []

    def check(self, pdf, *, order, party, state, path):
        from pipeline.shell.runner import Finding
        self.checked.append(order.kind)
        return [Finding("naam van de werknemer", "tekst pagina 1")]


def test_a_letter_the_guard_stops_is_not_written_and_the_report_says_to_write_one(make_root):
    guard = _StoppingGuard()
    failed, report = refuse(make_root(guard=guard), event("verzoek", verzocht_door="werkgever"))
    assert guard.checked == ["brief-aan-aanvrager-werkgever"]
    assert not (failed / LETTER).exists()
    assert "Laat de aanvrager dit weten, bij voorkeur met een brief" in report


def test_aanstellingskeuring_candidate_gets_the_own_route(make_root):
    root = make_root()
    failed, report = refuse(root, event("verzoek", betreft="aanstellingskeuring"))
    letter = pdf_text(failed / LETTER)
    assert "M.A. Jansen" in letter and "Lindenlaan 12" in letter  # the candidate's own name and address
    assert "Bij een aanstellingskeuring is een second opinion niet mogelijk" in letter
    assert "herkeuring" in letter and "Besluit aanstellingskeuringen" in letter
    assert "Geachte heer/mevrouw Jansen," in letter and "Geachte M.A." not in letter  # no initials
    assert "Alleen de werknemer kan" not in letter and BSN not in letter
    assert "de aanvrager zelf" in report and "Jansen" not in report


def test_employer_asking_about_an_aanstellingskeuring_hears_both_grounds(make_root):
    failed, _ = refuse(make_root(), event("verzoek", verzocht_door="werkgever", betreft="aanstellingskeuring"))
    letter = pdf_text(failed / LETTER)
    assert "Alleen de werknemer kan om een second opinion vragen" in letter
    assert "Bij een aanstellingskeuring is een second opinion niet mogelijk" in letter
    assert "herkeuring" not in letter  # the candidate's route is not the employer's


@pytest.mark.parametrize("wie", ["advocaat", "vakbond"])
def test_a_requester_the_file_gives_no_address_for_gets_no_letter(make_root, wie):
    failed, report = refuse(make_root(), event("verzoek", verzocht_door=wie))
    assert not (failed / LETTER).exists()
    assert "Laat de aanvrager dit weten" in report


def test_other_refusals_get_no_letter(make_root):
    failed, report = refuse(make_root(), event("verzoek", datum_betwist_advies="2026-12-30"))
    assert not any(p.name.endswith(".pdf") for p in failed.iterdir())
    assert "Corrigeer het bestand" in report


def test_a_planted_link_is_replaced_not_written_through_and_the_mode_ignores_the_umask(make_root, tmp_path):
    root = make_root()
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(b"keep")
    failed = root.settings.inbox / "failed"
    failed.mkdir(exist_ok=True)
    (failed / LETTER).symlink_to(outside)
    old = os.umask(0)
    try:
        refuse(root, event("verzoek", verzocht_door="werkgever"))
    finally:
        os.umask(old)
    assert outside.read_bytes() == b"keep"
    info = (failed / LETTER).lstat()
    assert stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600
    assert "Alleen de werknemer" in pdf_text(failed / LETTER)


@pytest.mark.libreoffice
def test_the_real_letter_is_one_pdf_a_page_from_libreoffice(make_root):
    failed, _ = refuse(make_root(), event("verzoek", verzocht_door="casemanager", betwist_advies=MEDICAL))
    from tests.pdfs import xmp
    assert "<pdfaid:part>2</pdfaid:part>" in xmp((failed / LETTER).read_bytes())  # PDF/A-2b like every document
    letter = pdf_text(failed / LETTER)
    assert "Pagina 1 van 1" in letter and "Geachte heer/mevrouw De Vries," in letter
    assert "Alleen de werknemer kan om een second opinion vragen" in letter and "Hernia" not in letter
    assert "Met vriendelijke groet, ArboNoord secretariaat second opinion" in letter


def test_the_letter_is_dated_by_the_dutch_calendar_not_by_utc(make_root):
    from pipeline.adapters.clock import FrozenClock
    root = make_root()
    root.pipeline.clock = FrozenClock(dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.timezone.utc))  # 00:30 in NL
    failed, _ = refuse(root, event("verzoek", verzocht_door="werkgever"))
    letter = " ".join(pdf_text(failed / LETTER).split()).replace("\u00a0", " ")
    assert "2 december 2026" in letter and "1 december 2026" not in letter
