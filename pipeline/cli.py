"""The `sopipe` command line: the one group module. It defines the `cli` group and adds the commands of the
command modules (`cli_operator`, `cli_archive`, `cli_signing`, `cli_bench`, `cli_desk`) explicitly; those never import it back.

One thin function per command. A `PipelineError` becomes user output in exactly one place, `SopipeGroup.invoke`
(`Error: <message>`, exit status 1); click's own usage errors stay click's.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from pipeline import cli_archive, cli_bench, cli_desk, cli_operator, cli_roles, cli_signing
from pipeline.cli_options import CONTEXT, root_option
from pipeline.core.redaction import for_people
from pipeline.errors import PipelineError

__all__ = ["CONTEXT", "SopipeGroup", "cli", "main", "root_option"]


def _setup_logging(verbose: bool, *, json_lines: bool = False) -> None:
    from pipeline.shell.logs import setup_logging
    setup_logging(verbose=verbose, json_lines=json_lines)


class SopipeGroup(click.Group):
    """The root group: the one error edge. A `PipelineError` raised by any command (or sub-group) becomes click's
    error output, `Error: <message>` on stderr with exit status 1, also under click's CliRunner."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PipelineError as e:
            raise click.ClickException(e.message) from e


@click.group(cls=SopipeGroup, context_settings=CONTEXT)
@click.option("-v", "--verbose", is_flag=True, help="More detail in the log.")
@click.option("--log-json", is_flag=True, help="Log as JSON lines (one object per line) on stderr.")
def cli(verbose: bool, log_json: bool) -> None:
    """sopipe: second-opinion case files in, signed PDFs in the right mailboxes out.

    Example:

        sopipe init --root demo && sopipe demo --root demo && sopipe watch --root demo --once
    """
    _setup_logging(verbose, json_lines=log_json)


@cli.command(context_settings=CONTEXT)
@root_option
@click.option("--no-demo", is_flag=True, help="A production root: no keys at all; prints what to install.")
@click.option("--demo-ca-dir", type=click.Path(path_type=Path), default=None,
              help="Where the DEMO CA keys go, outside the root (default ~/.local/share/sopipe/demo-ca/...).")
def init(root: Path, no_demo: bool, demo_ca_dir: Path | None) -> None:
    """Create the folders, state database, config file and a DEMO PKI in ROOT (idempotent).

    Example:

        sopipe init --root /srv/sopipe
        sopipe init --root /srv/sopipe --no-demo
    """
    from pipeline.adapters.demo_pki import ca_dir_of
    from pipeline.shell.layout import init_root
    settings = init_root(root, demo=not no_demo, demo_ca_dir=demo_ca_dir)
    click.echo(f"Initialised {settings.root}")
    click.echo(f"  drop case files in   {settings.inbox}/")
    click.echo(f"  documents appear in  {settings.outbox}/<party>/[<recipient>/]<kenmerk>/")
    if not no_demo:
        click.echo(f"  DEMO CA certificate  {settings.pki_dir / 'ca.pem'} (demo only, never for production)")
        click.echo(f"  DEMO CA keys         {ca_dir_of(settings.pki_dir)}/ (outside the root)")
        return
    pki = settings.pki_dir
    click.echo(f"Production root: {pki}/ holds no keys. Install, then check with `sopipe doctor --root {root}`:")
    click.echo(f"  1. {pki / 'ca.pem'}: the root certificate(s) of your trust service (PEM), the trust anchor;")
    click.echo(f"     {pki / 'intermediate.pem'}: its issuing CA, when the seal's token does not carry it.")
    click.echo("  2. The arbodienst seal, in [signing] of sopipe.toml, either on a token (PKCS#11):")
    click.echo('       seal_pkcs11_module = "/usr/lib/x86_64-linux-gnu/pkcs11/<module>.so"')
    click.echo('       seal_token_label = "..."  seal_key_label = "..."  seal_pin = "credential:seal-pin"')
    click.echo(f"     or as a PKCS#12 file ({pki / 'seal.p12'}, mode 0600) whose passphrase is NOT stored beside it:")
    click.echo('       seal_passphrase = "credential:seal-passphrase"   (or "env:NAME", "file:/etc/sopipe/...")')
    click.echo("  3. A timestamp server of your trust service: tsa_url (PAdES B-LTA for the 20-year dossier).")
    click.echo("  Doctors sign themselves (auto_sign_doctors = false): the final advice waits in")
    click.echo(f"  {settings.outbox}/so-bedrijfsarts/<BIG>/<kenmerk>/te-ondertekenen/ until signed (`sopipe sign`).")


