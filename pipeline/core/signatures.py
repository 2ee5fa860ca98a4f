"""Personal signatures the pipeline cannot make itself, and what the signed copy may do when it comes back (pure).

The SO doctor signs the final advice, the own doctor the request form, each with their own key (a UZI-pas, a
PKCS#12 file they keep). When that key is not in the pipeline's KeyRing, `hold_for_signature` takes the document
out of the event's deliveries: it waits, unsigned, for that doctor. When the signed copy returns, `returned_signed` routes it by its own row of the routing
table, and the consents are evaluated against the case's state *at that moment* — a consent withdrawn between
the draft and the return decides, not the one recorded when the advice was written.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import Callable

from pipeline.core import model as m
from pipeline.core.kinds import ROWS, Signer, signed_by
from pipeline.core.procedure import Decision, Delivery, DocumentOrder, SignOrder
from pipeline.core.routing import Party
from pipeline.core.state import CaseState


class _SignedBy(Mapping[str, Signer]):
    """Every document kind that carries a doctor's personal signature, and whose: read from the registry of
    document kinds (`kinds.Row.sign`) each time, so a kind registered later is in it."""

    def __getitem__(self, kind: str) -> Signer:
        return signed_by()[kind]

    def __iter__(self) -> Iterator[str]:
        return iter(signed_by())

    def __len__(self) -> int:
        return len(signed_by())


SIGNED_BY: Mapping[str, Signer] = _SignedBy()
"""Every document kind that carries a doctor's personal signature, and whose."""


@functools.lru_cache(maxsize=4)
def _return_name(kinds: frozenset[str]) -> re.Pattern[str]:
    # longest kind first, so that `aanvraagformulier-zonder-medische-gegevens` is not read as `aanvraagformulier`
    alternatives = "|".join(sorted(map(re.escape, kinds), key=len, reverse=True))
    return re.compile(rf"^(?P<kenmerk>[A-Za-z0-9_-]{{3,40}}?)_(?P<kind>{alternatives})(?:[._ -][^/]*)?\.pdf$",
                      re.IGNORECASE)


def hold_for_signature(decision: Decision, *, signable: Callable[[SignOrder], bool] | None
                       ) -> tuple[Decision, tuple[DocumentOrder, ...]]:
    """(the decision without the orders that wait for a personal signature, those orders).

    `signable(sign_order)` says whether the pipeline can make that signature now; None means it can make all.
    """
    if signable is None:
        return decision, ()
    held = tuple(o for o in decision.orders
                 if o.sign is not None and o.sign.wie.personal and not signable(o.sign))
    if not held:
        return decision, ()
    rest = tuple(o for o in decision.orders if all(o is not h for h in held))
    return Decision(decision.state, rest), held


def returned_signed(state: CaseState, kind: str) -> Decision:
    """The deliveries of a signed document that came back, by its routing row, with the consents of `state` now.

    The shell carries the orders out as for any event (consent re-checked per delivery). For the final advice:
    when the own doctor's copy was consented to when the advice was written (so no "geen kopie" letter was made
    then) but that consent is gone now, the own doctor gets the "geen kopie" letter instead of the advice.
    """
    row = ROWS[kind]
    orders = [DocumentOrder(state.kenmerk, row, {}, _return_deliveries(state, kind), None)]
    d = state.definitief
    if (kind == "advies" and d is not None and d.machtiging_advies_delen_bedrijfsarts is m.Besluit.VERLEEND
            and not state.heeft_toestemming("advies_delen_bedrijfsarts")):
        geen = ROWS["geen-kopie"]
        orders.append(DocumentOrder(state.kenmerk, geen, geen.projection(state, d, titel=geen.titel),
                                    tuple(Delivery(party, consent) for party, consent in geen.routes), None))
    return Decision(state, tuple(orders))


def _return_deliveries(state: CaseState, kind: str) -> tuple[Delivery, ...]:
    """The signed document's deliveries. The full request form reaches the SO doctor as it would have when signed
    at once: not at all when the medical data go as their own form (after the consultation in a profile that says
    so, or once the employee's signed machtiging is in the dossier: the signed `medische-gegevens` form does
    that), and with medical data only while that consent still stands."""
    deliveries = tuple(Delivery(party, consent) for party, consent in ROWS[kind].routes)
    if kind != "aanvraagformulier" or state.aanvraag is None:
        return deliveries
    medisch = state.aanvraag.machtiging_medische_gegevens is m.Besluit.VERLEEND
    if medisch and state.medisch_apart:
        return tuple(d for d in deliveries if d.party is not Party.SO_BEDRIJFSARTS)
    if medisch:
        return tuple(Delivery(d.party, "medische_gegevens") if d.party is Party.SO_BEDRIJFSARTS else d
                     for d in deliveries)
    return deliveries


def signer_of(state: CaseState, kind: str):
    """The doctor (name, BIG number) whose personal signature a returned document of `kind` must carry, or None."""
    return state.verzoek.bedrijfsarts if SIGNED_BY.get(kind) is Signer.BEDRIJFSARTS else state.so_arts


def signer_party(kind: str) -> Party:
    """The mailbox of the doctor who signs a document of `kind` personally."""
    return Party.BEDRIJFSARTS if SIGNED_BY.get(kind) is Signer.BEDRIJFSARTS else Party.SO_BEDRIJFSARTS


def kenmerk_from_file_name(name: str) -> tuple[str, str] | None:
    """(kenmerk, kind) from a returned file's name such as `SO-2026-0042_advies-ondertekend.pdf` or
    `SO-2026-0042_aanvraagformulier.pdf`, or None."""
    match = _return_name(frozenset(SIGNED_BY)).match(name)
    return (match.group("kenmerk"), match.group("kind").lower()) if match else None
