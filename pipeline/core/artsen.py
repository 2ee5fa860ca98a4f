"""Doctors as they really are: who signed a returned document, told by the doctors' registry (pure).

A doctor is known in the case by a BIG number. A UZI-pas does not carry it: the UZI register's certificate profiles
put the card holder's UZI number in the subject's serialNumber, and the details in a SubjectAltName otherName
(OID 2.5.5.5, an IA5String `<OID-CA>-<versie>-<UZI-nummer>-<pastype>-<abonneenummer>-<rol>-<AGB-code>`, e.g.
`2.16.528.1.1003.1.3.5.5.2-1-12345678-Z-90000123-01.015-00000000`). So the master data (`[artsen.<BIG>]` in
sopipe.toml) binds each BIG number to the doctor's name and to what their signing certificate carries: the UZI
number of their UZI-pas, and/or the SHA-256 fingerprints of other certificates they sign with (a PKCS#12 file of
a qualified trust service). `signer_mismatch` decides whether a certificate is that doctor's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

UZI_OTHER_NAME_OID = "2.5.5.5"
"""The otherName type in the SubjectAltName of UZI certificates."""
PASTYPE_ZORGVERLENER = "Z"
"""The pass type of a care provider's own UZI-pas (N: employee by name, M: employee not by name, S: server)."""
PASTYPES = {"Z": "zorgverlenerpas", "N": "medewerkerpas op naam", "M": "medewerkerpas niet op naam",
            "S": "servercertificaat"}


@dataclass(frozen=True)
class Arts:
    """A doctor of the registry (`[artsen.<BIG>]`)."""
    big_nummer: str
    naam: str
    uzi_nummer: str | None = None
    """The UZI number on the doctor's UZI-pas (the certificate's subject serialNumber)."""
    certificaten: frozenset[str] = frozenset()
    """SHA-256 fingerprints (lower-case hex) of other signing certificates of this doctor."""


@dataclass(frozen=True)
class UziNaam:
    """The UZI register's otherName, split into its parts."""
    oid_ca: str
    versie: str
    uzi_nummer: str
    pastype: str
    abonneenummer: str
    rol: str
    """Role code, e.g. `01.015` (01: arts)."""
    agb: str


@dataclass(frozen=True)
class Certificaathouder:
    """What a signing certificate says about its holder."""
    naam: str
    serial_number: str | None
    """The subject's serialNumber: a UZI number on a UZI-pas, the BIG number on a DEMO doctor's certificate."""
    sha256: str
    """The certificate's SHA-256 fingerprint (lower-case hex)."""
    uzi: UziNaam | None = None


_UZI = re.compile(r"^(?P<oid>[0-9]+(?:\.[0-9]+)+)-(?P<versie>[0-9]+)-(?P<uzi>[0-9]{1,12})-(?P<pastype>[A-Z])-"
                  r"(?P<abonnee>[0-9]{1,12})-(?P<rol>[0-9]{2}(?:\.[0-9]{3})?)-(?P<agb>[0-9]{1,12})$")


def parse_uzi_name(text: str) -> UziNaam | None:
    """The parts of a UZI otherName string, or None when it is not one."""
    m = _UZI.match(text.strip())
    if not m:
        return None
    return UziNaam(m["oid"], m["versie"], m["uzi"], m["pastype"], m["abonnee"], m["rol"], m["agb"])


def normalise_fingerprint(value: str) -> str:
    """`AB:CD:…` or `abcd…` → 64 lower-case hex digits; ValueError otherwise."""
    hexed = re.sub(r"[\s:]", "", value).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", hexed):
        raise ValueError("must be a SHA-256 fingerprint: 64 hexadecimal digits (colons allowed)")
    return hexed


def signer_mismatch(holder: Certificaathouder, *, big: str, naam: str, arts: Arts | None) -> str | None:
    """Why `holder` is not the doctor with BIG number `big` (Dutch), or None when it is.

    With a registry entry: the certificate's fingerprint is one listed there, or it is a UZI-pas of that UZI
    number (serialNumber, and the otherName when present: a zorgverlenerpas of the same number with an arts
    role). Without one: the legacy and DEMO rule, the BIG number in the serialNumber."""
    if arts is None:
        if holder.serial_number == big:
            return None
        return (f"{naam} (BIG {big}) staat niet in het artsenregister ([artsen.{big}] in sopipe.toml) en het "
                f"certificaat van {holder.naam} draagt dat BIG-nummer niet (serialNumber "
                f"{holder.serial_number or 'ontbreekt'}); neem de arts op met het UZI-nummer van de UZI-pas of "
                "de vingerafdruk van het certificaat")
    if holder.sha256 in arts.certificaten:
        return None
    if arts.uzi_nummer and holder.serial_number == arts.uzi_nummer:
        uzi = holder.uzi
        if uzi is None:
            return None
        if uzi.uzi_nummer != arts.uzi_nummer:
            return (f"de UZI-gegevens in het certificaat noemen UZI-nummer {uzi.uzi_nummer}, niet "
                    f"{arts.uzi_nummer}")
        if uzi.pastype != PASTYPE_ZORGVERLENER:
            return (f"het certificaat is van een {PASTYPES.get(uzi.pastype, 'onbekend pastype ' + uzi.pastype)}, "
                    "niet van de zorgverlenerpas van de arts zelf")
        if not uzi.rol.startswith("01"):
            return f"de rol op de UZI-pas ({uzi.rol}) is niet die van een arts (01)"
        return None
    known = [f"UZI-nummer {arts.uzi_nummer}"] if arts.uzi_nummer else []
    known += [f"{len(arts.certificaten)} certificaatvingerafdruk(ken)"] if arts.certificaten else []
    return (f"het certificaat van {holder.naam} (serialNumber {holder.serial_number or 'ontbreekt'}) hoort niet bij "
            f"{arts.naam} (BIG {big}) volgens het artsenregister ({' of '.join(known) or 'niets vastgelegd'})")
