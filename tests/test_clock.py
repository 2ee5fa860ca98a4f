"""Issue 12, one clock: the wiring passes one `Clock` to the runner, the store, the audit trail and the archive.

With a frozen clock every timestamp the pipeline writes (journal, accepted events, deliveries, pending signatures,
audit records, the archive manifest) and the retention date derived from them are the same on every run.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile

import pytest

from pipeline.adapters.clock import FrozenClock, SystemClock, utc_iso
from pipeline.shell.app import make_order_signer, open_pipeline
from pipeline.shell.archive_export import export_dossier
from pipeline.shell.archive_retention import retention
from pipeline.shell.layout import init_root
from pipeline.shell.watcher import run_once
from tests.casefactory import full_case

MOMENT = dt.datetime(2031, 5, 6, 7, 8, 9, tzinfo=dt.timezone(dt.timedelta(hours=2)))
"""A moment far from today, in a non-UTC zone (stored as UTC)."""
K = "CLOCK-1"


@pytest.fixture(scope="module")
def signer_root(tmp_path_factory, shared_pki):
    """A root's settings and one signer for the roots of this module (loading keys costs seconds)."""
    settings = init_root(tmp_path_factory.mktemp("clock") / "first", pki=False)
    shutil.copytree(shared_pki, settings.pki_dir, dirs_exist_ok=True)
    signer = make_order_signer(settings)
    yield signer
    signer.pades.close()


def _root(path, shared_pki):
    settings = init_root(path, pki=False)
    shutil.copytree(shared_pki, settings.pki_dir, dirs_exist_ok=True)
    return settings


def _run(settings, clock, events, *, converter, signer):
    with open_pipeline(settings, converter=converter, signer=signer, clock=clock) as pipeline:
        for i, ev in enumerate(events, start=1):
            (settings.inbox / f"{i:02d}-{ev['stap']}.json").write_text(json.dumps(ev), encoding="utf-8")
        outcomes = run_once(pipeline, workers=1)
        assert all(o.status == "processed" for o in outcomes), [(o.file_name, o.detail) for o in outcomes]
        store = pipeline.store
        conn = store._conn()
        stamps = {
            "journal": {tuple(r) for r in conn.execute("SELECT started_at, finished_at FROM journal")},
            "events": {r[0] for r in conn.execute("SELECT accepted_at FROM events")},
            "deliveries": {r.at for r in store.deliveries(K)},
            "audit": {r.at for r in pipeline.audit.trail(K)},
        }
        return stamps, retention(store, K)


def test_a_frozen_clock_stamps_journal_events_deliveries_and_audit(tmp_path, shared_pki, fake_converter,
                                                                  signer_root):
    settings = _root(tmp_path / "root", shared_pki)
    stamps, ret = _run(settings, FrozenClock(MOMENT), full_case(kenmerk=K, upto="aanvraag"),
                       converter=fake_converter, signer=signer_root)
    utc = "2031-05-06T05:08:09"
    assert stamps["journal"] == {(utc + "+00:00", utc + "+00:00")}
    assert stamps["events"] == {utc + "+00:00"}
    assert stamps["deliveries"] == {utc + "+00:00"}
    assert stamps["audit"] == {utc + ".000+00:00"}
    # the planning date derived from the stamps: kept 20 years from the last change
    assert ret.laatste_wijziging == dt.date(2031, 5, 6)
    assert ret.bewaren_tot == dt.date(2051, 5, 6)


def test_two_runs_with_the_same_frozen_clock_write_the_same_stamps(tmp_path, shared_pki, fake_converter,
                                                                  signer_root):
    events = full_case(kenmerk=K, upto="selectie")
    first = _run(_root(tmp_path / "a", shared_pki), FrozenClock(MOMENT), events, converter=fake_converter,
                 signer=signer_root)
    second = _run(_root(tmp_path / "b", shared_pki), FrozenClock(MOMENT), events, converter=fake_converter,
                  signer=signer_root)
    assert first == second


def test_the_clock_moves_only_when_told(tmp_path, shared_pki, fake_converter, signer_root):
    settings = _root(tmp_path / "root", shared_pki)
    clock = FrozenClock(MOMENT)
    events = full_case(kenmerk=K, upto="beoordeling")
    with open_pipeline(settings, converter=fake_converter, signer=signer_root, clock=clock) as pipeline:
        (settings.inbox / "01.json").write_text(json.dumps(events[0]), encoding="utf-8")
        run_once(pipeline, workers=1)
        clock.advance(days=400)
        (settings.inbox / "02.json").write_text(json.dumps(events[1]), encoding="utf-8")
        run_once(pipeline, workers=1)
        accepted = [e.accepted_at for e in pipeline.store.events(K)]
        ret = retention(pipeline.store, K)
    assert accepted == ["2031-05-06T05:08:09+00:00", "2032-06-09T05:08:09+00:00"]
    assert ret.bewaren_tot == dt.date(2052, 6, 9)


def test_the_archive_manifest_is_dated_by_the_clock(tmp_path, shared_pki, fake_converter, signer_root, keyring):
    settings = _root(tmp_path / "root", shared_pki)
    clock = FrozenClock(MOMENT)
    _run(settings, clock, full_case(kenmerk=K, upto="aanvraag"), converter=fake_converter, signer=signer_root)
    clock.set(MOMENT + dt.timedelta(days=3))
    with open_pipeline(settings, converter=fake_converter, signer=signer_root, clock=clock) as pipeline:
        out = tmp_path / "bundle.zip"
        export_dossier(settings, pipeline.store, pipeline.audit, K, out, seal=keyring.seal(),
                       pki_dir=settings.pki_dir)
    with zipfile.ZipFile(out) as z:
        name = next(n for n in z.namelist() if n.endswith("manifest.json"))
        manifest = json.loads(z.read(name))
    assert manifest["gemaakt_op"] == "2031-05-09T05:08:09+00:00"


def test_clocks_show_aware_moments():
    assert SystemClock().now().utcoffset() == dt.timedelta(0)
    with pytest.raises(ValueError):
        FrozenClock(dt.datetime(2031, 5, 6))
    clock = FrozenClock(MOMENT)
    assert clock.now() == MOMENT == clock.now()
    assert utc_iso(clock) == "2031-05-06T05:08:09+00:00"
