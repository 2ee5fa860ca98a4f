"""What the desk's tests share: the desk's Unix user, a root other users may pass through, a watcher thread, users
with their TOTP codes, and the browser (Debian's chromium driven by Playwright; nothing is downloaded)."""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pyotp
import pytest

from pipeline.core.actor import Rol
from pipeline.gateway.users import FILE_NAME, Users
from pipeline.shell.desk_service import DESK_USER

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(os.environ.get("SOPIPE_SCREENSHOTS") or Path(tempfile.gettempdir()) / "sopipe-desk-screenshots")
"""Where the browser tests put their screenshots: a scratch folder, or docs/img when the docs' pictures are
refreshed on purpose (`make screenshots`); a test run never changes the checkout."""


def ensure_desk_user() -> pwd.struct_passwd:
    """The desk's own Unix user (created when we are root, as CI is); skip otherwise."""
    try:
        return pwd.getpwnam(DESK_USER)
    except KeyError:
        pass
    if os.getuid() != 0:
        pytest.skip(f"needs the Unix user {DESK_USER} (or root to create it)")
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", DESK_USER],
                   check=True)
    return pwd.getpwnam(DESK_USER)


def desk_process_user():
    """The desk's own user when it can run the desk from where this checkout lives; else ourselves (a checkout
    under a folder closed to other users: the browser tests still run, the trust-boundary test has its own copy)."""
    from pipeline.errors import PipelineError
    from pipeline.shell.desk_service import desk_user, web_python

    ensure_desk_user()
    user = desk_user(DESK_USER)
    try:
        web_python(user)
    except PipelineError:
        return desk_user(pwd.getpwuid(os.getuid()).pw_name)
    return user


def passable_folder() -> Path:
    """A fresh folder under /tmp that other users may pass through (0711), unlike pytest's own (0700)."""
    folder = Path(tempfile.mkdtemp(prefix="sopipe-desk-"))
    os.chmod(folder, 0o711)
    return folder


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Watcher:
    """`sopipe watch` in a thread: the pipeline processes what the desk drops, as in production."""

    def __init__(self, pipeline, *, interval: float = 0.3) -> None:
        from pipeline.shell.watcher import run_once
        self._stop = threading.Event()

        def loop() -> None:
            while not self._stop.is_set():
                run_once(pipeline)
                self._stop.wait(interval)
        self.thread = threading.Thread(target=loop, name="desk-test-watcher", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=60)


class DeskUsers:
    """Desk users added as `sopipe desk adduser` does, with their passwords and a code each time (once each)."""

    def __init__(self, state: Path) -> None:
        self.users = Users(state / FILE_NAME)
        self.passwords: dict[str, str] = {}
        self.secrets: dict[str, str] = {}
        self.last_step: dict[str, int] = {}

    def add(self, name: str, *, naam: str, organisatie: str, rol: Rol = Rol.SECRETARIAAT) -> None:
        new = self.users.add(name, naam=naam, rol=rol, organisatie=organisatie)
        self.passwords[name] = new.wachtwoord
        self.secrets[name] = new.geheim

    def code(self, name: str) -> str:
        """The current code, waiting for the next one when this one was used already (a code counts once)."""
        totp = pyotp.TOTP(self.secrets[name])
        while totp.timecode(dt.datetime.now(dt.timezone.utc)) <= self.last_step.get(name, -1):
            time.sleep(0.5)
        now = dt.datetime.now(dt.timezone.utc)
        self.last_step[name] = totp.timecode(now)
        return totp.at(now)

    def close(self) -> None:
        self.users.close()


def log_in(page, base: str, users: DeskUsers, name: str, *, screenshots: bool = False,
           landing: str = "/zaken/") -> None:
    """Log in through the login page; at the first login choose a new password. `landing`: the role's start page."""
    page.goto(base + "inloggen/")
    page.get_by_label("Gebruikersnaam").fill(name)
    page.get_by_label("Wachtwoord").fill(users.passwords[name])
    page.get_by_label("Code").fill(users.code(name))
    if screenshots:
        shot(page, "inloggen")
    page.get_by_role("button", name="Inloggen").click()
    if page.url.endswith("/wachtwoord/"):
        new = f"{users.passwords[name]}-en-nieuw"
        page.get_by_label("Huidig wachtwoord").fill(users.passwords[name])
        page.get_by_label("Nieuw wachtwoord (minstens 12 tekens)").fill(new)
        page.get_by_label("Nieuw wachtwoord nogmaals").fill(new)
        if screenshots:
            shot(page, "wachtwoord")
        page.get_by_role("button", name="Wachtwoord opslaan").click()
        users.passwords[name] = new
    assert landing in page.url, page.url


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium through Playwright, one per test module (import this fixture into the module)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies: nobody logged in) per test, in Dutch."""
    context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 900})
    p = context.new_page()
    p.set_default_timeout(20_000)
    yield p
    context.close()


def fill_form(page, stap: str, data: dict) -> None:
    """Fill the generated form of `stap` with a case file's values, field by field, as a person would."""
    from pipeline.core import form as casefile_form
    values = casefile_form.to_form(casefile_form.form_for(stap), data)
    for veld in casefile_form.form_for(stap).alle_velden():
        target = page.locator(f"#veld-{veld.pad.replace('.', '-')}")
        value = values.get(veld.pad, "")
        if veld.soort in ("keuze", "janee"):
            target.select_option(value)
        else:
            target.fill(value)


def wait_processed(page) -> None:
    """The follow page refreshes itself until the pipeline has processed (or refused) the file."""
    page.wait_for_function("() => !document.querySelector('meta[http-equiv=refresh]')", timeout=60_000)
    assert page.locator("#stand").inner_text() == "verwerkt", page.content()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"desk-{name}.png"), full_page=True)


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
