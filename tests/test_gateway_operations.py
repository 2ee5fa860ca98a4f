"""The desk's gateway: login with password and code, the scope of every answer, the record before the data, and
what a submission becomes (a case file in inbox/, same intake, `ingediend_door` from the session)."""

from __future__ import annotations

import base64
import hashlib
import datetime as dt
import json

import pyotp
import pytest

from pipeline.adapters.audit import Audit
from pipeline.adapters.clock import FrozenClock
from pipeline.core.actor import Rol
from pipeline.gateway.client import GatewayClient
from pipeline.gateway.protocol import GatewayError
from pipeline.gateway.server import serving
from pipeline.gateway.service import Gateway
from pipeline.gateway.users import FILE_NAME, MAX_FAILURES, Users
from pipeline.shell.layout import EXAMPLES

CASE = EXAMPLES / "case-SO-2026-0042"
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)


def _example(name: str) -> dict:
    return json.loads((CASE / name).read_text(encoding="utf-8"))


class Desk:
    """A root with the example case up to `upto` files processed, a gateway and its users."""

    def __init__(self, root, *, upto: int = 3) -> None:
        self.root = root
        self.clock = FrozenClock(NOW)
        for f in sorted(CASE.glob("*.json"))[:upto]:
            root.drop(f.name, f.read_bytes())
        root.run()
        self.users = Users(root.settings.state / FILE_NAME, clock=self.clock, idle_seconds=900)
        self.gateway = Gateway(root.settings, store=root.store, users=self.users, clock=self.clock)
        self.secrets: dict[str, tuple[str, str]] = {}

    def add(self, name: str, org: str, rol: Rol = Rol.SECRETARIAAT) -> None:
        new = self.users.add(name, naam=f"J. {name.title()}", rol=rol, organisatie=org)
        self.secrets[name] = (new.wachtwoord, new.geheim)

    def code(self, name: str, *, steps: int = 0) -> str:
        totp = pyotp.TOTP(self.secrets[name][1])
        return totp.at(self.clock.now() + dt.timedelta(seconds=30 * steps))

    def login(self, name: str) -> str:
        password, _ = self.secrets[name]
        answer = self.call("login", gebruikersnaam=name, wachtwoord=password, code=self.code(name))
        assert answer["ok"], answer
        if answer["moet_wijzigen"]:
            new = f"{password}-nieuw-wachtwoord"
            assert self.call("wachtwoord", token=answer["token"], oud=password, nieuw=new)["ok"]
            self.secrets[name] = (new, self.secrets[name][1])
        return answer["token"]

    def call(self, op: str, **args) -> dict:
        return self.gateway.handle({"op": op, **args})

    def trail(self, kenmerk: str):
        return Audit(self.root.store).trail(kenmerk)


@pytest.fixture
def desk(make_root):
    d = Desk(make_root())
    d.add("wit", "arbonoord")
    d.add("zuid", "arbozuid")
    yield d
    d.users.close()


def test_login_needs_the_password_and_the_current_code_each_code_once(desk):
    password, _ = desk.secrets["wit"]
    wrong = desk.call("login", gebruikersnaam="wit", wachtwoord=password, code="000000")
    assert wrong == {"ok": False, "fout": "inloggen", "bericht": "Gebruikersnaam, wachtwoord of code klopt niet."}
    unknown = desk.call("login", gebruikersnaam="niemand", wachtwoord=password, code=desk.code("wit"))
    assert unknown["bericht"] == wrong["bericht"]  # nobody learns which names exist
    good = desk.call("login", gebruikersnaam="wit", wachtwoord=password, code=desk.code("wit"))
    assert good["ok"] and good["moet_wijzigen"] is True and good["gebruiker"]["organisatie"] == "arbonoord"
    again = desk.call("login", gebruikersnaam="wit", wachtwoord=password, code=desk.code("wit"))
    assert again["fout"] == "inloggen", "a code is used once"
    # the one-time password's session may only set a new password
    assert desk.call("zaken", token=good["token"])["fout"] == "wachtwoord-wijzigen"
    short = desk.call("wachtwoord", token=good["token"], oud=password, nieuw="kort")
    assert short["fout"] == "wachtwoord" and "minstens 12" in short["bericht"]
    assert desk.call("wachtwoord", token=good["token"], oud=password, nieuw="een-heel-nieuw-wachtwoord")["ok"]
    assert desk.call("zaken", token=good["token"])["ok"]


