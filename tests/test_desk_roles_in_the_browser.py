"""The example case from request to destruction with every human step in a real browser (Debian's chromium,
Playwright), each by the role that owns it: the secretariat makes the case through the forms; the own doctor and
the SO doctor each download the document waiting for them, sign it with `sopipe sign` and their DEMO keys, upload
it and the case moves on; a wrong upload and another doctor's signature get their Dutch reason; another doctor's
URLs answer 404; the doctor's own mailbox; the secretariat finishes the case; the FG sees the desk users who looked
(per case, per employee, the art. 15 export) and the chain's state; IT ends a person's sessions, gives a new
authenticator and sees `sopipe doctor`; the records officer exports a sealed bundle, has it checked, and destroys
the dossier with every check first and a fresh code.

One root (the pipeline signs no doctor's document itself), one desk (web process as `sopipe-desk`, gateway and
watcher here); the tests run in file order (the destruction is last). Screenshots go to docs/img/desk-*.png.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from contextlib import ExitStack
from pathlib import Path

import pyotp
import pytest

from pipeline.adapters.audit import Audit
from pipeline.core.actor import Rol
from pipeline.shell.desk_service import DATA_FOLDER, desk_user, running_desk
from pipeline.shell.layout import EXAMPLES
from tests.desk_helpers import (DeskUsers, Watcher, browser, desk_process_user, fill_form, free_port,  # noqa: F401
                                log_in, page, passable_folder, remove, shot, wait_processed)
from tests.role_roots import BAKKER, K, SMIT, VISSER, held_root

pytest.importorskip("playwright.sync_api")
BSN = "111222333"
REDEN = "verzoek werknemer tot vernietiging (art. 7:455 BW)"
PEOPLE = {"evisser": ("Dr. E. Visser", Rol.SO_BEDRIJFSARTS, VISSER, None),
          "pbakker": ("Dr. P. Bakker", Rol.BEDRIJFSARTS, BAKKER, None),
          "karchief": ("K. Archief", Rol.ARCHIVARIS, None, None), "ftoezicht": ("F. Toezicht", Rol.FG, None, None),
          "ibeheer": ("I. Beheer", Rol.BEHEER, None, None), "wit": ("J. de Wit", Rol.SECRETARIAAT, None, "arbonoord")}
CASE = EXAMPLES / "case-SO-2026-0042"
BEFORE_SIGNING = [("02-beoordeling.json", "beoordeling"), ("03-selectie.json", "selectie"),
                  ("04-beschikbaarheid.json", "beschikbaarheid"), ("05-aanvraag.json", "aanvraag"),
                  ("06-uitvoering.json", "uitvoering"), ("07-extra-informatie.json", "extra_informatie"),
                  ("08-conceptadvies.json", "conceptadvies"), ("09-definitief-advies.json", "definitief_advies")]
AFTER_SIGNING = [("10-beoordeling-advies.json", "beoordeling_advies"), ("11-facturatie.json", "facturatie")]
HOME = {Rol.SO_BEDRIJFSARTS: "/ondertekenen/", Rol.BEDRIJFSARTS: "/ondertekenen/", Rol.ARCHIVARIS: "/archief/",
        Rol.FG: "/toezicht/", Rol.BEHEER: "/beheer/", Rol.SECRETARIAAT: "/zaken/"}


@pytest.fixture(scope="module")
def desk(shared_pki, shared_fake_converter, keyring):
    user = desk_process_user()
    folder = passable_folder()
    with ExitStack() as stack:
        stack.callback(remove, folder)
        root = held_root(folder / "root", converter=shared_fake_converter, keyring=keyring, pki=shared_pki,
                         upto=None)
        stack.callback(root.close)
        users = DeskUsers(root.settings.state)
        stack.callback(users.close)
        for login, (naam, rol, big, organisatie) in PEOPLE.items():
            new = users.users.add(login, naam=naam, rol=rol, big=big, organisatie=organisatie)
            users.passwords[login], users.secrets[login] = new.wachtwoord, new.geheim
        base = stack.enter_context(running_desk(root.settings, port=free_port(), user=user,
                                                data=folder / DATA_FOLDER))
        watcher = Watcher(root.pipeline)
        stack.callback(watcher.stop)

        class Desk:
            pass
        d = Desk()
        d.root, d.users, d.base, d.folder, d.pki = root, users, base, folder, shared_pki
        yield d


def _log_in(page, desk, login: str) -> None:
    log_in(page, desk.base, desk.users, login, landing=HOME[PEOPLE[login][1]])


def _example(name: str) -> dict:
    return json.loads((CASE / name).read_text(encoding="utf-8"))


def _download(page, click) -> tuple[str, bytes]:
    with page.expect_download() as info:
        click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def _sign(desk, pdf: bytes, big: str, tmp_path: Path, document: str = "advies") -> bytes:
    """`sopipe sign` on the doctor's own machine with his DEMO key (PKCS#12), as the docs tell him."""
    unsigned, p12 = tmp_path / f"{K}_{document}.pdf", tmp_path / f"{big}.p12"
    signed = tmp_path / f"{K}_{document}-{big}-ondertekend.pdf"
    unsigned.write_bytes(pdf)
    p12.write_bytes((desk.pki / f"doctor-{big}.p12").read_bytes())
    # its own process, as on the doctor's machine (pyHanko runs its own event loop; Playwright's holds this thread)
    env = {**os.environ, "SOPIPE_P12_PASSPHRASE": (desk.pki / "passphrase").read_text().strip()}
    done = subprocess.run([sys.executable, "-m", "pipeline", "sign", str(unsigned), "--p12", str(p12), "--level",
                           "B-B", "--out", str(signed)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return signed.read_bytes()


def _upload(page, kenmerk: str, document: str, name: str, data: bytes, mime: str = "application/pdf") -> None:
    page.locator(f"#bestand-{kenmerk}-{document}").set_input_files({"name": name, "mimeType": mime, "buffer": data})
    page.locator(f"form[action='/ondertekenen/{kenmerk}/{document}/inleveren/'] button").click()


def _wait_verdict(page) -> str:
    page.wait_for_function("() => !document.querySelector('meta[http-equiv=refresh]')", timeout=60_000)
    return page.locator("#stand").inner_text()


def _steps(page, desk, steps: list[tuple[str, str]]) -> None:
    for name, stap in steps:
        page.goto(desk.base + f"zaken/{K}/")
        page.locator(f"a[href='/zaken/{K}/stap/{stap}/']").click()
        fill_form(page, stap, _example(name))
        page.get_by_role("button", name="Controleren en indienen").click()
        assert "/volg/" in page.url, f"{stap}: {page.locator('.fout').all_inner_texts()}"
        wait_processed(page)


# --- the secretariat starts the case ---------------------------------------------------------------------------

def test_the_secretariat_makes_the_case_through_the_forms_until_the_advice_waits_for_the_doctor(desk, page):
    _log_in(page, desk, "wit")
    page.get_by_role("link", name="Nieuwe zaak").click()
    page.locator("#veld-kenmerk").fill(K)
    fill_form(page, "verzoek", _example("01-verzoek.json"))
    page.get_by_role("button", name="Controleren en indienen").click()
    wait_processed(page)
    _steps(page, desk, BEFORE_SIGNING)
    waiting = {(p.kind, p.signer_big) for p in desk.root.store.open_pending()}
    assert waiting == {("advies", VISSER), ("aanvraagformulier", BAKKER)}, "the pipeline signs for no doctor"


# --- doctors -----------------------------------------------------------------------------------------------------

def test_the_own_doctor_sees_only_his_form_another_doctors_urls_are_404_and_he_signs_his(desk, page, tmp_path):
    _log_in(page, desk, "pbakker")
    assert page.locator("main table tbody tr").count() == 1
    assert "Aanvraagformulier" in page.locator("main table").inner_text()  # not Visser's advice
    # Visser's advice waiting for his signature, and guessed cases (Bakker's own mailbox will hold the advice)
    for path in (f"ondertekenen/{K}/advies.pdf", "ondertekenen/SO-2099-0001/advies.pdf",
                 "postbus/SO-2099-0001/SO-2099-0001_advies.pdf"):
        response = page.goto(desk.base + path)
        assert response.status == 404, path
        assert page.get_by_role("heading", name="Niet gevonden").is_visible()
    shot(page, "niet-gevonden-arts")
    refused = [r for r in Audit(desk.root.store).records() if r.uitkomst == "geweigerd"
               and r.gebruiker.startswith("Dr. P. Bakker (pbakker")]
    assert len(refused) == 3 and [r.kenmerk for r in refused].count(K) == 1
    for path in ("archief/", "toezicht/", "toezicht/keten/", "beheer/", "beheer/systeemcontrole/"):
        assert page.goto(desk.base + path).status == 404, f"a doctor has no {path}"
    assert page.goto(desk.base + "zaken/").status == 400  # the secretariat's pages say so in words
    assert page.get_by_text("Dit deel van de desk is niet voor uw rol.").is_visible()
    page.goto(desk.base + "ondertekenen/")
    _, pdf = _download(page, lambda: page.get_by_role("link", name=f"{K}_aanvraagformulier.pdf").click())
    _upload(page, K, "aanvraagformulier", f"{K}_aanvraagformulier-ondertekend.pdf",
            _sign(desk, pdf, BAKKER, tmp_path, "aanvraagformulier"))
    assert _wait_verdict(page) == "aangenomen"
    assert desk.root.store.pending(K, "aanvraagformulier").done_at is not None


def test_a_doctor_downloads_signs_with_sopipe_sign_uploads_and_the_case_moves_on(desk, page, tmp_path):
    _log_in(page, desk, "evisser")
    assert page.get_by_role("heading", name="Te ondertekenen").is_visible()
    rows = page.locator("main table tbody tr")
    assert rows.count() == 1 and "Advies second opinion" in rows.first.inner_text()  # not Bakker's request form
    shot(page, "ondertekenen")
    name, pdf = _download(page, lambda: page.get_by_role("link", name=f"{K}_advies.pdf").click())
    assert name == f"{K}_advies.pdf" and pdf.startswith(b"%PDF-")
    [waiting] = [p for p in desk.root.store.open_pending() if p.kind == "advies"]
    assert hashlib.sha256(pdf).hexdigest() == waiting.sha256

    _upload(page, K, "advies", "advies.docx", b"PK\x03\x04 geen pdf", mime="application/octet-stream")
    assert page.get_by_role("alert").inner_text() == ("Dit is geen PDF-bestand. Lever het ondertekende PDF-document "
                                                      "in dat u hebt gedownload en ondertekend.")
    shot(page, "inleveren-fout")

    _upload(page, K, "advies", "advies-smit.pdf", _sign(desk, pdf, SMIT, tmp_path))  # another doctor's key
    assert "/volg/" in page.url
    assert _wait_verdict(page) == "NIET aangenomen"
    reason = page.locator("#reden").inner_text()
    # the doctors' registry (`[artsen]`) names why the certificate is not the case's doctor's
    assert reason.startswith("Ondertekend door Dr. K. Smit (certificaat-serialNumber 49011122201), maar de second "
                             "opinion-bedrijfsarts van deze zaak, die dit document moet ondertekenen, is Dr. E. Visser "
                             "(BIG 39087654301): "), reason
    assert "artsenregister" in reason, reason
    shot(page, "inlevering-geweigerd")
    assert desk.root.store.pending(K, "advies").done_at is None, "a refused signature changes nothing"

    page.get_by_role("link", name="Terug naar Te ondertekenen").click()
    _upload(page, K, "advies", f"{K}_advies-ondertekend.pdf", _sign(desk, pdf, VISSER, tmp_path))
    assert _wait_verdict(page) == "aangenomen"
    shot(page, "inlevering")
    assert desk.root.store.pending(K, "advies").done_at is not None
    delivered = {(r.party, r.kind) for r in desk.root.store.deliveries(K) if r.status == "delivered"}
    assert {("werknemer", "advies"), ("so-bedrijfsarts", "advies")} <= delivered
    page.get_by_role("link", name="Terug naar Te ondertekenen").click()
    assert "Er wacht niets op uw handtekening." in page.locator("main").inner_text()
    uploads = [r for r in Audit(desk.root.store).trail(K) if r.details.get("wat") == "ondertekend-ingeleverd"
               and r.details.get("document") == "advies"]
    assert len(uploads) == 2 and all(r.gebruiker == "Dr. E. Visser (evisser, so-bedrijfsarts, via desk)"
                                     for r in uploads)


def test_the_doctors_own_mailbox_per_case_and_each_download_recorded(desk, page):
    _log_in(page, desk, "evisser")
    page.get_by_role("link", name="Mijn postbus").click()
    assert page.get_by_role("heading", name=f"Zaak {K}").is_visible()
    shot(page, "postbus")
    before = len(Audit(desk.root.store).trail(K))
    name, pdf = _download(page, lambda: page.get_by_role("link", name=f"{K}_advies.pdf").click())
    assert name == f"{K}_advies.pdf" and pdf.startswith(b"%PDF-")
    [record] = Audit(desk.root.store).trail(K)[before:]
    assert (record.gebruiker, record.details["wat"], record.details["document"]) == (
        "Dr. E. Visser (evisser, so-bedrijfsarts, via desk)", "document", "advies")


# --- the secretariat finishes the case, the FG sees who looked -------------------------------------------------

def test_the_secretariat_finishes_the_case_after_the_signed_advice(desk, page):
    _log_in(page, desk, "wit")
    _steps(page, desk, AFTER_SIGNING)
    page.goto(desk.base + f"zaken/{K}/")
    assert page.locator("ul.stappen a").all_inner_texts() == ["Intrekking van een machtiging"]
    delivered = {(r.party, r.kind) for r in desk.root.store.deliveries(K) if r.status == "delivered"}
    assert {("werknemer", "advies"), ("werknemer", "aanvraagformulier")} <= delivered, delivered
    assert any(kind.startswith(("factuur", "doorbelasting", "kostenoverzicht")) for _, kind in delivered), delivered
    assert len(desk.root.store.events(K)) == 11


def test_the_fg_sees_the_desk_users_who_looked_per_case_and_per_employee(desk, page, browser):
    other = browser.new_context(locale="nl-NL")
    try:
        secretariat = other.new_page()
        _log_in(secretariat, desk, "wit")
        secretariat.goto(desk.base + f"zaken/{K}/")
    finally:
        other.close()
    _log_in(page, desk, "ftoezicht")
    page.get_by_label("Kenmerk").fill(K)
    page.get_by_role("button", name="Tonen").first.click()
    table = page.locator("section.toegang table").inner_text()
    for person in ("Dr. E. Visser (evisser)", "Dr. P. Bakker (pbakker)", "J. de Wit (wit)"):
        assert person in table, person
    assert "geweigerd" in table  # Bakker's guessed URLs
    shot(page, "toezicht")
    page.get_by_label("BSN van de werknemer").fill(BSN)
    page.get_by_role("button", name="Tonen").last.click()
    assert page.get_by_role("heading", name=f"Zaak {K}").is_visible()
    assert BSN not in page.url
    page.get_by_label("BSN van de werknemer").fill(BSN)
    name, data = _download(page, lambda: page.get_by_role("button", name="Overzicht exporteren (art. 15 AVG)").click())
    document = json.loads(data)
    assert name == "inzage-overzicht.json" and document["zaken"][0]["kenmerk"] == K
    assert any(t["wie"] == "J. de Wit" for t in document["zaken"][0]["toegang"])
    page.get_by_label("BSN van de werknemer").fill("123456789")
    page.get_by_role("button", name="Tonen").last.click()
    assert page.get_by_role("alert").inner_text() == "Dit is geen geldig BSN (9 cijfers die aan de elfproef voldoen)."
    page.get_by_role("link", name="Audit-keten").click()
    assert page.locator("#keten-uitslag").inner_text().startswith("De keten is in orde")
    shot(page, "keten")
    assert BSN not in json.dumps([r.as_dict() for r in Audit(desk.root.store).records()])


# --- IT ----------------------------------------------------------------------------------------------------------

def test_it_ends_a_persons_sessions_gives_a_new_authenticator_and_runs_the_system_checks(desk, page, browser):
    doctor_context = browser.new_context(locale="nl-NL")
    try:
        doctor = doctor_context.new_page()
        _log_in(doctor, desk, "evisser")
        _log_in(page, desk, "ibeheer")
        row = page.locator("#gebruiker-evisser")
        assert "so-bedrijfsarts" in row.inner_text() and f"BIG {VISSER}" in row.inner_text()
        assert int(row.locator("td.sessies").inner_text()) >= 1
        assert "arbodienst arbonoord" in page.locator("#gebruiker-wit").inner_text()
        shot(page, "beheer")
        row.get_by_role("button", name="Sessies beëindigen").click()
        assert "sessie(s) van evisser beëindigd" in page.locator("ul.berichten").inner_text()
        assert page.locator("#gebruiker-evisser td.sessies").inner_text() == "0"
        doctor.goto(desk.base + "ondertekenen/")
        assert "/inloggen/" in doctor.url, "the doctor's session is over"
    finally:
        doctor_context.close()
    page.locator("#gebruiker-pbakker").get_by_role("button", name="Nieuwe authenticator").click()
    secret = page.locator("#geheim").inner_text()
    assert secret and secret != desk.users.secrets["pbakker"]
    shot(page, "beheer-authenticator")
    desk.users.secrets["pbakker"], desk.users.last_step["pbakker"] = secret, -1
    other = browser.new_context(locale="nl-NL")
    try:
        _log_in(other.new_page(), desk, "pbakker")  # with the new secret
    finally:
        other.close()
    started = time.perf_counter()
    page.get_by_role("link", name="Systeemcontrole").click()
    print(f"\nsysteemcontrole page: {time.perf_counter() - started:.2f} s")
    assert page.get_by_role("heading", name="Systeemcontrole").is_visible()
    assert page.locator("main table tbody tr").count() > 3
    shot(page, "systeemcontrole")


# --- the records officer (last: the dossier is destroyed) ----------------------------------------------------------

def test_the_records_officer_exports_checks_and_destroys_with_a_fresh_code(desk, page):
    _log_in(page, desk, "karchief")
    assert "Er zijn geen dossiers waarvan de bewaartermijn is verstreken." in page.locator("main").inner_text()
    page.locator("#export-kenmerk").fill(K)
    name, bundle = _download(page, lambda: page.get_by_role("button", name="Bundel downloaden").click())
    assert name == f"{K}.zip" and zipfile.ZipFile(io.BytesIO(bundle)).namelist()
    page.locator("#bundel-bestand").set_input_files({"name": name, "mimeType": "application/zip", "buffer": bundle})
    page.get_by_role("button", name="Controleren", exact=True).first.click()
    assert page.locator("#uitslag").inner_text().startswith("De bundel is in orde")
    shot(page, "archief")
    tampered = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bundle)) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data + b" " if item.filename.startswith("documenten/") else data)
    page.locator("#bundel-bestand").set_input_files({"name": "gewijzigd.zip", "mimeType": "application/zip",
                                                     "buffer": tampered.getvalue()})
    page.get_by_role("button", name="Controleren", exact=True).first.click()
    assert page.locator("#uitslag").inner_text() == "De bundel is NIET in orde."
    assert page.locator("#rapport ul li").count() > 0

    page.locator("#vernietig-kenmerk").fill(K)
    page.locator("#vernietig-reden").fill(REDEN)
    page.locator("form[action='/archief/vernietigen/'] button").click()
    problem = page.locator("#probleem").inner_text()
    assert problem.startswith(f"De bewaartermijn van {K} loopt tot en met") and "--force" not in problem
    shot(page, "vernietigen-controle")
    page.locator("#vernietig-reden").fill("op verzoek van M.A. Jansen")  # names the employee: refused first
    page.locator("#vernietig-vervroegd").check()
    page.locator("form[action='/archief/vernietigen/'] button").click()
    assert "persoonsgegevens" in page.locator("#probleem").inner_text()
    page.locator("#vernietig-reden").fill(REDEN)
    page.locator("form[action='/archief/vernietigen/'] button").click()
    assert page.get_by_role("heading", name=f"Vernietiging van {K} bevestigen").is_visible()
    assert int(page.locator("#bestanden").inner_text()) > 0
    shot(page, "vernietigen-bevestigen")
    used = desk.users.last_step["karchief"]
    page.get_by_label("Nieuwe code").fill(pyotp.TOTP(desk.users.secrets["karchief"]).at(used * 30))  # the login's
    page.get_by_role("button", name="Definitief vernietigen").click()
    assert "niets vernietigd" in page.locator("#probleem").inner_text()
    assert desk.root.store.events(K), "a used code destroys nothing"
    page.get_by_label("Nieuwe code").fill(desk.users.code("karchief"))  # waits for the next code
    page.get_by_role("button", name="Definitief vernietigen").click()
    assert f"Het dossier {K} is vernietigd" in page.locator("ul.berichten").inner_text()
    shot(page, "vernietigd")
    assert not desk.root.store.events(K)
    assert not (desk.root.settings.outbox / "archief" / K).exists()
    [done] = [r for r in Audit(desk.root.store).trail(K) if r.gebeurtenis == "vernietiging"
              and r.uitkomst == "geslaagd"]
    assert done.gebruiker == "K. Archief (karchief, archivaris, via desk)"
