"""A case's state is folded from its stored events in one place (`Store.case_state`, `store.fold_stored`): the
runner, the status, the layout migration, `sopipe sign --root`, the desk's checks and the gateway all read it so.
The stored events include the pipeline's own record of a returned consent form, which no case file may carry."""

from __future__ import annotations

import hashlib
import json

import pytest
from pydantic import ValidationError

from pipeline.adapters.store import Store, fold_stored
from pipeline.core import model
from pipeline.core.procedure import fold
from pipeline.core.state import Consent
from tests.casefactory import OLD_STYLE, full_case, parse_all, received_form

K = "SO-2026-0042"


def _store(path, events: list[dict]) -> Store:
    store = Store(path / "state.db")
    for i, ev in enumerate(events, start=1):
        store.accept(kenmerk=ev["kenmerk"], stap=ev["stap"], datum=ev["datum"], payload=ev,
                     sha256=hashlib.sha256(json.dumps(ev, sort_keys=True).encode()).hexdigest(),
                     file_name=f"{i:02d}-{ev['stap']}.json", ingediend_door=None, deliveries=[])
    return store


def test_the_stored_state_is_the_fold_of_the_events_as_accepted(tmp_path):
    events = full_case(kenmerk=K, upto="definitief_advies")
    store = _store(tmp_path, events)
    try:
        assert store.case_state(K) == fold(parse_all(events))
        assert fold_stored(store.events(K)) == store.case_state(K)
    finally:
        store.close()


def test_an_unknown_case_has_no_state(tmp_path):
    store = _store(tmp_path, full_case(kenmerk=K, upto="verzoek"))
    try:
        assert store.case_state("SO-2026-0999") is None
        assert fold_stored([]) is None
    finally:
        store.close()


def test_a_returned_consent_form_recorded_among_the_events_folds_too(tmp_path):
    """The desk's gateway once read stored events as case files: a case with a returned form could not be opened."""
    events = full_case(kenmerk=K, upto="aanvraag", overrides={"aanvraag": OLD_STYLE})
    received = received_form("medische_gegevens")
    with pytest.raises(ValidationError):
        model.parse_event(received)  # a case file with this step is refused
    store = _store(tmp_path, [*events, received])
    try:
        state = store.case_state(K)
        assert state.consent("medische_gegevens") is Consent.ONDERTEKEND
        assert state == fold([*parse_all(events), model.parse_stored(received)])
    finally:
        store.close()
