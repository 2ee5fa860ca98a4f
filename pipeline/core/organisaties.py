"""Organisation master data (stamgegevens) and the facts a decision needs from outside the case (pure values).

An arbodienst and a second-opinion practice are configured once in `sopipe.toml` (`[organisaties.<code>]`),
not retyped in every case file: address, phone, KvK, IBAN, VAT status, complaints procedure. A case file refers
to them by code (`arbodienst.code`, `so_bedrijfsarts.praktijk`). The shell reads the configuration and the
stored invoice numbers and passes them to `decide` as `Facts`; the core never reads a file or a database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from pipeline.core.dutch import postcode


@dataclass(frozen=True)
class Organisatie:
    """One configured organisation: an arbodienst or a second-opinion practice."""
    code: str
    """The code case files use to refer to it (lower case)."""
    naam: str
    """Name as printed (letterhead, sender block of an invoice)."""
    straat: str
    postcode: str
    plaats: str
    telefoon: str | None = None
    email: str | None = None
    kvk_nummer: str | None = None
    """Chamber of Commerce number (8 digits); printed on invoices."""
    iban: str | None = None
    """Account the invoices are paid to."""
    btw_nummer: str | None = None
    """VAT identification number; printed on invoices when the services are taxed."""
    btw_vrijstelling: str | None = None
    """The VAT exemption text printed on invoices (e.g. art. 11 lid 1 sub g Wet OB): only when configured."""
    btw_tarief: str | None = None
    """VAT rate in percent (e.g. "21") when the services are taxed; None: no VAT line beyond the exemption."""
    klachten: str | None = None
    """How to complain (the complaints procedure and where to send a complaint), one or two sentences."""
    logo: str | None = None
    """Path of a logo image (optional)."""

    @property
    def adresregels(self) -> list[str]:
        return [self.straat, f"{postcode(self.postcode)}\u00a0{self.plaats}"]


KEYS: Mapping[str, type] = MappingProxyType({
    "naam": str, "straat": str, "postcode": str, "plaats": str, "telefoon": str, "email": str,
    "kvk_nummer": str, "iban": str, "btw_nummer": str, "btw_vrijstelling": str, "btw_tarief": str,
    "klachten": str, "logo": str})
REQUIRED = ("naam", "straat", "postcode", "plaats")


@dataclass(frozen=True)
class Facts:
    """What a decision needs to know beyond the case's own events (passed in by the shell)."""
    organisaties: Mapping[str, Organisatie] = field(default_factory=lambda: MappingProxyType({}))
    """Configured master data by code."""
    factuurnummers: Mapping[tuple[str, str], str] = field(default_factory=lambda: MappingProxyType({}))
    """(issuer, invoice number) -> kenmerk of the case that already used it (every stored `facturatie`)."""


INVOICE_KEYS = ("kvk_nummer", "iban", "btw_nummer of btw_vrijstelling")
"""What an invoice needs beyond name and address (which every `[organisaties.<code>]` has) to be paid and booked."""


def missing_for_invoice(org: Organisatie) -> tuple[str, ...]:
    """The master-data keys `org` still lacks before it can issue a payable invoice (empty: complete).

    An accountant books an invoice only with the issuer's KvK number and a VAT number or the exemption it claims
    (Wet OB art. 35a: an invoice states one or the other), and pays it only to an account."""
    missing = []
    if not org.kvk_nummer:
        missing.append("kvk_nummer")
    if not org.iban:
        missing.append("iban")
    if not org.btw_nummer and not org.btw_vrijstelling:
        missing.append("btw_nummer of btw_vrijstelling")
    return tuple(missing)


def issuer(praktijk: str | None, organisatie: str) -> str:
    """Who issues the SO doctor's invoices: the configured practice code, else the practice name as given."""
    return praktijk or organisatie.strip().casefold()
