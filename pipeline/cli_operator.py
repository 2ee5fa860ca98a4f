"""Commands for the people who run sopipe every day: `templates check` and `doctor`.

Defines the commands only; the group module `pipeline.cli` adds `COMMANDS` to its group. Each command is a thin
function: the checks live in `pipeline.shell.template_check` and `pipeline.shell.doctor`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

import click

from pipeline.cli_options import CONTEXT, root_option

log = logging.getLogger("sopipe")

_STYLE = {"ok": {"fg": "green"}, "warn": {"fg": "yellow", "bold": True}, "warning": {"fg": "yellow", "bold": True},
          "fail": {"fg": "red", "bold": True}, "error": {"fg": "red", "bold": True}}


def _exit_if(failed: bool) -> None:
    if failed:
        click.get_current_context().exit(1)


def _mark(status: str) -> str:
    """The status label padded to one column, always followed by a space ("WARNING" fills the column)."""
    return click.style(f"{status.upper() if status != 'ok' else 'ok':<7}", **_STYLE.get(status, {})) + " "


@click.group(context_settings=CONTEXT)
def templates() -> None:
    """Work with the Word templates (templates/*.docx).

    Example:

        sopipe templates check
    """


@templates.command("check", context_settings=CONTEXT)
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--strict", is_flag=True, help="Warnings count as errors too (exit status 1).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def templates_check(directory: Path | None, strict: bool, as_json: bool) -> None:
    """Check the Word templates in DIRECTORY (default: the shipped templates/) before a case meets them.

    Every template must open, close every tag in the paragraph where it starts, keep each placeholder out of
    hyperlinks and tracked changes (Word splits text into runs; docxtpl cannot always join them), use only
    placeholders the pipeline fills for that template, and render with the example case and its variants
    (every document of the routing table). Problems name the template, the placeholder and the paragraph.
    Exit status 1 when there is an error (with --strict: also a warning).

    Example:

    \b
        sopipe templates check
        sopipe templates check /srv/sopipe/templates --strict
    """
    from pipeline.shell.layout import TEMPLATES
    from pipeline.shell.template_check import check_templates

    report = check_templates(directory or TEMPLATES)
    failed = bool(report.errors or (strict and report.warnings))
    log.debug("templates check: %d template(s) in %s, %d error(s), %d warning(s)", len(report.templates),
             report.directory, len(report.errors), len(report.warnings))
    if as_json:
        click.echo(json.dumps({"directory": str(report.directory), "templates": report.templates,
                               "problems": [asdict(p) for p in report.problems], "ok": not failed},
                              indent=2, ensure_ascii=False))
        _exit_if(failed)
        return
    click.echo(f"Checking {len(report.templates)} template(s) in {report.directory}/")
    names = report.templates + sorted({p.template for p in report.problems} - set(report.templates))
    for name in names:
        problems = report.of(name)
        if not problems:
            click.echo(f"  {_mark('ok')}{name}")
        for p in problems:
            click.echo(f"  {_mark(p.severity.value)}{name}: {p.message}")
            if p.paragraph is not None:
                click.echo(f"  {'':8}  {p.part + ' ' if p.part else ''}paragraph: \"{p.paragraph}\"")
    click.echo(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s).")
    if report.errors:
        click.echo("Fix the template in Word and run this check again: the pipeline refuses a case rather than "
                   "send a document made from a broken template.")
    _exit_if(failed)


@click.command(context_settings=CONTEXT)
@root_option
@click.option("--no-convert", is_flag=True, help="Skip the test conversion through LibreOffice (a few seconds).")
@click.option("--no-sign", is_flag=True, help="Skip the timestamp and the test signature (trust services).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def doctor(root: Path, no_convert: bool, no_sign: bool, as_json: bool) -> None:
    """Check that this machine and ROOT can make, sign and deliver documents.

    Checks LibreOffice (with a test conversion through a real worker), the fonts, poppler, the configuration,
    the PKI and the expiry of its certificates (warning within 90 days), DEMO organisations in a production
    root, signing as `watch` will sign (the level's timestamp server is set, a real timestamp from it validates,
    the seal opens with its PIN or passphrase, a test document sealed at the configured level validates), the
    permissions of keys, mailboxes and the database, and the free disk space. Prints ok/warn/fail per check and what to do; exit status 1 when
    a check fails.

    Example:

        sopipe doctor --root /srv/sopipe
    """
    from pipeline.shell.doctor import Status, run_checks

    def show(check) -> None:
        click.echo(f"  {_mark(check.status.value)}{check.name:<36} {check.detail}")
        if check.fix:
            click.echo(f"  {'':7}{'':<36} fix: {check.fix}")

    checks = run_checks(root, convert=not no_convert, sign=not no_sign, on_check=None if as_json else show)
    failures = [c for c in checks if c.status is Status.FAIL]
    warnings = [c for c in checks if c.status is Status.WARN]
    if as_json:
        click.echo(json.dumps({"checks": [asdict(c) | {"status": c.status.value} for c in checks],
                               "ok": not failures}, indent=2, ensure_ascii=False))
    else:
        click.echo(f"{len(failures)} failure(s), {len(warnings)} warning(s).")
    _exit_if(bool(failures))


COMMANDS = (templates, doctor)
