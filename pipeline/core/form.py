"""The next step of a case as a form: fields, Dutch labels and fieldsets generated from the case-file models (pure).

The desk never hand-writes a form: `form_for(stap)` walks the pydantic model of that step (`pipeline.core.model`)
and gives one `Veld` per field (its kind from the type: a choice for a `Literal` or enum, yes/no for a bool, a
date, a moment, an amount, a line or a text box) and one `Groep` (a fieldset) per nested model. The Dutch label
of each field comes from `LABELS` (one place; a test fails when a model field has none). `from_form` turns the
posted fields back into the case file's JSON object and `to_form` a case file into the posted fields (a failed
file opened again in the same form). Validation is not done here: the gateway checks the object exactly as the
intake does, and its Dutch problems come back per field path (`Veld.pad`).
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Mapping, Union
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel

from pipeline.core import model as m

TZ = ZoneInfo("Europe/Amsterdam")

MODELS: Mapping[str, type[BaseModel]] = types.MappingProxyType({
    "verzoek": m.Verzoek, "beoordeling": m.Beoordeling, "selectie": m.Selectie,
    "beschikbaarheid": m.Beschikbaarheid, "aanvraag": m.Aanvraag, "uitvoering": m.Uitvoering,
    "spreekuur_gehouden": m.SpreekuurGehouden, "extra_informatie": m.ExtraInformatie,
    "conceptadvies": m.Conceptadvies, "definitief_advies": m.DefinitiefAdvies,
    "beoordeling_advies": m.BeoordelingAdvies, "facturatie": m.Facturatie, "intrekking": m.Intrekking,
    "machtiging_ondertekend": m.MachtigingOndertekend,
})
"""The model of each step (`model.STAPPEN`)."""

NOT_ON_THE_FORM = frozenset({"schema_", "kenmerk", "stap", "ingediend_door"})
"""Set by the desk and the gateway, never typed: the schema, the case, the step, and who submitted it (the
logged-in user, by the gateway)."""

STAP_TITEL: Mapping[str, str] = types.MappingProxyType({
    "verzoek": "Verzoek om een second opinion (stap 1)",
    "beoordeling": "Beoordeling van het verzoek (stap 2)",
    "selectie": "Keuze van de second opinion-bedrijfsarts (stap 3)",
    "beschikbaarheid": "Beschikbaarheid van de second opinion-bedrijfsarts (stap 3)",
    "aanvraag": "Aanvraag bij de second opinion-bedrijfsarts (stap 4)",
    "uitvoering": "Afspraak voor het spreekuur (stap 5)",
    "spreekuur_gehouden": "Het spreekuur heeft plaatsgevonden (stap 5)",
    "extra_informatie": "Extra informatie opvragen (stap 6)",
    "conceptadvies": "Conceptadvies (stap 7)",
    "definitief_advies": "Definitief advies (stap 8)",
    "beoordeling_advies": "Beoordeling van het advies door de eigen bedrijfsarts (stap 9)",
    "facturatie": "Factuur (stap 10)",
    "intrekking": "Intrekking van een machtiging",
    "machtiging_ondertekend": "Ondertekende machtiging ontvangen (papier, bewaard buiten sopipe)",
})

LABELS: Mapping[str, str] = types.MappingProxyType({
    # the event itself
    "datum": "Datum", "profiel": "Werkwijze (profiel)", "verzocht_door": "Verzocht door",
    "via": "Verzoek binnengekomen via", "betreft": "Het betwiste advies betreft",
    "datum_betwist_advies": "Datum van het betwiste advies", "betwist_advies": "Het betwiste advies",
    # persons and organisations
    "werknemer": "Werknemer", "werkgever": "Werkgever", "bedrijfsarts": "Eigen bedrijfsarts",
    "arbodienst": "Arbodienst", "so_bedrijfsarts": "Second opinion-bedrijfsarts (eerste keuze)",
    "tweede_keuze": "Second opinion-bedrijfsarts (tweede keuze)",
    "naam": "Naam", "voorletters": "Voorletters", "geboortedatum": "Geboortedatum", "bsn": "BSN",
    "adres": "Adres", "straat": "Straat en huisnummer", "postcode": "Postcode", "plaats": "Plaats",
    "email": "E-mailadres", "telefoon": "Telefoonnummer", "personeelsnummer": "Personeelsnummer",
    "kostenplaats": "Kostenplaats", "contactpersoon": "Contactpersoon", "code": "Code in de stamgegevens",
    "kvk_nummer": "KvK-nummer", "big_nummer": "BIG-nummer", "organisatie": "Organisatie",
    "in_arbocontract": "Werkt binnen het arbocontract van de werkgever", "praktijk": "Code van de praktijk",
    # steps
    "uitkomst": "Uitkomst", "alternatief": "Geadviseerd alternatief",
    "werknemer_wil_toch": "Werknemer wil toch een second opinion",
    "zwaarwegende_reden": "Zwaarwegende reden", "werkgever_vergoedt": "De werkgever vergoedt de kosten",
    "beschikbaar": "De second opinion-bedrijfsarts is beschikbaar", "vraagstelling": "Vraagstelling",
    "werkgegevens": "Gegevens over het werk", "medische_gegevens": "Medische gegevens",
    "machtiging_medische_gegevens": "Machtiging om medische gegevens te delen",
    "bewijs": "Bewijs van de machtiging", "wijze": "Hoe de werknemer besliste",
    "vastgelegd_door": "Vastgelegd door", "bevestigd_door": "Bevestigd door", "geldig_tot": "Geldig tot",
    "vindplaats": "Waar het ondertekende formulier wordt bewaard",
    "spreekuur": "Datum en tijd van het spreekuur", "locatie": "Locatie",
    "medische_gegevens_opvragen": "Medische gegevens opvragen (alleen Preventix)",
    "bron": "Bron", "bron_naam": "Naam van de bron", "bron_adres": "Adres van de bron",
    "vraag": "Vraag", "toestemming": "Toestemming van de werknemer",
    "bevindingen": "Bevindingen", "conclusie": "Conclusie", "onderbouwing": "Onderbouwing",
    "werkadvies": "Werkadvies", "opmerkingen_werknemer": "Opmerkingen van de werknemer",
    "machtiging_advies_delen_bedrijfsarts": "Machtiging: advies delen met de eigen bedrijfsarts",
    "machtiging_advies_delen_werkgever": "Machtiging: advies delen met de werkgever",
    "overname": "Neemt de eigen bedrijfsarts het advies over?", "motivering": "Motivering",
    "advies_aangepast": "Het advies aan de werkgever is aangepast",
    "aangepast_werkadvies": "Aangepast werkadvies",
    "advies_overhandigd": "De werknemer heeft het advies zelf aan de bedrijfsarts gegeven",
    "factuurnummer": "Factuurnummer", "bedrag": "Bedrag (euro)", "omschrijving": "Omschrijving",
    "uren": "Uren", "datum_dienst": "Datum van de dienst", "machtiging": "Welke machtiging",
    "reden": "Reden",
})
"""The Dutch label of every case-file field, by its name (the same name means the same thing in every model)."""

KEUZE_LABELS: Mapping[str, str] = types.MappingProxyType({
    "verleend": "verleend", "geweigerd": "geweigerd", "nvab": "NVAB-leidraad", "lpbso": "LPBSO",
    "vitaal": "Vitaal!", "vsd": "VSD", "preventix": "Preventix", "werknemer": "de werknemer",
    "bedrijfsarts": "de bedrijfsarts", "casemanager": "de casemanager", "werkgever": "de werkgever",
    "servicedesk": "de servicedesk", "behandelaar": "een behandelaar", "verzuimbegeleiding": "verzuimbegeleiding",
    "pago_pmo": "PAGO/PMO", "consultatie": "consultatie", "aanstellingskeuring": "aanstellingskeuring",
    "geschikt": "geschikt voor een second opinion", "alternatief_geadviseerd": "alternatief geadviseerd",
    "papier_gescand": "op papier ondertekend en gescand", "elektronisch_ondertekend": "elektronisch ondertekend",
    "mondeling_bevestigd": "mondeling gegeven en schriftelijk bevestigd", "geheel": "geheel",
    "gedeeltelijk": "gedeeltelijk", "niet": "niet", "medische_gegevens": "medische gegevens",
    "extra_informatie": "extra informatie", "advies_delen_bedrijfsarts": "advies delen met de bedrijfsarts",
    "advies_delen_werkgever": "advies delen met de werkgever",
})
"""How a choice reads in a drop-down (the value itself is what the case file holds)."""

PARTIJ_LABELS: Mapping[str, str] = types.MappingProxyType({
    "werknemer": "werknemer", "werkgever": "werkgever", "bedrijfsarts": "eigen bedrijfsarts",
    "so-bedrijfsarts": "second opinion-bedrijfsarts", "arbodienst": "arbodienst", "archief": "archief",
})
"""The recipients (mailboxes) as the secretariat reads them."""

TOESTEMMING_LABELS: Mapping[str, str] = types.MappingProxyType({
    "medische_gegevens": "medische gegevens delen",
    "extra_informatie:bedrijfsarts": "extra informatie opvragen bij de eigen bedrijfsarts",
    "extra_informatie:behandelaar": "extra informatie opvragen bij een behandelaar",
    "extra_informatie:werkgever": "extra informatie opvragen bij de werkgever",
    "advies_delen_bedrijfsarts": "advies delen met de eigen bedrijfsarts",
    "advies_delen_werkgever": "werkadvies delen met de werkgever",
})
"""The consents (machtigingen) of a case as the secretariat reads them."""

Soort = Literal["tekst", "tekstvak", "datum", "moment", "keuze", "janee", "bedrag"]


@dataclass(frozen=True)
class Veld:
    """One input of the form."""
    pad: str
    """The field's path in the case file (`werknemer.adres.postcode`): its form name and the key of its errors."""
    label: str
    soort: Soort
    verplicht: bool
    keuzes: tuple[tuple[str, str], ...] = ()
    """(value, label) for `keuze`."""
    max_lengte: int | None = None
    standaard: str = ""
    """The value shown in an empty form (a default from the model)."""