@cli.command("migrate-layout", context_settings=CONTEXT)
@root_option
def migrate_layout(root: Path) -> None:
    """Move ROOT's per-role mailbox folders to one folder per recipient (idempotent, resumable).

    outbox/werkgever/<kenmerk>/ becomes outbox/werkgever/<code>/<kenmerk>/, likewise for arbodienst, bedrijfsarts
    (BIG number) and so-bedrijfsarts (BIG number); werknemer and archief stay per case. Each move is one rename,
    recorded in the audit trail. Stop `sopipe watch` first.

    Example:

        sopipe migrate-layout --root /srv/sopipe
    """
    from pipeline.adapters.audit import Audit, shell_actor
    from pipeline.adapters.mailbox import Mailboxes
    from pipeline.adapters.store import Store
    from pipeline.settings import load_settings
    from pipeline.shell.layout import access_from_settings
    from pipeline.shell.migrate import migrate_layout as migrate
    from pipeline.shell.watcher import exclusive_root

    settings = load_settings(root)
    mailbox_access, _ = access_from_settings(settings)
    with exclusive_root(settings.database.parent):
        store = Store(settings.database)
        try:
            result = migrate(Mailboxes(settings.outbox, access=mailbox_access), store,
                             Audit(store).acting(shell_actor()))
        finally:
            store.close()
    for move in result.moved:
        click.echo(f"moved   {move.van} -> {move.naar}")
    for reason in result.skipped:
        click.echo(f"skipped {reason}")
    click.echo(f"{len(result.moved)} folder(s) moved, {len(result.skipped)} left in place.")
    click.echo(f"{result.paths_rewritten} stored path(s) (deliveries, documents waiting for a signature) rewritten.")


@cli.command(context_settings=CONTEXT)
@root_option
def demo(root: Path) -> None:
    """Copy the shipped example case (SO-2026-0042, fictional) into ROOT's inbox.

    Example:

        sopipe demo --root . && sopipe watch --once
    """
    from pipeline.settings import load_settings
    from pipeline.shell.layout import EXAMPLES
    inbox = load_settings(root).inbox
    if not inbox.is_dir():
        raise click.ClickException(f"{inbox} does not exist; run `sopipe init --root {root}` first")
    count = 0
    for case in sorted(EXAMPLES.iterdir()):
        for f in sorted(case.glob("*.json")):
            # copy under a hidden name, then rename: the watcher never sees half a file
            tmp = inbox / f".{f.name}.tmp"
            shutil.copyfile(f, tmp)
            tmp.rename(inbox / f.name)
            count += 1
    click.echo(f"Copied {count} example case file(s) into {inbox}/")


@cli.command(context_settings=CONTEXT)
@root_option
@click.option("--once", is_flag=True, help="Process what is in the inbox now, then exit.")
@click.option("--settle", type=float, default=None,
              help="Seconds a file's size and mtime must stay unchanged before it is taken "
                   "(default: [intake] settle in sopipe.toml, 0.3).")
