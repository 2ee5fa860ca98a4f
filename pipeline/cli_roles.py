"""`sopipe queue`: a doctor's documents waiting for his personal signature, on the command line.

Defines the commands only; the group module `pipeline.cli` adds `COMMANDS` to its group. Each command is a thin
function over `pipeline.shell.role_views`, the same operations the desk's doctor pages call: the scope check (only
what waits for this BIG number) and the audit record naming the person at the keyboard come from there.

A doctor has no write access to inbox/ and no read access to state/. He runs these commands as the pipeline's
account through sudo, with a rule that pins his own BIG number (docs/operations.md, "Doctors on the command
line"); the PDF goes in on stdin and comes out on stdout, so neither account needs the other's files, and
sopipe never opens or writes a file named by the doctor (as the pipeline's account it could reach its own).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pipeline.cli_options import CONTEXT, root_option

ROLES = ("bedrijfsarts", "so-bedrijfsarts")


def _actor(big: str, rol: str):
    from pipeline.adapters.audit import shell_actor
    from pipeline.core.actor import Rol
    return shell_actor(rol=Rol(rol), big=big)


def _need_big(obj: dict) -> str:
    if not obj.get("big"):
        raise click.UsageError("give your BIG number: sopipe queue --big BIG ...")
    return obj["big"]


def _role_of(kind: str) -> str:
    from pipeline.core.signatures import signer_party
    return signer_party(kind).value


@click.group("queue", context_settings=CONTEXT, invoke_without_command=True)
@root_option
@click.option("--big", default=None, help="Your BIG number (11 digits): only what waits for you is shown.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (the listing).")
@click.pass_context
def queue(ctx: click.Context, root: Path, big: str, as_json: bool) -> None:
    """List the documents waiting for the personal signature of the doctor with BIG number --big; `get` one,
    sign it with your own key (UZI-pas, `sopipe sign`, any PAdES tool) and hand it back with `return`.

    Every listing and download is recorded in the audit trail under your login name.

    Example:

    \b
        sopipe queue --root /srv/sopipe --big 39087654301
        sopipe queue --root /srv/sopipe --big 39087654301 get SO-2026-0042 advies > advies.pdf
        sopipe queue --root /srv/sopipe --big 39087654301 return SO-2026-0042 advies < advies-ondertekend.pdf
        sopipe queue --root /srv/sopipe --big 39087654301 result SO-2026-0042 <sha256>
    """
    ctx.obj = {"root": root, "big": big}  # --big checked by each command: `queue get -h` needs none
    if ctx.invoked_subcommand is not None:
        return
    _need_big(ctx.obj)
    from pipeline.shell.role_views import open_role_root, te_ondertekenen

    with open_role_root(root) as r:
        waiting = [w for rol in ROLES for w in te_ondertekenen(r, _actor(big, rol))]
    if as_json:
        click.echo(json.dumps([w.as_dict() for w in waiting], indent=2, ensure_ascii=False))
        return
    if not waiting:
        click.echo(f"Nothing waits for the signature of BIG {big}.")
        return
    for w in waiting:
        click.echo(f"{w.kenmerk}  {w.document:<20} {w.titel}  (since {w.sinds[:10]})  -> "
                   f"sopipe queue --big {big} get {w.kenmerk} {w.document}")


@queue.command("get", context_settings=CONTEXT)
@click.argument("kenmerk")
@click.argument("kind", metavar="DOCUMENT")
@click.pass_obj
def get_command(obj: dict, kenmerk: str, kind: str) -> None:
    """Download the unsigned DOCUMENT (advies, aanvraagformulier) of case KENMERK that waits for your signature,
    to stdout (redirect it into a file of your own: run through sudo, sopipe writes no file in your name).

    Example:

    \b
        sopipe queue --root /srv/sopipe --big 39087654301 get SO-2026-0042 advies > SO-2026-0042_advies.pdf
    """
    _need_big(obj)
    from pipeline.shell.role_views import download_te_ondertekenen, open_role_root

    with open_role_root(obj["root"]) as r:
        download = download_te_ondertekenen(r, _actor(obj["big"], _role_of(kind)), kenmerk, kind)
    sys.stdout.buffer.write(download.data)
    sys.stdout.buffer.flush()
    click.echo(f"{download.naam}: SHA-256 {download.sha256}. Sign it and hand it back with "
               f"`sopipe queue --big {obj['big']} return {kenmerk} {kind} < SIGNED.pdf`.", err=True)


@queue.command("return", context_settings=CONTEXT)
@click.argument("kenmerk")
@click.argument("kind", metavar="DOCUMENT")
def return_command(kenmerk: str, kind: str) -> None:
    """Hand back the signed DOCUMENT of case KENMERK, read from stdin (run through sudo, sopipe opens no file in
    your name): it goes into inbox/ under the name the pipeline expects, which then checks it (your signature, the
    unchanged pages) like any returned document. Prints its SHA-256; `result` tells what the pipeline made of it.

    Example:

    \b
        sopipe queue --root /srv/sopipe --big 39087654301 return SO-2026-0042 advies < advies-ondertekend.pdf
    """
    obj = click.get_current_context().obj
    _need_big(obj)
    from pipeline.shell.role_views import MAX_UPLOAD_BYTES, lever_ondertekend_in, open_role_root

    data = sys.stdin.buffer.read(MAX_UPLOAD_BYTES + 1)
    with open_role_root(obj["root"]) as r:
        done = lever_ondertekend_in(r, _actor(obj["big"], _role_of(kind)), kenmerk, kind, data)
    click.echo(f"Handed in as inbox/{done.bestand}, SHA-256 {done.sha256}. Follow it with: "
               f"sopipe queue --big {obj['big']} result {kenmerk} {done.sha256}")


@queue.command("result", context_settings=CONTEXT)
@click.argument("kenmerk")
@click.argument("sha256")
@click.pass_obj
def result_command(obj: dict, kenmerk: str, sha256: str) -> None:
    """What the pipeline made of a document you handed in (by the SHA-256 `return` printed): waiting, accepted,
    or refused with the reason. Exit status 1 when refused.

    Example:

    \b
        sopipe queue --root /srv/sopipe --big 39087654301 result SO-2026-0042 3f2a…
    """
    _need_big(obj)
    from pipeline.shell.role_views import inlevering_uitslag, open_role_root

    with open_role_root(obj["root"]) as r:
        verdict = inlevering_uitslag(r, _actor(obj["big"], ROLES[1]), kenmerk, sha256)
    click.echo(verdict.status + (f": {verdict.reden}" if verdict.reden else ""))
    if verdict.status == "geweigerd":
        raise SystemExit(1)


@click.command("sign-digest", context_settings=CONTEXT)
@click.argument("attributes", type=click.File("rb"), default="-")
@click.option("--p12", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PKCS#12 file with your key (passphrase: $SOPIPE_P12_PASSPHRASE or a prompt).")
@click.option("--pkcs11-module", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PKCS#11 library of your smart card (UZI-pas) (PIN: $SOPIPE_PIN or a prompt).")
@click.option("--token-label", help="Label of the token (with --pkcs11-module).")
@click.option("--key-label", help="Label of the signing key on the token; the certificate has the same label.")
@click.option("--certificate", "print_certificate", is_flag=True,
              help="Only print your certificate and its chain (PEM), which the desk needs to prepare the document.")
def sign_digest(attributes, p12: Path | None, pkcs11_module: Path | None, token_label: str | None,
                key_label: str | None, print_certificate: bool) -> None:
    """Sign, on your own machine and card, what the desk prepared for your signature (ATTRIBUTES, the file
    `te-ondertekenen.der` the desk gives you, or - for stdin); the signature value goes to stdout, to upload in the
    desk. The document itself stays on the server: these bytes hold only its SHA-256 (pyHanko's interrupted
    signing; `pipeline.shell.remote_signing`).

    Example:

    \b
        sopipe sign-digest --pkcs11-module /usr/lib/libaetpkss.so --token-label UZI-pas --key-label Handtekening --certificate > uzi.pem
        sopipe sign-digest te-ondertekenen.der --pkcs11-module /usr/lib/libaetpkss.so --token-label UZI-pas --key-label Handtekening > handtekening.bin
    """
    import asyncio

    from asn1crypto import pem

    from pipeline.adapters.keys import SigningIdentity
    from pipeline.cli_signing import P12_ENV, PIN_ENV, _secret

    if bool(p12) == bool(pkcs11_module):
        raise click.UsageError("Give either --p12 or --pkcs11-module (with --token-label and --key-label).")
    if pkcs11_module and not (token_label and key_label):
        raise click.UsageError("--pkcs11-module needs --token-label and --key-label.")
    if p12:
        identity = SigningIdentity.from_pkcs12(p12, _secret(P12_ENV, "Wachtwoord van het PKCS#12-bestand")
                                               .encode("utf-8"))
    else:
        identity = SigningIdentity.from_pkcs11(pkcs11_module, token_label=token_label, key_label=key_label,
                                               pin=_secret(PIN_ENV, "Pincode"))
    try:
        if print_certificate:  # the card's certificate first, then the chain it carries
            leaf = identity.certificate
            chain = [c for c in identity.signer.cert_registry if c.dump() != leaf.dump()]
            for cert in (leaf, *chain):
                click.echo(pem.armor("CERTIFICATE", cert.dump()).decode("ascii"), nl=False)
            return
        data = attributes.read(64 * 1024 + 1)
        if not data or len(data) > 64 * 1024:
            raise click.ClickException("ATTRIBUTES is empty or too large: give the file the desk prepared.")
        value = asyncio.run(identity.signer.async_sign_raw(data, "sha256"))
    finally:
        identity.close()
    sys.stdout.buffer.write(value)
    sys.stdout.buffer.flush()


COMMANDS = (queue, sign_digest)
