"""Issue 13, the file-system half, tested as an attacker: planted symlinks, umask 000/077, a second Unix user,
a file swapped while it is processed, a crash with the file in the stage, per-recipient mailboxes, migration."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from pipeline.adapters import safefs
from pipeline.core.routing import Party, organisation_code
from pipeline.errors import UnsafePathError
from pipeline.shell.layout import init_root
from tests.casefactory import event, full_case
from tests.config_variants import configure
from tests.mailbox_paths import mailbox

K = "SO-2026-0042"


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


def _verzoek(kenmerk: str, *, code: str | None = None, naam: str | None = None) -> dict:
    data = event("verzoek", kenmerk=kenmerk)
    if code:
        data["werkgever"]["code"] = code
    if naam:
        data["werkgever"]["naam"] = naam
    return data


# --- the recipient code: a pure function ----------------------------------------------------------------------

def test_organisation_code_prefers_code_then_kvk_then_a_slug_of_the_name():
    assert organisation_code(code="acme", kvk_nummer="12345678", naam="Acme B.V.") == "acme"
    assert organisation_code(code=None, kvk_nummer="12345678", naam="Acme B.V.") == "kvk-12345678"
    assert organisation_code(code=None, kvk_nummer=None, naam="Bouwbedrijf Ærø & Zn. B.V.") == \
        "naam-bouwbedrijf-r-zn-b-v"
    assert organisation_code(code=None, kvk_nummer=None, naam="***").startswith("naam-")
    assert organisation_code(code=None, kvk_nummer=None, naam="***") != organisation_code(
        code=None, kvk_nummer=None, naam="+++")


def test_every_per_recipient_party_has_its_own_folder(make_root):
    root = make_root()
    for i, ev in enumerate(full_case(kenmerk=K), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    assert {o.status for o in root.run()} == {"processed"}
    state = root.pipeline.case_state(K)
    out = root.settings.outbox
    assert mailbox(root, "bedrijfsarts", K) == out / "bedrijfsarts" / state.verzoek.bedrijfsarts.big_nummer / K
    assert mailbox(root, "so-bedrijfsarts", K) == out / "so-bedrijfsarts" / state.so_arts.big_nummer / K
    for party in ("werkgever", "arbodienst", "bedrijfsarts", "so-bedrijfsarts", "werknemer", "archief"):
        assert any(mailbox(root, party, K).glob("*.pdf")), party
    # no case folder directly under a per-recipient party any more
    for party in ("werkgever", "arbodienst", "bedrijfsarts", "so-bedrijfsarts"):
        assert not (out / party / K).exists()


# --- no symlink is followed -----------------------------------------------------------------------------------

def test_safefs_refuses_a_symlinked_folder_and_writes_nothing_through_it(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    (root / "outbox").mkdir(parents=True)
    (root / "outbox" / "werkgever").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="symbolische koppeling"):
        safefs.write_file(root, "outbox/werkgever/x/y.pdf", b"%PDF")
    assert list(outside.iterdir()) == []
    # a file planted under the target name is replaced, never written through
    (root / "outbox" / "a").mkdir()
    (root / "outbox" / "a" / "y.pdf").symlink_to(outside / "target")
    safefs.write_file(root, "outbox/a/y.pdf", b"%PDF")
    assert not (outside / "target").exists() and (root / "outbox" / "a" / "y.pdf").read_bytes() == b"%PDF"


def test_symlinked_employee_folder_planted_before_processing_leaks_nothing(make_root):
    root = make_root()
    leak = root.settings.outbox / "werkgever" / "LEAK"
    leak.mkdir()
    (root.settings.outbox / "werknemer" / K).symlink_to(leak)
    for i, ev in enumerate(full_case(kenmerk=K, upto="aanvraag"), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert list(leak.iterdir()) == [], "nothing written through the link"
    retried = [o for o in outcomes if o.status == "retry"]
    assert retried and "symbolische koppeling" in retried[0].detail
    assert (root.settings.inbox / retried[0].file_name).exists(), "the case file stays for retry"
    failures = root.store.failures()
    assert any("symbolische koppeling" in (f["detail"] or "") for f in failures), "status shows why"


def test_symlinked_arbodienst_and_processed_folders_send_nothing_outside(make_root, tmp_path):
    root = make_root()
    outside = tmp_path / "outside"
    (outside / "arbodienst").mkdir(parents=True)
    (outside / "processed").mkdir()
    shutil.rmtree(root.settings.outbox / "arbodienst")
    (root.settings.outbox / "arbodienst").symlink_to(outside / "arbodienst")
    shutil.rmtree(root.settings.inbox / "processed")
    (root.settings.inbox / "processed").symlink_to(outside / "processed")
    for i, ev in enumerate(full_case(kenmerk=K), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert sorted(outside.rglob("*")) == [outside / "arbodienst", outside / "processed"], "nothing left the root"
    cases = [o for o in outcomes if o.file_name != "processed"]
    assert cases[-1].status == "retry" and "outbox/arbodienst is een symbolische koppeling" in cases[-1].detail
    # the planted inbox/processed link was itself taken as a (refused) inbox entry: moved, never followed
    (link,) = [o for o in outcomes if o.file_name == "processed"]
    assert link.status == "failed" and (root.settings.inbox / "failed" / "processed").is_symlink()
    processed = root.settings.inbox / "processed"
    assert processed.is_dir() and not processed.is_symlink() and len(list(processed.iterdir())) == len(cases) - 1
    # the operator removes the arbodienst link; the next run delivers the invoice, nothing lost, nothing twice
    (root.settings.outbox / "arbodienst").unlink()
    init_root(root.path, pki=False)
    (again,) = root.run()
    assert again.status == "processed"
    assert len(root.store.events(K)) == len(cases)
    assert any(mailbox(root, "arbodienst", K).glob("*_factuur.pdf"))
    assert sorted(outside.rglob("*")) == [outside / "arbodienst", outside / "processed"]


def test_symlink_planted_during_processing_is_refused(make_root):
    root = make_root()
    leak = root.settings.outbox / "werkgever" / "LEAK"
    leak.mkdir()
    converter = root.pipeline.converter

    class Planting:
        def convert(self, docx, **kw):
            target = root.settings.outbox / "werknemer" / K
            if not target.exists() and not target.is_symlink():
                target.symlink_to(leak)
            return converter.convert(docx, **kw)

    root.pipeline.converter = Planting()
    for i, ev in enumerate(full_case(kenmerk=K, upto="aanvraag"), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert list(leak.iterdir()) == []
    assert any(o.status == "retry" for o in outcomes)


def test_symlinks_in_the_stage_are_not_followed(make_root, tmp_path):
    root = make_root()
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.json"
    secret.write_text(json.dumps(event("verzoek", kenmerk="LINK-1")))
    stage = root.path / "state" / "intake"
    (stage / "00000000000000000001-abcdef").symlink_to(outside)  # a planted "leftover"
    root.drop("01.json", event("verzoek", kenmerk="OWN-1"))
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed"]
    assert secret.exists() and list(outside.iterdir()) == [secret], "the link was removed, its target untouched"
    assert root.pipeline.case_state("LINK-1") is None
    # the whole stage replaced by a link: nothing is taken, the file stays in the inbox
    shutil.rmtree(stage)
    stage.symlink_to(outside)
    root.drop("02.json", event("beoordeling", kenmerk="OWN-1"))
    (again,) = root.run()
    assert again.status == "retry" and (root.settings.inbox / "02.json").exists()
    assert list(outside.iterdir()) == [secret]


def test_init_refuses_a_planted_link_and_chmods_nothing_through_it(tmp_path):
    root = tmp_path / "root"
    init_root(root, pki=False)
    outside = tmp_path / "outside"
    outside.mkdir(mode=0o755)
    os.chmod(outside, 0o755)
    shutil.rmtree(root / "outbox" / "werkgever")
    (root / "outbox" / "werkgever").symlink_to(outside)
    with pytest.raises(UnsafePathError):
        init_root(root, pki=False)
    assert _mode(outside) == 0o755


def test_doctor_finds_planted_links(tmp_path):
    from pipeline.settings import load_settings
    from pipeline.shell.doctor import Status, check_links
    root = tmp_path / "root"
    settings = init_root(root, pki=False)
    assert check_links(settings).status is Status.OK
    (root / "outbox" / "werknemer" / K).symlink_to(root / "outbox" / "werkgever")
    found = check_links(load_settings(root))
    assert found.status is Status.FAIL and f"outbox/werknemer/{K}" in found.detail


# --- read once: the stage ------------------------------------------------------------------------------------

def test_a_file_swapped_while_it_is_processed_is_processed_as_its_own_file(make_root):
    root = make_root()
    for i, ev in enumerate(full_case(kenmerk=K, upto="beschikbaarheid"), start=1):
        root.drop(f"0{i}.json", ev)
    assert [o.status for o in root.run()] == ["processed"] * 4
    original = event("aanvraag", kenmerk=K)  # the first step that makes documents
    replacement = _verzoek("SWAP-1")
    converter = root.pipeline.converter
    swapped = []

    class Swapping:
        def convert(self, docx, **kw):
            if not swapped:  # the original is in the stage now; drop a new file under the same name
                (root.settings.inbox / "05.json").write_text(json.dumps(replacement))
                swapped.append(True)
            return converter.convert(docx, **kw)

    root.pipeline.converter = Swapping()
    path = root.drop("05.json", original)
    original_bytes = path.read_bytes()
    (first,) = root.run()
    assert first.status == "processed" and first.kenmerk == K
    assert (root.settings.inbox / "processed" / "05.json").read_bytes() == original_bytes
    assert swapped, "the replacement was dropped while the original was being made"
    assert root.store.events(K)[-1].payload == original
    assert root.store.deliveries(K) and all(d.kenmerk == K for d in root.store.deliveries(K))
    assert root.pipeline.case_state("SWAP-1") is None
    before = sorted(p.name for p in root.settings.inbox.iterdir())
    (second,) = root.run()
    assert second.status == "processed" and second.kenmerk == "SWAP-1", (second, before)
    done = sorted(p.name for p in (root.settings.inbox / "processed").iterdir())
    assert "05.1.json" in done, (done, second, before)
    assert json.loads((root.settings.inbox / "processed" / "05.1.json").read_text()) == replacement


def test_a_file_left_in_the_stage_by_a_crash_is_resumed_once(make_root, monkeypatch):
    root = make_root()
    root.drop("01.json", event("verzoek", kenmerk=K))
    root.drop("02.json", event("beoordeling", kenmerk=K))
    # crash 1: right after the rename into the stage
    root.pipeline.stage.take("01.json")
    # crash 2: after the event was recorded, before the move to processed/
    stage_id = root.pipeline.stage.take("02.json")
    moves = []
    real = root.pipeline.stage.move_on

    def crash(*a, **kw):
        moves.append(a)
        raise KeyboardInterrupt("kill -9")

    monkeypatch.setattr(root.pipeline.stage, "move_on", crash)
    outcomes = []
    try:
        root.pipeline.process_staged(*[(s, n) for s, n in root.pipeline.stage.leftovers() if s == stage_id][0])
    except KeyboardInterrupt:
        pass
    monkeypatch.setattr(root.pipeline.stage, "move_on", real)
    assert not list(root.settings.inbox.glob("*.json"))
    outcomes = root.run()
    assert sorted(o.status for o in outcomes) == ["processed", "processed"] or \
        sorted(o.status for o in outcomes) == ["duplicate", "processed"]
    assert sorted(p.name for p in (root.settings.inbox / "processed").iterdir()) == ["01.json", "02.json"]
    assert [e.stap for e in root.store.events(K)] == ["verzoek", "beoordeling"]
    assert root.pipeline.stage.leftovers() == []


# --- modes never depend on the umask -------------------------------------------------------------------------

def _modes(root: Path) -> dict[str, int]:
    out = {".": _mode(root)}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if rel.startswith("pki") or rel.startswith("state/sopipe.db-"):
            continue  # keys: another issue; SQLite's own side files
        out[rel] = _mode(p)
    return out


def _run_under(umask: int, make_root, name: str):
    old = os.umask(umask)
    try:
        root = make_root(name)
        for i, ev in enumerate(full_case(kenmerk=K, upto="aanvraag"), start=1):
            root.drop(f"{i:02d}.json", ev)
        root.drop("bad.json", "{not json")
        outcomes = root.run()
    finally:
        os.umask(old)
    assert sorted(o.status for o in outcomes) == ["failed"] + ["processed"] * 5
    return root


def test_umask_000_and_077_give_the_same_modes(make_root):
    open_root = _run_under(0o000, make_root, "umask000")
    closed_root = _run_under(0o077, make_root, "umask077")
    modes = _modes(open_root.path)
    assert modes == _modes(closed_root.path)
    assert not modes["."] & 0o022 and not modes["sopipe.toml"] & 0o022
    assert modes["inbox"] == modes["inbox/processed"] == modes["inbox/failed"] == 0o700
    assert modes["inbox/processed/01.json"] == modes["inbox/failed/bad.json"] == 0o600
    assert modes["inbox/failed/bad.json.error.txt"] == 0o600
    assert modes["state"] == modes["state/intake"] == modes["state/scratch"] == modes["quarantine"] == 0o700
    assert all(m & 0o007 == 0 for rel, m in modes.items() if rel.startswith(("inbox", "state", "quarantine")))
    assert all(m in (0o640, 0o750, 0o751) for rel, m in modes.items() if rel.startswith("outbox"))


def test_init_never_leaves_the_root_or_config_world_writable(tmp_path):
    old = os.umask(0)
    try:
        init_root(tmp_path / "r", pki=False)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "r") == 0o751
    assert _mode(tmp_path / "r" / "sopipe.toml") == 0o640
    os.chmod(tmp_path / "r", 0o777)
    os.chmod(tmp_path / "r" / "sopipe.toml", 0o666)
    init_root(tmp_path / "r", pki=False)
    assert _mode(tmp_path / "r") == 0o755 and _mode(tmp_path / "r" / "sopipe.toml") == 0o644


# --- groups: a second real Unix user --------------------------------------------------------------------------

@pytest.fixture
def unix_accounts():
    if os.geteuid() != 0:
        pytest.skip("creating Unix users and groups needs root (CI runs as root)")
    if not shutil.which("runuser"):
        pytest.skip("runuser (util-linux) is not installed")
    suffix = os.urandom(3).hex()
    names = {"a": f"t13a{suffix}", "b": f"t13b{suffix}", "user": f"t13u{suffix}"}
    subprocess.run(["groupadd", names["a"]], check=True)
    subprocess.run(["groupadd", names["b"]], check=True)
    subprocess.run(["useradd", "-M", "-N", "-g", names["a"], "-s", "/bin/sh", names["user"]], check=True)
    try:
        yield names
    finally:
        subprocess.run(["userdel", names["user"]], check=False)
        subprocess.run(["groupdel", names["a"]], check=False)
        subprocess.run(["groupdel", names["b"]], check=False)


def _can_read(user: str, path: Path) -> bool:
    done = subprocess.run(["runuser", "-u", user, "--", "cat", str(path)], capture_output=True)
    return done.returncode == 0


def test_an_account_of_one_employer_cannot_read_the_other_employers_folder(unix_accounts, fake_converter,
                                                                         shared_pki):
    # File modes and groups are the subject here, not rendering: the FakeConverter's PDFs serve.
    from tests.conftest import Root
    base = Path(tempfile.mkdtemp(prefix="sopipe-t13-", dir="/tmp"))
    os.chmod(base, 0o711)  # pytest's own tmp folders are 0700: the account could not even pass through
    try:
        rootdir = base / "root"
        rootdir.mkdir()
        os.chmod(rootdir, 0o751)
        from pipeline.settings import DEFAULT_CONFIG  # with the DEMO master data the example case refers to
        (rootdir / "sopipe.toml").write_text(DEFAULT_CONFIG, encoding="utf-8")
        configure(rootdir, {"mailboxes": {"recipients": {"werkgever/acme": unix_accounts["a"],
                                                         "werkgever/bolt": unix_accounts["b"]}}})
        root = Root(rootdir, converter=fake_converter, pki=shared_pki)
        from pipeline.shell.layout import access_from_settings
        from pipeline.adapters.mailbox import Mailboxes
        mailbox_access, intake_access = access_from_settings(root.settings)
        root.pipeline.mailboxes = Mailboxes(root.settings.outbox, access=mailbox_access)
        try:
            for kenmerk, code in (("ACME-1", "acme"), ("BOLT-1", "bolt")):
                events = full_case(kenmerk=kenmerk)  # the employer hears from the case at its end
                events[0]["werkgever"]["code"] = code
                for i, ev in enumerate(events, start=1):
                    root.drop(f"{kenmerk}-{i:02d}.json", ev)
            assert {o.status for o in root.run()} == {"processed"}
            acme = next(mailbox(root, "werkgever", "ACME-1").glob("*.pdf"))
            bolt = next(mailbox(root, "werkgever", "BOLT-1").glob("*.pdf"))
            assert acme.parent.parent == root.settings.outbox / "werkgever" / "acme"
            assert acme.parent.stat().st_gid == acme.stat().st_gid == mailbox_access.recipient_groups["werkgever/acme"]
            assert acme.parent.parent.stat().st_mode & stat.S_ISGID
            user = unix_accounts["user"]
            assert _can_read(user, acme), "the employer's account reads its own folder"
            assert not _can_read(user, bolt), "but not the other employer's"
            assert not _can_read(user, root.settings.inbox / "processed" / "ACME-1-01.json"), "nor the case files"
            # init keeps the groups (and does not reset them)
            init_root(rootdir, pki=False)
            assert acme.parent.parent.stat().st_gid == mailbox_access.recipient_groups["werkgever/acme"]
            assert _can_read(user, acme) and not _can_read(user, bolt)
        finally:
            root.close()
    finally:
        shutil.rmtree(base)


# --- migration of an old root -----------------------------------------------------------------------------------

def test_migrate_layout_moves_old_folders_idempotently_and_records_it(make_root):
    from click.testing import CliRunner

    from pipeline.cli import cli
    root = make_root()
    for i, ev in enumerate(full_case(kenmerk=K, upto="aanvraag"), start=1):
        root.drop(f"{i:02d}.json", ev)
    assert {o.status for o in root.run()} == {"processed"}
    new = {party: mailbox(root, party, K) for party in ("bedrijfsarts", "so-bedrijfsarts")}
    files = {party: sorted(p.name for p in folder.iterdir()) for party, folder in new.items()}
    for party, folder in new.items():  # as an old root had them
        folder.rename(root.settings.outbox / party / K)
        folder.parent.rmdir()
    # a copy delivered anew into the new layout after the upgrade (merge: the newer copy wins)
    new["bedrijfsarts"].mkdir(parents=True)
    (new["bedrijfsarts"] / files["bedrijfsarts"][0]).write_bytes(b"newer")
    runner = CliRunner()
    first = runner.invoke(cli, ["migrate-layout", "--root", str(root.path)])
    assert first.exit_code == 0, first.output
    assert "2 folder(s) moved" in first.output
    for party, folder in new.items():
        assert sorted(p.name for p in folder.iterdir()) == files[party]
        assert not (root.settings.outbox / party / K).exists()
    assert (new["bedrijfsarts"] / files["bedrijfsarts"][0]).read_bytes() == b"newer"
    second = runner.invoke(cli, ["migrate-layout", "--root", str(root.path)])
    assert second.exit_code == 0 and "0 folder(s) moved" in second.output
    moves = [r for r in root.pipeline.audit.records() if r.details.get("wat") == "migrate-layout"]
    assert sorted(r.details["partij"] for r in moves) == ["bedrijfsarts", "so-bedrijfsarts"]


# --- the benchmark's file-system figures ---------------------------------------------------------------------------

def test_bench_measures_the_stage_and_descriptor_delivery_per_event(tmp_path):
    from pipeline.shell.bench import file_system_costs
    figures = file_system_costs(tmp_path, n=5)
    assert set(figures) == {"take_before", "take_after", "deliver_before", "deliver_after"}
    assert all(v > 0 for v in figures.values())
    root = tmp_path / "fs-costs"
    assert len(list((root / "inbox" / "processed").iterdir())) == 10, "both ways moved every file on"
    assert list((root / "state" / "intake").iterdir()) == [], "the stage is empty afterwards"
    assert len(list((root / "outbox" / "werkgever" / "acme").iterdir())) == 5
