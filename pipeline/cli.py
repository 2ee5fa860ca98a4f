"""The `sopipe` command line: one thin function per command; errors become messages only here."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import click

from pipeline.errors import PipelineError

CONTEXT = {"help_option_names": ["-h", "--help"]}
root_option = click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
                           show_default=True, help="The pipeline's root folder (inbox/, outbox/, pki/, ...).")


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")


@click.group(context_settings=CONTEXT)
@click.option("-v", "--verbose", is_flag=True, help="More detail in the log.")
def cli(verbose: bool) -> None:
    """sopipe: second-opinion case files in, signed PDFs in the right mailboxes out.

    Example:

        sopipe init --root demo && sopipe demo --root demo && sopipe watch --root demo --once
    """
    _setup_logging(verbose)


@cli.command(context_settings=CONTEXT)
@root_option
def init(root: Path) -> None:
    """Create the folders, state database, config file and a DEMO PKI in ROOT (idempotent).

    Example:

        sopipe init --root /srv/sopipe
    """
    from pipeline.shell.layout import init_root
    settings = init_root(root)
    click.echo(f"Initialised {settings.root}")
    click.echo(f"  drop case files in   {settings.inbox}/")
    click.echo(f"  documents appear in  {settings.outbox}/<party>/<kenmerk>/")
    click.echo(f"  DEMO CA certificate  {settings.pki_dir / 'ca.pem'} (demo only, never for production)")


@cli.command(context_settings=CONTEXT)
@root_option
def demo(root: Path) -> None:
    """Copy the shipped example case (SO-2026-0042, fictional) into ROOT's inbox.

    Example:

        sopipe demo --root . && sopipe watch --once
    """
    from pipeline.shell.layout import EXAMPLES
    inbox = root / "inbox"
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
@click.option("--settle", type=float, default=2.0, show_default=True,
              help="Seconds a file's size and mtime must stay unchanged before it is taken.")
@click.option("--polling", is_flag=True, help="Poll instead of file-system events (network shares).")
def watch(root: Path, once: bool, settle: float, polling: bool) -> None:
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

    def show(outcome) -> None:
        mark = {"processed": "ok", "duplicate": "dup", "failed": "FAILED", "retry": "RETRY"}[outcome.status]
        extra = f" ({len(outcome.delivered)} files)" if outcome.status == "processed" else \
            f": {outcome.detail}" if outcome.detail else ""
        click.echo(f"[{mark:>6}] {outcome.file_name}{extra}")

    with open_pipeline(settings) as pipeline:
        if once:
            outcomes = run_once(pipeline, on_outcome=show)
            _summary(settings, outcomes)
            if any(o.status == "retry" for o in outcomes):
                sys.exit(2)
            return
        run_once(pipeline, on_outcome=show)
        click.echo(f"Watching {settings.inbox}/ (Ctrl-C to stop); results in {settings.outbox}/")
        try:
            watch_loop(pipeline, settle=settle, polling=polling, on_outcome=show)
        except KeyboardInterrupt:
            click.echo("\nStopped.")
    click.echo(f"Results: {settings.outbox}/<party>/<kenmerk>/  refused files: {settings.inbox / 'failed'}/")


def _summary(settings, outcomes) -> None:
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in ("processed", "duplicate", "failed", "retry")}
    click.echo(f"{counts['processed']} processed, {counts['duplicate']} duplicate, {counts['failed']} failed, "
               f"{counts['retry']} left for retry. Results in {settings.outbox}/")


def main() -> None:
    try:
        cli(standalone_mode=True)
    except PipelineError as e:  # the one place library errors become user output
        click.echo(f"Error: {e.message}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