@dataclass(frozen=True)
class Groep:
    """A nested model as a fieldset; `verplicht` False: left out of the case file when all its fields are empty."""
    pad: str
    label: str
    verplicht: bool
    velden: tuple["Veld | Groep", ...]

    def alle_velden(self) -> list[Veld]:
        out: list[Veld] = []
        for v in self.velden:
            out += v.alle_velden() if isinstance(v, Groep) else [v]
        return out


def label(name: str) -> str:
    return LABELS.get(name, name.replace("_", " ").capitalize())


def form_for(stap: str) -> Groep:
    """The form of one step (`KeyError` for an unknown step)."""
    return _groep(MODELS[stap], pad="", titel=STAP_TITEL[stap], verplicht=True)


def _groep(model_cls: type[BaseModel], *, pad: str, titel: str, verplicht: bool) -> Groep:
    velden: list[Veld | Groep] = []
    for name, info in model_cls.model_fields.items():
        if name in NOT_ON_THE_FORM:
            continue
        sub = f"{pad}.{name}" if pad else name
        base, optional = _unwrap(info.annotation)
        required = info.is_required()
        if isinstance(base, type) and issubclass(base, BaseModel):
            velden.append(_groep(base, pad=sub, titel=label(name), verplicht=required))
            continue
        velden.append(_veld(sub, name, base, required=required, metadata=[*info.metadata, *_metadata(info.annotation)],
                            default=None if required else info.default))
    return Groep(pad, titel, verplicht, tuple(velden))


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the type inside `X | None` and `Annotated[X, ...]`, whether None is allowed)."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            annotation = args[0] if len(args) == 1 else annotation
            if len(args) != 1:
                return annotation, optional
        else:
            return annotation, optional


