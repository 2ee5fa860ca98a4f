"""The desk in a real browser (Debian's chromium, Playwright): login with and without the code, lockout, idle
timeout, scope, a case made from nothing through the forms until the pipeline delivered its documents, a failed
file fixed and resubmitted, and every view in the employee's audit view under the desk user's name.

The desk's web process runs as its own Unix user (`sopipe-desk`), the gateway and the watcher in this process, as
`sopipe desk serve` and `sopipe watch` run them. The tests of this module share one root and run in file order
(the case the flow test makes is the one the audit test reads). Screenshots go to docs/img/desk-*.png.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import ExitStack

import psutil
import pytest
from click.testing import CliRunner

from pipeline.adapters.audit import Audit
from pipeline.cli import cli
from pipeline.shell.desk_service import DATA_FOLDER, running_desk
from pipeline.shell.layout import EXAMPLES
from tests.conftest import Root
from tests.desk_helpers import (DeskUsers, Watcher, browser, desk_process_user, free_port, log_in,  # noqa: F401
                                page, passable_folder, remove, shot)
from tests.desk_helpers import fill_form as _fill
from tests.desk_helpers import wait_processed as _wait_processed

pytest.importorskip("playwright.sync_api")
CASE = EXAMPLES / "case-SO-2026-0042"
NEW = "SO-2026-0777"
"""The case the flow test makes from nothing."""


@pytest.fixture(scope="module")
def desk(shared_pki, shared_fake_converter):
    user = desk_process_user()
    folder = passable_folder()
    with ExitStack() as stack:
        stack.callback(remove, folder)
        root = Root(folder / "root", converter=shared_fake_converter, pki=shared_pki)
        stack.callback(root.close)
        users = DeskUsers(root.settings.state)
        stack.callback(users.close)
        users.add("wit", naam="J. de Wit", organisatie="arbonoord")
        users.add("slot", naam="S. Lot", organisatie="arbonoord")
        users.add("zuid", naam="Z. Uid", organisatie="arbozuid")
        port = free_port()
        base = stack.enter_context(running_desk(root.settings, port=port, user=user, data=folder / DATA_FOLDER))
        watcher = Watcher(root.pipeline)
        stack.callback(watcher.stop)

        class Desk:
            pass
        d = Desk()
        d.root, d.users, d.base, d.folder, d.user = root, users, base, folder, user
        yield d


def _example(name: str, kenmerk: str = NEW) -> dict:
    data = json.loads((CASE / name).read_text(encoding="utf-8"))
    data["kenmerk"] = kenmerk
    return data


def test_the_web_process_runs_as_the_desks_own_user(desk):
    if desk.user.uid == os.getuid():
        pytest.skip("this checkout is closed to other users: the desk runs as us here (see desk_process_user)")
    assert (desk.folder / DATA_FOLDER / "desk.sqlite3").stat().st_uid == desk.user.uid
    owners = {p.uids().real for p in psutil.process_iter() if "desk.wsgi:application" in " ".join(p.cmdline())}
    assert desk.user.uid in owners


# --- login ---------------------------------------------------------------------------------------------------------

def test_login_without_the_right_code_is_refused_and_with_it_the_desk_opens(desk, page):
    page.goto(desk.base + "zaken/")
    assert "/inloggen/" in page.url  # nothing without logging in
    page.get_by_label("Gebruikersnaam").fill("wit")
    page.get_by_label("Wachtwoord").fill(desk.users.passwords["wit"])
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Inloggen").click()
    assert page.get_by_role("alert").inner_text() == "Gebruikersnaam, wachtwoord of code klopt niet."
    shot(page, "inloggen-fout")
    log_in(page, desk.base, desk.users, "wit", screenshots=True)  # first login: a new password is asked
    assert page.get_by_role("heading", name="Zaken").is_visible()


def test_five_wrong_logins_lock_the_account_in_dutch(desk, page):
    for _ in range(5):
        page.goto(desk.base + "inloggen/")
        page.get_by_label("Gebruikersnaam").fill("slot")
        page.get_by_label("Wachtwoord").fill("verkeerd-wachtwoord")
        page.get_by_label("Code").fill("123456")
        page.get_by_role("button", name="Inloggen").click()
    assert page.get_by_role("heading", name="Tijdelijk geblokkeerd").is_visible()
    page.goto(desk.base + "inloggen/")
    page.get_by_label("Gebruikersnaam").fill("slot")
    page.get_by_label("Wachtwoord").fill(desk.users.passwords["slot"])
    page.get_by_label("Code").fill(desk.users.code("slot"))
    page.get_by_role("button", name="Inloggen").click()
    assert page.get_by_role("heading", name="Tijdelijk geblokkeerd").is_visible(), "the right password is locked too"
    shot(page, "geblokkeerd")


# --- a case from nothing to delivered documents ------------------------------------------------------------------

STEPS = [("02-beoordeling.json", "beoordeling"), ("03-selectie.json", "selectie"),
         ("04-beschikbaarheid.json", "beschikbaarheid"), ("05-aanvraag.json", "aanvraag"),
         ("06-uitvoering.json", "uitvoering"), ("07-extra-informatie.json", "extra_informatie"),
         ("08-conceptadvies.json", "conceptadvies"), ("09-definitief-advies.json", "definitief_advies"),
         ("10-beoordeling-advies.json", "beoordeling_advies"), ("11-facturatie.json", "facturatie")]


def test_a_case_made_from_nothing_through_the_forms_until_the_final_advice_is_delivered(desk, page):
    log_in(page, desk.base, desk.users, "wit")
    page.get_by_role("link", name="Nieuwe zaak").click()
    verzoek = _example("01-verzoek.json")
    verzoek["werknemer"]["adres"]["postcode"] = "12345"  # a typo first: the check shows it beside the field
    page.locator("#veld-kenmerk").fill(NEW)
    _fill(page, "verzoek", verzoek)
    page.get_by_role("button", name="Controleren", exact=True).click()
    problem = page.locator("#fout-veld-werknemer-adres-postcode")
    assert problem.inner_text() == "heeft niet de juiste vorm (gegeven: '12345')"
    assert "Er is 1 probleem" in page.get_by_role("alert").inner_text()
    assert not list(desk.root.settings.inbox.glob(f"{NEW}*")), "a check writes nothing"
    shot(page, "formulier-fouten")
    page.locator("#veld-werknemer-adres-postcode").fill("3521 AB")
    page.get_by_role("button", name="Controleren en indienen").click()
    assert "/volg/" in page.url
    _wait_processed(page)
    shot(page, "volg")
    for name, stap in STEPS:
        page.goto(desk.base + f"zaken/{NEW}/")
        page.locator(f"a[href='/zaken/{NEW}/stap/{stap}/']").click()
        if stap == "aanvraag":
            shot(page, "stap")
        _fill(page, stap, _example(name))
        page.get_by_role("button", name="Controleren en indienen").click()
        assert "/volg/" in page.url, f"{stap}: {page.locator('.fout').all_inner_texts()}"
        _wait_processed(page)
    page.get_by_role("link", name="Naar de zaak").click()
    assert page.get_by_role("heading", name=f"Zaak {NEW}").is_visible()
    text = page.locator("main").inner_text()
    # every step done: only a consent can still be withdrawn
    assert page.locator("ul.stappen a").all_inner_texts() == ["Intrekking van een machtiging"]
    assert "Advies second opinion" in text and "bezorgd" in text
    shot(page, "zaak")
    delivered = {(r.party, r.kind) for r in desk.root.store.deliveries(NEW) if r.status == "delivered"}
    assert ("werknemer", "advies") in delivered
    events = desk.root.store.events(NEW)
    assert len(events) == 11
    assert {e.payload["ingediend_door"] for e in events} == {"J. de Wit (wit, secretariaat arbonoord, via de desk)"}
    page.get_by_role("link", name="Zaken", exact=True).click()
    assert page.get_by_role("link", name=NEW).is_visible()
    shot(page, "zaken")


# --- scope ---------------------------------------------------------------------------------------------------------

def test_another_arbodienst_sees_no_case_and_a_guessed_url_is_a_logged_404(desk, page):
    log_in(page, desk.base, desk.users, "zuid")
    assert "Geen zaken gevonden" in page.locator("main").inner_text()
    before = len(Audit(desk.root.store).trail(NEW))
    for path in (f"zaken/{NEW}/", f"zaken/{NEW}/stap/facturatie/", "zaken/SO-2099-0001/", f"mislukt/{'a' * 64}/",
                 f"mislukt/{'a' * 64}/brief.pdf"):
        response = page.goto(desk.base + path)
        assert response.status == 404, path
        assert page.get_by_role("heading", name="Niet gevonden").is_visible()
    shot(page, "niet-gevonden")
    refusals = [r for r in Audit(desk.root.store).trail(NEW)[before:] if r.uitkomst == "geweigerd"]
    assert len(refusals) == 2 and all("Z. Uid (zuid" in r.gebruiker for r in refusals)
    guessed = [r for r in Audit(desk.root.store).records() if r.uitkomst == "geweigerd" and r.kenmerk is None
               and "Z. Uid (zuid" in r.gebruiker]
    assert len(guessed) == 3  # the unknown case and the failed file guessed twice: recorded without a case


# --- a failed file, fixed and resubmitted ---------------------------------------------------------------------------

def test_a_failed_file_is_opened_in_its_form_fixed_and_resubmitted(desk, page):
    bad = _example("01-verzoek.json", kenmerk="SO-2026-0888")
    bad["werknemer"]["geboortedatum"] = "17-03-1984"
    desk.root.drop("verzoek-uit-het-hr-systeem.json", bad)  # written by another system, refused by the intake
    deadline = time.monotonic() + 30
    while not (desk.root.settings.failed / "verzoek-uit-het-hr-systeem.json").exists():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    log_in(page, desk.base, desk.users, "wit")
    page.get_by_role("link", name="Mislukte bestanden").click()
    assert page.get_by_role("cell", name="verzoek-uit-het-hr-systeem.json").is_visible()
    shot(page, "mislukt")
    page.get_by_role("link", name="Openen en verbeteren").click()
    field = page.locator("#veld-werknemer-geboortedatum")
    assert page.locator("#fout-veld-werknemer-geboortedatum").inner_text().startswith("is geen geldige datum")
    assert "NIET verwerkt" in page.locator("pre.rapport").inner_text()
    shot(page, "mislukt-formulier")
    field.fill("1984-03-17")
    page.get_by_role("button", name="Controleren en indienen").click()
    _wait_processed(page)
    page.get_by_role("link", name="Mislukte bestanden").click()
    assert "Er zijn geen mislukte bestanden" in page.locator("main").inner_text()
    assert desk.root.store.events("SO-2026-0888"), "the corrected request is a case now"
    replaced = [r for r in Audit(desk.root.store).trail("SO-2026-0888") if r.details.get("regel") == "vervangen"]
    assert replaced and "J. de Wit" in replaced[0].gebruiker


# --- every view in the employee's audit view --------------------------------------------------------------------------

def test_every_case_page_view_is_in_the_employees_audit_view_under_the_desk_users_name(desk, page):
    log_in(page, desk.base, desk.users, "wit")
    views_before = [r for r in Audit(desk.root.store).trail(NEW) if r.gebeurtenis == "inzage"
                    and r.details.get("wat") == "status"]
    page.goto(desk.base + f"zaken/{NEW}/")
    page.goto(desk.base + f"zaken/{NEW}/")
    views = [r for r in Audit(desk.root.store).trail(NEW) if r.gebeurtenis == "inzage"
             and r.details.get("wat") == "status"]
    assert len(views) == len(views_before) + 2
    result = CliRunner().invoke(cli, ["audit", NEW, "--for", "werknemer", "--root", str(desk.root.path)])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines()
             if "bekeken door J. de Wit (medewerker secretariaat)" in line]  # the person, in words (issue 23)
    assert len(lines) == len(views)


def test_every_page_carries_the_security_headers_and_a_forged_post_is_refused(desk, page):
    response = page.goto(desk.base + "inloggen/")
    headers = response.headers
    assert "script-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
    cookie = next(c for c in page.context.cookies() if c["name"] == "csrftoken")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    forged = page.request.post(desk.base + "inloggen/", form={"gebruikersnaam": "wit", "wachtwoord": "x",
                                                              "code": "123456"})
    assert forged.status == 403 and "Het formulier was verlopen" in forged.text()
    missing = page.goto(desk.base + "bestaat-niet/")
    assert missing.status == 404 and page.get_by_role("heading", name="Niet gevonden").is_visible()


def test_a_session_ends_after_the_idle_time(desk, browser, tmp_path):
    """A second desk on the same root with a 5-second idle time (the setting `--idle`)."""
    port = free_port()
    with running_desk(desk.root.settings, port=port, user=desk.user, data=desk.folder / "idle-data",
                      idle_seconds=5) as base:
        context = browser.new_context(locale="nl-NL")
        page = context.new_page()
        try:
            log_in(page, base, desk.users, "wit")
            page.goto(base + "zaken/")
            assert "/zaken/" in page.url
            time.sleep(6.5)
            page.goto(base + "zaken/")
            assert "/inloggen/" in page.url
        finally:
            context.close()
