"""A root whose pipeline signs no doctor's document itself, with one case at the final advice: the advice waits
for the SO doctor (Visser), the request form for the own doctor (Bakker). Shared by the role-operation tests."""

from __future__ import annotations

from pipeline.core.actor import Actor, Kanaal, Rol
from pipeline.shell.app import OrderSigner
from pipeline.shell.role_views import RoleRoot
from tests.appearances import BAKKER, SMIT, VISSER  # noqa: F401  (the role tests import them from here)
from tests.casefactory import full_case
from tests.mailbox_paths import mailbox

K = "SO-2026-0042"


def held_root(path, *, converter, pki, keyring=None, signer: OrderSigner | None = None, config: str = "",
              upto: str | None = "definitief_advies"):
    """A root wired as production wires it whose pipeline waits for the doctors' own signatures (`signer`, default
    `OrderSigner(keyring, auto_sign_doctors=False)`, decides how far it signs), with the case up to `upto`; `config`:
    TOML for its sopipe.toml, such as the doctors' registry. `upto=None`: no case yet (the desk's browser test makes
    it through the secretariat's forms). Close it with `.close()`."""
    from tests.conftest import Root
    root = Root(path, converter=converter, pki=pki, config=config,
                signer=signer or OrderSigner(keyring, auto_sign_doctors=False))
    if upto is None:
        return root
    for i, ev in enumerate(full_case(kenmerk=K, upto=upto), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed"] * 9, [(o.file_name, o.detail) for o in outcomes]
    return root


def unsigned_advice(root) -> bytes:
    """The final advice waiting for Dr. Visser's signature in his mailbox."""
    return (mailbox(root, "so-bedrijfsarts", K) / "te-ondertekenen" / f"{K}_advies.pdf").read_bytes()


def send_in(root, name: str, data: bytes):
    """`data` dropped into the inbox as `name` and processed; its one outcome."""
    root.drop(name, data)
    [outcome] = root.run()
    return outcome


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
