"""`sopipe sign`, `sopipe verify` and `sopipe pki serve`: signatures that hold for 20 years (`sopipe archive renew`
is in cli_archive.py).

Defines the commands only; the group module `pipeline.cli` adds `COMMANDS` to its group. PINs and passphrases are
never command-line arguments (they would end up in the shell history and the process list): they come from
SOPIPE_PIN / SOPIPE_P12_PASSPHRASE or a hidden prompt.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from pipeline.cli_options import CONTEXT, root_option
from pipeline.core.pades import PadesLevel, default_level

PIN_ENV = "SOPIPE_PIN"
P12_ENV = "SOPIPE_P12_PASSPHRASE"
LEVELS = click.Choice([level.value for level in PadesLevel], case_sensitive=False)


def _secret(env: str, prompt: str) -> str:
    value = os.environ.get(env)
    if value:
        return value
    return click.prompt(prompt, hide_input=True)


# --- sopipe sign -------------------------------------------------------------------------------------------------

@click.command(context_settings=CONTEXT)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--p12", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=f"PKCS#12 file with the doctor's key (passphrase: ${P12_ENV} or a prompt).")
@click.option("--pkcs11-module", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help=f"PKCS#11 library of the smart card (UZI-pas) or token (PIN: ${PIN_ENV} or a prompt).")
@click.option("--token-label", help="Label of the token (with --pkcs11-module).")
@click.option("--key-label", help="Label of the signing key on the token; the certificate has the same label.")
@click.option("--chain", "chain", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Extra CA certificate(s) (PEM) to embed, if the token does not hold the chain.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Pipeline root: use its timestamp server and levels, and drop the result into its inbox/.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the signed PDF (default: <name>-ondertekend.pdf beside FILE, or ROOT/inbox/).")
@click.option("--level", type=LEVELS, default=None, help="PAdES level (default: the root's level for this signer, "
              "level_advies or level_machtiging; else B-B, or B-LTA with --tsa-url).")
@click.option("--tsa-url", default=None, help="Timestamp server (RFC 3161) for B-T and up.")
@click.option("--trust", "trust", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Trusted root certificate(s) (PEM) for embedding validation data (B-LT, B-LTA).")
def sign(file: Path, p12: Path | None, pkcs11_module: Path | None, token_label: str | None, key_label: str | None,
         chain: tuple[Path, ...], root: Path | None, out: Path | None, level: str | None, tsa_url: str | None,
         trust: tuple[Path, ...]) -> None:
    """Sign FILE (a final advice or a request form waiting in te-ondertekenen/) with the doctor's own key.

    The key is a PKCS#12 file (--p12) or sits on a smart card / token (--pkcs11-module, --token-label,
    --key-label). With --root the signed PDF goes straight into ROOT/inbox/, where the pipeline checks it
    (right doctor, trusted certificate, unchanged content) and delivers it.

    Example:

        SOPIPE_P12_PASSPHRASE=… sopipe sign outbox/so-bedrijfsarts/39087654301/SO-2026-0042/te-ondertekenen/SO-2026-0042_advies.pdf --p12 ~/visser.p12 --root .
        SOPIPE_P12_PASSPHRASE=… sopipe sign outbox/bedrijfsarts/19012345601/SO-2026-0042/te-ondertekenen/SO-2026-0042_aanvraagformulier.pdf --p12 ~/bakker.p12 --root .
        sopipe sign SO-2026-0042_advies.pdf --pkcs11-module /usr/lib/libaetpkss.so --token-label "UZI-pas" --key-label "Handtekening"
    """
    from pyhanko.keys import load_certs_from_pemder

    from pipeline.adapters.appearance import identity_order, signature_appearance
    from pipeline.adapters.keys import SigningIdentity, certificate_holder
    from pipeline.adapters.mailbox import atomic_write
    from pipeline.adapters.signing import PadesSigner, http_timestamper
    from pipeline.core.artsen import signer_mismatch
    from pipeline.core.kinds import Signer
    from pipeline.core.signatures import SIGNED_BY, kenmerk_from_file_name
    from pipeline.settings import load_settings
    from pipeline.shell.app import case_sign_order

    if bool(p12) == bool(pkcs11_module):
        raise click.UsageError("Give either --p12 or --pkcs11-module (with --token-label and --key-label).")
    if pkcs11_module and not (token_label and key_label):
        raise click.UsageError("--pkcs11-module needs --token-label and --key-label.")
    settings = load_settings(root) if root else None
    tsa_url = tsa_url or (settings.signing.tsa_url if settings else None)
    found = kenmerk_from_file_name(file.name)
    signer = SIGNED_BY.get(found[1] if found else "advies", Signer.SO_BEDRIJFSARTS)  # the request form: own doctor
    level = (level or (settings.signing_level(signer) if settings else default_level(timestamps=bool(tsa_url)))).upper()
    roots = list(trust) or (list(settings.trust_roots) if settings else [])
    if p12:
        identity = SigningIdentity.from_pkcs12(p12, _secret(P12_ENV, "Wachtwoord van het PKCS#12-bestand")
                                               .encode("utf-8"))
    else:
        identity = SigningIdentity.from_pkcs11(pkcs11_module, token_label=token_label, key_label=key_label,
                                               pin=_secret(PIN_ENV, "Pincode"), chain=chain)
    pades = None
    try:
        pades = PadesSigner(timestamper=http_timestamper(tsa_url) if tsa_url else None,
                            trust_roots=[c for p in roots if Path(p).exists()
                                         for c in load_certs_from_pemder([str(p)])])
        # the block the pipeline would have made for this doctor in this case; another key's holder (the pipeline
        # refuses that signature on return) or a file of no case of the root: what the certificate says
        order = case_sign_order(settings, found[0], signer) if settings and found else None
        if order is None or signer_mismatch(certificate_holder(identity.certificate.dump()), big=order.big_nummer,
                                            naam=order.naam, arts=settings.artsen.get(order.big_nummer)):
            order = identity_order(signer, identity)  # (a UZI-pas is recognised through the registry)
        appearance = signature_appearance(order, identity)
        started = time.perf_counter()
        signed = pades.sign(file.read_bytes(), identity=identity, appearance=appearance, level=level)
        elapsed = time.perf_counter() - started
    finally:
        if pades is not None:
            pades.close()  # the HTTP session to the trust services (B-LT/B-LTA), closed before the loop ends
        identity.close()
    name = f"{file.stem}-ondertekend.pdf"
    if out is None and settings is not None:
        out = settings.inbox / name
    out = out or file.with_name(name)
    atomic_write(out, signed)  # hidden temp name, then rename: the watcher never sees half a file
    click.echo(f"Ondertekend door {identity.naam} (BIG {order.big_nummer or '—'}) als PAdES {level} in "
               f"{elapsed * 1000:.0f} ms: {out}")


# --- sopipe verify -----------------------------------------------------------------------------------------------

@click.command(context_settings=CONTEXT)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trust", "trust", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Trusted root certificate(s) (PEM). Default: the root's pki/ca.pem and extra trust roots.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
              help="Pipeline root whose trust roots are used when --trust is not given.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--at", "at", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Validate as of this date; a date in the future simulates an archive check then, assuming "
                   "the document timestamps are renewed in time.")
def verify(file: Path, trust: tuple[Path, ...], root: Path, as_json: bool, at) -> None:
    """Check every signature in FILE offline: who signed, when, which level, trusted, changed afterwards.

    Exit status 0 only when every signature is valid; 1 otherwise (also for an unsigned file).

    Example:

        sopipe verify outbox/archief/SO-2026-0042/SO-2026-0042_advies.pdf --trust pki/ca.pem
        sopipe verify SO-2026-0042_advies.pdf --json --at 2031-01-01
    """
    import logging

    from pipeline.adapters.validation import verify_pdf
    from pipeline.settings import load_settings

    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)  # its warnings are in the report, in words
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    roots = list(trust) or [p for p in load_settings(root).trust_roots if p.exists()]
    if not roots:
        raise click.ClickException("No trust roots: give --trust PEM or --root of an initialised pipeline.")
    moment = at.replace(tzinfo=UTC) if at else None
    future = bool(moment and moment > datetime.now(UTC) + timedelta(days=1))
    started = time.perf_counter()
    result = verify_pdf(file.read_bytes(), trust_roots=roots, at=moment, simulate_future=future)
    elapsed = time.perf_counter() - started
    if as_json:
        click.echo(json.dumps(_report_json(result, file, elapsed), indent=2, ensure_ascii=False))
    else:
        _print_report(result, file, elapsed)
    raise SystemExit(0 if result.ok else 1)


def _report_json(result, file: Path, elapsed: float) -> dict:
    return {
        "bestand": str(file), "geldig": result.ok, "gecontroleerd_op": result.validation_time.isoformat(),
        "simulatie_toekomst": result.simulated, "duur_ms": round(elapsed * 1000),
        "handtekeningen": [{
            "veld": s.field_name, "ondertekenaar": s.signer_naam, "big_nummer": s.big_nummer,
            "organisatie": s.organisatie, "certificerend": s.certification, "niveau": s.level,
            "subfilter": s.subfilter, "uitkomst": s.indication, "sub_uitkomst": s.sub_indication,
            "etsi": {"indication": s.indication, "sub_indication": s.sub_indication}, "reden": s.reason,
            "geldig": s.ok, "vertrouwd": s.trusted, "tijdstempel_vertrouwd": s.timestamp_trusted,
            "ongeschonden": s.intact, "tijd_volgens_ondertekenaar":
                s.signing_time.isoformat() if s.signing_time else None,
            "tijd_uit_ondertekende_attributen": s.signer_time_from_attrs,
            "bewezen_tijd": s.proven_time.isoformat() if s.proven_time else None,
            "intrekking_gecontroleerd": s.revocation_checked, "gewijzigd_na_ondertekening": s.changed_after,
            "certificaat_geldig_tot": s.signer_cert_not_after.isoformat() if s.signer_cert_not_after else None,
            "toelichting": s.message} for s in result.signatures],
        "documenttijdstempels": [{"veld": t.field_name, "tijd": t.time.isoformat() if t.time else None,
                                  "tsa": t.tsa_naam, "tsa_certificaat_geldig_tot":
                                      t.tsa_cert_not_after.isoformat() if t.tsa_cert_not_after else None,
                                  "geldig": t.ok, "ongeschonden": t.intact, "vertrouwd": t.trusted,
                                  "uitkomst": t.indication, "sub_uitkomst": t.sub_indication,
                                  "etsi": {"indication": t.indication, "sub_indication": t.sub_indication},
                                  "reden": t.reason}
                                 for t in result.document_timestamps],
    }


def _dutch(moment: datetime | None) -> str:
    from pipeline.adapters.appearance import dutch_time
    return dutch_time(moment) if moment else "—"


def _print_report(result, file: Path, elapsed: float) -> None:
    from rich.console import Console

    console = Console()
    console.print(f"[bold]{file.name}[/]  (gecontroleerd op {_dutch(result.validation_time)}"
                  f"{', simulatie: archief houdt de tijdstempels bij' if result.simulated else ''}; "
                  f"{elapsed * 1000:.0f} ms)")
    if not result.signatures and not result.document_timestamps:
        console.print("[bold red]Dit document is niet ondertekend.[/]")
    elif not result.signatures:
        console.print("Dit document heeft alleen documenttijdstempels, geen handtekening.")
    for s in result.signatures:
        verdict = "[bold green]GELDIG[/]" if s.ok else "[bold red]NIET GELDIG[/]"
        kind = "certificerende handtekening (zegel)" if s.certification else "handtekening"
        who = s.signer_naam + (f", BIG {s.big_nummer}" if s.big_nummer else "") + \
            (f", {s.organisatie}" if s.organisatie and s.organisatie not in s.signer_naam else "")
        console.print(f"\n{verdict}  {kind} door {who}")
        console.print(f"  niveau:             {s.format_label}")
        if s.proven_time:
            console.print(f"  ondertekend:        {_dutch(s.proven_time)} (bewezen met tijdstempel)")
        elif s.signing_time:
            source = "ondertekende attributen" if s.signer_time_from_attrs else "alleen het PDF-veld /M"
            console.print(f"  ondertekend:        {_dutch(s.signing_time)} (volgens de ondertekenaar, {source}; "
                          "niet bewezen)")
        if s.reason:
            console.print(f"  reden:              [bold red]{s.reason}[/]")
        console.print(f"  vertrouwd:          {_trust_line(s)}")
        console.print(f"  ongeschonden:       {'ja' if s.intact and s.valid else 'NEE — ' + (s.reason or 'inhoud of handtekening gewijzigd')}")
        changed = {None: "nee", "toegestaan": "alleen toegestane toevoegingen (validatiegegevens, tijdstempels, "
                   "latere handtekeningen)", "niet toegestaan": "JA — niet toegestane wijziging na ondertekening"}
        console.print(f"  gewijzigd nadien:   {changed.get(s.changed_after, s.changed_after)}")
        console.print(f"  intrekking:         {_revocation_line(s)}")
        console.print(f"  certificaat tot:    {_dutch(s.signer_cert_not_after)}")
        console.print(f"  ETSI-uitkomst:      {s.indication}{' / ' + s.sub_indication if s.sub_indication else ''}")
        if s.message and not s.ok and s.message != s.reason:
            console.print(f"  toelichting:        {s.message[:300]}")
    for t in result.document_timestamps:
        verdict = "[bold green]GELDIG[/]" if t.ok else "[bold red]NIET GELDIG[/]"
        console.print(f"\n{verdict}  archieftijdstempel {_dutch(t.time)} door {t.tsa_naam}; vernieuwen vóór "
                      f"{_dutch(t.tsa_cert_not_after)}")
        console.print(f"  ongeschonden:       {'ja' if t.intact and t.valid else 'NEE'}")
        console.print(f"  vertrouwd:          {'ja' if t.trusted else 'NEE'}")
        if t.reason:
            console.print(f"  reden:              [bold red]{t.reason}[/]")
        console.print(f"  ETSI-uitkomst:      {t.indication}{' / ' + t.sub_indication if t.sub_indication else ''}")


def _trust_line(s) -> str:
    """Never "ja" beside a missing chain: says whose chain (signer or timestamp) is the problem."""
    sub = s.sub_indication or ""
    if not s.trusted:
        if sub in ("NO_CERTIFICATE_CHAIN_FOUND", "") or s.reason is None:
            return "NEE — onbekende certificaatautoriteit"
        return f"NEE — {s.reason}"
    if s.timestamp_trusted is False:
        return "ondertekenaar ja; tijdstempel NEE — niet-vertrouwde tijdstempeldienst"
    return "ja"


def _revocation_line(s) -> str:
    if (s.sub_indication or "").startswith("REVOKED"):
        return f"INGETROKKEN — {s.reason}"
    if s.revocation_checked:
        return "gecontroleerd met ingebedde gegevens"
    if not s.revocation_data:
        return "niet gecontroleerd (geen validatiegegevens in het document)"
    return f"niet vast te stellen met de ingebedde gegevens ({s.sub_indication})"


# --- sopipe pki serve --------------------------------------------------------------------------------------------

@click.group("pki", context_settings=CONTEXT)
def pki_group() -> None:
    """The DEMO PKI's trust services (never for production).

    Example:

        sopipe pki serve --root .
    """


@pki_group.command("serve", context_settings=CONTEXT)
@root_option
@click.option("--port", type=int, default=None, help="Port (default: the one in pki/services-url, 8765).")
def serve(root: Path, port: int | None) -> None:
    """Run the DEMO CRL, OCSP and timestamp services of ROOT's PKI until Ctrl-C.

    Then set `tsa_url` in sopipe.toml (printed below) to sign PAdES B-LTA. Listens on 127.0.0.1 only.

    Example:

        sopipe pki serve --root . &
        sopipe watch --root . --once
    """
    from pipeline.adapters import demo_services
    from pipeline.settings import load_settings

    settings = load_settings(root)
    services = demo_services.DemoTrustServices(settings.pki_dir)
    host, default_port = demo_services.bind_address(services.urls.base)
    server = demo_services.make_server(services, host=host, port=port or default_port)
    click.echo(f"DEMO trust services on http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)")
    click.echo(f'  sopipe.toml: [signing] tsa_url = "{services.urls.tsa}"')
    click.echo(f"  CRL {services.urls.root_crl}, {services.urls.intermediate_crl}; OCSP {services.urls.ocsp}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("\nStopped.")
    finally:
        server.server_close()


COMMANDS = (sign, verify, pki_group)
