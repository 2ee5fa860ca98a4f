"""`sopipe bench --desk`: the server time of the desk's gateway operations on a root of 10,000 cases.

The root is the one `bench --scale` generates (`fill_scale_root`: every case of the DEMO arbodienst, so one
secretariat user sees all 10,000, the worst case for its list). Each operation is timed as the gateway answers it
(`Gateway.handle`: session, scope, query, audit record) and, for the list and the case page, also as a round trip
over the Unix socket the desk uses, and as the desk's pages over HTTP (gunicorn, Django, the gateway: what a
browser waits for on loopback).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pyotp

from pipeline.adapters.store import Store
from pipeline.core.actor import Rol
from pipeline.gateway.client import GatewayClient
from pipeline.gateway.server import serving
from pipeline.gateway.service import Gateway
from pipeline.gateway.users import FILE_NAME, Users
from pipeline.settings import load_settings
from pipeline.shell.bench import fill_scale_root

DESK_CASES = 10_000


def bench_desk(root: Path, *, cases: int = DESK_CASES, repeat: int = 30, pages: bool = True) -> dict:
    """The figures; `pages`: also the desk's pages over HTTP (the root's parent must be passable for the desk's
    user when that is another user)."""
    started = time.monotonic()
    fill_scale_root(root, cases=cases, audit_records=0)
    figures: dict = {"desk_cases": cases, "desk_generate_seconds": round(time.monotonic() - started, 1)}
    settings = load_settings(root)
    store = Store(settings.database)
    users = Users(settings.state / FILE_NAME)
    try:
        new = users.add("bench", naam="Bench", rol=Rol.SECRETARIAAT, organisatie="arbonoord")
        token, _ = users.login("bench", new.wachtwoord, pyotp.TOTP(new.geheim).now())
        users.change_password("bench", new.wachtwoord, "bench-wachtwoord-lang")
        gateway = Gateway(settings, store=store, users=users)
        with store.snapshot() as conn:
            middle = conn.execute("SELECT first_event_id FROM case_summary ORDER BY first_event_id "
                                  "LIMIT 1 OFFSET ?", (cases // 2,)).fetchone()[0]
            at_selection = conn.execute("SELECT kenmerk FROM case_summary WHERE json_extract(summary, '$.stap') "
                                        "= 'selectie' LIMIT 1").fetchone()[0]
        kenmerk = f"SCALE-{cases // 2:05d}"
        requests = {
            "list_first_page": {"op": "zaken"},
            "list_overdue": {"op": "zaken", "te_laat": True},
            "list_step_filter": {"op": "zaken", "stap": "aanvraag"},
            "list_search_kenmerk": {"op": "zaken", "zoek": kenmerk},
            "list_page_in_the_middle": {"op": "zaken", "na": middle},
            "case_page": {"op": "zaak", "kenmerk": kenmerk},
            "form_check": {"op": "controleer", "kenmerk": at_selection, "stap": "beschikbaarheid",
                           "gegevens": {"datum": "2026-11-20", "beschikbaar": True}},
        }
        for name, request in requests.items():
            figures[f"gateway_{name}_ms"] = _timed(lambda: _ok(gateway.handle({**request, "token": token})), repeat)
        with serving(gateway, root) as path:
            client = GatewayClient(path)
            for name in ("list_first_page", "case_page", "form_check"):
                request = dict(requests[name])
                op = request.pop("op")
                figures[f"socket_{name}_ms"] = _timed(lambda: client.call(op, token=token, **request), repeat)
        web = users.add("bench-web", naam="Bench Web", rol=Rol.SECRETARIAAT, organisatie="arbonoord")
    finally:
        users.close()
        store.close()
    if pages:
        figures.update(_pages(settings, web, kenmerk=kenmerk, at_selection=at_selection, repeat=repeat))
    return figures


def _pages(settings, web, *, kenmerk: str, at_selection: str, repeat: int) -> dict:
    """The desk's pages over HTTP (Django under gunicorn, the gateway behind it), logged in as a person would."""
    import http.cookiejar
    import re
    import socket
    import urllib.parse
    import urllib.request

    from pipeline.shell.desk_service import DATA_FOLDER, desk_user, running_desk

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(url: str) -> str:
        with opener.open(url, timeout=60) as r:
            return r.read().decode("utf-8")

    def post(url: str, fields: dict) -> str:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', get(url)).group(1)
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        with opener.open(urllib.request.Request(url, data=data), timeout=60) as r:
            return r.read().decode("utf-8")

    out: dict = {}
    with running_desk(settings, port=port, user=desk_user(None), data=settings.root / DATA_FOLDER) as base:
        post(base + "inloggen/", {"gebruikersnaam": "bench-web", "wachtwoord": web.wachtwoord,
                                  "code": pyotp.TOTP(web.geheim).now()})
        post(base + "wachtwoord/", {"oud": web.wachtwoord, "nieuw": "bench-web-wachtwoord",
                                    "herhaal": "bench-web-wachtwoord"})
        if "Zaken" not in get(base + "zaken/"):
            raise RuntimeError("the desk did not log the bench user in")
        form_url = base + f"zaken/{at_selection}/stap/beschikbaarheid/"
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', get(form_url)).group(1)
        check = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "datum": "2026-11-20", "beschikbaar": "ja",
                                        "actie": "controleren"}).encode()

        def check_form() -> None:
            with opener.open(urllib.request.Request(form_url, data=check), timeout=60) as r:
                r.read()
        for name, fn in (("list_first_page", lambda: get(base + "zaken/")),
                         ("list_overdue", lambda: get(base + "zaken/?te_laat=1")),
                         ("case_page", lambda: get(base + f"zaken/{kenmerk}/")),
                         ("form_check", check_form)):
            out[f"page_{name}_ms"] = _timed(fn, repeat)
    return out


def _ok(answer: dict) -> dict:
    if not answer.get("ok"):
        raise RuntimeError(f"gateway refused: {answer}")
    return answer


def _timed(fn, repeat: int) -> dict:
    fn()  # warm: the first call opens connections
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50": round(statistics.median(times), 2), "p95": round(times[int(len(times) * 0.95) - 1], 2)}
