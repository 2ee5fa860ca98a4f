"""The case-file contract with the secretariats (CASEFILE.md) as pydantic v2 models.

One JSON file is one event moving one case (`kenmerk`) one step further. The field names are the public
interface; `schema/casefile.schema.json` is generated from `CaseEvent` and a test keeps the two in sync.
Unknown fields are errors (a typo must never silently drop data); booleans, dates and money are strict.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from decimal import Decimal
from typing import Annotated, Literal, Union

from pydantic import (AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field,
                      StrictBool, TypeAdapter)

from stdnum.nl import bsn as stdnum_bsn

from pipeline.core.redaction import contains_bsn

SCHEMA_ID = "so-pipeline/v1"


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _iso_string(value: object) -> object:
    # pydantic would accept a number as a Unix timestamp; the contract says ISO 8601 text.
    if not isinstance(value, str):
        raise ValueError("moet een datum als tekst zijn, bijvoorbeeld \"2026-11-20\"")
    return value


def _bsn(value: str) -> str:
    if not stdnum_bsn.is_valid(value):
        raise ValueError("is geen geldig BSN (de elfproef klopt niet)")
    return stdnum_bsn.compact(value)


def _money(value: object) -> object:
    if not isinstance(value, str) or not re.fullmatch(r"\d{1,7}(\.\d{1,2})?", value):
        raise ValueError("moet een bedrag in euro als tekst zijn, bijvoorbeeld \"485.00\"")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_string)]
Moment = Annotated[AwareDatetime, BeforeValidator(_iso_string)]
Text = Annotated[str, Field(min_length=1, max_length=100_000)]
Short = Annotated[str, Field(min_length=1, max_length=200)]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Bsn = Annotated[str, Field(pattern=r"^[0-9][0-9 .-]{7,11}[0-9]$"), AfterValidator(_bsn)]
Money = Annotated[Decimal, BeforeValidator(_money)]
def _not_a_bsn(value: str) -> str:
    if contains_bsn(value):  # a kenmerk names folders and audit records: it must never be the employee's BSN
        raise ValueError("mag geen BSN bevatten: het kenmerk staat in mapnamen en in het logboek")
    if value.casefold() == "facturen":  # the employer's invoice folder beside the case folders (routing)
        raise ValueError("'facturen' is geen geldig kenmerk: zo heet de map met facturen in de postbus van de "
                         "werkgever")
    return value


Kenmerk = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{3,40}$"), AfterValidator(_not_a_bsn)]
BigNummer = Annotated[str, Field(pattern=r"^[0-9]{11}$")]
OrgCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,39}$")]
"""An organisation's own short code (lower case), configured by the arbodienst; never employee data."""
KvkNummer = Annotated[str, Field(pattern=r"^[0-9]{8}$")]


class Profiel(str, enum.Enum):
    NVAB = "nvab"
    LPBSO = "lpbso"
    VITAAL = "vitaal"
    VSD = "vsd"
    PREVENTIX = "preventix"


class Besluit(str, enum.Enum):
    """The employee's answer to a request for consent (machtiging)."""
    VERLEEND = "verleend"
    GEWEIGERD = "geweigerd"


class Adres(Frozen):
    straat: Short
    postcode: Annotated[str, Field(pattern=r"^[1-9][0-9]{3} ?[A-Za-z]{2}$")]
    plaats: Short


class Werknemer(Frozen):
    naam: Short
    voorletters: Annotated[str, Field(min_length=1, max_length=20)]
    geboortedatum: IsoDate
    bsn: Bsn | None = None
    adres: Adres
    email: Email
    telefoon: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 ()-]{6,18}[0-9]$")]
    personeelsnummer: Short | None = None


class Werkgever(Frozen):
    naam: Short
    adres: Adres
    kostenplaats: Short | None = None
    contactpersoon: Short | None = None
    code: OrgCode | None = None
    """The employer's code at the arbodienst (names its mailbox folder); optional."""
    kvk_nummer: KvkNummer | None = None
    """The employer's KvK number (Chamber of Commerce); optional."""


class Arts(Frozen):
    naam: Short
    big_nummer: BigNummer
    organisatie: Short
    email: Email


class SoArts(Arts):
    in_arbocontract: StrictBool
    praktijk: OrgCode | None = None
    """The code of the SO doctor's practice in the configured master data (address, phone, KvK, IBAN, VAT,
    complaints procedure); optional: without it letters show the practice name and e-mail only."""


