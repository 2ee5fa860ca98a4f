"""Configuration: one documented file, `sopipe.toml` in the root, read once at the edge into frozen settings.

Each key is declared once, below, as a field of the frozen pydantic model of its TOML table: its type, default,
constraints and description. The file `sopipe init` writes (`DEFAULT_CONFIG`, comments included) and the
settings table of docs/configuration.md are generated from these models (`python -m pipeline.settings --readme`),
and `_KEYS` is derived from them. Every value has a default that works; an unknown key or a value of the wrong
type is a one-line error at start-up naming the file and the key.

The root's layout (every folder and file the pipeline keeps below the root) is declared here too, as parts
relative to the root (`STAGE`, `SCRATCH`, ...: `pipeline.adapters.safefs` opens them from the root without
following a link) and as `Settings` properties (`settings.stage`, `settings.scratch`, ...).
"""

from __future__ import annotations

import dataclasses

import os
import re
import sys
import textwrap
import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Mapping

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, SkipValidation, StringConstraints,
                      ValidationError, ValidationInfo, field_validator, model_validator)

from pipeline import package_data
from pipeline.core.artsen import Arts
from pipeline.core import pades
from pipeline.core.organisaties import Organisatie
from pipeline.core.routing import Party
from pipeline.errors import PipelineError

CONFIG_NAME = "sopipe.toml"

# --- the root's layout, relative to the root -----------------------------------------------------------------------

INBOX = ("inbox",)
PROCESSED = (*INBOX, "processed")
FAILED = (*INBOX, "failed")
OUTBOX = ("outbox",)
ARCHIVE = (*OUTBOX, Party.ARCHIEF.value)
"""The archive's mailbox: one copy of every document (`Party.ARCHIEF`)."""
QUARANTINE = ("quarantine",)
STATE = ("state",)
DATABASE = (*STATE, "sopipe.db")
STAGE = (*STATE, "intake")
"""The read-once stage: a case file is renamed out of the inbox into `state/intake/<id>/` before it is read."""
STAGING = (*STATE, "staging")
"""Documents made for a case file, kept until its event is recorded (crash safety)."""
SCRATCH = (*STATE, "scratch")
"""LibreOffice's scratch folder (profiles, jobs)."""
WATCH_LOCK = (*STATE, "watch.lock")
"""The OS lock that keeps a second `sopipe watch` off the root."""
PRIVATE_FOLDERS = (QUARANTINE, STATE, STAGE, STAGING, SCRATCH)
"""The folders only the pipeline's user may enter (0700)."""
TEMPLATES = package_data.TEMPLATES
"""The shipped Word templates (not below the root: they come with the program, as package data)."""

SECRET_SOURCES = ("env", "file", "credential")
"""Where a secret may come from: never a value written in sopipe.toml, never a file inside the root."""
PADES_LEVELS = tuple(level.value for level in pades.PadesLevel)


# --- the keys, one model per TOML table ------------------------------------------------------------------------------

def key(default: Any, description: str, *, example: Any = None, shown: str | None = None,
        flat: str | None = None, **constraints: Any) -> Any:
    """One setting: its default, what it means (README table and sopipe.toml comment), and optionally an
    example (written commented out when there is no default), how the README shows a computed default, and its
    attribute name on `Settings` when that is not the key."""
    extra = {name: value for name, value in (("shown", shown), ("flat", flat)) if value is not None}
    return Field(default, description=description, examples=None if example is None else [example],
                 json_schema_extra=extra or None, **constraints)


class _Table(BaseModel):
    """A TOML table: frozen, no unknown key, no silent conversion ("2" is not a number, 1 is not true)."""
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
    FLAT_PREFIX: ClassVar[str] = ""
    """Prefix of the keys' attribute names on `Settings` (`[libreoffice] workers` -> `lo_workers`)."""


Count = Annotated[int, Field(ge=0)]
Seconds = Annotated[float, Field(ge=0)]


def _secret_source(spec: str | None, info: ValidationInfo) -> str | None:
    if spec is None:
        return None
    kind, _, name = spec.partition(":")
    if kind not in SECRET_SOURCES or not name:
        raise ValueError("must say where the secret comes from: \"env:NAME\", \"file:/path\" or "
                         "\"credential:NAME\" (never the secret itself)")
    root = (info.context or {}).get("root")
    if kind == "file" and (not Path(name).is_absolute() or (root is not None
                                                            and Path(name).resolve().is_relative_to(root))):
        raise ValueError(f"must name a file by an absolute path outside the root ({root}), not one stored beside "
                         "the key")
    return spec


