"""Configuration: one documented file, `sopipe.toml` in the root, read once at the edge into frozen settings.

Every value has a default that works; an unknown key or a value of the wrong type is a clear error at start-up.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from pipeline.core.organisaties import KEYS as ORG_KEYS, REQUIRED as ORG_REQUIRED, Organisatie
from pipeline.errors import PipelineError

CONFIG_NAME = "sopipe.toml"

DEFAULT_CONFIG = """\
# sopipe configuration. Every key is optional; the values shown are the defaults.

[intake]
# Largest case file accepted, in bytes; larger files go to inbox/failed/ with a report.
max_file_bytes = 1048576
# Cases processed at the same time (the events of one case always one after the other); 0 = two per core.
parallel_cases = 0
# Seconds a file's size and modification time must stay unchanged before it is taken (raise it for slow
# network copies).
settle = 0.3
# Seconds between full rescans of the inbox (catches events missed on network shares).
rescan = 10
# Poll the inbox instead of using file-system events (set true for network shares: SMB/NFS).
polling = false
# Unix group of the secretariat: it may drop files into inbox/ (0770) and read inbox/processed/ and
# inbox/failed/ (0750, setgid; case files 0640). Without it only the pipeline's own user gets in (0700/0600).
# group = "so-secretariaat"

[mailboxes]
# Unix group per party for outbox/<party>/ (chgrp + setgid: delivered files inherit it, mode 0640).
# group_werkgever = "so-werkgevers"
# group_arbodienst = "so-arbodienst"
# group_bedrijfsarts = "so-bedrijfsartsen"
# group_so_bedrijfsarts = "so-soartsen"
# group_werknemer = "so-werknemers"
# group_archief = "so-archief"
# `sopipe archive destroy` removes the case's folder from every party's mailbox on this server too (after the
# 20-year retention the server keeps no copy). Set true only when it is agreed and documented that the recipients
# empty their mailboxes themselves under their own retention (e.g. they collect and delete); destroy then
# leaves outbox/<party>/ alone and lists those folders.
emptied_by_recipients = false
# A group per recipient folder, "<party>/<code>" = "group" (code: the organisation's code, kvk-<number>,
# naam-<slug> or a doctor's BIG number; see README "Mailboxes"). Such a group can only reach its own folder.
# [mailboxes.recipients]
# "werkgever/acme" = "acme-hr"

[libreoffice]
# Warm LibreOffice workers (0 = one per CPU core).
workers = 0
# Seconds before a conversion is considered hung; the worker is killed and restarted.
timeout = 60
# A worker is restarted after this many conversions, or above this memory (MiB), to keep memory flat.
max_conversions = 200
max_rss_mb = 1024
# How often a failed conversion is retried on a fresh worker before the case file fails.
retries = 2

[signing]
# Folder with the PKI: ca.pem, seal.p12, doctor-<BIG>.p12 and the file `passphrase` (mode 0600).
pki_dir = "pki"
# Timestamp server (RFC 3161) of your trust service provider. Default on the DEMO PKI of `sopipe init`: its own
# DEMO timestamp, OCSP and CRL services, which `sopipe watch` then runs itself on 127.0.0.1 (never for
# production). Without a tsa_url on a production PKI, `sopipe watch` refuses to start unless lower levels are
# chosen explicitly below (signed PAdES B-B cannot be verified any more once the signer's certificate has
# expired; `sopipe status` warns).
# tsa_url = "https://tsa.example.nl/tsa"
# PAdES level per document kind: "B-B", "B-T" (timestamp), "B-LT" (+ validation data), "B-LTA" (+ document
# timestamp, renewable: `sopipe archive renew`). Default: "B-LTA" when there is a timestamp server.
# level_machtiging = "B-LTA"
# level_advies = "B-LTA"
# Sign the final advice automatically when the SO doctor's key is in pki_dir: a DEMO convenience only. Set false
# when doctors sign themselves (always outside the DEMO: with a production PKI start-up stops while this is
# true): the advice then waits in outbox/so-bedrijfsarts/<BIG>/<kenmerk>/te-ondertekenen/ (`sopipe sign`).
auto_sign_doctors = true
# The arbodienst seal (certifies the machtigingen). DEMO: pki/seal.p12 opened with pki/passphrase. In production
# its secret is never stored beside the key; name where it comes from: "env:NAME" (an environment variable),
# "file:/etc/sopipe/seal.pass" (a file outside the root) or "credential:NAME" (a systemd credential,
# LoadCredential=NAME:..., read from $CREDENTIALS_DIRECTORY/NAME).
# seal_p12 = "pki/seal.p12"
# seal_passphrase = "credential:seal-passphrase"
# Or the seal on a PKCS#11 token (HSM, smart card): the module, the token's label, the label of the key and its
# certificate, and where the PIN comes from (same forms as seal_passphrase).
# seal_pkcs11_module = "/usr/lib/softhsm/libsofthsm2.so"
# seal_token_label = "arbodienst"
# seal_key_label = "zegel"
# seal_pin = "env:SOPIPE_SEAL_PIN"
# More trusted root certificates (PEM files) for documents signed elsewhere, e.g. the doctors' UZI-pas CA.
# extra_trust_roots = ["/etc/sopipe/uzi-root.pem"]