def test_the_gateway_locks_a_user_after_repeated_failures_whatever_the_desk_does(desk):
    for _ in range(MAX_FAILURES):
        desk.call("login", gebruikersnaam="wit", wachtwoord="fout", code="123456")
    locked = desk.call("login", gebruikersnaam="wit", wachtwoord=desk.secrets["wit"][0], code=desk.code("wit"))
    assert locked["fout"] == "geblokkeerd"
    desk.clock.advance(minutes=16)
    assert desk.call("login", gebruikersnaam="wit", wachtwoord=desk.secrets["wit"][0], code=desk.code("wit"))["ok"]


def test_a_session_ends_after_the_idle_time_and_at_logout(desk):
    token = desk.login("wit")
    desk.clock.advance(minutes=14)
    assert desk.call("zaken", token=token)["ok"]  # each request restarts the idle clock
    desk.clock.advance(minutes=16)
    assert desk.call("zaken", token=token)["fout"] == "sessie"
    token = desk.login("wit")
    assert desk.call("logout", token=token)["ok"]
    assert desk.call("zaken", token=token)["fout"] == "sessie"
    assert desk.call("zaken", token="door-de-desk-verzonnen")["fout"] == "sessie"


def test_a_secretariat_sees_its_own_cases_and_another_scope_gets_not_found_recorded(desk):
    own, other = desk.login("wit"), desk.login("zuid")
    listed = desk.call("zaken", token=own)["zaken"]
    assert [z["kenmerk"] for z in listed] == ["SO-2026-0042"]
    assert desk.call("zaken", token=other)["zaken"] == []
    before = len(desk.trail("SO-2026-0042"))
    refused = desk.call("zaak", token=other, kenmerk="SO-2026-0042")
    missing = desk.call("zaak", token=other, kenmerk="SO-2026-9999")
    assert refused["fout"] == missing["fout"] == "niet-gevonden" and refused["bericht"] == missing["bericht"]
    records = desk.trail("SO-2026-0042")[before:]
    assert [(r.uitkomst, r.details["regel"]) for r in records] == [("geweigerd", "buiten-bevoegdheid")]
    assert "zuid" in records[0].gebruiker
    for op, args in (("stappen", {"kenmerk": "SO-2026-0042"}),
                     ("controleer", {"kenmerk": "SO-2026-0042", "stap": "beschikbaarheid",
                                     "gegevens": {"datum": "2026-11-05", "beschikbaar": True}}),
                     ("indienen", {"kenmerk": "SO-2026-0042", "stap": "beschikbaarheid",
                                   "gegevens": {"datum": "2026-11-05", "beschikbaar": True}})):
        assert desk.call(op, token=other, **args)["fout"] == "niet-gevonden", op
    assert not any(p.name.startswith("SO-2026-0042") for p in desk.root.settings.inbox.glob("*.json"))


def test_the_case_page_is_recorded_under_the_desk_users_name_before_it_is_returned(desk):
    token = desk.login("wit")
    page = desk.call("zaak", token=token, kenmerk="SO-2026-0042")["zaak"]
    assert page["stap"] == "selectie" and page["volgende"] == ["beschikbaarheid"]
    assert page["werknemer"] == "M.A. Jansen"
    assert [t["stap"] for t in page["tijdlijn"]] == ["verzoek", "beoordeling", "selectie"]
    stored = desk.root.store.deliveries("SO-2026-0042")
    assert sorted((g["aan"], d["document"], d["status"]) for g in page["documenten"] for d in g["documenten"]) == \
        sorted((r.party, r.kind, r.status) for r in stored)
    last = desk.trail("SO-2026-0042")[-1]
    assert (last.gebeurtenis, last.details["wat"]) == ("inzage", "status")
    assert last.gebruiker == "J. Wit (wit, secretariaat, via desk)"


