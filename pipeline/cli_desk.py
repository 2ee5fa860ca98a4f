"""`sopipe desk ...` (the secretariat's web desk and its gateway) and `sopipe check FILE`.

Defines the commands only; the group module `pipeline.cli` adds `COMMANDS` to its group. See docs/desk.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline.cli_options import CONTEXT, root_option

ROLES = ("secretariaat", "bedrijfsarts", "so-bedrijfsarts", "archivaris", "fg", "beheer")


@click.group(context_settings=CONTEXT)
def desk() -> None:
    """The web desk for the secretariat (and its gateway to the pipeline).

    Example:

    \b
        sopipe desk adduser jdewit --naam "J. de Wit" --role secretariaat --organisatie arbonoord --root demo
        sopipe desk serve --root demo --port 8000
    """


def _until_stopped() -> None:
    """Wait for Ctrl-C or SIGTERM (systemd's stop)."""
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        click.echo("\nStopped.")


@desk.command("serve", context_settings=CONTEXT)
@root_option
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 (put the TLS reverse proxy in front of it in production).")
@click.option("--user", "unix_user", default=None,
              help="Unix user of the web process (default: sopipe-desk when it exists and we are root, else us).")
@click.option("--data", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The desk's own folder (sessions, lockouts; no case data). Default: ROOT/desk-data.")
@click.option("--idle", type=click.IntRange(5), default=900, show_default=True,
              help="Seconds of inactivity after which a session ends.")
def serve(root: Path, port: int, unix_user: str | None, data: Path | None, idle: int) -> None:
    """Start the gateway (as this user) and the desk (as its own user) on 127.0.0.1:PORT, until Ctrl-C.

    The gateway listens on ROOT/gateway/desk.sock, open to the desk's group only. `sopipe watch` runs beside it
    and processes what the desk submits. For production run the desk with gunicorn behind a TLS proxy
    (docs/desk.md).

    Example:

        sopipe desk serve --root /srv/sopipe --port 8000
    """
    from pipeline.settings import load_settings
    from pipeline.shell.desk_service import DATA_FOLDER, desk_user, running_desk

    settings = load_settings(root)
    user = desk_user(unix_user)
    with running_desk(settings, port=port, user=user, data=data or settings.root / DATA_FOLDER,
                      idle_seconds=idle) as address:
        click.echo(f"Desk: {address} (web process as Unix user {user.name}; gateway on "
                   f"{settings.root / 'gateway' / 'desk.sock'})")
        click.echo("Ctrl-C stops it.")
        _until_stopped()


@desk.command("gateway", context_settings=CONTEXT)
@root_option
@click.option("--group", default=None,
              help="Unix group of the desk's user: the socket is opened to it (default: sopipe-desk's group).")
@click.option("--idle", type=click.IntRange(5), default=900, show_default=True,
              help="Seconds of inactivity after which a desk session ends.")
def gateway(root: Path, group: str | None, idle: int) -> None:
    """Run only the gateway on ROOT/gateway/desk.sock, as the pipeline's user, until stopped (SIGTERM, Ctrl-C).

    For production, where the desk runs under its own user with gunicorn (a service of its own) and this command
    runs beside `sopipe watch`. Only the pipeline's user and the desk's user may connect.

    Example:

        sopipe desk gateway --root /srv/sopipe --group sopipe-desk
    """
    from pipeline.settings import load_settings
    from pipeline.shell.desk_service import desk_user, running_gateway

    settings = load_settings(root)
    user = desk_user(None)
    group = group or user.group
    with running_gateway(settings, group=group, idle_seconds=idle,
                         allowed_uids=None if group != user.group else frozenset({user.uid})) as path:
        click.echo(f"Gateway: {path} (group {group or '-'})")
        _until_stopped()


@desk.command("adduser", context_settings=CONTEXT)
@root_option
@click.argument("name")
@click.option("--role", "rol", type=click.Choice(ROLES), required=True, help="What the user does.")
@click.option("--organisatie", default=None, help="Code of the arbodienst (secretariaat): its cases only.")
@click.option("--big", default=None, help="BIG number (bedrijfsarts, so-bedrijfsarts).")
@click.option("--naam", default=None, help='The person\'s name as the audit trail shows it ("J. de Wit").')
@click.option("--replace", is_flag=True, help="Replace an existing user of that name (new password and secret).")
def adduser(root: Path, name: str, rol: str, organisatie: str | None, big: str | None, naam: str | None,
            replace: bool) -> None:
    """Add desk user NAME; prints a one-time password and the TOTP secret as an otpauth:// URI (once).

    The first login asks for a new password. Give the URI to the user's authenticator app (scan it as a QR code,
    or type the secret).

    Example:

        sopipe desk adduser jdewit --naam "J. de Wit" --role secretariaat --organisatie arbonoord --root /srv/sopipe
    """
    from pipeline.core.actor import Rol
    from pipeline.shell.desk_service import add_user

    new = add_user(root, name, naam=naam or name, rol=Rol(rol), organisatie=organisatie, big=big, replace=replace)
    click.echo(f"User {new.gebruikersnaam} added ({rol}{', ' + organisatie if organisatie else ''}).")
    click.echo(f"One-time password: {new.wachtwoord}")
    click.echo(f"TOTP secret:       {new.geheim}")
    click.echo(f"Authenticator URI: {new.otpauth}")
    click.echo("Give these to the user in person; they are not shown again. The current code, without an app:")
    click.echo(f"  python3 -c \"import pyotp; print(pyotp.TOTP('{new.geheim}').now())\"")


@click.command("check", context_settings=CONTEXT)
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also check against the case's current state in this root (the order of steps, consents).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def check(file: Path, root: Path | None, as_json: bool) -> None:
    """Check a case file as the intake would, without dropping it: exit status 1 and the problems in Dutch.

    The same check as the desk's forms and the same wording as the reports in inbox/failed/. With --root the file
    is also checked against the case as it stands (is this step allowed now?); nothing is written.

    Example:

    \b
        sopipe check 04-beschikbaarheid.json
        sopipe check 04-beschikbaarheid.json --root /srv/sopipe --json
    """
    from pipeline.shell.check import check_case_file

    raw = file.read_bytes()
    if root is None:
        result = check_case_file(raw)
    else:
        from pipeline.adapters.store import Store
        from pipeline.settings import load_settings

        settings = load_settings(root)
        if not settings.database.exists():
            raise click.ClickException(f"no state database in {settings.root}; run `sopipe init --root {root}`")
        store = Store(settings.database)
        try:
            result = check_case_file(raw, organisaties=settings.organisaties, state_of=store.case_state)
        finally:
            store.close()
    if as_json:
        click.echo(json.dumps({"bestand": file.name, "in_orde": result.ok, "kenmerk": result.kenmerk,
                               "stap": result.stap, "problemen": [{"veld": f, "probleem": p}
                                                                   for f, p in result.problems]},
                              indent=2, ensure_ascii=False))
    elif result.ok:
        click.echo(f"{file.name}: in orde ({result.stap}, zaak {result.kenmerk}).")
    else:
        count = len(result.problems)
        click.echo(f"{file.name}: {count} {'probleem' if count == 1 else 'problemen'}; het bestand zou NIET worden "
                   "verwerkt.")
        for field, problem in result.problems:
            click.echo(f"  - {field}: {problem}" if field else f"  - {problem}")
    if not result.ok:
        click.get_current_context().exit(1)


COMMANDS = (desk, check)
