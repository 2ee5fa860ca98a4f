"""Dutch formatting and Dutch working days, pure functions (no clock: every function takes its date)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import holidays
from babel.dates import format_date, format_datetime, get_month_names
from babel.numbers import format_currency

LOCALE = "nl_NL"
MAANDEN = tuple(get_month_names("wide", locale=LOCALE)[m] for m in range(1, 13))
"""`januari` … `december` (CLDR, via babel)."""


def datum(d: dt.date) -> str:
    """`17 maart 1984`"""
    return format_date(d, "d MMMM y", locale=LOCALE)


def moment(m: dt.datetime) -> str:
    """`dinsdag 17 november 2026 om 10.30 uur` (in the moment's own offset, as the secretariat gave it)."""
    return format_datetime(m.replace(tzinfo=None), "EEEE d MMMM y 'om' H.mm 'uur'", locale=LOCALE)


def bedrag(value: Decimal) -> str:
    """`€ 1.485,00` (rounded half up, as an invoice is; a plain space after the euro sign, not CLDR's no-break:
    the renderer sets it no-break in documents, see `onbreekbaar`)."""
    q = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return format_currency(q, "EUR", format="¤ #,##0.00", locale=LOCALE, currency_digits=False)


def getal(value: Decimal) -> str:
    """`3,5`"""
    return format(value.normalize(), "f").replace(".", ",")


@lru_cache(maxsize=1)
def _kalender() -> holidays.HolidayBase:
    """holidays' NL calendar (Nieuwjaar, Pasen, Koningsdag, Bevrijdingsdag in lustrum years, Hemelvaart,
    Pinksteren, Kerst; weekend Saturday and Sunday); it adds the years it is asked about."""
    return holidays.country_holidays("NL")


def is_werkdag(d: dt.date) -> bool:
    """Monday to Friday and not a Dutch national holiday."""
    return _kalender().is_working_day(d)


def plus_werkdagen(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (start itself not counted); `start` itself for n <= 0."""
    return _kalender().get_nth_working_day(start, n) if n > 0 else start


def plus_jaren(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def aanhef(contactpersoon: str | None) -> str:
    """The salutation of a letter to an organisation: to the named contact when there is one ("H. de Vries" →
    "Geachte heer/mevrouw De Vries"; "mevrouw H. de Vries" → "Geachte mevrouw De Vries"), else the neutral form."""
    if not contactpersoon or not contactpersoon.strip():
        return "Geachte heer, mevrouw"
    words = contactpersoon.split()
    aanspreek = "heer/mevrouw"
    if words[0].lower() in ("mevrouw", "mw.", "mevr."):
        aanspreek, words = "mevrouw", words[1:]
    elif words[0].lower() in ("heer", "dhr.") or [w.lower() for w in words[:2]] == ["de", "heer"]:
        aanspreek, words = "heer", words[2:] if words[0].lower() == "de" else words[1:]
    achternaam = [w for w in words if not (w.endswith(".") and len(w) <= 4)]  # initials go, the surname stays
    if not achternaam:
        return "Geachte heer, mevrouw"
    naam = " ".join(achternaam)
    return f"Geachte {aanspreek} {naam[0].upper()}{naam[1:]}"


_POSTCODE = re.compile(r"\s*([1-9][0-9]{3})\s*([A-Za-z]{2})\s*")


def postcode(tekst: str) -> str:
    """A Dutch postcode as PostNL writes it: four digits, a space, two capitals ("1017ab" → "1017 AB"); anything
    else (a foreign postcode) unchanged."""
    m = _POSTCODE.fullmatch(tekst)
    return f"{m[1]} {m[2].upper()}" if m else tekst


def zinseinde(tekst: str) -> str:
    """`tekst` closing a sentence: one full stop, never two ("Bouwbedrijf De Vries B.V." stays as it is)."""
    return tekst if tekst.rstrip().endswith((".", "!", "?")) else f"{tekst}."


# --- typography: where a line may not break ---------------------------------------------------------------------
NBSP = "\u00a0"
_MAAND = "|".join(MAANDEN)
_TUSSENVOEGSEL = r"(?:van de|van der|van den|in de|in den|in 't|in t|van|de|der|den|het|ten|ter|te|'t|op|uit)"
_STRAAT = (r"straat|weg|laan|plein|ring|singel|gracht|kade|dijk|park|hof|steeg|pad|dreef|baan|markt|plantsoen|"
           r"poort|veld|wal|burg|haven")


def _nbsp(m: re.Match) -> str:
    """The match with every space in it (and in its groups) a no-break space."""
    return m[0].replace(" ", NBSP)


_ONBREEKBAAR: tuple[re.Pattern, ...] = tuple(re.compile(p) for p in (
    rf"\b\d{{1,2}} (?:{_MAAND})\b(?: \d{{4}}\b)?",  # "7 november 2026", "17 november"
    r"\b\d{1,2}[.:]\d{2} uur\b",  # "10.30 uur"
    r"€ (?=[\d-])",  # "€ 485,00"
    r"\b\d{4} [A-Z]{2}\b",  # postcode "1234 AB"
    r"\b(?:BIG(?:-nummer)?|KvK|T) (?=\d)",  # "BIG-nummer 19012345601", "KvK 12345678", "T 030 …"
    r"\d(?: \d+)+\b",  # digit groups of a phone or account number: "030 123 45 67"
    rf"\b[A-Z][a-z]+(?:{_STRAAT}) \d+[a-z]?\b",  # a street and its house number: "Stadsring 88"
    r"\b(?:Dr|Drs|Mr|Prof|Ir|Ing|Dhr|Mw|Mevr)\. (?=[A-Z])",  # a title before a name: "Dr. P. Bakker"
    # initials (and a tussenvoegsel) before a surname: "M.A. Jansen", "H. de Vries"; not "B.V." or "N.V."
    rf"(?<![\w.])(?!B\.V\.|N\.V\.)(?:[A-Z][a-z]?\.){{1,5}} (?:{_TUSSENVOEGSEL} )?(?=[A-Z])",
))


def onbreekbaar(tekst: str) -> str:
    """`tekst` as a careful secretary sets it: no line break inside a date, an amount, a postcode, a BIG, KvK,
    phone or house number, or between a title, initials (and a tussenvoegsel) and a surname ("Dr. P. Bakker",
    "H. de Vries"): those spaces become no-break spaces (U+00A0). Nothing else changes."""
    for pattern in _ONBREEKBAAR:
        tekst = pattern.sub(_nbsp, tekst)
    return tekst