@click.option("--polling", is_flag=True, help="Poll instead of file-system events (network shares).")
def watch(root: Path, once: bool, settle: float | None, polling: bool) -> None:
    """Process case files from ROOT/inbox: now (--once) or as they arrive, until Ctrl-C.

    Exit status is 0 when the pipeline worked, also when some case files were refused (they are in
    inbox/failed/ with a report); non-zero only when the pipeline itself failed.

    Example:

        sopipe watch --root /srv/sopipe --once
    """
    from pipeline.shell.app import open_pipeline
    from pipeline.shell.watcher import run_once, watch as watch_loop
    from pipeline.settings import load_settings

    settings = load_settings(root)

    def describe(outcome) -> str:
        mark = {"processed": "ok", "duplicate": "dup", "failed": "FAILED", "retry": "RETRY",
                "gone": "gone"}[outcome.status]
        extra = f" ({len(outcome.delivered)} files)" if outcome.status == "processed" else ""
        extra += f": {outcome.detail}" if outcome.detail else ""  # a processed case may wait for a signed form
        return for_people(f"[{mark:>6}] {outcome.file_name}{extra}")

    def show(outcome) -> None:
        click.echo(describe(outcome))

    from pipeline.shell.app import signing_services
    from pipeline.shell.watcher import exclusive_root
    with exclusive_root(settings.database.parent), signing_services(settings) as settings, \
            open_pipeline(settings) as pipeline:
        if once:
            from pipeline.shell.progress import MIN_BATCH, batch_progress
            from pipeline.shell.watcher import inbox_files
            waiting = len(inbox_files(settings.inbox))
            # a bar only for a real batch, and only on a terminal (batch_progress checks that)
            with batch_progress(waiting, description="Processing",
                                enabled=None if waiting >= MIN_BATCH else False) as progress:
                def show_and_count(outcome) -> None:
                    progress.echo(describe(outcome))
                    progress.advance(label=outcome.file_name)
                outcomes = run_once(pipeline, workers=settings.parallel_cases, on_outcome=show_and_count)
            _summary(settings, outcomes)
            if any(o.status == "retry" for o in outcomes):
                sys.exit(2)
            return
        try:
            with _sigterm_as_interrupt():  # systemd stops a service with SIGTERM: the same clean stop as Ctrl-C
                run_once(pipeline, workers=settings.parallel_cases, on_outcome=show)
                click.echo(f"Watching {settings.inbox}/ (Ctrl-C to stop); results in {settings.outbox}/")
                watch_loop(pipeline, settle=settings.intake.settle if settle is None else settle,
                           polling=polling or settings.intake.polling, rescan=settings.intake.rescan,
                           workers=settings.parallel_cases, on_outcome=show)
        except KeyboardInterrupt:
            click.echo("\nStopped.")
    click.echo(f"Results: {settings.outbox}/<party>/[<recipient>/]<kenmerk>/  refused files: {settings.failed}/")


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises KeyboardInterrupt as Ctrl-C does: the file being processed is finished
    (cases in worker threads) or stays staged and is resumed at the next start; the wiring closes in order and
    `watch` exits 0. Without this, SIGTERM ends Python at once with status 143 and no message."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread (a test runner may call the command elsewhere)
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@cli.command(context_settings=CONTEXT)
@root_option
@click.argument("kenmerk", required=False)
@click.option("--overdue", is_flag=True, help="Only cases with a deadline that has passed.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Evaluate deadlines as of this date (default: today).")
@click.option("--rebuild", is_flag=True,
              help="First make every case summary again from the events (they are kept up to date by themselves).")