def _pades_level(level: str | None) -> str | None:
    if level is None:
        return None
    if level.upper() not in PADES_LEVELS:
        raise ValueError(f"must be one of {', '.join(PADES_LEVELS)} ({level!r})")
    return level.upper()


SecretSource = Annotated[str, AfterValidator(_secret_source)]
PadesLevel = Annotated[str, AfterValidator(_pades_level)]
_RECIPIENT = re.compile(r"^(werkgever|arbodienst|bedrijfsarts|so-bedrijfsarts)/[A-Za-z0-9_-]{3,40}$")


class IntakeSettings(_Table):
    """How case files are taken from inbox/."""
    max_file_bytes: Count = key(1_048_576, "largest case file accepted, in bytes; larger files go to "
                                "`inbox/failed/` with a report")
    parallel_cases: Count = key(0, "cases processed at the same time (the events of one case always one after the "
                                "other); 0 = two per core")
    settle: Seconds = key(0.3, "seconds a file's size and time must stay unchanged before it is taken (raise for "
                          "slow network copies)")
    rescan: Seconds = key(10, "seconds between full rescans of the inbox (catches events missed on network shares)")
    polling: bool = key(False, "poll the inbox instead of file-system events (SMB/NFS shares)")
    group: str | None = key(None, "Unix group of the secretariat: it may drop files into `inbox/` (2770) and read "
                            "`inbox/processed/` and `inbox/failed/` (2750, case files 0640); without it only the "
                            "pipeline's own user gets in (0700/0600)", example="so-secretariaat", flat="intake_group")


_PARTY_GROUP = "Unix group of `outbox/{}/` (chgrp + setgid: delivered files inherit it, mode 0640)"


class MailboxSettings(_Table):
    """Who may read which mailbox below outbox/ (see docs/it.md "Mailboxes, groups and modes")."""
    group_werkgever: str | None = key(None, _PARTY_GROUP.format("werkgever"), example="so-werkgevers")
    group_arbodienst: str | None = key(None, _PARTY_GROUP.format("arbodienst"), example="so-arbodienst")
    group_bedrijfsarts: str | None = key(None, _PARTY_GROUP.format("bedrijfsarts"), example="so-bedrijfsartsen")
    group_so_bedrijfsarts: str | None = key(None, _PARTY_GROUP.format("so-bedrijfsarts"), example="so-soartsen")
    group_werknemer: str | None = key(None, _PARTY_GROUP.format("werknemer"), example="so-werknemers")
    group_archief: str | None = key(None, _PARTY_GROUP.format("archief"), example="so-archief")
    emptied_by_recipients: bool = key(
        False, "`true` only when it is agreed and documented that the recipients empty their mailboxes themselves "
        "under their own retention: `archive destroy` then leaves `outbox/<party>/` alone and lists those folders "
        "(by default it removes the case's folder from every mailbox too: after the 20-year retention the server "
        "keeps no copy)", flat="mailboxes_emptied_by_recipients")
    recipients: dict[str, str] = key(
        {}, "table `[mailboxes.recipients]`: a group per recipient folder, `\"<party>/<code>\" = \"<group>\"` "
        "(code: the organisation's code, `kvk-<number>`, `naam-<slug>` or a doctor's BIG number); such a group "
        "can only reach its own folder", example={"werkgever/acme": "acme-hr"}, shown="none",
        flat="recipient_groups")

    @field_validator("recipients")
    @classmethod
    def _recipient_folders(cls, table: dict[str, str]) -> dict[str, str]:
        for folder, group in table.items():
            if not _RECIPIENT.match(folder) or not group:
                raise ValueError(f"{folder!r} = {group!r}: expected "
                                 "\"<werkgever|arbodienst|bedrijfsarts|so-bedrijfsarts>/<code>\" = \"<group>\"")
        return table


class LibreOfficeSettings(_Table):
    """The warm LibreOffice workers that convert the documents to PDF/A."""
    FLAT_PREFIX: ClassVar[str] = "lo_"
    workers: Count = key(0, "warm LibreOffice workers; 0 = one per CPU core")
    timeout: Seconds = key(60, "seconds before a conversion counts as hung; the worker is killed and replaced")
    max_conversions: Count = key(200, "a worker is replaced after this many conversions (keeps memory flat)")
    max_rss_mb: Count = key(1024, "… or when it uses more memory than this (MiB)")
    retries: Count = key(2, "retries of a failed conversion on a fresh worker before the case file fails")


