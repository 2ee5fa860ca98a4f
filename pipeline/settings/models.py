"""Configuration: the tables of `sopipe.toml`, their validators, and `load_settings`, which reads the file once at
the edge into frozen `Settings`.

Each key is declared once, below, as a field of the frozen pydantic model of its TOML table: its type, default,
constraints and description. It is read under its table (`settings.signing.tsa_url`); a few keys also have a value
resolved against the root or the machine (`settings.pki_dir`, `settings.parallel_cases`). The file `sopipe init`
writes and the settings table of docs/configuration.md are generated from these models (`pipeline.settings.generate`).
Every value has a default that works; an unknown key or a value of the wrong type is a one-line error at start-up
naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Mapping

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, SkipValidation, StringConstraints,
                      ValidationError, ValidationInfo, field_validator, model_validator)

from pipeline.core.artsen import Arts
from pipeline.core import pades
from pipeline.core.organisaties import Organisatie
from pipeline.errors import PipelineError
from pipeline.settings.layout import CONFIG_NAME, INBOX, OUTBOX, PKI, QUARANTINE, STATE, RootLayout

SECRET_SOURCES = ("env", "file", "credential")
"""Where a secret may come from: never a value written in sopipe.toml, never a file inside the root."""
PADES_LEVELS = tuple(level.value for level in pades.PadesLevel)


# --- the keys, one model per TOML table ------------------------------------------------------------------------------

def key(default: Any, description: str, *, example: Any = None, shown: str | None = None, **constraints: Any) -> Any:
    """One setting: its default, what it means (README table and sopipe.toml comment), and optionally an
    example (written commented out when there is no default) and how the README shows a computed default."""
    return Field(default, description=description, examples=None if example is None else [example],
                 json_schema_extra=None if shown is None else {"shown": shown}, **constraints)


class _Table(BaseModel):
    """A TOML table: frozen, no unknown key, no silent conversion ("2" is not a number, 1 is not true)."""
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


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
                            "pipeline's own user gets in (0700/0600)", example="so-secretariaat")


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
        "keeps no copy)")
    recipients: dict[str, str] = key(
        {}, "table `[mailboxes.recipients]`: a group per recipient folder, `\"<party>/<code>\" = \"<group>\"` "
        "(code: the organisation's code, `kvk-<number>`, `naam-<slug>` or a doctor's BIG number); such a group "
        "can only reach its own folder", example={"werkgever/acme": "acme-hr"}, shown="none")

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
    pki_dir: str = key(PKI[0], "folder with `ca.pem` and the seal; DEMO: also `doctor-<BIG>.p12` and `passphrase` "
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
KEYS: tuple[tuple[str, str], ...] = tuple(
    (section, name) for section, model in SECTIONS.items() for name in model.model_fields)
"""Every (table, key) of the tables of plain keys, in the order of the file."""


# --- the settings of one root --------------------------------------------------------------------------------------

class Settings(RootLayout, BaseModel):
    """The settings of one root: its tables as read from sopipe.toml, each key under its table
    (`settings.signing.tsa_url`, `settings.libreoffice.timeout`), the keys resolved against the root or the machine
    (`settings.pki_dir`, `settings.parallel_cases`), and every path of the root (`RootLayout`)."""
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
        """A copy with values changed: a table's keys by a mapping (`replace(signing={"tsa_url": url,
        "level_advies": "B-B"})`), the other values by name (`replace(demo_services=True)`). An unknown table, key
        or value is a TypeError."""
        top: dict[str, Any] = {}
        for name, value in changes.items():
            if name in SECTIONS and not isinstance(value, _Table):
                table = getattr(self, name)
                unknown = sorted(set(value) - set(type(table).model_fields))
                if unknown:
                    raise TypeError(f"[{name}] has no key {', '.join(map(repr, unknown))}")
                top[name] = table.model_copy(update=value)
            elif name in type(self).model_fields:
                top[name] = value
            else:
                raise TypeError(f"Settings has no value {name!r}")
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
    from pipeline.adapters import demo_pki
    urls = demo_pki.read_services_url(settings.pki_dir) if demo_pki.is_demo_pki(settings.pki_dir) else None
    return settings if urls is None else settings.replace(signing={"tsa_url": urls.tsa}, demo_services=True)


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