def status(root: Path, kenmerk: str | None, overdue: bool, as_json: bool, today, rebuild: bool) -> None:
    """Show per case the current step, consents, what was delivered to whom and the next deadline.

    The list of all cases gives per case the number of delivered documents; `status KENMERK` lists them.

    Example:

        sopipe status --root /srv/sopipe SO-2026-0042
        sopipe status --overdue --json
        sopipe status --rebuild
    """
    import datetime as dt
    import json

    from pipeline.adapters.store import Store
    from pipeline.settings import load_settings
    from pipeline.shell import status as st

    settings = load_settings(root)
    if not settings.database.exists():
        raise click.ClickException(f"no state database in {settings.root}; run `sopipe init --root {root}`")
    day = today.date() if today else dt.date.today()
    store = Store(settings.database)
    try:
        if rebuild:
            click.echo(f"{st.rebuild_summaries(store)} case summaries made again from the events", err=True)
        if kenmerk:
            one = st.case_status(store, kenmerk, today=day)
            if one is None:
                raise click.ClickException(f"unknown case {kenmerk}")
            cases = [one] if one.te_laat or not overdue else []
        else:
            cases = st.all_status(store, today=day, overdue=overdue)
        failures = [] if kenmerk else st.still_failed(store.failures(), _names_in(settings.failed))
        warnings = st.warnings(settings, store)
        from pipeline.adapters.audit import Audit, shell_actor
        audit = Audit(store).acting(shell_actor())  # the person at the keyboard, not the account
        if kenmerk:  # NEN 7513: looking at a case is an action on it
            audit.viewed(kenmerk, wat="status")
        else:  # the list names no person (kenmerk, step, deadline, counts): one record for the listing
            audit.listed(wat="status-overzicht", aantal=len(cases))
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(st.as_json(cases, failures, warnings), indent=2, ensure_ascii=False))
        return
    _print_status(cases, failures, detail=bool(kenmerk))
    for w in warnings:
        click.secho(f"Waarschuwing: {w}", fg="yellow")


PLAIN_ROWS = 200
"""Above this many cases the list is printed as plain lines, one a case: laying out a table cell by cell costs
seconds for 10,000 cases (`sopipe bench --scale`)."""


def _names_in(folder: Path) -> list[str]:
    """The entries of a folder (empty when it is missing or unreadable): `status` lists only what is still there."""
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _print_plain_cases(cases) -> None:
    width = {"kenmerk": max(len("kenmerk"), *(len(c.kenmerk) for c in cases)), "stap": len("beoordeling_advies")}
    lines = ["Zaken", f"  {'kenmerk':<{width['kenmerk']}}  {'profiel':<9}  {'stap':<{width['stap']}}  "
                      f"{'documenten':>10}  volgende termijn"]
    color = sys.stdout.isatty()
    for c in cases:
        if c.volgende_termijn:
            t = c.volgende_termijn
            when = f"{t['uiterlijk']} TE LAAT" if c.te_laat else t["uiterlijk"]
            termijn = f"{click.style(when, fg='red', bold=True) if c.te_laat and color else when} {t['wat']}"
        else:
            termijn = f"gesloten: {c.gesloten}" if c.gesloten else "afgerond" if c.afgerond else "—"
        held = f" ({len(c.quarantaine)} in quarantaine)" if c.quarantaine else ""
        termijn = "; ".join([*c.wacht_op, termijn]) if c.wacht_op else termijn
        lines.append(f"  {c.kenmerk:<{width['kenmerk']}}  {c.profiel:<9}  {c.stap:<{width['stap']}}  "
                     f"{c.documenten:>10}  {termijn}{held}")
    click.echo("\n".join(lines))


