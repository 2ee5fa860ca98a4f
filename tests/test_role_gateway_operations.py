"""The gateway's operations for the doctors', records officer's, FG's and IT's pages, in process (no socket, no
browser): each answers only its own role (a refusal is `niet-gevonden`, recorded), files go out and in as base64,
errors come back in the desk's Dutch, a destruction needs a fresh code checked by the gateway, and IT ends sessions
and gives a new TOTP secret.

A root whose pipeline signs no doctor's document itself (the advice waits for Dr. Visser); FakeConverter; a frozen
clock for the gateway and its users (the codes are computed for it).
"""

from __future__ import annotations

import base64
import datetime as dt
import json

import pyotp
import pytest

from pipeline.adapters.audit import Audit
from pipeline.adapters.clock import FrozenClock
from pipeline.core.actor import Rol
from pipeline.gateway.protocol import ROLE_OPERATIONS
from pipeline.gateway.service import Gateway
from pipeline.gateway.users import FILE_NAME, Users
from tests.role_roots import BAKKER, K, VISSER, held_root

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.timezone.utc)
BSN = "111222333"
PEOPLE = {"evisser": ("Dr. E. Visser", Rol.SO_BEDRIJFSARTS, VISSER),
          "pbakker": ("Dr. P. Bakker", Rol.BEDRIJFSARTS, BAKKER),
          "karchief": ("K. Archief", Rol.ARCHIVARIS, None), "ftoezicht": ("F. Toezicht", Rol.FG, None),
          "ibeheer": ("I. Beheer", Rol.BEHEER, None)}
DOCTORS = {"evisser", "pbakker"}
ROLE_OF = {"te_ondertekenen": DOCTORS, "postbus": DOCTORS, "te_vernietigen": {"karchief"},
           "keten_status": {"ftoezicht"}, "gebruikers": {"ibeheer"}}
"""Operations without arguments, each with the people whose role it is for."""


class Gate:
    """A gateway on the root, everyone in PEOPLE logged in (password changed, code used)."""

    def __init__(self, root) -> None:
        self.root = root
        self.clock = FrozenClock(NOW)
        self.users = Users(root.settings.state / FILE_NAME, clock=self.clock)
        self.gateway = Gateway(root.settings, store=root.store, users=self.users, clock=self.clock)
        self.secrets: dict[str, str] = {}
        self.passwords: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        for login, (naam, rol, big) in PEOPLE.items():
            new = self.users.add(login, naam=naam, rol=rol, big=big)
            self.secrets[login], self.passwords[login] = new.geheim, new.wachtwoord
            self.tokens[login] = self.login(login)
            self.users.change_password(login, new.wachtwoord, new.wachtwoord + "-nieuw")
            self.passwords[login] += "-nieuw"

    def code(self, login: str, *, steps: int = 0) -> str:
        return pyotp.TOTP(self.secrets[login]).at(self.clock.now() + dt.timedelta(seconds=30 * steps))

    def login(self, login: str, *, steps: int = 0) -> str:
        answer = self.gateway.handle({"op": "login", "gebruikersnaam": login, "wachtwoord": self.passwords[login],
                                      "code": self.code(login, steps=steps)})
        assert answer["ok"], answer
        return answer["token"]

    def call(self, login: str, op: str, **arguments) -> dict:
        return self.gateway.handle({"op": op, "token": self.tokens[login], **arguments})


@pytest.fixture(scope="module")
def gate(tmp_path_factory, shared_fake_converter, keyring, shared_pki):
    root = held_root(tmp_path_factory.mktemp("role-gateway") / "root", converter=shared_fake_converter,
                     keyring=keyring, pki=shared_pki)
    g = Gate(root)
    yield g
    g.users.close()
    root.close()


def test_every_role_operation_is_registered_and_answers_only_its_role(gate):
    assert set(ROLE_OPERATIONS) <= set(gate.gateway._ops)
    for op, owner in ROLE_OF.items():
        for login in PEOPLE:
            answer = gate.call(login, op)
            if login in owner:
                assert answer["ok"], (op, answer)
            else:
                assert (answer["ok"], answer.get("fout")) == (False, "niet-gevonden"), (op, login, answer)
    refusals = [r for r in Audit(gate.root.store).records() if r.uitkomst == "geweigerd"
                and r.details.get("regel") == "rol"]
    assert {r.gebruiker for r in refusals} >= {"K. Archief (karchief, archivaris, via desk)",
                                               "Dr. E. Visser (evisser, so-bedrijfsarts, via desk)"}


