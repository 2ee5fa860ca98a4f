"""Dutch formatting and Dutch working days, pure functions (no clock: every function takes its date)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import holidays

MAANDEN = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december")
DAGEN = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")


def datum(d: dt.date) -> str:
    """`17 maart 1984`"""
    return f"{d.day} {MAANDEN[d.month - 1]} {d.year}"


def moment(m: dt.datetime) -> str:
    """`dinsdag 17 november 2026 om 10.30 uur` (in the moment's own offset, as the secretariat gave it)."""
    return f"{DAGEN[m.weekday()]} {datum(m.date())} om {m.hour}.{m.minute:02d} uur"


def bedrag(value: Decimal) -> str:
    """`€ 1.485,00`"""
    q = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, cents = f"{q:.2f}".split(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"€ {'.'.join(groups)},{cents}"


def getal(value: Decimal) -> str:
    """`3,5`"""
    return format(value.normalize(), "f").replace(".", ",")


@lru_cache(maxsize=None)
def _feestdagen(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("NL", years=year)


def is_werkdag(d: dt.date) -> bool:
    """Monday to Friday and not a Dutch national holiday (holidays' NL calendar: Nieuwjaar, Pasen,
    Koningsdag, Bevrijdingsdag in lustrum years, Hemelvaart, Pinksteren, Kerst)."""
    return d.weekday() < 5 and d not in _feestdagen(d.year)


def plus_werkdagen(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (start itself not counted)."""
    d = start
    while n > 0:
        d += dt.timedelta(days=1)
        if is_werkdag(d):
            n -= 1
    return d


def plus_jaren(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)
