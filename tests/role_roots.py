"""A root whose pipeline signs no doctor's document itself, with one case at the final advice: the advice waits
for the SO doctor (Visser), the request form for the own doctor (Bakker). Shared by the role-operation tests."""

from __future__ import annotations

from pipeline.core.actor import Actor, Kanaal, Rol
from pipeline.shell.app import OrderSigner
from pipeline.shell.role_views import RoleRoot
from tests.casefactory import full_case

K = "SO-2026-0042"
BAKKER, VISSER, SMIT = "19012345601", "39087654301", "49011122201"


def held_root(path, *, converter, keyring, pki, upto: str | None = "definitief_advies"):
    """`upto=None`: no case yet (the desk's browser test makes it through the secretariat's forms)."""
    from tests.conftest import Root
    root = Root(path, converter=converter, pki=pki, signer=OrderSigner(keyring, auto_sign_doctors=False))
    if upto is None:
        return root
    for i, ev in enumerate(full_case(kenmerk=K, upto=upto), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed"] * 9, [(o.file_name, o.detail) for o in outcomes]
    return root


def role_root(root) -> RoleRoot:
    return RoleRoot(root.settings, root.store, root.pipeline.audit)


def desk(login: str, naam: str, rol: Rol, *, big: str | None = None) -> Actor:
    return Actor(gebruikersnaam=login, naam=naam, rol=rol, kanaal=Kanaal.DESK, big=big)


visser = desk("evisser", "Dr. E. Visser", Rol.SO_BEDRIJFSARTS, big=VISSER)
smit = desk("asmit", "Dr. A. Smit", Rol.SO_BEDRIJFSARTS, big=SMIT)
bakker = desk("pbakker", "Dr. P. Bakker", Rol.BEDRIJFSARTS, big=BAKKER)
secretariaat = desk("jdevries", "J. de Vries", Rol.SECRETARIAAT, big=VISSER)
archivaris = desk("karchief", "K. Archief", Rol.ARCHIVARIS)
fg = desk("fgtoezicht", "F. Toezicht", Rol.FG)
beheer = desk("itbeheer", "I. Beheer", Rol.BEHEER)