class SigningSettings(_Table):
    """Keys, timestamps and PAdES levels. In production a secret is never stored beside its key: a `seal_…`
    secret says where it comes from: "env:NAME" (an environment variable), "file:/etc/sopipe/seal.pass" (a file
    outside the root) or "credential:NAME" (a systemd credential, LoadCredential=NAME:…, read from
    $CREDENTIALS_DIRECTORY/NAME)."""
    pki_dir: str = key("pki", "folder with `ca.pem` and the seal; DEMO: also `doctor-<BIG>.p12` and `passphrase` "
                       "(mode 0600)")
    tsa_url: str | None = key(
        None, "RFC 3161 timestamp server of your trust service provider; a production PKI without one refuses to "
        "start unless the levels below are set explicitly (`sopipe status` then warns: PAdES B-B cannot be verified "
        "any more once the signer's certificate has expired); `\"\"`: none", example="https://tsa.example.nl/tsa",
        shown="the DEMO PKI's own TSA (with its OCSP and CRL services, run by `sopipe watch` on 127.0.0.1); "
              "else none")
    level_machtiging: PadesLevel | None = key(
        None, "PAdES level of the machtigingen: `B-B`, `B-T` (timestamp), `B-LT` (+ validation data) or `B-LTA` "
        "(+ document timestamp, renewable: `sopipe archive renew`)", example="B-LTA",
        shown="`\"B-LTA\"` with a timestamp server, else `\"B-B\"`")
    level_advies: PadesLevel | None = key(None, "PAdES level of the final advice (the same levels)", example="B-LTA",
                                          shown="as above")
    auto_sign_doctors: bool = key(
        True, "DEMO only: sign the final advice with the doctor's DEMO key in `pki_dir`; `false`: it waits in "
        "`outbox/so-bedrijfsarts/<BIG>/<kenmerk>/te-ondertekenen/` for `sopipe sign`. With a production PKI "
        "`true` stops start-up", shown="`true` (`false` after `init --no-demo`)")
    extra_trust_roots: tuple[Annotated[str, StringConstraints(min_length=1)], ...] = key(
        (), "more trusted root certificates (PEM files) for documents signed elsewhere, e.g. the UZI-pas CA",
        example=["/etc/sopipe/uzi-root.pem"])
    seal_p12: str | None = key(None, "the arbodienst seal (certifies the machtigingen) as a PKCS#12 file, opened "
                               "with `seal_passphrase`", example="pki/seal.p12", shown="`\"pki/seal.p12\"`")
    seal_passphrase: SecretSource | None = key(
        None, "where the seal's passphrase comes from: `\"env:NAME\"`, `\"file:/abs/path\"` (outside the root) or "
        "`\"credential:NAME\"` (systemd `$CREDENTIALS_DIRECTORY`); never the secret itself",
        example="credential:seal-passphrase", shown="DEMO: `pki/passphrase`")
    seal_pkcs11_module: str | None = key(None, "the seal on a PKCS#11 token (HSM, smart card) instead: path of the "
                                         "module (needs the three keys below)",
                                         example="/usr/lib/softhsm/libsofthsm2.so")
    seal_token_label: str | None = key(None, "label of the token holding the seal", example="arbodienst")
    seal_key_label: str | None = key(None, "label of the seal's key and certificate on the token", example="zegel")
    seal_pin: SecretSource | None = key(None, "where the token PIN comes from (same forms as `seal_passphrase`)",
                                        example="env:SOPIPE_SEAL_PIN")

    @field_validator("extra_trust_roots", mode="before")
    @classmethod
    def _array(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value  # a TOML array is a list

    @field_validator("tsa_url")
    @classmethod
    def _no_tsa(cls, url: str | None) -> str | None:
        return url or None  # "" says: no timestamp server (also not the DEMO one)

    @model_validator(mode="after")
    def _token_complete(self) -> "SigningSettings":
        if self.seal_pkcs11_module:
            missing = [k for k in ("seal_token_label", "seal_key_label", "seal_pin") if not getattr(self, k)]
            if missing:
                raise ValueError(f"seal_pkcs11_module needs {', '.join(missing)}")
        return self


def _iban(value: str) -> str:
    from stdnum import iban
    if not iban.is_valid(value):
        raise ValueError("is not a valid IBAN (check digits)")
    return value


def _kvk(value: str) -> str:
    if not re.fullmatch(r"[0-9]{8}", value):
        raise ValueError("must be 8 digits")
    return value


def _code(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{1,39}", value):
        raise ValueError("a code is 2-40 lower-case letters, digits, - or _")
    return value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class OrganisatieSettings(_Table):
    """Organisation master data, one table per arbodienst and per second-opinion practice: [organisaties.<code>].
    A case file refers to it by code: "arbodienst": {"code": "arbonoord", ...}, "so_bedrijfsarts": {"praktijk":
    "arbopraktijk-visser", ...}; an unknown code is refused. The entries below are the DEMO organisations of the
    fictional example case SO-2026-0042."""
    naam: Text = key(..., "name as printed (letterhead, sender block of an invoice)")
    straat: Text = key(..., "street and house number")
    postcode: Text = key(..., "postcode as printed (e.g. `3511 ED`)")
    plaats: Text = key(..., "town, printed after the postcode")
    telefoon: Text | None = key(None, "phone number printed on letters")
    email: Text | None = key(None, "e-mail address printed on letters")
    kvk_nummer: Annotated[Text, AfterValidator(_kvk)] | None = key(None, "Chamber of Commerce number (8 digits); "
                                                                   "printed on invoices")
    iban: Annotated[Text, AfterValidator(_iban)] | None = key(None, "account the invoices are paid to (check "
                                                              "digits verified)")
    btw_nummer: Text | None = key(None, "VAT identification number; printed on invoices when the services are taxed")
    btw_vrijstelling: Text | None = key(None, "the VAT exemption text printed on invoices (e.g. art. 11 lid 1 sub g "
                                        "Wet OB): only when configured; the exemption is the practice's to claim")
    btw_tarief: Text | None = key(None, "VAT rate in percent (e.g. `\"21\"`) when the services are taxed (needs "
                                  "`btw_nummer`; excludes `btw_vrijstelling`)")
    klachten: Text | None = key(None, "how to complain (the complaints procedure and where to send a complaint), "
                                "named in the advice and the letters")
    logo: Text | None = key(None, "a PNG or JPEG file inside the root, e.g. beside this file, printed in the "
                           "letterhead (not in inbox/, outbox/, quarantine/ or state/; not group/other-writable)")

    @model_validator(mode="after")
    def _vat(self) -> "OrganisatieSettings":
        if self.btw_tarief and self.btw_vrijstelling:
            raise ValueError("btw_tarief and btw_vrijstelling exclude each other")
        if self.btw_tarief and not self.btw_nummer:
            raise ValueError("btw_tarief needs btw_nummer")
        return self

    def organisatie(self, code: str) -> Organisatie:
        return Organisatie(code=code, **self.model_dump(exclude_none=True))


def _big(value: str) -> str:
    if not re.fullmatch(r"[0-9]{11}", value):
        raise ValueError("a BIG number is 11 digits")
    return value


def _fingerprints(values: tuple[str, ...]) -> tuple[str, ...]:
    from pipeline.core.artsen import normalise_fingerprint
    return tuple(normalise_fingerprint(v) for v in values)


class ArtsSettings(_Table):
    """The doctors' registry, one table per doctor who signs returned documents: [artsen.<BIG-nummer>]. A UZI-pas
    carries the UZI number, not the BIG number: the registry binds them. A returned document is accepted only when
    its signer's certificate is that doctor's: a UZI-pas with `uzi_nummer` in its serialNumber (and, when present,
    the UZI otherName of a zorgverlenerpas with an arts role), or a certificate whose SHA-256 fingerprint is
    listed. A doctor not in the registry is recognised only by the BIG number in the serialNumber (the DEMO
    certificates)."""
    naam: Text = key(..., "the doctor's name, as in the case files")
    uzi_nummer: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}$")] | None = key(
        None, "the UZI number of the doctor's UZI-pas (the certificate's subject serialNumber)", example="12345678")
    certificaat_sha256: Annotated[tuple[str, ...], AfterValidator(_fingerprints)] = key(
        (), "SHA-256 fingerprints of other certificates the doctor signs with (64 hex digits, colons allowed), e.g. "
        "a qualified certificate in a PKCS#12 file")

    @field_validator("certificaat_sha256", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _something_to_recognise(self) -> "ArtsSettings":
        if not self.uzi_nummer and not self.certificaat_sha256:
            raise ValueError("needs uzi_nummer or certificaat_sha256 (how the doctor's certificate is recognised)")
        return self

    def arts(self, big: str) -> Arts:
        return Arts(big_nummer=big, naam=self.naam, uzi_nummer=self.uzi_nummer,
                    certificaten=frozenset(self.certificaat_sha256))


class SopipeToml(_Table):
    """sopipe configuration. Every key is optional; the values shown are the defaults."""
    intake: IntakeSettings = IntakeSettings()
    mailboxes: MailboxSettings = MailboxSettings()
    libreoffice: LibreOfficeSettings = LibreOfficeSettings()
    signing: SigningSettings = SigningSettings()
    organisaties: dict[Annotated[str, AfterValidator(_code)], OrganisatieSettings] = {}
    artsen: dict[Annotated[str, AfterValidator(_big)], ArtsSettings] = {}


SECTIONS: Mapping[str, type[_Table]] = MappingProxyType({
    name: f.annotation for name, f in SopipeToml.model_fields.items() if name not in ("organisaties", "artsen")})
"""The TOML tables of plain keys, by name, in the order of the file."""
_KEYS = MappingProxyType({
    (section, name): (f.json_schema_extra or {}).get("flat", model.FLAT_PREFIX + name)
    for section, model in SECTIONS.items() for name, f in model.model_fields.items()})
"""(table, key) -> the attribute of `Settings` that holds it."""


# --- the settings of one root --------------------------------------------------------------------------------------

class Settings(BaseModel):
    """The settings of one root: its tables as read from sopipe.toml (`settings.signing.tsa_url`), each key also
    under its flat name (`settings.tsa_url`, `settings.lo_timeout`: `_KEYS`), and every path of the root."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    root: Path
    intake: IntakeSettings = IntakeSettings()
    mailboxes: MailboxSettings = MailboxSettings()
    libreoffice: LibreOfficeSettings = LibreOfficeSettings()
    signing: SigningSettings = SigningSettings()
    organisaties: SkipValidation[Mapping[str, Organisatie]] = Field(default_factory=lambda: MappingProxyType({}))
    """Organisation master data by code (`[organisaties.<code>]`)."""
    artsen: SkipValidation[Mapping[str, Arts]] = Field(default_factory=lambda: MappingProxyType({}))
    """The doctors' registry by BIG number (`[artsen.<BIG>]`, `pipeline.core.artsen`)."""
    demo_services: bool = False
    """True when tsa_url is the DEMO PKI's own TSA because none was configured: `sopipe watch` runs the DEMO
    trust services itself (`pipeline.shell.app.signing_services`)."""

    def replace(self, **changes: Any) -> "Settings":
        """A copy with values changed by their flat names (`replace(tsa_url=..., level_advies="B-B")`)."""
        tables: dict[str, dict[str, Any]] = {}
        top = {}
        for name, value in changes.items():
            if name in _FLAT:
                section, key_name = _FLAT[name]
                tables.setdefault(section, {})[key_name] = value
            elif name in type(self).model_fields:
                top[name] = value
            else:
                raise TypeError(f"Settings has no value {name!r}")
        for section, values in tables.items():
            top[section] = getattr(self, section).model_copy(update=values)
        return self.model_copy(update=top)

    # keys whose value on `Settings` is resolved against the root or the machine

    @property
    def pki_dir(self) -> Path:
        return self.root / self.signing.pki_dir

    @property
    def seal_p12(self) -> Path | None:
        """The seal's PKCS#12 file; None: pki_dir/seal.p12."""
        return None if self.signing.seal_p12 is None else self.root / self.signing.seal_p12

    @property
    def extra_trust_roots(self) -> tuple[Path, ...]:
        return tuple(self.root / r for r in self.signing.extra_trust_roots)

    @property
    def parallel_cases(self) -> int:
        return self.intake.parallel_cases or 2 * (os.cpu_count() or 1)

    @property
    def recipient_groups(self) -> tuple[tuple[str, str], ...]:
        """(("<party>/<code>", group), ...) from [mailboxes.recipients]."""
        return tuple(sorted(self.mailboxes.recipients.items()))

    @property
    def party_groups(self) -> dict[str, str]:
        """{party folder name: group} for the parties with a configured group."""
        m = self.mailboxes
        return {party: group for party, group in (
            ("werknemer", m.group_werknemer), ("bedrijfsarts", m.group_bedrijfsarts),
            ("so-bedrijfsarts", m.group_so_bedrijfsarts), ("werkgever", m.group_werkgever),
            ("arbodienst", m.group_arbodienst), ("archief", m.group_archief)) if group}

    def signing_level(self, signer) -> str:
        """The PAdES level of a signature by `signer` (a `Signer`): `level_advies` for the SO doctor's (the final
        advice), `level_machtiging` for the seal's and the own doctor's. A document kind (`advies`, `machtiging-…`)
        still works: the level of the signer of its routing row."""
        from pipeline.core.kinds import ROWS, Signer

        if not isinstance(signer, Signer):
            row = ROWS.get(signer)
            signer = row.sign if row is not None and row.sign is not None else Signer.ZEGEL
        return pades.signature_level(signer, level_advies=self.signing.level_advies,
                                     level_machtiging=self.signing.level_machtiging,
                                     timestamps=bool(self.signing.tsa_url)).value

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
                + ("" if self.signing.tsa_url else " (er is geen tijdstempelserver ingesteld: [signing] tsa_url)")
                + ": zonder ingebedde validatiegegevens en archieftijdstempel is zo'n handtekening na het verlopen "
                "van het certificaat van de ondertekenaar niet meer te controleren, terwijl het dossier 20 jaar "
                "bewaard wordt. Stel tsa_url in voor PAdES B-LTA."]

    # every path of the root

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def inbox(self) -> Path:
        return self.root.joinpath(*INBOX)

    @property
    def processed(self) -> Path:
        return self.root.joinpath(*PROCESSED)

    @property
    def failed(self) -> Path:
        return self.root.joinpath(*FAILED)

    @property
    def outbox(self) -> Path:
        return self.root.joinpath(*OUTBOX)

    @property
    def archive(self) -> Path:
        """`outbox/archief/`: one copy of every document per case."""
        return self.root.joinpath(*ARCHIVE)

    @property
    def quarantine(self) -> Path:
        return self.root.joinpath(*QUARANTINE)

    @property
    def state(self) -> Path:
        return self.root.joinpath(*STATE)

    @property
    def database(self) -> Path:
        return self.root.joinpath(*DATABASE)

    @property
    def stage(self) -> Path:
        """The intake stage `state/intake/` (see `STAGE`)."""
        return self.root.joinpath(*STAGE)

    @property
    def staging(self) -> Path:
        return self.root.joinpath(*STAGING)

    @property
    def scratch(self) -> Path:
        return self.root.joinpath(*SCRATCH)

    @property
    def watch_lock(self) -> Path:
        return self.root.joinpath(*WATCH_LOCK)

    @property
    def templates(self) -> Path:
        return TEMPLATES


