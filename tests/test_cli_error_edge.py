"""Issue 12: one CLI group module, one error edge, thin commands.

A `PipelineError` becomes user output in exactly one place (`SopipeGroup.invoke` of `pipeline.cli`): the same
`Error: <message>`, exit status 1, no traceback, whether the command runs under click's CliRunner or as the real
`sopipe` console script. `sopipe archive renew` is a thin command over `pipeline.shell.renew`, tested here on the
shell function against the real loopback TSA and the real verifier; `bench --scale` gets its command runner
passed in, so the shell never imports the CLI.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.adapters.validation import verify_pdf
from pipeline.cli import cli
from pipeline.errors import SigningError
from pipeline.settings import load_settings
from pipeline.shell.renew import RenewStatus, renew_archive_timestamps
from tests.config_variants import configure
from tests.appearances import DOCTOR, VISSER
from tests.pdfs import minimal_pdf

PIPELINE = Path(__file__).resolve().parents[1] / "pipeline"
BROKEN_TOML = "[intake]\nsettle = \"soon\"\n"


def _init(root: Path) -> Path:
    result = CliRunner().invoke(cli, ["init", "--root", str(root)])
    assert result.exit_code == 0, result.output
    return root


# --- one error edge ----------------------------------------------------------------------------------------------

def test_a_pipeline_error_is_one_error_line_under_clirunner(tmp_path):
    root = _init(tmp_path / "root")
    (root / "sopipe.toml").write_text(BROKEN_TOML, encoding="utf-8")
    result = CliRunner().invoke(cli, ["watch", "--root", str(root), "--once"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert result.output.startswith("Error: ") and "settle" in result.output, result.output
    assert "Traceback" not in result.output


def test_a_pipeline_error_is_the_same_error_line_from_the_console_script(tmp_path):
    root = _init(tmp_path / "root")
    (root / "sopipe.toml").write_text(BROKEN_TOML, encoding="utf-8")
    under_runner = CliRunner().invoke(cli, ["status", "--root", str(root)]).output
    real = subprocess.run([sys.executable, "-m", "pipeline", "status", "--root", str(root)],
                          capture_output=True, text=True, timeout=120)
    assert real.returncode == 1
    assert real.stdout == "" and real.stderr == under_runner, (real.stdout, real.stderr)
    assert "Traceback" not in real.stderr


def test_errors_of_the_former_local_edges_still_reach_the_user(tmp_path):
    """What `cli_signing._fail` and `cli_archive._opened` used to translate now passes the one edge unchanged."""
    not_p12 = tmp_path / "sleutel.p12"
    not_p12.write_bytes(b"no PKCS#12 at all")
    pdf = tmp_path / "SO-2026-0042_advies.pdf"
    pdf.write_bytes(minimal_pdf([[(72, 700, "Ondertekening")]]))
    signed = CliRunner().invoke(cli, ["sign", str(pdf), "--p12", str(not_p12)], env={"SOPIPE_P12_PASSPHRASE": "x"})
    assert signed.exit_code == 1 and signed.output.startswith("Error: PKCS#12-bestand "), signed.output
    assert "kan niet worden geopend" in signed.output
    root = _init(tmp_path / "root")
    exported = CliRunner().invoke(cli, ["archive", "export", "ONBEKEND-1", "--root", str(root),
                                        "--out", str(tmp_path / "b.zip")])
    assert exported.exit_code == 1 and exported.output.startswith("Error: "), exported.output
    assert "Traceback" not in exported.output and not (tmp_path / "b.zip").exists()


def _cli_modules() -> list[Path]:
    return sorted(PIPELINE.glob("cli*.py"))


def test_only_the_group_module_turns_pipeline_errors_into_output():
    """No command module catches a PipelineError (or a subclass) to make a ClickException of it."""
    from pipeline import errors

    names = {n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, errors.PipelineError)}
    catching: dict[str, list[int]] = {}
    for path in _cli_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                caught = {n.id if isinstance(n, ast.Name) else getattr(n, "attr", "")
                          for n in ast.walk(node.type)}
                if caught & names:
                    catching.setdefault(path.name, []).append(node.lineno)
    assert set(catching) == {"cli.py"} and len(catching["cli.py"]) == 1, catching
    assert len(_cli_modules()) >= 5, "the command modules are where they were"


def test_every_command_is_still_there():
    def walk(group, prefix=()):
        for name, command in group.commands.items():
            yield " ".join((*prefix, name))
            if hasattr(command, "commands"):
                yield from walk(command, (*prefix, name))

    assert set(walk(cli)) == {
        "init", "migrate-layout", "demo", "watch", "status", "templates", "templates check", "doctor", "audit",
        "archive", "archive export", "archive verify", "archive due", "archive destroy", "archive renew",
        "archive replace-form", "archive hold", "archive release", "sign", "sign-digest", "queue", "queue get",
        "queue return", "queue result", "verify", "pki", "pki serve", "bench", "check", "desk", "desk serve",
        "desk gateway", "desk adduser"}


# --- archive renew: the shell function ---------------------------------------------------------------------------

@pytest.fixture
def archived_root(tmp_path, services_keyring, pades_with_tsa, trust_services):
    """A root trusting the loopback trust services, with one valid B-LTA advice, one tampered B-LTA document and
    one B-B document (no archive timestamp) in its archive."""
    root = _init(tmp_path / "root")
    shutil.copy(trust_services.ca, root / "pki" / "ca.pem")
    configure(root, {"signing": {"tsa_url": trust_services.tsa_url}})
    document = minimal_pdf([[(72, 770, "Definitief advies SO-2026-0042"), (72, 400, "Ondertekening")]])
    identity = services_keyring.doctor(VISSER)
    lta = pades_with_tsa.sign(document, identity=identity, appearance=DOCTOR, level="B-LTA")
    tampered = bytearray(lta)
    tampered[tampered.index(b"Definitief advies")] = ord("d")
    folder = root / "outbox" / "archief" / "SO-2026-0042"
    folder.mkdir(parents=True)
    files = {"valid": folder / "SO-2026-0042_advies.pdf", "tampered": folder / "SO-2026-0042_machtiging.pdf",
             "bb": folder / "SO-2026-0042_factuur.pdf"}
    files["valid"].write_bytes(lta)
    files["tampered"].write_bytes(bytes(tampered))
    files["bb"].write_bytes(pades_with_tsa.sign(document, identity=identity, appearance=DOCTOR, level="B-B"))
    return load_settings(root), files, trust_services


def test_renew_renews_the_due_document_and_refuses_the_broken_one(archived_root):
    settings, files, services = archived_root
    before = {k: p.read_bytes() for k, p in files.items()}
    heard = []
    result = renew_archive_timestamps(settings, days=100_000, on_item=heard.append)
    assert result.checked == 2, "the B-B document has no archive timestamp to renew"
    by_name = {r.path.name: r for r in result.items}
    assert by_name[files["valid"].name].status is RenewStatus.RENEWED
    refused = by_name[files["tampered"].name]
    assert refused.status is RenewStatus.REFUSED and "gewijzigd" in refused.reason
    assert files["bb"].name not in by_name
    assert (result.renewed, result.refused) == (1, 1) and heard == list(result.items)
    renewed = verify_pdf(files["valid"].read_bytes(), trust_roots=[services.ca])
    assert renewed.ok and len(renewed.document_timestamps) == 2
    assert files["valid"].read_bytes().startswith(before["valid"]), "an incremental update"
    assert files["tampered"].read_bytes() == before["tampered"] and files["bb"].read_bytes() == before["bb"]


def test_renew_dry_run_lists_and_changes_nothing(archived_root):
    settings, files, _ = archived_root
    before = {k: p.read_bytes() for k, p in files.items()}
    result = renew_archive_timestamps(settings, days=100_000, dry_run=True)
    statuses = {r.path.name: r.status for r in result.items}
    assert statuses == {files["valid"].name: RenewStatus.DUE, files["tampered"].name: RenewStatus.REFUSED}
    assert {k: p.read_bytes() for k, p in files.items()} == before


def test_renew_leaves_a_document_whose_timestamp_is_far_from_expiry(archived_root):
    settings, files, _ = archived_root
    result = renew_archive_timestamps(settings, days=0)
    assert [r.status for r in result.items] == [RenewStatus.REFUSED] and result.renewed == 0


def test_renew_without_a_timestamp_server_is_a_signing_error(tmp_path):
    """A production root (no DEMO PKI, so no DEMO TSA either) without tsa_url: refused, before any file is read."""
    from pipeline.adapters import demo_pki

    root = _init(tmp_path / "root")
    (root / "pki" / demo_pki.DEMO_MARKER).unlink()
    (root / "sopipe.toml").write_text("", encoding="utf-8")
    settings = load_settings(root)
    assert settings.signing.tsa_url is None
    with pytest.raises(SigningError) as e:
        renew_archive_timestamps(settings, days=365)
    assert "tsa_url" in e.value.message
    assert renew_archive_timestamps(settings, days=365, dry_run=True).items == ()
    result = CliRunner().invoke(cli, ["archive", "renew", "--root", str(root)])
    assert result.exit_code == 1 and result.output.startswith("Error: ") and "tsa_url" in result.output, \
        result.output


# --- bench --scale: the command runner comes from the CLI ----------------------------------------------------------

def test_bench_scale_times_the_commands_it_is_given(tmp_path):
    from pipeline.cli_bench import in_process
    from pipeline.shell.bench import bench_scale

    seen = []
    run = in_process(cli)

    def counting(args):
        seen.append(list(args))
        return run(args)

    figures = bench_scale(tmp_path / "scale", run_command=counting, cases=30, audit_records=200)
    assert [a[0] for a in seen] == ["status", "status", "status", "audit"]
    assert figures["scale_cases"] == 30 and figures["audit_verify_seconds"] >= 0
    with pytest.raises(RuntimeError, match="status"):
        bench_scale(tmp_path / "other", run_command=lambda args: (2, "usage error"), cases=5, audit_records=0)


def test_the_bench_command_hands_the_shell_its_own_group(monkeypatch):
    import pipeline.shell.bench as b

    class Stop(Exception):
        pass

    seen = {}

    def fake_bench(n_cases, **options):
        seen["status --help"] = options["run_command"](["status", "--help"])
        raise Stop

    monkeypatch.setattr(b, "bench", fake_bench)
    result = CliRunner().invoke(cli, ["bench", "--cases", "1", "--naive-sample", "0", "--scale", "--json"])
    assert isinstance(result.exception, Stop), result.output
    code, output = seen["status --help"]
    assert code == 0 and output.startswith("Usage: ") and "--overdue" in output
