"""Running the desk beside a root: the gateway in this process (the pipeline's user), the web process under the
desk's own Unix user (`sopipe desk serve`), and adding desk users (`sopipe desk adduser`)."""

from __future__ import annotations

import grp
import logging
import os
import pwd
import stat
import subprocess
import sys
import sysconfig
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pipeline.adapters.store import Store
from pipeline.core.actor import Rol
from pipeline.gateway.protocol import GatewayError
from pipeline.gateway.server import serving
from pipeline.gateway.service import Gateway
from pipeline.gateway.users import DEFAULT_IDLE_SECONDS, FILE_NAME, NewUser, Users
from pipeline.errors import PipelineError
from pipeline.settings import Settings, load_settings
from pipeline.shell.layout import access_from_settings

log = logging.getLogger("sopipe")

DESK_USER = "sopipe-desk"
"""The Unix user the web process runs as when it exists and we may switch to it (we are root)."""
DATA_FOLDER = "desk-data"


@dataclass(frozen=True)
class DeskUser:
    """Who the web process runs as: the desk's own Unix user, or (a demo without one) ourselves."""
    uid: int
    gid: int
    name: str
    group: str | None
    """The group the gateway's socket is opened to; None: nobody but ourselves (the desk runs as us)."""


def desk_user(name: str | None) -> DeskUser:
    """The named user (must exist), else `sopipe-desk` when it exists and we are root, else ourselves."""
    if name is None and os.getuid() == 0:
        try:
            pwd.getpwnam(DESK_USER)
            name = DESK_USER
        except KeyError:
            pass
    if name is None:
        me = pwd.getpwuid(os.getuid())
        return DeskUser(me.pw_uid, me.pw_gid, me.pw_name, None)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise PipelineError(f"There is no Unix user {name!r}: create it (useradd --system {name}) or leave "
                            "--user out") from None
    if entry.pw_uid != os.getuid() and os.getuid() != 0:
        raise PipelineError(f"Only root can start the desk as {name!r}; run as root or leave --user out")
    return DeskUser(entry.pw_uid, entry.pw_gid, entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name)


def open_users(settings: Settings, *, idle_seconds: int = DEFAULT_IDLE_SECONDS) -> Users:
    return Users(settings.state / FILE_NAME, idle_seconds=idle_seconds)


def add_user(root: Path, name: str, *, naam: str, rol: Rol, organisatie: str | None, big: str | None,
             replace: bool = False) -> NewUser:
    if rol is Rol.SECRETARIAAT and not organisatie:
        raise PipelineError("A secretariat user needs --organisatie CODE (the arbodienst's code in the case files)")
    if rol in (Rol.BEDRIJFSARTS, Rol.SO_BEDRIJFSARTS) and not (big and big.isdigit() and len(big) == 11):
        raise PipelineError("A doctor needs --big with the 11-digit BIG number")
    settings = load_settings(root)
    if not settings.state.is_dir():
        raise PipelineError(f"{settings.state} does not exist; run `sopipe init --root {root}` first")
    users = open_users(settings)
    try:
        return users.add(name, naam=naam, rol=rol, organisatie=organisatie, big=big, replace=replace)
    except GatewayError as e:
        raise PipelineError(f"{e.bericht} (--replace gives it a new password and secret)") from e
    finally:
        users.close()


REPO = Path(__file__).resolve().parents[2]


def _others_may_run(path: Path, *, read: bool = False) -> bool:
    """Whether a user who is neither owner nor group can execute (`read`: read) `path`, every folder above it
    passable."""
    path = path.resolve()
    try:
        if not os.stat(path).st_mode & (stat.S_IROTH if read else stat.S_IXOTH):
            return False
        return all(os.stat(p).st_mode & stat.S_IXOTH for p in path.parents)
    except OSError:
        return False


def runnable_python(user: DeskUser) -> str:
    """An interpreter `user` may run: ours, else the system's Python of the same version (an interpreter installed
    under /root, as pyenv does, is closed to other users)."""
    if user.uid == os.getuid() or _others_may_run(Path(sys.executable)):
        return sys.executable
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if not _others_may_run(system):
        raise PipelineError(f"the desk's user {user.name} cannot run {sys.executable} and there is no {system}: "
                            "install sopipe in a virtual environment others may read (e.g. /opt/sopipe)")
    return str(system)