_FLAT: Mapping[str, tuple[str, str]] = MappingProxyType({flat: sk for sk, flat in _KEYS.items()})


def _flat_property(section: str, name: str) -> property:
    return property(lambda self: getattr(getattr(self, section), name),
                    doc=f"`[{section}] {name}` ({SECTIONS[section].model_fields[name].description})")


for _flat, (_section, _name) in _FLAT.items():
    if _flat not in vars(Settings):  # resolved above
        setattr(Settings, _flat, _flat_property(_section, _name))


# --- reading sopipe.toml ---------------------------------------------------------------------------------------------

def load_settings(root: Path) -> Settings:
    """The settings of `root` from its sopipe.toml (all defaults without one); PipelineError naming the key."""
    root = Path(root).resolve()
    path = root / CONFIG_NAME
    data: dict = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise PipelineError(f"{path}: not valid TOML: {e}") from e
    try:
        config = SopipeToml.model_validate(data, context={"root": root})
    except ValidationError as e:
        raise PipelineError(_one_line(path, e), field=_field(e)) from None
    organisaties = {code: table.organisatie(code) for code, table in config.organisaties.items()}
    for code, org in organisaties.items():
        if org.logo:  # inside the root, a PNG or JPEG image (pipeline/adapters/logo.py)
            from pipeline.adapters.logo import check_logo
            organisaties[code] = dataclasses.replace(org, logo=check_logo(
                path, code, org.logo, written_by_others=(INBOX[0], OUTBOX[0], QUARANTINE[0], STATE[0])))
    settings = Settings(root=root, **{name: getattr(config, name) for name in SECTIONS},
                        organisaties=MappingProxyType(organisaties),
                        artsen=MappingProxyType({big: table.arts(big) for big, table in config.artsen.items()}))
    settings = _default_demo_tsa(settings)
    for name in ("level_machtiging", "level_advies"):
        level = getattr(settings.signing, name)
        if level not in (None, "B-B") and not settings.signing.tsa_url:
            raise PipelineError(f"{path}: [signing] {name} = {level!r} needs a timestamp server: set tsa_url",
                                field=name)
    return settings