def test_a_doctor_downloads_his_document_as_base64_and_a_wrong_upload_gets_a_dutch_reason(gate):
    [waiting] = gate.call("evisser", "te_ondertekenen")["documenten"]
    assert (waiting["kenmerk"], waiting["document"]) == (K, "advies")
    assert gate.call("pbakker", "download_te_ondertekenen", kenmerk=K, document="advies")["fout"] == "niet-gevonden"
    got = gate.call("evisser", "download_te_ondertekenen", kenmerk=K, document="advies")
    assert got["ok"] and base64.b64decode(got["data"]).startswith(b"%PDF-") and got["naam"] == f"{K}_advies.pdf"
    wrong = gate.call("evisser", "inleveren", kenmerk=K, document="advies",
                      data=base64.b64encode(b"geen pdf").decode())
    assert (wrong["fout"], wrong["bericht"]) == ("ongeldig", "Dit is geen PDF-bestand. Lever het ondertekende "
                                                             "PDF-document in dat u hebt gedownload en ondertekend.")
    garbled = gate.call("evisser", "inleveren", kenmerk=K, document="advies", data="%%%")
    assert garbled["fout"] == "protocol"
    assert not list(gate.root.settings.inbox.glob("*.pdf")), "nothing refused reaches the inbox"


def test_destruction_checks_first_then_needs_a_fresh_code_checked_by_the_gateway(gate):
    early = gate.call("karchief", "vernietig", kenmerk=K)
    assert early["fout"] == "ongeldig" and "bewaartermijn" in early["bericht"]
    assert "--force" not in early["bericht"] and "vervroegde vernietiging met een reden" in early["bericht"]
    personal = gate.call("karchief", "vernietig", kenmerk=K, reden="verzoek van M.A. Jansen", vervroegd=True)
    assert personal["fout"] == "ongeldig" and "persoonsgegevens" in personal["bericht"]
    asked = gate.call("karchief", "vernietig", kenmerk=K, reden="verzoek werknemer (art. 7:455 BW)", vervroegd=True)
    assert asked["status"] == "bevestiging-nodig" and asked["bestanden"] > 0
    used = gate.call("karchief", "vernietig", kenmerk=K, reden="verzoek werknemer (art. 7:455 BW)", vervroegd=True,
                     code=gate.code("karchief"))  # the code of the login: counted once already
    assert used["fout"] == "code" and "niets vernietigd" in used["bericht"]
    other = gate.call("ftoezicht", "vernietig", kenmerk=K, reden="x", vervroegd=True, code=gate.code("ftoezicht", steps=1))
    assert other["fout"] == "niet-gevonden"
    assert gate.root.store.events(K), "nothing destroyed yet"
    # the FG looks before it goes (the trail stays; the case, found by BSN, goes)
    per_employee = gate.call("ftoezicht", "toegang_per_werknemer", bsn=BSN)
    assert [z["kenmerk"] for z in per_employee["zaken"]] == [K]
    assert any(t["naam"] == "K. Archief" for t in per_employee["zaken"][0]["toegang"])
    assert gate.call("ftoezicht", "toegang_per_werknemer", bsn="123456789")["fout"] == "ongeldig"
    export = gate.call("ftoezicht", "avg_inzage", bsn=BSN)
    assert json.loads(base64.b64decode(export["data"]))["zaken"][0]["kenmerk"] == K
    done = gate.call("karchief", "vernietig", kenmerk=K, reden="verzoek werknemer (art. 7:455 BW)", vervroegd=True,
                     code=gate.code("karchief", steps=1))
    assert done["status"] == "vernietigd", done
    assert not gate.root.store.events(K)
    destroyed = [r for r in Audit(gate.root.store).trail(K) if r.gebeurtenis == "vernietiging"
                 and r.uitkomst == "geslaagd"]
    assert destroyed[-1].gebruiker == "K. Archief (karchief, archivaris, via desk)"
    assert BSN not in json.dumps([r.as_dict() for r in Audit(gate.root.store).records()])


def test_it_lists_users_ends_sessions_and_gives_a_new_authenticator(gate):
    users = {u["gebruikersnaam"]: u for u in gate.call("ibeheer", "gebruikers")["gebruikers"]}
    assert set(users) == set(PEOPLE)
    assert (users["evisser"]["rol"], users["evisser"]["big"], users["evisser"]["sessies"]) == ("so-bedrijfsarts",
                                                                                            VISSER, 1)
    assert gate.call("ibeheer", "sessies_beeindigen", gebruikersnaam="evisser")["beeindigd"] == 1
    assert gate.call("evisser", "te_ondertekenen")["fout"] == "sessie"
    new = gate.call("ibeheer", "totp_opnieuw", gebruikersnaam="pbakker")
    assert new["otpauth"].startswith("otpauth://totp/sopipe:pbakker") and new["geheim"] != gate.secrets["pbakker"]
    assert gate.call("pbakker", "te_ondertekenen")["fout"] == "sessie"
    old = gate.gateway.handle({"op": "login", "gebruikersnaam": "pbakker", "wachtwoord": gate.passwords["pbakker"],
                               "code": gate.code("pbakker", steps=1)})
    assert old["fout"] == "inloggen", "the old authenticator no longer works"
    gate.secrets["pbakker"] = new["geheim"]
    gate.tokens["pbakker"] = gate.login("pbakker")
    assert gate.call("pbakker", "te_ondertekenen")["ok"]
    assert gate.call("ibeheer", "totp_opnieuw", gebruikersnaam="niemand")["fout"] == "niet-gevonden"
    assert gate.call("karchief", "sessies_beeindigen", gebruikersnaam="pbakker")["fout"] == "niet-gevonden"
