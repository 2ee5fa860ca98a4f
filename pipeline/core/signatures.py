"""Personal signatures the pipeline cannot make itself, and what the signed copy may do when it comes back (pure).

The SO doctor signs the final advice with their own key (a UZI-pas, a PKCS#12 file they keep). When that key is
not in the pipeline's KeyRing, `hold_for_signature` takes the advice out of the event's deliveries: it waits,
unsigned, for the doctor. When the signed copy returns, `returned_signed` routes it by its own row of the routing
table, and the consents are evaluated against the case's state *at that moment* — a consent withdrawn between
the draft and the return decides, not the one recorded when the advice was written.
"""

from __future__ import annotations

import re
from typing import Callable

from pipeline.core import model as m
from pipeline.core import projection as p
from pipeline.core.procedure import Decision, Delivery, DocumentOrder, SignOrder
from pipeline.core.routing import ROWS
from pipeline.core.state import CaseState

PERSONAL = "so_bedrijfsarts"
"""`SignOrder.wie` of a signature made with a person's own key."""

_RETURN_NAME = re.compile(r"^(?P<kenmerk>[A-Za-z0-9_-]{3,40}?)_(?P<kind>advies)(?:[._ -][^/]*)?\.pdf$", re.IGNORECASE)


def hold_for_signature(decision: Decision, *, signable: Callable[[SignOrder], bool] | None
                       ) -> tuple[Decision, tuple[DocumentOrder, ...]]:
    """(the decision without the orders that wait for a personal signature, those orders).

    `signable(sign_order)` says whether the pipeline can make that signature now; None means it can make all.
    """
    if signable is None:
        return decision, ()
    held = tuple(o for o in decision.orders
                 if o.sign is not None and o.sign.wie == PERSONAL and not signable(o.sign))
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
    orders = [DocumentOrder(state.kenmerk, row, {}, tuple(Delivery(party, consent) for party, consent in row.routes),
                            None)]
    d = state.definitief
    if (kind == "advies" and d is not None and d.machtiging_advies_delen_bedrijfsarts is m.Besluit.VERLEEND
            and not state.heeft_toestemming("advies_delen_bedrijfsarts")):
        geen = ROWS["geen-kopie"]
        orders.append(DocumentOrder(state.kenmerk, geen, p.brief_geen_kopie(state, d, titel=geen.titel),
                                    tuple(Delivery(party, consent) for party, consent in geen.routes), None))
    return Decision(state, tuple(orders))


def kenmerk_from_file_name(name: str) -> tuple[str, str] | None:
    """(kenmerk, kind) from a returned file's name such as `SO-2026-0042_advies-ondertekend.pdf`, or None."""
    match = _RETURN_NAME.match(name)
    return (match.group("kenmerk"), match.group("kind").lower()) if match else None
