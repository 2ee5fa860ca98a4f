"""`archive verify` accepts what `archive export` made, on the root a new user gets: `init` (DEMO, B-LTA with the
DEMO trust services), `demo`, `watch --once`, `archive export`, `archive verify` — green.

The records officer's main check counts signatures as the export counted them: document (archive) timestamps
included, each also counted on its own.
"""

from __future__ import annotations

import json
import zipfile

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.settings import load_settings

K = "SO-2026-0042"


def sopipe(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _watch_once_in_process(root, converter) -> None:
    """`sopipe watch --once` as the CLI wires it (DEMO services, `open_pipeline`), with the FakeConverter."""
    from pipeline.shell.app import open_pipeline, signing_services
    from pipeline.shell.watcher import run_once
    with signing_services(load_settings(root)) as settings, open_pipeline(settings, converter=converter) as pipeline:
        outcomes = run_once(pipeline)
    assert [o.status for o in outcomes] == ["processed"] * 11, [(o.file_name, o.detail) for o in outcomes]


def _export_and_verify(root, out):
    result = sopipe("archive", "export", K, "--root", root, "--out", out)
    assert result.exit_code == 0, result.output
    return sopipe("archive", "verify", out, "--trust", root / "pki" / "ca.pem", "--verbose")


def test_a_fresh_demo_dossier_exports_and_verifies_green(tmp_path, fake_converter):
    root = tmp_path / "root"
    assert sopipe("init", "--root", root).exit_code == 0
    assert load_settings(root).signing_level("advies") == "B-LTA"  # the default a new user gets
    assert sopipe("demo", "--root", root).exit_code == 0
    _watch_once_in_process(root, fake_converter)
    out = tmp_path / f"{K}.zip"
    verify = _export_and_verify(root, out)
    assert verify.exit_code == 0, verify.output
    assert verify.output.splitlines()[-1].startswith("OK:"), verify.output
    assert f"{K}_advies.pdf: archieftijdstempel van sopipe DEMO TSA klopt" in verify.output, verify.output
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    advies = next(e for e in manifest["bestanden"] if e["naam"].endswith(f"{K}_advies.pdf"))
    # one signature by the SO doctor plus one archive timestamp, both counted, the timestamp also on its own
    assert (advies["handtekeningen"], advies["archieftijdstempels"]) == (2, 1)


@pytest.mark.libreoffice
def test_the_real_cli_run_exports_and_verifies_green(tmp_path):
    root = tmp_path / "root"
    assert sopipe("init", "--root", root).exit_code == 0
    assert sopipe("demo", "--root", root).exit_code == 0
    watch = sopipe("watch", "--root", root, "--once")
    assert watch.exit_code == 0 and "11 processed" in watch.output, watch.output
    verify = _export_and_verify(root, tmp_path / f"{K}.zip")
    assert verify.exit_code == 0, verify.output