def _default_demo_tsa(settings: Settings) -> Settings:
    """No tsa_url configured (not even empty) on the DEMO PKI with trust services: use its own TSA."""
    if "tsa_url" in settings.signing.model_fields_set:
        return settings
    from pipeline.adapters import pki
    urls = pki.read_services_url(settings.pki_dir) if pki.is_demo_pki(settings.pki_dir) else None
    return settings if urls is None else settings.replace(tsa_url=urls.tsa, demo_services=True)


def _where(loc: tuple) -> tuple[str, str | None]:
    """("[signing]", "seal_pin") for a pydantic location; the key is None for a whole table."""
    loc = tuple(str(p) for p in loc)
    if loc[:1] in (("organisaties",), ("artsen",)) and len(loc) >= 2:
        table, rest = f"[{loc[0]}.{loc[1]}]", loc[2:]
    else:
        table, rest = f"[{loc[0]}]", loc[1:]
    rest = tuple(p for p in rest if p != "[key]" and not p.isdigit())
    return table, (rest[0] if rest else None)


def _field(e: ValidationError) -> str | None:
    return _where(e.errors()[0]["loc"])[1]


def _one_line(path: Path, e: ValidationError) -> str:
    """The first problem of a ValidationError as one line naming the file and the key (no pydantic dump)."""
    errors = e.errors()
    first = errors[0]
    table, name = _where(first["loc"])
    kind = first["type"]
    if kind == "missing":
        missing = [n for err in errors if err["type"] == "missing" and _where(err["loc"])[0] == table
                   for n in [_where(err["loc"])[1]]]
        return f"{path}: {table} needs {', '.join(missing)}"
    if kind == "extra_forbidden":
        return f"{path}: unknown setting {table}" + (f" {name}" if name else "")
    if name is None and kind in ("model_type", "dict_type"):
        if table == "[organisaties]":
            return f"{path}: [organisaties] must hold one table per organisation: [organisaties.<code>]"
        if table == "[artsen]":
            return f"{path}: [artsen] must hold one table per doctor: [artsen.<BIG-nummer>]"
        return f"{path}: '{table[1:-1]}' must be a [section]"
    where = f"{table} {name}" if name else table
    if kind == "value_error":
        return f"{path}: {where}{' ' if name else ': '}{first['ctx']['error']}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"{path}: {where} must not be negative"
    if kind == "string_too_short":
        return f"{path}: {where} must be a non-empty text"
    return f"{path}: {where} has the wrong type ({first['input']!r})"