def _print_status(cases, failures, *, detail: bool) -> None:
    from rich import box
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    late = "[bold red]{} TE LAAT[/]"  # the date of a deadline that has passed
    if len(cases) > PLAIN_ROWS and not detail:
        _print_plain_cases(cases)
    else:
        table = Table(title="Zaken", title_justify="left", box=box.SIMPLE_HEAD)
        table.add_column("kenmerk", no_wrap=True)
        table.add_column("profiel", no_wrap=True)
        table.add_column("stap", no_wrap=True)
        table.add_column("volgende termijn", ratio=1)
        table.add_column("documenten", justify="right")
        for c in cases:
            if c.volgende_termijn:
                t = c.volgende_termijn
                termijn = f"{late.format(t['uiterlijk']) if c.te_laat else t['uiterlijk']} {escape(t['wat'])}"
            elif c.gesloten:
                termijn = f"gesloten: {escape(c.gesloten)}"
            else:
                termijn = "afgerond" if c.afgerond else "—"
            if c.wacht_op:  # medical data or an information request wait for the employee's signed form
                termijn = "\n".join([*(f"[bold]{escape(w)}[/]" for w in c.wacht_op), termijn])
            documents = str(c.documenten)
            if c.quarantaine:
                documents += f"\n[bold red]{len(c.quarantaine)} in quarantaine[/]"
            table.add_row(escape(c.kenmerk), c.profiel, c.stap, termijn, documents)
        console.print(table)
    if detail:
        for c in cases:
            consents = ", ".join(f"{escape(k)}: {v}" for k, v in c.toestemmingen.items()) or "—"
            console.print(f"[bold]{escape(c.kenmerk)}[/]  toestemmingen: {consents}")
            for w in c.wacht_op:
                console.print(f"[bold]{escape(c.kenmerk)}[/]  {escape(w)}")
            if c.termijnen:
                terms = Table(title="Open termijnen", title_justify="left", box=box.SIMPLE_HEAD)
                for col in ("uiterlijk", "wat", "wie"):
                    terms.add_column(col, no_wrap=col == "uiterlijk")
                for t in c.termijnen:
                    terms.add_row(late.format(t["uiterlijk"]) if t["te_laat"] else t["uiterlijk"], escape(t["wat"]),
                                  escape(str(t["wie"])))
                console.print(terms)
            docs = Table(title=f"Documenten (bewaren tot {c.bewaren_tot})", title_justify="left",
                         caption=f"bezorgd in outbox/<aan>/<ontvanger>/{escape(c.kenmerk)}/"
                                 f"{escape(c.kenmerk)}_<document>.pdf (werknemer en archief: outbox/<aan>/"
                                 f"{escape(c.kenmerk)}/; anonieme facturen aan de werkgever: "
                                 "outbox/werkgever/<ontvanger>/facturen/)",
                         caption_justify="left", box=box.SIMPLE_HEAD)
            for col in ("document", "aan", "status"):
                docs.add_column(col, no_wrap=col != "status")
            for d in c.bezorgd:
                docs.add_row(escape(d["document"]), d["aan"], "[green]bezorgd[/]")
            for d in c.achtergehouden:
                docs.add_row(escape(d["document"]), d["aan"], f"[yellow]achtergehouden: {escape(d['reden'] or '')}[/]")
            for d in c.quarantaine:
                docs.add_row(escape(d["document"]), d["aan"], f"[bold red]QUARANTAINE: {escape(d['reden'] or '')}[/]")
            console.print(docs)
    else:
        held = [(c.kenmerk, d) for c in cases for d in c.quarantaine]
        if held:
            qt = Table(title="In quarantaine (quarantine/<kenmerk>/, met een rapport per bestand)",
                       title_justify="left", box=box.SIMPLE_HEAD)
            for col in ("kenmerk", "document", "aan", "reden"):
                qt.add_column(col, no_wrap=col == "kenmerk", overflow="fold")
            for kenmerk, d in held:
                qt.add_row(escape(kenmerk), escape(d["document"]), d["aan"], f"[red]{escape(d['reden'] or '')}[/]")
            console.print(qt)
    if failures:
        ft = Table(title="Niet verwerkte bestanden (inbox/failed/, met <bestand>.error.txt)", title_justify="left",
                   box=box.SIMPLE_HEAD)
        for col in ("bestand", "kenmerk", "reden"):
            ft.add_column(col, overflow="fold", ratio=2 if col == "reden" else None)
        for f in failures:
            reason = f["detail"] or ""
            reason = reason if len(reason) <= 160 else reason[:159] + "…"
            ft.add_row(escape(f["file_name"]), escape(f["kenmerk"] or "—"), f"[red]{escape(reason)}[/]")
        console.print(ft)


def _summary(settings, outcomes) -> None:
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("processed", "duplicate", "failed", "retry")}
    click.echo(f"{counts['processed']} processed, {counts['duplicate']} duplicate, {counts['failed']} failed, "
               f"{counts['retry']} left for retry. Results in {settings.outbox}/")


for _module in (cli_operator, cli_archive, cli_signing, cli_bench, cli_desk, cli_roles):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    """The console entry point `sopipe` (errors: `SopipeGroup.invoke`)."""
    cli(standalone_mode=True)


if __name__ == "__main__":
    main()