# Organisation master data, one table per arbodienst and per second-opinion practice. A case file refers to it
# by code: "arbodienst": {"code": "arbonoord", ...}, "so_bedrijfsarts": {"praktijk": "arbopraktijk-visser", ...}.
# An unknown code is refused. Printed on letters and invoices: address, phone, e-mail, KvK, IBAN; the VAT line
# only as configured (btw_vrijstelling: the exemption text; or btw_nummer + btw_tarief when taxed);
# klachten: the complaints procedure named in the advice and the letters; logo: a PNG or JPEG file inside the
# root, e.g. beside this file (optional; printed in the letterhead).
# The entries below are the DEMO organisations of the fictional example case SO-2026-0042.
[organisaties.arbonoord]
naam = "ArboNoord"
straat = "Stationsplein 1"
postcode = "3511 ED"
plaats = "Utrecht"
telefoon = "030 123 45 67"
email = "secretariaat@arbonoord.example"
kvk_nummer = "12345678"
iban = "NL91 ABNA 0417 1643 00"
klachten = "Een klacht kunt u schriftelijk indienen bij de klachtenfunctionaris van ArboNoord, Stationsplein 1, 3511 ED Utrecht (klachten@arbonoord.example), volgens de klachtenregeling van ArboNoord."

[organisaties.arbopraktijk-visser]
naam = "Arbopraktijk Visser"
straat = "Stadsring 88"
postcode = "3811 HR"
plaats = "Amersfoort"
telefoon = "033 765 43 21"
email = "e.visser@arbopraktijkvisser.example"
kvk_nummer = "87654321"
iban = "NL20 INGB 0001 2345 67"
btw_vrijstelling = "Vrijgesteld van btw (medische diensten, art. 11 lid 1 sub g Wet op de omzetbelasting 1968)."
klachten = "Een klacht over de second opinion kunt u schriftelijk indienen bij Arbopraktijk Visser, Stadsring 88, 3811 HR Amersfoort; komt u er samen niet uit, dan kunt u zich wenden tot de onafhankelijke klachtencommissie waarbij de praktijk is aangesloten (zie de klachtenregeling van de praktijk)."