# --- generated: the default sopipe.toml and the settings table of docs/configuration.md ------------------------------

_MEDICAL_VAT_EXEMPTION = ("Vrijgesteld van omzetbelasting op grond van art. 11 lid 1 sub g Wet op de omzetbelasting "
                          "1968 (gezondheidskundige verzorging van de mens door een arts).")
DEMO_ORGANISATIES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "arbonoord": {
        "naam": "ArboNoord", "straat": "Stationsplein 1", "postcode": "3511 ED", "plaats": "Utrecht",
        "telefoon": "030 123 45 67", "email": "secretariaat@arbonoord.example", "kvk_nummer": "12345678",
        "iban": "NL91 ABNA 0417 1643 00",
        "klachten": "Een klacht kunt u schriftelijk indienen bij de klachtenfunctionaris van ArboNoord, "
                    "Stationsplein 1, 3511 ED Utrecht (klachten@arbonoord.example), volgens de klachtenregeling "
                    "van ArboNoord."},
    "arbopraktijk-visser": {
        "naam": "Arbopraktijk Visser", "straat": "Stadsring 88", "postcode": "3811 HR", "plaats": "Amersfoort",
        "telefoon": "033 765 43 21", "email": "e.visser@arbopraktijkvisser.example", "kvk_nummer": "87654321",
        "iban": "NL20 INGB 0001 2345 67",
        "btw_vrijstelling": _MEDICAL_VAT_EXEMPTION,
        "klachten": "Een klacht over de second opinion kunt u schriftelijk indienen bij Arbopraktijk Visser, "
                    "Stadsring 88, 3811 HR Amersfoort; komt u er samen niet uit, dan kunt u zich wenden tot de "
                    "onafhankelijke klachtencommissie waarbij de praktijk is aangesloten (zie de klachtenregeling "
                    "van de praktijk)."},
    "smit-bg": {
        "naam": "Smit Bedrijfsgeneeskunde", "straat": "Kerkstraat 5", "postcode": "3811 CV", "plaats": "Amersfoort",
        "telefoon": "033 111 22 33", "email": "k.smit@smitbg.example", "kvk_nummer": "11223344",
        "iban": "NL44 RABO 0123 4567 89",
        "btw_vrijstelling": _MEDICAL_VAT_EXEMPTION,
        "klachten": "Een klacht kunt u schriftelijk indienen bij Smit Bedrijfsgeneeskunde, Kerkstraat 5, 3811 CV "
                    "Amersfoort, volgens de klachtenregeling van de praktijk."},
})
"""The DEMO organisations of the fictional example case SO-2026-0042, written by `sopipe init`."""

