"""One helper for tests that look into a mailbox: where a party's copy of a case lands (issue 13's layout).

`outbox/<party>/<code>/<kenmerk>/` for werkgever, arbodienst, bedrijfsarts and so-bedrijfsarts (the code from
`pipeline.core.routing.recipient_code` for the stored case), `outbox/<party>/<kenmerk>/` for werknemer and archief.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.routing import Party, mailbox_folder, recipient_code


def mailbox(root, party: Party | str, kenmerk: str) -> Path:
    """The case's folder of `party` in a test root (`tests.conftest.Root` or anything with .settings/.pipeline)."""
    party = Party(party)
    state = root.pipeline.case_state(kenmerk)
    code = recipient_code(party, state) if state is not None else None
    return root.settings.outbox.joinpath(*mailbox_folder(party, kenmerk, code))


def mailbox_file(root, party: Party | str, kenmerk: str, kind: str) -> Path:
    """The delivered copy of `kind` for `party`, where the store recorded it: `<kenmerk>_<kind>.pdf` in the case's
    folder, or the employer's anonymous invoice `<referentie>_<kind>.pdf` in `facturen/` (issue 20's layout)."""
    party = Party(party)
    for r in root.pipeline.store.deliveries(kenmerk):
        if r.kind == kind and r.party == party.value and r.status == "delivered":
            return root.settings.outbox.parent / r.path
    return mailbox(root, party, kenmerk) / f"{kenmerk}_{kind}.pdf"


def kind_of(file_name: str) -> str:
    """The document kind of a delivered file name (`SO-1_advies.pdf`, `praktijk_AV-1_factuur-werkgever.pdf`)."""
    return file_name.rsplit("_", 1)[-1].removesuffix(".pdf")
