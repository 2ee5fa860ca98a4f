"""Loose end of issues 13/15: `archive export` never reads through a symlink. A link planted in the archive
folder (a file, a sub-folder, the case folder itself, or `outbox/archief`) pointing at a file outside the root
with recognisable content is refused with a clear Dutch message, no traceback and no bundle; the content never
appears in what the command prints or writes."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from tests.casefactory import full_case

K = "SO-2026-0042"
SECRET = b"GEHEIM-BUITEN-DE-ROOT-7f3a9c"


@pytest.fixture
def archived(make_root, tmp_path):
    root = make_root()
    for i, ev in enumerate(full_case(kenmerk=K, upto="aanvraag"), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    assert {o.status for o in root.run()} == {"processed"}
    outside = tmp_path / "buiten"
    outside.mkdir()
    (outside / "geheim.pdf").write_bytes(SECRET)
    root.outside = outside
    return root


def _export(root, out: Path):
    return CliRunner().invoke(cli, ["archive", "export", K, "--root", str(root.path), "--out", str(out)])


def _assert_refused(result, out: Path) -> None:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert "symbolische koppeling" in result.output and "niet geëxporteerd" in result.output, result.output
    assert "Er is geen export gemaakt" in result.output
    assert SECRET.decode() not in result.output
    assert not out.exists(), "no bundle is written"
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_clean_archive_folder_exports(archived, tmp_path):
    out = tmp_path / "ok.zip"
    result = _export(archived, out)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
    assert any(n.endswith(f"{K}_aanvraagformulier.pdf") for n in names), names


@pytest.mark.parametrize("where", ["file", "subfolder", "hidden-file"])
def test_a_link_inside_the_archive_folder_refuses_the_export(archived, tmp_path, where):
    folder = archived.settings.outbox / "archief" / K
    if where == "file":
        (folder / f"{K}_bijlage.pdf").symlink_to(archived.outside / "geheim.pdf")
    elif where == "subfolder":
        (folder / "bijlagen").symlink_to(archived.outside, target_is_directory=True)
    else:  # a hidden name is left out of the bundle, but a link of that name still refuses
        (folder / ".verborgen.pdf").symlink_to(archived.outside / "geheim.pdf")
    out = tmp_path / "export" / "bundle.zip"
    out.parent.mkdir()
    result = _export(archived, out)
    _assert_refused(result, out)


@pytest.mark.parametrize("level", ["case", "archief"])
def test_a_symlinked_case_folder_or_archive_mailbox_refuses_the_export(archived, tmp_path, level):
    outbox = archived.settings.outbox
    fake = archived.outside / "nep"
    (fake / K).mkdir(parents=True)
    (fake / K / f"{K}_advies.pdf").write_bytes(SECRET)
    if level == "case":
        real = outbox / "archief" / K
        real.rename(tmp_path / "weg")
        real.symlink_to(fake / K, target_is_directory=True)
        shown = f"outbox/archief/{K}"
    else:
        (outbox / "archief").rename(tmp_path / "weg")
        (outbox / "archief").symlink_to(fake, target_is_directory=True)
        shown = "outbox/archief"
    out = tmp_path / "export" / "bundle.zip"
    out.parent.mkdir()
    result = _export(archived, out)
    _assert_refused(result, out)
    assert shown in result.output


def test_a_link_planted_between_the_listing_and_the_read_is_not_followed(archived, tmp_path, monkeypatch):
    """The race: the file is a regular file when the walk looks and a link when it is opened (O_NOFOLLOW)."""
    from pipeline.adapters import safefs
    folder = archived.settings.outbox / "archief" / K
    victim = sorted(folder.glob("*.pdf"))[0]
    real_read = safefs.read_at

    def swap_then_read(dir_fd, name, **kw):
        if name == victim.name:
            os.unlink(name, dir_fd=dir_fd)
            os.symlink(archived.outside / "geheim.pdf", name, dir_fd=dir_fd)
        return real_read(dir_fd, name, **kw)

    monkeypatch.setattr(safefs, "read_at", swap_then_read)
    out = tmp_path / "race.zip"
    result = _export(archived, out)
    _assert_refused(result, out)