def test_no_record_no_data(desk, monkeypatch):
    token = desk.login("wit")

    def broken(self, *a, **kw):
        raise OSError("disk full")
    monkeypatch.setattr(Audit, "_append", broken)
    with pytest.raises(OSError):
        desk.gateway.op_zaak(desk.users.session(token), kenmerk="SO-2026-0042")


def test_a_submission_is_a_case_file_in_the_inbox_signed_by_the_session_not_the_form(desk):
    token = desk.login("wit")
    data = {"datum": "2026-11-05", "beschikbaar": True, "ingediend_door": "iemand anders"}
    bad = desk.call("controleer", token=token, kenmerk="SO-2026-0042", stap="beschikbaarheid",
                    gegevens={"datum": "5-11-2026", "beschikbaar": "misschien"})
    fields = dict(map(tuple, bad["problemen"]))
    assert fields["datum"].startswith("is geen geldige datum") and fields["beschikbaar"].startswith("moet true")
    sent = desk.call("indienen", token=token, kenmerk="SO-2026-0042", stap="beschikbaarheid", gegevens=data)
    assert sent["ok"] and sent["problemen"] == []
    file = desk.root.settings.inbox / sent["bestand"]
    written = json.loads(file.read_bytes())
    assert written["ingediend_door"] == "J. Wit (wit, secretariaat arbonoord, via de desk)"
    assert desk.call("volg", token=token, sha256=sent["sha256"])["status"] == "wacht"
    desk.root.run()
    assert desk.call("volg", token=token, sha256=sent["sha256"])["status"] == "verwerkt"
    other = desk.login("zuid")
    assert desk.call("volg", token=other, sha256=sent["sha256"])["fout"] == "niet-gevonden"
    page = desk.call("zaak", token=token, kenmerk="SO-2026-0042")["zaak"]
    assert page["stap"] == "beschikbaarheid" and page["tijdlijn"][-1]["ingediend_door"].startswith("J. Wit")


def test_a_request_for_another_arbodienst_is_refused_at_the_check(desk):
    token = desk.login("zuid")
    verzoek = _example("01-verzoek.json")
    gegevens = {k: v for k, v in verzoek.items() if k not in ("schema", "kenmerk", "stap", "ingediend_door")}
    answer = desk.call("controleer", token=token, kenmerk="SO-2026-0100", stap="verzoek", gegevens=gegevens)
    assert ["arbodienst.code", "U kunt alleen zaken van uw eigen arbodienst (arbozuid) indienen."] in \
        answer["problemen"]
    taken = desk.call("controleer", token=desk.login("wit"), kenmerk="SO-2026-0042", stap="verzoek",
                      gegevens=gegevens)
    assert ["kenmerk", "Dit kenmerk is al in gebruik; kies een ander kenmerk."] in taken["problemen"]


def test_a_failed_file_is_listed_opened_with_its_problems_fixed_and_replaced(desk):
    token = desk.login("wit")
    bad = _example("04-beschikbaarheid.json")
    bad["beschikbaar"] = "ja"
    desk.root.drop("04-beschikbaarheid.json", bad)
    desk.root.run()
    failed = desk.call("mislukt", token=token)["bestanden"]
    assert [f["bestand"] for f in failed] == ["04-beschikbaarheid.json"]
    assert desk.call("mislukt", token=desk.login("zuid"))["bestanden"] == []
    opened = desk.call("mislukt_bestand", token=token, sha256=failed[0]["sha256"])
    assert opened["problemen"] == [["beschikbaar", "moet true of false zijn (zonder aanhalingstekens) "
                                                   "(gegeven: 'ja')"]]
    assert "NIET verwerkt" in opened["rapport"]
    fixed = {k: v for k, v in opened["gegevens"].items() if k not in ("schema", "kenmerk", "stap")}
    fixed["beschikbaar"] = True
    sent = desk.call("indienen", token=token, kenmerk="SO-2026-0042", stap="beschikbaarheid", gegevens=fixed,
                     vervangt=failed[0]["sha256"])
    assert sent["ok"] and sent["problemen"] == []
    assert desk.call("mislukt", token=token)["bestanden"] == []
    replaced = [r for r in desk.trail("SO-2026-0042") if r.details.get("regel") == "vervangen"]
    assert replaced and replaced[0].details["sha256"] == sent["sha256"]
    desk.root.run()
    assert desk.call("volg", token=token, sha256=sent["sha256"])["status"] == "verwerkt"