def _metadata(annotation: Any) -> list[Any]:
    """Constraints inside an optional `Annotated[...]` (pydantic keeps those of a bare one in `info.metadata`)."""
    out: list[Any] = []
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Annotated:
            for meta in typing.get_args(arg)[1:]:
                out += [meta, *getattr(meta, "metadata", [])]
    return out


def _veld(pad: str, name: str, base: Any, *, required: bool, metadata: list[Any], default: Any) -> Veld:
    max_len = next((getattr(c, "max_length") for c in metadata if getattr(c, "max_length", None)), None)
    standaard = "" if default is None else (default.value if isinstance(default, enum.Enum) else
                                            ("ja" if default is True else "nee" if default is False else str(default)))
    if typing.get_origin(base) is Literal:
        values = [str(a) for a in typing.get_args(base)]
        return Veld(pad, label(name), "keuze", required, tuple((v, KEUZE_LABELS.get(v, v)) for v in values),
                    standaard=standaard)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return Veld(pad, label(name), "keuze", required,
                    tuple((e.value, KEUZE_LABELS.get(e.value, e.value)) for e in base), standaard=standaard)
    if base is bool:
        return Veld(pad, label(name), "janee", required, (("ja", "ja"), ("nee", "nee")), standaard=standaard)
    if base is dt.datetime or base is AwareDatetime:
        return Veld(pad, label(name), "moment", required)
    if base is dt.date:
        return Veld(pad, label(name), "datum", required)
    if base is Decimal:
        return Veld(pad, label(name), "bedrag", required)
    return Veld(pad, label(name), "tekstvak" if max_len and max_len > 1000 else "tekst", required,
                max_lengte=max_len, standaard=standaard)


