"""`sopipe archive destroy` checks everything (legal hold, the reason free of personal data, the retention date)
before it asks for confirmation: nobody confirms a destruction that is then refused."""

from __future__ import annotations

import json
from unittest.mock import ANY

import pytest
from click.testing import CliRunner

from pipeline.adapters.audit import Audit
from pipeline.cli import cli
from pipeline.errors import ArchiveError
from pipeline.shell.archive_destroy import approve_destruction
from pipeline.shell.archive_retention import legal_hold
from tests.casefactory import event
from tests.processed_roots import run_all

K = "SO-2026-0911"
LATER = "2099-01-01"
PROMPT = "Destroy the dossier"


def sopipe(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


@pytest.fixture
def root(make_root):
    r = make_root()
    run_all(r, [event("verzoek", kenmerk=K)])
    return r


def _refusals(root) -> list[str]:
    return [r.details.get("regel") for r in Audit(root.store).trail(K) if r.uitkomst == "geweigerd"]


@pytest.mark.parametrize("args, rule, words", [
    (["--force", "--reden", "verzoek van Jansen"], "reden-persoonsgegevens", "persoonsgegevens"),
    (["--force", "--reden", "verzoek werknemer 111222333"], "reden-persoonsgegevens", "BSN"),
    (["--force", "--reden", "geboren 1984-03-17"], "reden-persoonsgegevens", "geboortedatum"),
    ([], "bewaartermijn", "bewaartermijn"),
    (["--force"], "reden-ontbreekt", "--reden"),
])
def test_a_refused_destruction_never_reaches_the_prompt(root, args, rule, words):
    result = sopipe("archive", "destroy", K, "--root", root.path, *args, input="y\n")
    assert result.exit_code == 1 and PROMPT not in result.output, result.output
    assert words in result.output
    assert root.store.events(K), "nothing removed"
    assert _refusals(root) == [rule]


def test_a_legal_hold_stops_destruction_until_it_is_lifted(root):
    held = sopipe("archive", "hold", K, "--root", root.path, "--reden", "klacht in behandeling")
    assert held.exit_code == 0, held.output
    assert legal_hold(Audit(root.store), K).details == {"wat": "geplaatst", "reden": "klacht in behandeling"}
    for extra in ([], ["--force", "--reden", "verzoek werknemer (art. 7:455 BW)"]):
        refused = sopipe("archive", "destroy", K, "--root", root.path, "--today", LATER, *extra, input="y\n")
        assert refused.exit_code == 1 and PROMPT not in refused.output and "juridische blokkade" in refused.output
    assert root.store.events(K)
    due = sopipe("archive", "due", "--root", root.path, "--today", LATER, "--json")
    assert json.loads(due.output) == [{"kenmerk": K, "laatste_wijziging": ANY, "bewaren_tot": ANY, "blokkade": True}]
    assert sopipe("archive", "hold", K, "--root", root.path, "--reden", "nog een").exit_code == 1  # already held
    # the hold's own reason is refused with personal data in it, like the destruction's
    bad = sopipe("archive", "release", K, "--root", root.path, "--reden", "Jansen heeft ingetrokken")
    assert bad.exit_code == 1 and "persoonsgegevens" in bad.output and legal_hold(Audit(root.store), K)
    assert sopipe("archive", "release", K, "--root", root.path, "--reden", "klacht afgehandeld").exit_code == 0
    declined = sopipe("archive", "destroy", K, "--root", root.path, "--today", LATER, input="n\n")
    assert declined.exit_code == 1 and PROMPT in declined.output and root.store.events(K)
    done = sopipe("archive", "destroy", K, "--root", root.path, "--today", LATER, input="y\n")
    assert done.exit_code == 0 and PROMPT in done.output, done.output
    assert root.store.events(K) == []
    assert _refusals(root) == ["juridische-blokkade", "juridische-blokkade", "reden-persoonsgegevens"]


def test_approval_removes_nothing_and_names_what_would_go(root):
    audit = Audit(root.store)
    import datetime as dt
    approved = approve_destruction(root.settings, root.store, audit, K, today=dt.date(2099, 1, 1))
    assert approved.wat == "bewaartermijn-verstreken" and approved.plan.files
    assert all(p.exists() for p in approved.plan.files) and root.store.events(K)
    assert not [r for r in audit.trail(K) if r.gebeurtenis == "vernietiging"], "approval records nothing"
    with pytest.raises(ArchiveError) as e:
        approve_destruction(root.settings, root.store, audit, K, today=dt.date(2027, 1, 1))
    assert e.value.rule == "bewaartermijn"