def test_the_list_filters_and_pages(desk):
    token = desk.login("wit")
    assert desk.call("zaken", token=token, stap="selectie")["zaken"]
    assert desk.call("zaken", token=token, stap="verzoek")["zaken"] == []
    assert desk.call("zaken", token=token, zoek="SO-2026")["zaken"]
    assert desk.call("zaken", token=token, zoek="%")["zaken"] == []  # a LIKE wildcard is a character here
    assert desk.call("zaken", token=token, profiel="lpbso")["zaken"] == []


def test_the_socket_carries_the_same_operations(desk, tmp_path):
    with serving(desk.gateway, desk.root.path) as path:
        client = GatewayClient(path)
        password, _ = desk.secrets["wit"]
        answer = client.call("login", gebruikersnaam="wit", wachtwoord=password, code=desk.code("wit"))
        assert answer["moet_wijzigen"] is True
        with pytest.raises(GatewayError) as refused:
            client.call("zaak", token=answer["token"], kenmerk="SO-2026-0042")
        assert refused.value.code == "wachtwoord-wijzigen"
        with pytest.raises(GatewayError) as unknown:
            client.call("sql", query="SELECT * FROM users")
        assert unknown.value.code == "onbekend"


def test_the_letter_to_a_refused_requester_is_downloaded_from_its_failed_file_and_recorded(desk):
    token = desk.login("wit")
    verzoek = _example("01-verzoek.json")
    verzoek.update(kenmerk="SO-2026-0500", verzocht_door="werkgever")
    desk.root.drop("verzoek-werkgever.json", verzoek)
    desk.root.run()
    failed = {f["bestand"]: f for f in desk.call("mislukt", token=token)["bestanden"]}
    sha = failed["verzoek-werkgever.json"]["sha256"]
    opened = desk.call("mislukt_bestand", token=token, sha256=sha)
    assert opened["brief"] == "verzoek-werkgever.json.brief-aan-aanvrager.pdf"
    assert desk.call("brief", token=desk.login("zuid"), sha256=sha)["fout"] == "niet-gevonden"
    letter = desk.call("brief", token=token, sha256=sha)
    pdf = base64.b64decode(letter["pdf"])
    assert pdf == (desk.root.settings.failed / opened["brief"]).read_bytes()
    record = [r for r in desk.trail("SO-2026-0500") if r.details.get("wat") == "desk-brief"]
    assert record and record[0].details["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert "J. Wit (wit" in record[0].gebruiker


def test_malformed_requests_are_refused_not_crashed(desk, tmp_path):
    token = desk.login("wit")
    assert desk.call("zaken", token=token, na="tien")["fout"] == "protocol"
    assert desk.call("zaak", token=token)["fout"] == "protocol"
    assert desk.call("zaak", token=token, kenmerk="../../state/sopipe.db")["fout"] == "niet-gevonden"
    huge = desk.call("indienen", token=token, kenmerk="SO-2026-0042", stap="beschikbaarheid",
                     gegevens={"datum": "2026-11-05", "beschikbaar": True, "x": "a" * 2_000_000})
    assert any("te groot" in text for _, text in huge["problemen"])
    with serving(desk.gateway, desk.root.path) as path:
        import socket
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(path))
            s.sendall(b"[" * 100_000 + b"\n")
            answer = json.loads(s.makefile("rb").readline())
        assert answer["fout"] == "protocol"
        assert GatewayClient(path).call("wie", token=token)["gebruiker"]["gebruikersnaam"] == "wit", \
            "the gateway still answers"


def test_the_users_table_is_born_private(desk):
    import stat
    mode = stat.S_IMODE((desk.root.settings.state / FILE_NAME).stat().st_mode)
    assert mode == 0o600