[organisaties.smit-bg]
naam = "Smit Bedrijfsgeneeskunde"
straat = "Kerkstraat 5"
postcode = "3811 CV"
plaats = "Amersfoort"
telefoon = "033 111 22 33"
email = "k.smit@smitbg.example"
kvk_nummer = "11223344"
iban = "NL44 RABO 0123 4567 89"
btw_vrijstelling = "Vrijgesteld van btw (medische diensten, art. 11 lid 1 sub g Wet op de omzetbelasting 1968)."
klachten = "Een klacht kunt u schriftelijk indienen bij Smit Bedrijfsgeneeskunde, Kerkstraat 5, 3811 CV Amersfoort, volgens de klachtenregeling van de praktijk."
"""


@dataclass(frozen=True)
class Settings:
    root: Path
    max_file_bytes: int = 1_048_576
    parallel_cases: int = 0
    settle: float = 0.3
    rescan: float = 10.0
    polling: bool = False
    lo_workers: int = 0
    lo_timeout: float = 60.0
    lo_max_conversions: int = 200
    lo_max_rss_mb: int = 1024
    lo_retries: int = 2
    pki_dir: Path = Path("pki")
    tsa_url: str | None = None
    level_machtiging: str | None = None
    """PAdES level of the machtigingen; None: B-LTA with a tsa_url, else B-B (see `signing_level`)."""
    level_advies: str | None = None
    auto_sign_doctors: bool = True
    demo_services: bool = False
    """True when tsa_url is the DEMO PKI's own TSA because none was configured: `sopipe watch` runs the DEMO
    trust services itself (`pipeline.shell.app.signing_services`)."""
    extra_trust_roots: tuple[Path, ...] = ()
    seal_p12: Path | None = None
    """The seal's PKCS#12 file; None: pki_dir/seal.p12."""
    seal_passphrase: str | None = None
    """Where the seal's passphrase comes from (`env:`, `file:`, `credential:`); None: the DEMO pki/passphrase."""
    seal_pkcs11_module: str | None = None
    """PKCS#11 module of the token holding the seal; None: the seal is a PKCS#12 file."""
    seal_token_label: str | None = None
    seal_key_label: str | None = None
    seal_pin: str | None = None
    """Where the token PIN comes from (same forms as `seal_passphrase`)."""
    intake_group: str | None = None
    """Secretariat group for inbox/, inbox/processed/ and inbox/failed/; None: the pipeline's user only."""
    group_werknemer: str | None = None
    group_bedrijfsarts: str | None = None
    group_so_bedrijfsarts: str | None = None
    group_werkgever: str | None = None
    group_arbodienst: str | None = None
    group_archief: str | None = None
    recipient_groups: tuple[tuple[str, str], ...] = ()
    """(("<party>/<code>", group), ...) from [mailboxes.recipients]."""
    mailboxes_emptied_by_recipients: bool = False
    """True: the recipients empty their own mailboxes (documented); `archive destroy` then leaves them."""

    organisaties: Mapping[str, Organisatie] = field(default_factory=lambda: MappingProxyType({}))
    """Organisation master data by code (`[organisaties.<code>]`)."""

    @property
    def party_groups(self) -> dict[str, str]:
        """{party folder name: group} for the parties with a configured group."""
        return {party: group for party, group in (
            ("werknemer", self.group_werknemer), ("bedrijfsarts", self.group_bedrijfsarts),
            ("so-bedrijfsarts", self.group_so_bedrijfsarts), ("werkgever", self.group_werkgever),
            ("arbodienst", self.group_arbodienst), ("archief", self.group_archief)) if group}

    def signing_level(self, kind: str) -> str:
        """The PAdES level for a signed document kind (`advies`, `machtiging-…`)."""
        chosen = self.level_advies if kind == "advies" else self.level_machtiging
        return chosen or ("B-LTA" if self.tsa_url else "B-B")

    @property
    def trust_roots(self) -> tuple[Path, ...]:
        """The PKI's root certificate plus the extra trusted roots."""
        return (self.pki_dir / "ca.pem", *self.extra_trust_roots)

    def signing_warnings(self) -> list[str]:
        """Configuration choices a records officer should know about (shown by `sopipe status`)."""
        weak = sorted({self.signing_level(k) for k in ("machtiging", "advies")} - {"B-LT", "B-LTA"})
        if not weak:
            return []
        return [f"Machtigingen en adviezen worden ondertekend als PAdES {' / '.join(weak)}"
                + ("" if self.tsa_url else " (er is geen tijdstempelserver ingesteld: [signing] tsa_url)")
                + ": zonder ingebedde validatiegegevens en archieftijdstempel is zo'n handtekening na het verlopen "
                "van het certificaat van de ondertekenaar niet meer te controleren, terwijl het dossier 20 jaar "
                "bewaard wordt. Stel tsa_url in voor PAdES B-LTA."]

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def database(self) -> Path:
        return self.root / "state" / "sopipe.db"