WIDTH = 116


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent="# ", subsequent_indent="# ",
                         break_long_words=False, break_on_hyphens=False)


def _toml(name: str, value: Any) -> str:
    import tomli_w
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list):  # one line, as a person writes a short array
        return f"{tomli_w.dumps({name: 0}).split(' = ')[0]} = [" + ", ".join(
            tomli_w.dumps({"v": v})[4:-1] for v in value) + "]"
    return tomli_w.dumps({name: value}).rstrip("\n")


def _sentence(description: str) -> str:
    text = description[0].upper() + description[1:]
    return text if text.endswith(".") else text + "."


def _table_lines(name: str, model: type[_Table]) -> list[str]:
    lines = ["", *_comment(" ".join(model.__doc__.split())), f"[{name}]"]
    nested = []
    for key_name, f in model.model_fields.items():
        if isinstance(f.default, dict):  # a sub-table: after the plain keys
            nested.append((key_name, f))
            continue
        shown = (f.json_schema_extra or {}).get("shown")
        lines += _comment(_sentence(f.description) + (f" Default: {shown}." if shown and shown != "none" else ""))
        if f.default is None or (f.default in ((), []) and f.examples):
            lines.append("# " + _toml(key_name, f.examples[0]))
        else:
            lines.append(_toml(key_name, f.default))
    for key_name, f in nested:
        lines += _comment(_sentence(f.description))
        lines.append(f"# [{name}.{key_name}]")
        lines += ["# " + _toml(k, v) for k, v in (f.default or f.examples[0]).items()]
    return lines


