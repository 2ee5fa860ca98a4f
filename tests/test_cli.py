"""The command line: help everywhere, init is idempotent with the right permissions, settings are checked."""

from __future__ import annotations

import json
import stat

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.errors import PipelineError
from pipeline.settings import load_settings

from tests.config_variants import configure


def all_commands(group=cli, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if hasattr(command, "commands"):
            yield from all_commands(command, prefix + (name,))


@pytest.mark.parametrize("path", [p for p, _ in all_commands()], ids=lambda p: " ".join(p))
def test_every_command_has_help_with_an_example(path):
    result = CliRunner().invoke(cli, [*path, "-h"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output and "sopipe" in result.output.split("Example:")[1]


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_everything_idempotently_with_safe_permissions(tmp_path):
    root = tmp_path / "root"
    result = CliRunner().invoke(cli, ["init", "--root", str(root)])
    assert result.exit_code == 0, result.output
    for folder in ("inbox", "inbox/processed", "inbox/failed", "quarantine", "pki"):
        assert (root / folder).is_dir()
    for party in ("werknemer", "bedrijfsarts", "so-bedrijfsarts", "werkgever", "arbodienst", "archief"):
        assert mode(root / "outbox" / party) == 0o750
    assert (root / "sopipe.toml").is_file() and (root / "pki" / "ca.pem").is_file()
    assert mode(root / "state" / "sopipe.db") == 0o600
    for p12 in (root / "pki").glob("*.p12"):
        assert mode(p12) == 0o600
    assert mode(root / "pki" / "passphrase") == 0o600
    ca = (root / "pki" / "ca.pem").read_bytes()
    assert CliRunner().invoke(cli, ["init", "--root", str(root)]).exit_code == 0
    assert (root / "pki" / "ca.pem").read_bytes() == ca


def test_demo_copies_the_example_case_and_requires_init(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--root", str(tmp_path)])
    assert result.exit_code != 0 and "sopipe init" in result.output
    (tmp_path / "inbox").mkdir()
    result = CliRunner().invoke(cli, ["demo", "--root", str(tmp_path)])
    assert result.exit_code == 0
    names = sorted(p.name for p in (tmp_path / "inbox").iterdir())
    assert len(names) == 11 and names[0] == "01-verzoek.json"


def test_status_of_an_empty_root_is_empty_json(tmp_path):
    CliRunner().invoke(cli, ["init", "--root", str(tmp_path)])
    result = CliRunner().invoke(cli, ["status", "--root", str(tmp_path), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["zaken"] == [] and data["mislukte_bestanden"] == []
    # the DEMO root signs B-LTA with its own trust services: no weak-level warning (issue 15)
    assert not any("B-B" in w for w in data["waarschuwingen"])
    # B-B chosen explicitly without a timestamp server: the weak signature level is a warning
    configure(tmp_path, {"signing": {"tsa_url": "", "level_machtiging": "B-B", "level_advies": "B-B"}})
    result = CliRunner().invoke(cli, ["status", "--root", str(tmp_path), "--json"])
    assert any("B-B" in w and "tsa_url" in w for w in json.loads(result.output)["waarschuwingen"])


@pytest.mark.parametrize("text, message", [
    ("[libreoffice]\nworkers = 'two'\n", "wrong type"),
    ("[libreoffice]\nworkerz = 2\n", "unknown setting"),
    ("[intake]\nmax_file_bytes = -1\n", "negative"),
    ("[intake\n", "not valid TOML"),
])
def test_invalid_settings_are_a_clear_error(tmp_path, text, message):
    (tmp_path / "sopipe.toml").write_text(text)
    with pytest.raises(PipelineError) as info:
        load_settings(tmp_path)
    assert message in info.value.message


def test_default_config_file_loads(tmp_path):
    CliRunner().invoke(cli, ["init", "--root", str(tmp_path)])
    s = load_settings(tmp_path)
    assert s.libreoffice.timeout == 60 and s.pki_dir == tmp_path.resolve() / "pki"