# --- posted fields <-> the case file's JSON object -----------------------------------------------------------------

def from_form(groep: Groep, posted: Mapping[str, str]) -> dict[str, Any]:
    """The case file's object (without schema, kenmerk, stap, ingediend_door) from the posted fields. Empty fields
    are left out (a required one is then reported missing by the check); an optional fieldset left empty is left
    out whole."""
    out: dict[str, Any] = {}
    for v in groep.velden:
        name = v.pad.rsplit(".", 1)[-1]
        if isinstance(v, Groep):
            sub = from_form(v, posted)
            if sub or v.verplicht:
                out[name] = sub
            continue
        raw = str(posted.get(v.pad, "")).strip()
        if raw == "":
            continue
        out[name] = _value(v, raw)
    return out


def _value(v: Veld, raw: str) -> Any:
    if v.soort == "janee":
        return {"ja": True, "nee": False}.get(raw, raw)
    if v.soort == "moment":
        try:  # <input type="datetime-local"> gives local time without a zone: the Dutch clock
            moment = dt.datetime.fromisoformat(raw)
        except ValueError:
            return raw
        return (moment if moment.tzinfo else moment.replace(tzinfo=TZ)).isoformat()
    if v.soort == "bedrag":
        return raw.replace(",", ".")
    return raw


def to_form(groep: Groep, data: Mapping[str, Any]) -> dict[str, str]:
    """The posted fields that `from_form` turns into `data` again (a case file opened in the form)."""
    out: dict[str, str] = {}
    for v in groep.velden:
        name = v.pad.rsplit(".", 1)[-1]
        value = data.get(name) if isinstance(data, Mapping) else None
        if isinstance(v, Groep):
            if isinstance(value, Mapping):
                out.update(to_form(v, value))
            continue
        if value is None:
            continue
        if v.soort == "janee" and isinstance(value, bool):
            out[v.pad] = "ja" if value else "nee"
        elif v.soort == "moment" and isinstance(value, str):
            try:
                moment = dt.datetime.fromisoformat(value)
                out[v.pad] = (moment.astimezone(TZ) if moment.tzinfo else moment).strftime("%Y-%m-%dT%H:%M")
            except ValueError:
                out[v.pad] = value
        else:
            out[v.pad] = str(value)
    return out


def problems_by_field(groep: Groep, problems: list[tuple[str, str]]) -> tuple[dict[str, list[str]], list[str]]:
    """({field path: [problem]}, problems that belong to no field of the form) for showing errors beside fields."""
    paths = {v.pad for v in groep.alle_velden()} | _group_paths(groep)
    by_field: dict[str, list[str]] = {}
    rest: list[str] = []
    for field, text in problems:
        if field in paths:
            by_field.setdefault(field, []).append(text)
        else:
            rest.append(f"{field}: {text}" if field else text)
    return by_field, rest


def _group_paths(groep: Groep) -> set[str]:
    out = {groep.pad} if groep.pad else set()
    for v in groep.velden:
        if isinstance(v, Groep):
            out |= _group_paths(v)
    return out