def default_config() -> str:
    """The sopipe.toml `sopipe init` writes: every key with its default and meaning, and the DEMO organisations."""
    lines = _comment(SopipeToml.__doc__)
    for name, model in SECTIONS.items():
        lines += _table_lines(name, model)
    lines += [""] + _comment(" ".join(OrganisatieSettings.__doc__.split()))
    for code, table in DEMO_ORGANISATIES.items():
        lines += [f"[organisaties.{code}]"] + [_toml(k, v) for k, v in table.items()] + [""]
    lines += _comment(" ".join(ArtsSettings.__doc__.split()))
    lines += ["# [artsen.39087654301]", '# naam = "Dr. E. Visser"', '# uzi_nummer = "12345678"',
              f'# certificaat_sha256 = ["{":".join(["3F"] * 32)}"]', ""]
    return "\n".join(lines)


def _shown_default(f) -> str:
    shown = (f.json_schema_extra or {}).get("shown")
    if shown:
        return shown
    if f.is_required():
        return "required"
    if f.default is None:
        return "none"
    return f"`{_toml('k', f.default)[4:]}`"


def readme_table() -> str:
    """The table of every key, in docs/configuration.md."""
    rows = ["| section | key | default | meaning |", "|---|---|---|---|"]
    tables = [*((f"[{name}]", model) for name, model in SECTIONS.items()),
              ("[organisaties.<code>]", OrganisatieSettings), ("[artsen.<BIG>]", ArtsSettings)]
    for table, model in tables:
        for key_name, f in model.model_fields.items():
            rows.append(f"| `{table}` | `{key_name}` | {_shown_default(f)} | {f.description} |")
    return "\n".join(rows) + "\n"


DEFAULT_CONFIG = default_config()

CONFIGURATION_PAGE = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
"""The page that holds the generated settings table (in a checkout)."""
README_BEGIN = "<!-- settings table: generated from pipeline/settings.py by `make settings-table` -->\n"
README_END = "<!-- end of the settings table -->\n"


def readme_with_table(readme: str) -> str:
    """`readme` with the settings table between its markers replaced by the generated one."""
    start, end = readme.index(README_BEGIN) + len(README_BEGIN), readme.index(README_END)
    return readme[:start] + readme_table() + readme[end:]


def main(argv: list[str]) -> int:
    """`python -m pipeline.settings --readme-table | --default-config | --readme [docs/configuration.md]`
    (`--readme` rewrites the settings table between its markers in that page)."""
    if argv[:1] == ["--readme-table"]:
        sys.stdout.write(readme_table())
    elif argv[:1] == ["--default-config"]:
        sys.stdout.write(DEFAULT_CONFIG)
    elif argv[:1] == ["--readme"]:
        path = Path(argv[1] if len(argv) > 1 else CONFIGURATION_PAGE)
        path.write_text(readme_with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        sys.stderr.write(main.__doc__ + "\n")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
