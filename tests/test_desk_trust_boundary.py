"""The trust boundary between the desk and the pipeline, tested as an attacker who took over the desk's process:
code running as the desk's Unix user cannot read the seal, the state database, the desk users' table, the outbox
or the failed files, and through the gateway it gets nothing outside the scope of a session it holds."""

from __future__ import annotations

import json
import os
import shutil
import pwd
import stat
import subprocess
import textwrap

import pyotp
import pytest

from pipeline.core.actor import Rol
from pipeline.gateway.server import serving
from pipeline.gateway.service import Gateway
from pipeline.gateway.users import FILE_NAME, Users
from pipeline.shell.desk_service import REPO, desk_user, runnable_python
from pipeline.shell.layout import EXAMPLES
from tests.conftest import Root
from tests.desk_helpers import ensure_desk_user, passable_folder, remove

ATTACK = textwrap.dedent("""
    import json, os, sys
    from pipeline.gateway.client import GatewayClient
    from pipeline.gateway.protocol import GatewayError
    root, sock, token = sys.argv[1], sys.argv[2], sys.argv[3]
    out = {}
    def attempt(name, fn):
        try:
            fn()
            out[name] = "gelukt"
        except PermissionError:
            out[name] = "geweigerd"
        except GatewayError as e:
            out[name] = e.code
    def read(path):
        return lambda: open(os.path.join(root, path), "rb").read()
    attempt("seal", read("pki/seal.p12"))
    attempt("pki-listing", lambda: os.listdir(os.path.join(root, "pki")))
    attempt("database", read("state/sopipe.db"))
    attempt("desk-users", read("state/desk-users.db"))
    def raise_(e):
        raise e
    def outbox():
        read = [open(os.path.join(d, f), "rb").read() for d, _, fs in os.walk(os.path.join(root, "outbox"),
                                                                               onerror=raise_) for f in fs]
        assert read, "nothing delivered to read"
    attempt("outbox", outbox)
    attempt("failed", lambda: os.listdir(os.path.join(root, "inbox", "failed")))
    attempt("drop-in-inbox", lambda: open(os.path.join(root, "inbox", "x.json"), "wb").write(b"{}"))
    gateway = GatewayClient(sock)
    attempt("forged-token", lambda: gateway.call("zaak", token="verzonnen", kenmerk="SO-2026-0042"))
    attempt("other-scope", lambda: gateway.call("zaak", token=token, kenmerk="SO-2026-0042"))
    attempt("other-scope-submit", lambda: gateway.call("indienen", token=token, kenmerk="SO-2026-0042",
            stap="beschikbaarheid", gegevens={"datum": "2026-11-05", "beschikbaar": True}))
    attempt("own-scope-list", lambda: gateway.call("zaken", token=token))
    attempt("raw-sql", lambda: gateway.call("sql", token=token, query="SELECT * FROM events"))
    print(json.dumps(out))
""")


def _attackers_copy(folder) -> str:
    """What the attacker's code imports: the gateway's client and protocol and the error classes they raise (all
    stdlib only), copied where the desk's user can read them whatever the checkout's folder allows."""
    package = folder / "code" / "pipeline" / "gateway"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    for name in ("__init__.py", "client.py", "protocol.py"):
        shutil.copyfile(REPO / "pipeline" / "gateway" / name, package / name)
    shutil.copyfile(REPO / "pipeline" / "errors.py", package.parent / "errors.py")
    for path in (folder / "code", package.parent, package, *package.iterdir(), package.parent / "__init__.py",
                 package.parent / "errors.py"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    return str(folder / "code")


@pytest.fixture
def attacked_root(shared_pki, fake_converter):
    ensure_desk_user()
    folder = passable_folder()
    root = Root(folder / "root", converter=fake_converter, pki=shared_pki)
    try:
        for f in sorted((EXAMPLES / "case-SO-2026-0042").glob("*.json"))[:5]:
            root.drop(f.name, f.read_bytes())
        bad = json.loads((EXAMPLES / "case-SO-2026-0042" / "06-uitvoering.json").read_text())
        bad["locatie"] = ""
        root.drop("06-uitvoering.json", bad)
        root.run()
        assert list(root.settings.failed.glob("*.json")), "a failed file to hide"
        yield root
    finally:
        root.close()
        remove(folder)


def test_a_taken_over_desk_process_reads_no_key_no_database_no_mailbox_and_no_other_scope(attacked_root):
    user = desk_user("sopipe-desk")
    users = Users(attacked_root.settings.state / FILE_NAME)
    new = users.add("zuid", naam="Z. Uid", rol=Rol.SECRETARIAAT, organisatie="arbozuid")
    token, _ = users.login("zuid", new.wachtwoord, pyotp.TOTP(new.geheim).now())
    users.change_password("zuid", new.wachtwoord, "een-nieuw-lang-wachtwoord")
    gateway = Gateway(attacked_root.settings, store=attacked_root.store, users=users)
    with serving(gateway, attacked_root.path, group=user.group, allowed_uids=frozenset({os.getuid(), user.uid})) \
            as sock:
        folder, mode = sock.parent.stat(), sock.stat()
        assert stat.S_IMODE(folder.st_mode) == 0o2750 and stat.S_IMODE(mode.st_mode) == 0o660
        assert folder.st_gid == mode.st_gid == user.gid
        python = runnable_python(user)
        code = _attackers_copy(attacked_root.path.parent)
        result = subprocess.run([python, "-c", ATTACK, str(attacked_root.path), str(sock), token],
                                env={"PYTHONPATH": code, "PATH": "/usr/bin:/bin"},
                                user=user.uid, group=user.gid, extra_groups=[], capture_output=True, text=True,
                                timeout=60, cwd="/")
    users.close()
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found == {
        "seal": "geweigerd", "pki-listing": "geweigerd", "database": "geweigerd", "desk-users": "geweigerd",
        "outbox": "geweigerd", "failed": "geweigerd", "drop-in-inbox": "geweigerd",
        "forged-token": "sessie", "other-scope": "niet-gevonden", "other-scope-submit": "niet-gevonden",
        "own-scope-list": "gelukt", "raw-sql": "onbekend"}
    assert not any(p.name.startswith("SO-2026-0042_") for p in attacked_root.settings.inbox.iterdir())


def test_another_local_user_cannot_even_open_the_gateways_socket(attacked_root):
    ensure_desk_user()
    users = Users(attacked_root.settings.state / FILE_NAME)
    gateway = Gateway(attacked_root.settings, store=attacked_root.store, users=users)
    nobody = pwd.getpwnam("nobody")
    user = desk_user("sopipe-desk")
    with serving(gateway, attacked_root.path, group=user.group) as sock:
        python = runnable_python(user)
        probe = ("import socket, sys\ns = socket.socket(socket.AF_UNIX)\n"
                 "try:\n    s.connect(sys.argv[1]); print('verbonden')\n"
                 "except PermissionError:\n    print('geweigerd')\n")
        result = subprocess.run([python, "-c", probe, str(sock)], env={"PATH": "/usr/bin:/bin"}, user=nobody.pw_uid,
                                group=nobody.pw_gid, extra_groups=[], capture_output=True, text=True, timeout=30,
                                cwd="/")
    users.close()
    assert result.stdout.strip() == "geweigerd", result.stderr