class MachtigingBewijs(Frozen):
    """How the employee's decision on a consent came about: the evidence the machtiging states."""
    wijze: Literal["papier_gescand", "elektronisch_ondertekend", "mondeling_bevestigd"]
    """Signed on paper and scanned; signed electronically; given in the consultation and confirmed in writing."""
    datum: IsoDate
    """When the employee decided (signed, or said so in the consultation)."""
    vastgelegd_door: Short
    """The named user who recorded the decision (e.g. "J. de Wit, secretariaat ArboNoord")."""
    bevestigd_door: Short | None = None
    """With `mondeling_bevestigd`: who confirmed it (e.g. the SO doctor) and how."""
    geldig_tot: IsoDate | None = None
    """End date of the consent; without it: until the second opinion is completed."""
    vindplaats: Short | None = None
    """Where the form the employee signed is kept (e.g. "papieren dossier ArboNoord Utrecht, map SO-2026-0042"),
    stated by the named `vastgelegd_door`: with `papier_gescand` or `elektronisch_ondertekend` this puts the
    employee's written consent in the dossier, so medical data and information requests may go. Without it they
    wait until the signed form itself comes back into `inbox/` (`<kenmerk>_machtiging-<consent>….pdf`)."""


class Arbodienst(Frozen):
    naam: Short
    adres: Adres
    code: OrgCode | None = None
    """The arbodienst's configured code (names its mailbox folder, refers to its master data); optional."""
    kvk_nummer: KvkNummer | None = None
    """The arbodienst's KvK number; optional."""


class _Event(Frozen):
    schema_: Literal["so-pipeline/v1"] = Field(alias="schema")
    kenmerk: Kenmerk
    datum: IsoDate
    ingediend_door: Short | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, populate_by_name=True)


class Verzoek(_Event):
    stap: Literal["verzoek"]
    profiel: Profiel = Profiel.NVAB
    verzocht_door: Short
    via: Literal["bedrijfsarts", "casemanager", "werkgever", "servicedesk"] | None = None
    betreft: Literal["verzuimbegeleiding", "pago_pmo", "consultatie", "aanstellingskeuring"]
    datum_betwist_advies: IsoDate
    betwist_advies: Text
    werknemer: Werknemer
    werkgever: Werkgever
    bedrijfsarts: Arts
    arbodienst: Arbodienst


class Beoordeling(_Event):
    stap: Literal["beoordeling"]
    uitkomst: Literal["geschikt", "alternatief_geadviseerd", "geweigerd"]
    alternatief: Text | None = None
    werknemer_wil_toch: StrictBool | None = None
    zwaarwegende_reden: Text | None = None


class Selectie(_Event):
    stap: Literal["selectie"]
    so_bedrijfsarts: SoArts
    tweede_keuze: SoArts | None = None
    werkgever_vergoedt: StrictBool = False


class Beschikbaarheid(_Event):
    stap: Literal["beschikbaarheid"]
    beschikbaar: StrictBool


class Aanvraag(_Event):
    stap: Literal["aanvraag"]
    vraagstelling: Text
    werkgegevens: Text
    medische_gegevens: Text | None = None
    machtiging_medische_gegevens: Besluit
    bewijs: MachtigingBewijs | None = None
    """How the employee decided on `machtiging_medische_gegevens`; optional (the machtiging then says so)."""


class Uitvoering(_Event):
    stap: Literal["uitvoering"]
    spreekuur: Moment
    locatie: Short


class SpreekuurGehouden(_Event):
    stap: Literal["spreekuur_gehouden"]
    """Optional (step 5): the employee has met the SO doctor. In the Preventix profile this releases the request
    form with medical data to the SO doctor (PROCEDURE.md: no medical data before the employee met the SO
    doctor); without this file they go with the first later event dated on or after the consultation day."""
    medische_gegevens_opvragen: StrictBool | None = None
    """Preventix only (step 5: employee and SO doctor decide together whether the SO doctor asks for medical data):
    false keeps the form with medical data from the SO doctor; absent means yes."""


class ExtraInformatie(_Event):
    stap: Literal["extra_informatie"]
    bron: Literal["bedrijfsarts", "behandelaar", "werkgever"]
    bron_naam: Short
    bron_adres: Adres | None = None
    """The postal address of a treating physician's practice (`bron` behandelaar), printed under its name in the
    information request; optional (the own doctor and the employer have theirs in the request)."""
    vraag: Text
    toestemming: Besluit
    bewijs: MachtigingBewijs | None = None
    """How the employee decided on `toestemming`; optional."""


class _AdviesVelden(_Event):
    bevindingen: Text
    conclusie: Text
    onderbouwing: Text
    werkadvies: Text


class Conceptadvies(_AdviesVelden):
    stap: Literal["conceptadvies"]