_KEYS = {
    ("intake", "max_file_bytes"): ("max_file_bytes", int),
    ("intake", "parallel_cases"): ("parallel_cases", int),
    ("intake", "settle"): ("settle", (int, float)),
    ("intake", "rescan"): ("rescan", (int, float)),
    ("intake", "polling"): ("polling", bool),
    ("libreoffice", "workers"): ("lo_workers", int),
    ("libreoffice", "timeout"): ("lo_timeout", (int, float)),
    ("libreoffice", "max_conversions"): ("lo_max_conversions", int),
    ("libreoffice", "max_rss_mb"): ("lo_max_rss_mb", int),
    ("libreoffice", "retries"): ("lo_retries", int),
    ("signing", "pki_dir"): ("pki_dir", str),
    ("signing", "tsa_url"): ("tsa_url", str),
    ("signing", "level_machtiging"): ("level_machtiging", str),
    ("signing", "level_advies"): ("level_advies", str),
    ("signing", "auto_sign_doctors"): ("auto_sign_doctors", bool),
    ("signing", "extra_trust_roots"): ("extra_trust_roots", list),
    ("signing", "seal_p12"): ("seal_p12", str),
    ("signing", "seal_passphrase"): ("seal_passphrase", str),
    ("signing", "seal_pkcs11_module"): ("seal_pkcs11_module", str),
    ("signing", "seal_token_label"): ("seal_token_label", str),
    ("signing", "seal_key_label"): ("seal_key_label", str),
    ("signing", "seal_pin"): ("seal_pin", str),
    ("intake", "group"): ("intake_group", str),
    ("mailboxes", "group_werknemer"): ("group_werknemer", str),
    ("mailboxes", "group_bedrijfsarts"): ("group_bedrijfsarts", str),
    ("mailboxes", "group_so_bedrijfsarts"): ("group_so_bedrijfsarts", str),
    ("mailboxes", "group_werkgever"): ("group_werkgever", str),
    ("mailboxes", "group_arbodienst"): ("group_arbodienst", str),
    ("mailboxes", "group_archief"): ("group_archief", str),
    ("mailboxes", "recipients"): ("recipient_groups", dict),
    ("mailboxes", "emptied_by_recipients"): ("mailboxes_emptied_by_recipients", bool),
}

SECRET_SOURCES = ("env", "file", "credential")
"""Where a secret may come from: never a value written in sopipe.toml, never a file inside the root."""


def load_settings(root: Path) -> Settings:
    root = Path(root).resolve()
    path = root / CONFIG_NAME
    values: dict = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise PipelineError(f"{path}: not valid TOML: {e}") from e
        if "organisaties" in data:
            values["organisaties"] = _organisaties(path, data.pop("organisaties"))
        for section, table in data.items():
            if not isinstance(table, dict):
                raise PipelineError(f"{path}: '{section}' must be a [section]")
            for key, value in table.items():
                if (section, key) not in _KEYS:
                    raise PipelineError(f"{path}: unknown setting [{section}] {key}")
                attr, typ = _KEYS[(section, key)]
                if (isinstance(value, bool) and typ is not bool) or not isinstance(value, typ):
                    raise PipelineError(f"{path}: [{section}] {key} has the wrong type ({value!r})")
                if isinstance(value, (int, float)) and value < 0:
                    raise PipelineError(f"{path}: [{section}] {key} must not be negative")
                values[attr] = value
    values["pki_dir"] = root / values.get("pki_dir", "pki")
    _default_demo_tsa(values)
    _check_signing(path, values, root)
    _check_recipients(path, values)
    if not values.get("parallel_cases"):
        values["parallel_cases"] = 2 * (os.cpu_count() or 1)
    return Settings(root=root, **values)


