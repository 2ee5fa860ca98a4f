"""The letter to a requester whose request cannot be handled at all (pure, no I/O).

A request from the employer (or a casemanager on the employer's behalf, or the own doctor on his own behalf) is
refused: only the employee may ask for a second opinion (Arbobesluit art. 2.14d; LPBSO FAQ: "Kan een werkgever een
second opinion aanvragen? Nee, alleen een werknemer kan een SO aanvragen."). A request about an aanstellingskeuring
is refused too: the second opinion does not apply to it (LPBSO FAQ). There is nothing in the case file to correct,
so the secretariat gets, beside the report in `inbox/failed/`, a ready letter to the requester that explains why
and what they can do instead. The refused request opens no case: the letter is no delivery and lands in no
mailbox. For an employer it says nothing about the employee (no name, no BSN, no medical text): it answers the
employer's own request by its date and reference.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from pipeline.core import model as m
from pipeline.core import projection as p
from pipeline.core.kinds import ROWS
from pipeline.core.organisaties import Organisatie
from pipeline.core.procedure import DocumentOrder
from pipeline.core.routing import Party
from pipeline.core.state import CaseState

REFUSED_REQUEST_RULES = frozenset({"alleen-werknemer", "aanstellingskeuring"})
"""The procedure's rules that refuse a request outright: nothing to correct, the requester must be told."""

_NAMENS_WERKGEVER = frozenset({"werkgever", "casemanager"})
"""Requesters answered at the employer's address (a casemanager files on the employer's behalf)."""


@dataclass(frozen=True)
class RequesterLetter:
    """The letter, and to whom it is addressed (for the report and for the privacy guard)."""
    order: DocumentOrder
    party: Party
    """Whose reading the guard checks: the employer's letter as an anonymous document without medical data."""
    aan: str
    """The addressee as the report names it (an organisation, a doctor, or the candidate's own name)."""
    state: CaseState
    """The request as a case that was never opened: what the guard checks the finished letter against."""


def _requester(ev: m.Verzoek) -> Party | None:
    wie = ev.verzocht_door.strip().lower()
    if wie in _NAMENS_WERKGEVER:
        return Party.WERKGEVER
    if wie == "bedrijfsarts":
        return Party.BEDRIJFSARTS
    if wie == "werknemer":
        return Party.WERKNEMER
    return None  # someone we cannot address from the file (a lawyer, a union): the report says to answer them


def letter_to_requester(ev, *, rule: str | None, datum: dt.date,
                        organisaties: Mapping[str, Organisatie] | None = None) -> RequesterLetter | None:
    """The letter for a request the procedure refused with `rule`; None when no letter applies.

    `datum` is the day the letter is made (the shell's clock). Only the requester's own data appear: for an
    employer its name and address and its request's date and reference, never the employee."""
    if rule not in REFUSED_REQUEST_RULES or getattr(ev, "stap", None) != "verzoek":
        return None
    party = _requester(ev)
    if party is None:
        return None
    s = CaseState(kenmerk=ev.kenmerk, profiel=ev.profiel, verzoek=ev, stappen=(), laatste_datum=ev.datum,
                  organisaties=MappingProxyType(dict(organisaties or {})))
    if party is Party.WERKGEVER:
        aan = p.aan_werkgever(s)
        kind = "brief-aan-aanvrager-werkgever"
    elif party is Party.BEDRIJFSARTS:
        aan = p.aan_bedrijfsarts(s)
        kind = "brief-aan-aanvrager"
    else:
        aan = p.aan_werknemer(s)  # "Geachte heer/mevrouw Jansen": a salutation carries no initials
        kind = "brief-aan-aanvrager"
    row = ROWS[kind]
    context = row.projection(s, titel=row.titel, datum=datum, aan=aan, aanvrager=party.value)
    # the report names an organisation or a doctor; a candidate only as "the requester" (no name in a report)
    label = "de aanvrager zelf, op het adres in de brief" if party is Party.WERKNEMER else aan["naam"]
    return RequesterLetter(DocumentOrder(ev.kenmerk, row, MappingProxyType(context), (), None), party, label, s)

