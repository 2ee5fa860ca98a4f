"""`sopipe bench --desk`: the server time of the desk's gateway operations on a root of 10,000 cases.

The root is the one `bench --scale` generates (`fill_scale_root`: every case of the DEMO arbodienst, so one
secretariat user sees all 10,000, the worst case for its list). Each operation is timed as the gateway answers it
(`Gateway.handle`: session, scope, query, audit record) and, for the list and the case page, also as a round trip
over the Unix socket the desk uses.
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


def bench_desk(root: Path, *, cases: int = DESK_CASES, repeat: int = 30) -> dict:
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
    finally:
        users.close()
        store.close()
    return figures


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
