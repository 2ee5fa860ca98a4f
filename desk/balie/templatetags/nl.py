"""How values read on the desk's pages: Dutch dates and times, choices, recipients and consents by name."""

from __future__ import annotations

import datetime as dt

from django import template

from pipeline.core import form

register = template.Library()


@register.filter
def tijd(value: str | None) -> str:
    """An ISO moment (UTC) as Dutch local time: 7-12-2026 01:43."""
    if not value:
        return "—"
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    moment = moment.astimezone(form.TZ) if moment.tzinfo else moment
    return f"{moment.day}-{moment.month}-{moment.year} {moment:%H:%M}"


@register.filter
def datum(value: str | None) -> str:
    """An ISO date as 2-11-2026."""
    if not value:
        return "—"
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day.day}-{day.month}-{day.year}"


@register.filter
def keuze(value: str | None) -> str:
    return form.KEUZE_LABELS.get(value, value) if value else "—"


@register.filter
def partij(value: str) -> str:
    return form.PARTIJ_LABELS.get(value, value)


@register.filter
def toestemming(value: str) -> str:
    return form.TOESTEMMING_LABELS.get(value, value)
