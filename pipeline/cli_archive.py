"""`sopipe audit` and the `sopipe archive` group: the audit trail, sealed dossier bundles, retention, destruction.

Defines the commands only; the group module `pipeline.cli` adds `COMMANDS` to its group. Each command is a thin
function over the archive's shell modules: `archive_export`, `archive_verify` (also `audit --verify`),
`archive_retention` (`due`, `hold`, `release`), `archive_destroy` (and `pipeline.shell.renew` for `archive renew`).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import click

from pipeline.cli_options import CONTEXT, root_option

today_option = click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                            help="Take this date as today (default: the real date).")


@click.group("archive", context_settings=CONTEXT)
def archive() -> None:
    """The dossier archive: sealed export bundles, their offline check, retention and destruction.

    Example:

    \b
        sopipe archive export SO-2026-0042 --root /srv/sopipe --out SO-2026-0042.zip
        sopipe archive verify SO-2026-0042.zip --trust /veilig/ca.pem
    """


@contextmanager
def _opened(root: Path) -> Iterator[tuple]:
    """(settings, store, audit) of an initialised root, the store closed on the way out; the audit records name the
    person at the keyboard (`shell_actor`: the login name, also through sudo), not only the account."""
    from pipeline.adapters.audit import Audit, shell_actor
    from pipeline.adapters.store import Store
    from pipeline.settings import load_settings

    settings = load_settings(root)
    if not settings.database.exists():
        raise click.ClickException(f"no state database in {settings.root}; run `sopipe init --root {root}`")
    store = Store(settings.database)
    try:
        yield settings, store, Audit(store).acting(shell_actor())
    finally:
        store.close()


def _day(today) -> dt.date:
    return today.date() if today else dt.date.today()


# --- sopipe audit -----------------------------------------------------------------------------------------------

@click.command("audit", context_settings=CONTEXT)
@root_option
@click.argument("kenmerk", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--for", "audience", type=click.Choice(["werknemer"]), default=None,
              help="Only what the employee may see, in plain Dutch sentences.")
@click.option("--verify", is_flag=True, help="Check the whole hash chain; exit 1 if any record was altered, "
                                             "removed or reordered.")
def audit_command(root: Path, kenmerk: str | None, as_json: bool, audience: str | None, verify: bool) -> None:
    """Show the audit trail of case KENMERK (NEN 7513), or check the chain of every record (--verify).

    Every intake, refusal, rendering, signature, delivery (mailbox and file hash), quarantine, consent change,
    status view, export and destruction is one record; each carries the hash of the one before it. Viewing a
    case's trail is itself recorded.

    Example:

    \b
        sopipe audit SO-2026-0042 --root /srv/sopipe
        sopipe audit SO-2026-0042 --root /srv/sopipe --for werknemer
        sopipe audit --verify --root /srv/sopipe
    """
    from pipeline.core import trail

    if verify:
        _verify_chain(root, as_json=as_json)
        return
    if not kenmerk:
        raise click.UsageError("give a KENMERK, or --verify to check the whole chain")
    with _opened(root) as (_settings, _store, audit):
        records = audit.trail(kenmerk)
        if not records:
            raise click.ClickException(f"no audit records for case {kenmerk}")
        audit.viewed(kenmerk, wat="audit-werknemer" if audience else "audit")
    if audience == "werknemer":
        lines = trail.werknemer_view(records)
        if as_json:
            click.echo(json.dumps([{"datum": r.datum.isoformat(), "tekst": r.tekst} for r in lines],
                                  indent=2, ensure_ascii=False))
            return
        click.echo(f"Logboek van uw second opinion (kenmerk {kenmerk})")
        click.echo("Hierin staat iedere stap in uw dossier. Uw werkgever ziet dit logboek niet.\n")
        for line in lines:
            click.echo(str(line))
        return
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in records], indent=2, ensure_ascii=False))
        return
    _print_trail(kenmerk, records)


def _print_trail(kenmerk: str, records) -> None:
    from rich.console import Console
    from rich.table import Table

    from pipeline.core.trail import TZ

    table = Table(title=f"Audit-trail {kenmerk} (alles, met hashes: --json)", show_lines=True)
    table.add_column("id", no_wrap=True, justify="right")
    table.add_column("moment", no_wrap=True)
    table.add_column("gebeurtenis", no_wrap=True)
    table.add_column("wie", overflow="fold", ratio=1)
    table.add_column("details", overflow="fold", ratio=3)
    for r in records:
        moment = dt.datetime.fromisoformat(r.at).astimezone(TZ).strftime("%Y-%m-%d\n%H:%M:%S")
        details = "\n".join(f"{k}={_short(v)}" for k, v in sorted(r.details.items()) if k != "bestand_sha256")
        colour = {"geslaagd": "", "achtergehouden": "yellow", "gestart": "yellow"}.get(r.uitkomst, "bold red")
        uitkomst = f"[{colour}]{r.uitkomst}[/]" if colour else r.uitkomst
        wie = r.gebruiker + (f"\nnamens {r.namens}" if r.namens else "")
        table.add_row(str(r.id), moment, f"{r.gebeurtenis} ({r.actie})\n{uitkomst}", wie, details)
    Console().print(table)


def _short(value) -> str:
    text = str(value)
    if text.startswith(("outbox/", "quarantine/")):
        text = text.rsplit("/", 1)[-1]
    return text[:12] + "…" if len(text) == 64 and all(c in "0123456789abcdef" for c in text) else text


def _verify_chain(root: Path, *, as_json: bool) -> None:
    from pipeline.shell.archive_verify import check_trail

    with _opened(root) as (_settings, store, audit):
        result = check_trail(store, audit)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        for p in result.problems:
            click.echo(f"FOUT  {p.message}")
        for name in result.missing_triggers:
            click.echo(f"FOUT  trigger {name} ontbreekt: de database weigert wijzigingen van audit-records niet meer")
        if result.ok:
            click.echo(f"OK    audit-keten intact: {result.records} records, kop record {result.head_id} "
                       f"({result.head_hash})")
    if not result.ok:
        sys.exit(1)


# --- sopipe archive export / verify -----------------------------------------------------------------------------

@archive.command("export", context_settings=CONTEXT)
@root_option
@click.argument("kenmerk")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The bundle (zip) to write; it holds medical data and is written with mode 0600.")
def export_command(root: Path, kenmerk: str, out: Path) -> None:
    """Write the sealed dossier of KENMERK as one zip: the archive PDFs, the audit trail, a manifest of SHA-256
    hashes sealed by the arbodienst (detached CMS/CAdES) and the seal's certificate chain.

    Example:

    \b
        sopipe archive export SO-2026-0042 --root /srv/sopipe --out /veilig/SO-2026-0042.zip
    """
    from pipeline.shell.app import make_keyring
    from pipeline.shell.archive_export import export_dossier

    with _opened(root) as (settings, store, audit):
        seal = make_keyring(settings, doctors=False).seal()
        result = export_dossier(settings, store, audit, kenmerk, out, seal=seal, pki_dir=settings.pki_dir)
    click.echo(f"Bundle {result.path}: {result.files} files, manifest SHA-256 {result.manifest_sha256}, "
               f"sealed by {seal.naam} ({result.seconds:.2f} s)")
    if not result.chain_intact:
        click.echo("WARNING: the audit trail of this root is broken (see `sopipe audit --verify`); the bundle "
                   "records that in its manifest.", err=True)


@archive.command("verify", context_settings=CONTEXT)
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", type=click.Path(exists=True, dir_okay=False, path_type=Path), multiple=True,
              help="Root certificate (PEM) of the arbodienst, obtained independently. Without it the root in the "
                   "bundle is used: that proves the bundle is intact, not who made it.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also record the check in this root's audit trail and check that the trail still holds the "
                   "chain head sealed into the bundle.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("-v", "--verbose", is_flag=True, help="Also list every check that held.")
def verify_command(bundle: Path, trust: tuple[Path, ...], root: Path | None, as_json: bool, verbose: bool) -> None:
    """Check a bundle offline: every file's hash, every PDF signature, the manifest seal, the audit records, and
    that no file was added or removed. Exit 0 only if all hold; each failure names the file and the reason.

    Example:

    \b
        sopipe archive verify SO-2026-0042.zip --trust /veilig/arbodienst-ca.pem
    """
    import time

    from pipeline.shell.archive_verify import check_anchor, verify_bundle

    start = time.perf_counter()
    report = verify_bundle(bundle, trust=trust)
    if root is not None:
        from pipeline.core.trail import Actie, Gebeurtenis, Uitkomst
        with _opened(root) as (_settings, _store, audit):
            check_anchor(report, audit)
            audit.record(Gebeurtenis.VERIFICATIE, kenmerk=report.kenmerk, actie=Actie.EXECUTE,
                         uitkomst=Uitkomst.GESLAAGD if report.ok else Uitkomst.MISLUKT, wat="archiefbundel",
                         bundel=bundle.name, problemen=len(report.problems))
    seconds = time.perf_counter() - start
    if as_json:
        click.echo(json.dumps({"ok": report.ok, "kenmerk": report.kenmerk, "seconden": round(seconds, 3),
                               "vertrouwen_uit_bundel": report.trust_from_bundle,
                               "problemen": [p.__dict__ for p in report.problems], "gecontroleerd": report.checked},
                              indent=2, ensure_ascii=False))
    else:
        if verbose:
            for line in report.checked:
                click.echo(f"ok    {line}")
        for p in report.problems:
            click.echo(f"FOUT  {p}")
        if report.trust_from_bundle:
            click.echo("LET OP: geen --trust opgegeven; vertrouwd is het basiscertificaat uit de bundel zelf. Dat "
                       "bewijst dat de bundel heel is, niet wie hem maakte.")
        verdict = "OK" if report.ok else f"NIET OK ({len(report.problems)} problemen)"
        click.echo(f"{verdict}: {bundle.name} ({report.kenmerk or '?'}), {len(report.checked)} controles geslaagd, "
                   f"{seconds:.2f} s")
    if not report.ok:
        sys.exit(1)


# --- sopipe archive due / destroy -------------------------------------------------------------------------------

@archive.command("due", context_settings=CONTEXT)
@root_option
@today_option
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def due_command(root: Path, today, as_json: bool) -> None:
    """List the dossiers past their retention date (last change + 20 years, art. 7:454 BW), and which of them a
    legal hold keeps (`archive hold`). The listing is recorded in the audit trail under your name.

    Example:

    \b
        sopipe archive due --root /srv/sopipe --today 2047-01-01
    """
    from pipeline.shell.archive_retention import dossiers_due, held_dossiers

    day = _day(today)
    with _opened(root) as (_settings, store, audit):
        due = dossiers_due(store, today=day)
        held = held_dossiers(audit)
        audit.listed(wat="archief-te-vernietigen", aantal=len(due))
    if as_json:
        click.echo(json.dumps([{"kenmerk": r.kenmerk, "laatste_wijziging": r.laatste_wijziging.isoformat(),
                                "bewaren_tot": r.bewaren_tot.isoformat(), "blokkade": r.kenmerk in held}
                               for r in due], indent=2))
        return
    if not due:
        click.echo(f"No dossier is past its retention date on {day.isoformat()}.")
        return
    for r in due:
        then = (f"legal hold: `sopipe archive release {r.kenmerk}` first" if r.kenmerk in held
                else f"sopipe archive destroy {r.kenmerk}")
        click.echo(f"{r.kenmerk}  last change {r.laatste_wijziging.isoformat()}  keep until "
                   f"{r.bewaren_tot.isoformat()}  -> {then}")


@archive.command("destroy", context_settings=CONTEXT)
@root_option
@click.argument("kenmerk")
@today_option
@click.option("--force", is_flag=True, help="Destroy before the retention date; needs --reden.")
@click.option("--reden", default=None, help="Why (recorded), e.g. the employee's request under art. 7:455 BW.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def destroy_command(root: Path, kenmerk: str, today, force: bool, reden: str | None, yes: bool) -> None:
    """Irreversibly remove the arbodienst's dossier of KENMERK once its retention date has passed.

    Removed: outbox/archief/KENMERK/, quarantine/KENMERK/, the case files of KENMERK (with their reports) in
    inbox/, inbox/processed/ and inbox/failed/ (found by the journal and by content, also when their kenmerk is
    unreadable), their staged documents, converter scratch left by a killed pipeline, and every row of the case in
    the state database, and the case's folders in the parties' mailboxes on this server (outbox/<party>/...;
    kept and listed only with [mailboxes] emptied_by_recipients = true). Kept: the audit trail, which records the
    destruction (kenmerk, date, who, reason, hash of what was removed). Before the retention date only with
    --force --reden "..."; a reason holding a BSN, a name of the case or a birth date is refused; a dossier under
    a legal hold (`archive hold`) is refused. All of these are checked before the confirmation is asked.

    Example:

    \b
        sopipe archive destroy SO-2026-0042 --root /srv/sopipe
        sopipe archive destroy SO-2026-0042 --root /srv/sopipe --force --reden "verzoek werknemer, art. 7:455 BW"
    """
    from pipeline.shell.archive_destroy import approve_destruction, carry_out_destruction

    day = _day(today)
    with _opened(root) as (settings, store, audit):
        # every check (legal hold, reason, retention) before anyone is asked to confirm
        approved = approve_destruction(settings, store, audit, kenmerk, today=day, force=force, reden=reden)
        plan = approved.plan
        if not yes and (plan.files or plan.retention):
            click.echo(f"To be removed for good ({len(plan.files)} files and the case's rows in the state database):")
            for p in plan.files:
                click.echo(f"  {p.relative_to(settings.root)}")
            for p in plan.scratch:
                click.echo(f"  {p}/ (LibreOffice scratch left by a stopped pipeline)")
            for p in plan.mailbox_files:
                click.echo(f"  {p.relative_to(settings.root)} (in a party's mailbox)")
            click.echo(f"Recorded as: {approved.wat}, reason \"{approved.reden}\".")
            click.confirm(f"Destroy the dossier {kenmerk}? This cannot be undone", abort=True)
        done = carry_out_destruction(settings, store, audit, approved)
    click.echo(f"Destroyed dossier {kenmerk}: {len(done.files) + len(done.mailbox_files)} files and its state removed; recorded in the audit "
               f"trail (hash of what was removed: {done.manifest_sha256}).")
    for parts in done.mailboxes:
        click.echo(f"  removed from the party's mailbox: {settings.outbox.name}/{'/'.join(parts)}/")
    for folder in done.kept:
        click.echo(f"  not removed (emptied by the recipient, [mailboxes] emptied_by_recipients): "
                   f"{folder.relative_to(settings.root)}/")


# --- sopipe archive replace-form ---------------------------------------------------------------------------------

@archive.command("replace-form", context_settings=CONTEXT)
@root_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--reden", required=True, help="Why this form replaces the archived one (recorded; no personal data).")
def replace_form_command(root: Path, file: Path, reden: str) -> None:
    """Let a refused consent form FILE (in inbox/failed/) replace the archived form of its consent.

    Which signed form counts is never decided by arrival order: a second, different form for a consent that
    already has one is refused. This records in the audit trail who allowed exactly this file (by SHA-256) to
    replace the archived form, and why, and puts the file back into inbox/. The watcher then checks it like any
    form and archives it beside the earlier one (machtiging-<consent>-ondertekend-vervanging-<n>.pdf); the
    latest archived form counts.

    Example:

    \b
        sopipe archive replace-form --root /srv/sopipe \\
            inbox/failed/SO-2026-0042_machtiging-medische-gegevens-2.pdf --reden "opnieuw ondertekend door werknemer"
    """
    from pipeline.shell.consent_forms import allow_replacement

    with _opened(root) as (settings, store, audit):
        path = file if file.is_absolute() else (settings.root / file if not file.exists() else file)
        grant = allow_replacement(settings, store, audit, path, reden=reden)
    click.echo(f"{grant.kenmerk}: {grant.back_in_inbox.name} may replace {grant.replaces} (sha256 {grant.sha256[:16]}…); "
               "recorded in the audit trail and put back into inbox/ for the watcher.")


@archive.command("hold", context_settings=CONTEXT)
@root_option
@click.argument("kenmerk")
@click.option("--reden", required=True, help="Why (recorded for good; no names, BSN or dates of birth), e.g. "
                                             "\"klacht in behandeling bij het tuchtcollege\".")
def hold_command(root: Path, kenmerk: str, reden: str) -> None:
    """Put a legal hold on the dossier KENMERK: `archive destroy` refuses it, also after the retention date and
    with --force, until `archive release` lifts the hold. Both are recorded in the audit trail with who and why.

    Example:

    \b
        sopipe archive hold SO-2026-0042 --root /srv/sopipe --reden "klacht in behandeling"
    """
    from pipeline.shell.archive_retention import place_hold

    with _opened(root) as (_settings, store, audit):
        place_hold(store, audit, kenmerk, reden=reden)
    click.echo(f"Legal hold placed on {kenmerk}: it cannot be destroyed until `sopipe archive release {kenmerk}`.")


@archive.command("release", context_settings=CONTEXT)
@root_option
@click.argument("kenmerk")
@click.option("--reden", required=True, help="Why the hold ends (recorded; no personal data).")
def release_command(root: Path, kenmerk: str, reden: str) -> None:
    """Lift the legal hold of the dossier KENMERK (recorded with who and why).

    Example:

    \b
        sopipe archive release SO-2026-0042 --root /srv/sopipe --reden "klacht afgehandeld"
    """
    from pipeline.shell.archive_retention import lift_hold

    with _opened(root) as (_settings, store, audit):
        lift_hold(store, audit, kenmerk, reden=reden)
    click.echo(f"Legal hold on {kenmerk} lifted.")


# --- sopipe archive renew ----------------------------------------------------------------------------------------

@archive.command("renew", context_settings=CONTEXT)
@root_option
@click.option("--days", type=int, default=365, show_default=True,
              help="Renew when the newest archive timestamp's certificate expires within this many days.")
@click.option("--dry-run", is_flag=True, help="Only list what would be renewed.")
def renew(root: Path, days: int, dry_run: bool) -> None:
    """Add a fresh archive timestamp to archived B-LTA documents whose last timestamp nears expiry.

    Each renewal embeds the validation data of the previous timestamp and adds a new document timestamp
    (PAdES B-LTA), so the signatures stay verifiable for the 20-year retention. The validation report next to the
    file is rewritten.

    Example:

        sopipe archive renew --root /srv/sopipe --days 365
    """
    from pipeline.settings import load_settings
    from pipeline.shell.app import signing_services
    from pipeline.shell.renew import RenewStatus, renew_archive_timestamps

    def show(item) -> None:
        name = item.path.name
        if item.status is RenewStatus.SKIPPED:
            click.echo(f"[  SKIP] {name}: {item.reason}")
        elif item.status is RenewStatus.REFUSED:
            click.echo(f"[  FAIL] {name}: not renewed, {item.reason}")
        elif item.status is RenewStatus.DUE:
            click.echo(f"[   DUE] {name}: timestamp certificate expires {item.expiry:%Y-%m-%d}")
        else:
            click.echo(f"[RENEW ] {name} ({item.seconds * 1000:.0f} ms)")

    with signing_services(load_settings(root)) as settings:  # a DEMO root's own TSA runs while renewing
        result = renew_archive_timestamps(settings, days=days, dry_run=dry_run, on_item=show)
    click.echo(f"{result.checked} archived B-LTA document(s) checked, {result.renewed} renewed"
               f"{f', {result.refused} NOT renewed (invalid, see above)' if result.refused else ''}.")
    if result.refused:
        raise SystemExit(1)


COMMANDS = (audit_command, archive)
