"""Loose end of issue 13: `archive destroy` also empties the case's folders in the parties' own mailboxes on this
server (`outbox/<party>/[<code>/]<kenmerk>/`), never through a symlink, unless `[mailboxes] emptied_by_recipients
= true` documents that the recipients do that under their own retention. The search covers the whole root."""

from __future__ import annotations


import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.core.routing import Party
from tests.casefactory import full_case
from tests.config_variants import configure
from tests.mailbox_paths import mailbox
from tests.pdfs import pdftotext

K, OTHER = "SO-2026-0042", "SO-2026-0077"
REDEN = "verzoek werknemer tot vernietiging (art. 7:455 BW)"
SECRET = b"BUITEN-DE-ROOT-NIET-AANRAKEN-41c2"
PARTIES = ("werknemer", "bedrijfsarts", "so-bedrijfsarts", "werkgever", "arbodienst")


@pytest.fixture
def case_root(make_root):
    root = make_root()
    for i, ev in enumerate(full_case(kenmerk=K), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    other = full_case(kenmerk=OTHER, upto="aanvraag")  # another employee's case, which must stay whole
    other[0]["werknemer"] = {**other[0]["werknemer"], "bsn": "123456782", "naam": "De Vries", "voorletters": "R.",
                             "geboortedatum": "1990-06-01", "email": "r.devries@voorbeeld.nl",
                             "personeelsnummer": "P-30991",
                             "adres": {"straat": "Beukenweg 3", "postcode": "3511 CD", "plaats": "Utrecht"}}
    for i, ev in enumerate(other, start=1):
        root.drop(f"9{i}-andere-{ev['stap']}.json", ev)
    assert {o.status for o in root.run()} == {"processed"}
    root.boxes = {party: mailbox(root, party, K) for party in PARTIES}
    for party, folder in root.boxes.items():
        assert any(folder.glob("*.pdf")), party
    return root


def _destroy(root):
    return CliRunner().invoke(cli, ["archive", "destroy", K, "--root", str(root.path), "--force", "--reden", REDEN,
                                    "--yes"])


def _case_text(path) -> bytes:
    """The file's bytes and, for a PDF, its text (names and kenmerk may sit in compressed streams)."""
    data = path.read_bytes()
    if path.suffix == ".pdf":
        data += pdftotext(path, layout=False).encode()
    return data


def test_destroy_removes_the_case_from_every_mailbox_and_nothing_of_it_is_left_in_the_root(case_root):
    other_before = {p: p.read_bytes() for p in case_root.settings.outbox.rglob(f"*{OTHER}*") if p.is_file()}
    assert other_before
    result = _destroy(case_root)
    assert result.exit_code == 0, result.output
    for party, folder in case_root.boxes.items():
        assert not folder.exists(), party
        rel = folder.relative_to(case_root.path).as_posix()
        assert f"removed from the party's mailbox: {rel}/" in result.output
    # the whole root, outbox/ included: no file of the case, no file naming it or holding its employee's data
    # (the kenmerk stays where it belongs: the audit trail's content-free records in the database, and the
    # comment of sopipe.toml naming the DEMO example case)
    left = []
    for path in case_root.path.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        data = _case_text(path)
        markers = [b"111222333", b"Jansen", b"1984-03-17", b"Lindenlaan", b"m.jansen@voorbeeld.nl"]
        if not path.name.startswith(("sopipe.db", "sopipe.toml")):
            markers.append(K.encode())
        if K in path.as_posix() or any(m in data for m in markers):
            left.append(str(path.relative_to(case_root.path)))
    assert left == [], left
    # another case is untouched
    assert {p: p.read_bytes() for p in other_before} == other_before


def test_the_documented_setting_leaves_the_mailboxes_to_the_recipients(case_root):
    toml = case_root.path / "sopipe.toml"
    assert "emptied_by_recipients = false" in toml.read_text(), "the default is written with its comment"
    configure(case_root.path, {"mailboxes": {"emptied_by_recipients": True}})
    files = {party: sorted(p.name for p in folder.rglob("*")) for party, folder in case_root.boxes.items()}
    result = _destroy(case_root)
    assert result.exit_code == 0, result.output
    assert not (case_root.settings.outbox / "archief" / K).exists()
    for party, folder in case_root.boxes.items():
        assert sorted(p.name for p in folder.rglob("*")) == files[party], party
        assert f"not removed (emptied by the recipient" in result.output


def test_a_symlink_where_a_mailbox_case_folder_belongs_stops_destroy_before_anything_is_removed(case_root,
                                                                                                 tmp_path):
    outside = tmp_path / "buiten"
    outside.mkdir()
    (outside / "bewaar.pdf").write_bytes(SECRET)
    werkgever = case_root.boxes["werkgever"]
    werkgever.rename(tmp_path / "weg")
    werkgever.symlink_to(outside, target_is_directory=True)
    result = _destroy(case_root)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert "symbolische koppeling" in result.output and "Er is niets vernietigd" in result.output, result.output
    assert (outside / "bewaar.pdf").read_bytes() == SECRET
    assert (case_root.settings.outbox / "archief" / K).is_dir(), "nothing was removed"
    assert case_root.store.events(K)


def test_links_inside_a_mailbox_are_removed_not_followed(case_root, tmp_path):
    outside = tmp_path / "buiten"
    outside.mkdir()
    (outside / "bewaar.pdf").write_bytes(SECRET)
    (outside / "map").mkdir()
    (outside / "map" / "ook.pdf").write_bytes(SECRET)
    box = case_root.boxes["bedrijfsarts"]
    (box / "link.pdf").symlink_to(outside / "bewaar.pdf")
    (box / "linkmap").symlink_to(outside / "map", target_is_directory=True)
    result = _destroy(case_root)
    assert result.exit_code == 0, result.output
    assert not box.exists() and not box.is_symlink()
    assert (outside / "bewaar.pdf").read_bytes() == SECRET and (outside / "map" / "ook.pdf").read_bytes() == SECRET


def test_a_case_folder_swapped_for_a_link_after_the_plan_is_not_followed(case_root, tmp_path, monkeypatch):
    """The race: the plan saw a folder, the removal finds a link there; only the link goes, the target stays."""
    from pipeline.shell import archive_destroy
    outside = tmp_path / "buiten"
    outside.mkdir()
    (outside / "bewaar.pdf").write_bytes(SECRET)
    box = case_root.boxes[Party.SO_BEDRIJFSARTS.value]
    real = archive_destroy._remove_mailboxes

    def swap_then_remove(settings, plan):
        box.rename(tmp_path / "weg")
        box.symlink_to(outside, target_is_directory=True)
        return real(settings, plan)

    monkeypatch.setattr(archive_destroy, "_remove_mailboxes", swap_then_remove)
    result = _destroy(case_root)
    assert result.exit_code == 0, result.output
    assert not box.exists() and not box.is_symlink()
    assert (outside / "bewaar.pdf").read_bytes() == SECRET


def test_a_case_file_left_in_the_read_once_stage_is_destroyed_too(case_root):
    """After a kill -9 the file a pipeline had taken waits in `state/intake/<id>/` (resumed at start-up)."""
    import json
    from tests.casefactory import event
    stage = case_root.path / "state" / "intake" / "00000000000000000001-abcdef"
    stage.mkdir(parents=True)
    (stage / "06-uitvoering.json").write_text(json.dumps(event("uitvoering", kenmerk=K)), encoding="utf-8")
    other = case_root.path / "state" / "intake" / "00000000000000000002-abcdef"
    other.mkdir()
    (other / "andere.json").write_text(json.dumps(event("uitvoering", kenmerk=OTHER)), encoding="utf-8")
    result = _destroy(case_root)
    assert result.exit_code == 0, result.output
    assert not (stage / "06-uitvoering.json").exists()
    assert (other / "andere.json").exists(), "another case's staged file stays"