class DefinitiefAdvies(_AdviesVelden):
    stap: Literal["definitief_advies"]
    opmerkingen_werknemer: Text | None = None
    machtiging_advies_delen_bedrijfsarts: Besluit
    machtiging_advies_delen_werkgever: Besluit | None = None
    bewijs: MachtigingBewijs | None = None
    """How the employee decided on sharing the advice; optional."""


class BeoordelingAdvies(_Event):
    stap: Literal["beoordeling_advies"]
    overname: Literal["geheel", "gedeeltelijk", "niet"]
    motivering: Text
    advies_aangepast: StrictBool
    aangepast_werkadvies: Text | None = None
    advies_overhandigd: StrictBool = False
    """The employee handed the final advice to the own doctor personally (needed when sharing was refused)."""


class Facturatie(_Event):
    stap: Literal["facturatie"]
    factuurnummer: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,39}$")]
    bedrag: Money
    omschrijving: Short
    uren: Annotated[Decimal, BeforeValidator(_money)] | None = None
    datum_dienst: IsoDate | None = None
    """Date the service was delivered; default: the date of the final advice."""
    praktijk: OrgCode | None = None
    """The issuing SO practice's code in the master data (`[organisaties.<code>]`), for a case whose selection
    named none: an invoice needs the issuer's address, KvK number, IBAN and VAT number or exemption."""


class Intrekking(_Event):
    stap: Literal["intrekking"]
    machtiging: Literal["medische_gegevens", "extra_informatie", "advies_delen_bedrijfsarts",
                        "advies_delen_werkgever"]
    bron: Literal["bedrijfsarts", "behandelaar", "werkgever"] | None = None
    reden: Text | None = None


class MachtigingOndertekend(_Event):
    stap: Literal["machtiging_ondertekend"]
    """Any time after the step that asked for it: the employee signed the machtiging that was still to be signed,
    and the case file states where the signed form is kept (instead of returning a scan)."""
    machtiging: Literal["medische_gegevens", "extra_informatie"]
    bron: Literal["bedrijfsarts", "behandelaar", "werkgever"] | None = None
    """With `extra_informatie`: the source the consent is for."""
    bewijs: MachtigingBewijs
    """How and when the employee signed, who records it, and `vindplaats` (required here): where the form is kept."""


class MachtigingOntvangen(_Event):
    """Not a case file: the pipeline's own record that a consent form signed by the employee came back into
    `inbox/` and was archived (`pipeline.shell.runner.ConsentFormWork`). It is stored among the case's events so
    that the fold knows the written consent is in the dossier; a case file with this `stap` is refused."""
    stap: Literal["machtiging_ontvangen"]
    machtiging: Annotated[str, Field(pattern=r"^[a-z_]+(:[a-z]+)?$")]
    """The consent the form signs, as the case state names it (`medische_gegevens`, `extra_informatie:behandelaar`)."""
    bestand: Short
    """The form's name in the case's archive folder."""
    ontvangen: IsoDate
    """The (Dutch) day it came in; `datum` stays the case's last date, so later case files keep their order."""
    gescand: StrictBool
    """A scan (no electronic signature in the file)."""
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]


CaseEvent = Annotated[
    Union[Verzoek, Beoordeling, Selectie, Beschikbaarheid, Aanvraag, Uitvoering, SpreekuurGehouden,
          ExtraInformatie, Conceptadvies, DefinitiefAdvies, BeoordelingAdvies, Facturatie, Intrekking,
          MachtigingOndertekend],
    Field(discriminator="stap"),
]

STAPPEN: tuple[str, ...] = ("verzoek", "beoordeling", "selectie", "beschikbaarheid", "aanvraag", "uitvoering",
                            "spreekuur_gehouden", "extra_informatie", "conceptadvies", "definitief_advies",
                            "beoordeling_advies", "facturatie", "intrekking", "machtiging_ondertekend")

EVENT_ADAPTER: TypeAdapter = TypeAdapter(CaseEvent)


def parse_event(data: object):
    """Validate decoded JSON into one of the event models (raises pydantic.ValidationError)."""
    return EVENT_ADAPTER.validate_python(data)


STORED_ADAPTER: TypeAdapter = TypeAdapter(
    Annotated[Union[CaseEvent, MachtigingOntvangen], Field(discriminator="stap")])


def parse_stored(data: object):
    """A stored event back into its model: a case file's event, or the pipeline's own `MachtigingOntvangen`."""
    return STORED_ADAPTER.validate_python(data)


def json_schema() -> dict:
    schema = EVENT_ADAPTER.json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://sopipe.example/schema/casefile.schema.json"
    schema["title"] = "sopipe case data file (so-pipeline/v1)"
    return schema