def _organisaties(path: Path, tables: object) -> Mapping[str, Organisatie]:
    if not isinstance(tables, dict) or not all(isinstance(t, dict) for t in tables.values()):
        raise PipelineError(f"{path}: [organisaties] must hold one table per organisation: [organisaties.<code>]")
    out = {}
    for code, table in tables.items():
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{1,39}", code):
            raise PipelineError(f"{path}: [organisaties.{code}]: a code is 2-40 lower-case letters, digits, - or _")
        for key, value in table.items():
            if key not in ORG_KEYS:
                raise PipelineError(f"{path}: unknown setting [organisaties.{code}] {key}")
            if not isinstance(value, str) or not value.strip():
                raise PipelineError(f"{path}: [organisaties.{code}] {key} must be a non-empty text")
        missing = [k for k in ORG_REQUIRED if k not in table]
        if missing:
            raise PipelineError(f"{path}: [organisaties.{code}] needs {', '.join(missing)}")
        if "kvk_nummer" in table and not re.fullmatch(r"[0-9]{8}", table["kvk_nummer"]):
            raise PipelineError(f"{path}: [organisaties.{code}] kvk_nummer must be 8 digits")
        if "iban" in table and not _iban_valid(table["iban"]):
            raise PipelineError(f"{path}: [organisaties.{code}] iban is not a valid IBAN (check digits)")
        if "btw_tarief" in table and "btw_vrijstelling" in table:
            raise PipelineError(f"{path}: [organisaties.{code}]: btw_tarief and btw_vrijstelling exclude each other")
        if "btw_tarief" in table and "btw_nummer" not in table:
            raise PipelineError(f"{path}: [organisaties.{code}]: btw_tarief needs btw_nummer")
        if "logo" in table:  # inside the root, a PNG or JPEG image (pipeline/adapters/logo.py)
            from pipeline.adapters.logo import check_logo
            table = table | {"logo": check_logo(path, code, table["logo"].strip())}
        out[code] = Organisatie(code=code, **{k: v.strip() for k, v in table.items()})
    return MappingProxyType(out)


def _iban_valid(value: str) -> bool:
    from stdnum import iban
    return iban.is_valid(value)


PADES_LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


def _default_demo_tsa(values: dict) -> None:
    """No tsa_url configured (not even empty) on the DEMO PKI with trust services: use its own TSA."""
    if "tsa_url" in values:
        return
    from pipeline.adapters import pki
    urls = pki.read_services_url(values["pki_dir"]) if pki.is_demo_pki(values["pki_dir"]) else None
    if urls is not None:
        values["tsa_url"], values["demo_services"] = urls.tsa, True


def _check_signing(path: Path, values: dict, root: Path) -> None:
    for key in ("seal_passphrase", "seal_pin"):
        spec = values.get(key)
        if spec is None:
            continue
        kind, _, name = spec.partition(":")
        if kind not in SECRET_SOURCES or not name:
            raise PipelineError(f"{path}: [signing] {key} must say where the secret comes from: \"env:NAME\", "
                                f"\"file:/path\" or \"credential:NAME\" (never the secret itself)")
        if kind == "file" and (not Path(name).is_absolute() or Path(name).resolve().is_relative_to(root)):
            raise PipelineError(f"{path}: [signing] {key}: the file must be an absolute path outside the root "
                                f"({root}), not stored beside the key")
    if values.get("seal_p12") is not None:
        values["seal_p12"] = root / values["seal_p12"]
    if values.get("seal_pkcs11_module"):
        missing = [k for k in ("seal_token_label", "seal_key_label", "seal_pin") if not values.get(k)]
        if missing:
            raise PipelineError(f"{path}: [signing] seal_pkcs11_module needs {', '.join(missing)}")
    roots = values.get("extra_trust_roots")
    if roots is not None:
        if not all(isinstance(r, str) and r for r in roots):
            raise PipelineError(f"{path}: [signing] extra_trust_roots must be a list of file names")
        values["extra_trust_roots"] = tuple(root / r for r in roots)
    if values.get("tsa_url") == "":
        values["tsa_url"] = None
    for key in ("level_machtiging", "level_advies"):
        level = values.get(key)
        if level is None:
            continue
        if level.upper() not in PADES_LEVELS:
            raise PipelineError(f"{path}: [signing] {key} must be one of {', '.join(PADES_LEVELS)} ({level!r})")
        values[key] = level.upper()
        if level.upper() != "B-B" and not values.get("tsa_url"):
            raise PipelineError(f"{path}: [signing] {key} = {level!r} needs a timestamp server: set tsa_url")


_RECIPIENT = re.compile(r"^(werkgever|arbodienst|bedrijfsarts|so-bedrijfsarts)/[A-Za-z0-9_-]{3,40}$")


def _check_recipients(path: Path, values: dict) -> None:
    table = values.get("recipient_groups")
    if table is None:
        return
    for key, group in table.items():
        if not _RECIPIENT.match(key) or not isinstance(group, str) or not group:
            raise PipelineError(f"{path}: [mailboxes.recipients] {key!r} = {group!r}: expected "
                                "\"<werkgever|arbodienst|bedrijfsarts|so-bedrijfsarts>/<code>\" = \"<group>\"")
    values["recipient_groups"] = tuple(sorted(table.items()))