def web_python(user: DeskUser) -> tuple[str, list[str]]:
    """(interpreter, import paths) for the web process: `runnable_python`, with our code (and, for the system's
    interpreter, our packages) on its path; PipelineError when `user` cannot read them."""
    python = runnable_python(user)
    paths = [str(REPO)]
    if python != sys.executable:
        paths += dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    if user.uid != os.getuid():
        closed = [p for p in paths if not _others_may_run(Path(p), read=True)]
        if closed:
            raise PipelineError(f"the desk's user {user.name} cannot read {', '.join(closed)}: install sopipe "
                                "where it can (e.g. a virtual environment in /opt/sopipe)")
    return python, paths


def desk_environment(*, socket: Path, data: Path, idle_seconds: int, paths: list[str],
                     production: bool = False) -> dict[str, str]:
    """The web process's whole environment: nothing of ours (no secrets, no credentials) is passed on."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(data), "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "desk.settings", "SOPIPE_DESK_DATA": str(data),
            "SOPIPE_GATEWAY_SOCKET": str(socket), "SOPIPE_DESK_IDLE": str(idle_seconds),
            "SOPIPE_DESK_PRODUCTION": "1" if production else "0", "PYTHONPATH": os.pathsep.join(paths)}


def prepare_data(data: Path, user: DeskUser) -> None:
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chown(data, user.uid, user.gid)
    os.chmod(data, 0o700)


def _as(user: DeskUser) -> dict:
    if user.uid == os.getuid():
        return {}
    return {"user": user.uid, "group": user.gid, "extra_groups": []}


def migrate_desk(python: str, env: dict[str, str], user: DeskUser) -> None:
    subprocess.run([python, "-m", "django", "migrate", "--noinput", "-v", "0"], env=env, check=True,
                   cwd=env["SOPIPE_DESK_DATA"], **_as(user))


def start_web(python: str, env: dict[str, str], user: DeskUser, *, port: int,
              host: str = "127.0.0.1") -> subprocess.Popen:
    """gunicorn with the desk's WSGI application, as `user`, on `host:port`."""
    return subprocess.Popen([python, "-m", "gunicorn", "desk.wsgi:application", "--bind", f"{host}:{port}",
                             "--workers", "2", "--threads", "4", "--access-logfile", "-", "--error-logfile", "-"],
                            env=env, cwd=env["SOPIPE_DESK_DATA"], **_as(user))


def wait_for_port(port: int, *, host: str = "127.0.0.1", timeout: float = 30.0, process=None) -> None:
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise PipelineError(f"the desk's web process stopped (exit status {process.returncode})")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise PipelineError(f"the desk did not answer on {host}:{port} within {timeout:.0f} s")


@contextmanager
def running_gateway(settings: Settings, *, group: str | None, idle_seconds: int = DEFAULT_IDLE_SECONDS,
                    allowed_uids: frozenset[int] | None = None, clock=None) -> Iterator[Path]:
    """The gateway of `settings.root` on its socket while the block runs (its store and users opened here).
    `allowed_uids`: who besides us may connect (SO_PEERCRED); None: whoever the socket's mode lets in."""
    with ExitStack() as stack:
        store = Store(settings.database)
        stack.callback(store.close)
        users = Users(settings.state / FILE_NAME, idle_seconds=idle_seconds, clock=clock)
        stack.callback(users.close)
        _, intake_access = access_from_settings(settings)
        gateway = Gateway(settings, store=store, users=users, intake_access=intake_access, clock=clock)
        allowed = None if allowed_uids is None else allowed_uids | {os.getuid()}
        yield stack.enter_context(serving(gateway, settings.root, group=group, allowed_uids=allowed))


@contextmanager
def running_desk(settings: Settings, *, port: int, user: DeskUser, data: Path,
                 idle_seconds: int = DEFAULT_IDLE_SECONDS, clock=None) -> Iterator[str]:
    """The gateway (here) and the web process (as `user`) while the block runs; yields the desk's address."""
    with ExitStack() as stack:
        socket_path = stack.enter_context(running_gateway(settings, group=user.group, idle_seconds=idle_seconds,
                                                          allowed_uids=frozenset({user.uid}), clock=clock))
        prepare_data(data, user)
        python, paths = web_python(user)
        env = desk_environment(socket=socket_path, data=data, idle_seconds=idle_seconds, paths=paths)
        migrate_desk(python, env, user)
        web = start_web(python, env, user, port=port)

        def stop() -> None:
            web.terminate()
            try:
                web.wait(timeout=10)
            except subprocess.TimeoutExpired:
                web.kill()
                web.wait()
        stack.callback(stop)
        wait_for_port(port, process=web)
        yield f"http://127.0.0.1:{port}/"
