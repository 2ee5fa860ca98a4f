"""The systemd units in deploy/systemd: they verify with `systemd-analyze verify`, every `sopipe` command they
start exists with the options given, each service runs as its own account with the hardening options, and the
seal's passphrase comes in as a systemd credential the pipeline reads from $CREDENTIALS_DIRECTORY."""

from __future__ import annotations

import datetime as dt
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pipeline.adapters.keys import read_secret
from pipeline.cli import cli
from pipeline.shell.layout import EXAMPLES

UNITS = Path(__file__).resolve().parents[1] / "deploy" / "systemd"
SERVICES = sorted(UNITS.glob("*.service"))
BIN = "/opt/sopipe/venv/bin/"
HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "UMask=0077",
             "CapabilityBoundingSet=", "SystemCallArchitectures=native")


def unit(path: Path) -> dict[str, list[str]]:
    """key -> values of a unit file (systemd allows a key more than once; comments and sections dropped)."""
    out: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not a key=value line: {line!r}"
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def test_the_three_services_and_the_renewal_timer_are_shipped():
    assert {p.name for p in SERVICES} >= {"sopipe-watch.service", "sopipe-gateway.service", "sopipe-desk.service"}
    assert (UNITS / "sopipe-renew.timer").exists() and (UNITS / "sopipe.sysusers.conf").exists()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_units_verify_with_systemd_analyze(tmp_path):
    """Verified as written, with the install prefix pointed at this checkout's sopipe (and a stand-in for gunicorn
    where the desk's extra is not installed): verify checks that each ExecStart is an executable."""
    venv_bin = Path(sys.executable).parent
    for path in [*SERVICES, *UNITS.glob("*.timer")]:
        text = path.read_text(encoding="utf-8")
        for name in ("sopipe", "gunicorn"):
            real = venv_bin / name
            text = text.replace(BIN + name, str(real) if real.exists() else "/bin/true")
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    done = subprocess.run(["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.iterdir())],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_every_sopipe_command_started_exists_with_its_options(path):
    for line in unit(path)["ExecStart"]:
        argv = shlex.split(line)
        assert argv[0].startswith(BIN), argv[0]
        if argv[0] != BIN + "sopipe":
            assert argv[0] == BIN + "gunicorn" and argv[-1] == "desk.wsgi:application"
            continue
        args = argv[1:]
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0, f"{path.name}: `sopipe {' '.join(args)}` is no command: {result.output}"


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_every_service_is_hardened_and_runs_unprivileged(path):
    keys = unit(path)
    lines = {f"{k}={v}" for k, values in keys.items() for v in values}
    missing = [h for h in HARDENING if h not in lines]
    assert not missing, f"{path.name} lacks {missing}"
    assert keys["User"][0] in ("sopipe", "sopipe-desk") and keys["User"][0] != "root"
    assert "RestrictAddressFamilies" in keys and "SystemCallFilter" in keys
    writable = keys.get("ReadWritePaths", [])
    assert writable in ([], ["/srv/sopipe"]), writable


def test_the_desk_runs_as_its_own_account_and_sees_only_the_gateway_socket():
    desk, watch, gateway = (unit(UNITS / f"sopipe-{n}.service") for n in ("desk", "watch", "gateway"))
    assert desk["User"] == ["sopipe-desk"] and watch["User"] == gateway["User"] == ["sopipe"]
    assert desk["TemporaryFileSystem"] == ["/srv:ro"] and desk["BindReadOnlyPaths"] == ["/srv/sopipe/gateway"]
    assert "ReadWritePaths" not in desk and "LoadCredentialEncrypted" not in desk, "no seal, no root for the desk"
    assert gateway["RestrictAddressFamilies"] == ["AF_UNIX"] and gateway["PrivateNetwork"] == ["yes"]
    assert any(s.endswith("sopipe-desk") for s in gateway["SupplementaryGroups"])


def test_the_seal_passphrase_is_a_credential_the_pipeline_reads(tmp_path, monkeypatch):
    for name in ("watch", "gateway"):
        [spec] = unit(UNITS / f"sopipe-{name}.service")["LoadCredentialEncrypted"]
        assert spec.split(":", 1)[0] == "seal-passphrase"
    creds = tmp_path / "creds"  # what systemd hands the service: a private folder with the decrypted file
    creds.mkdir(mode=0o700)
    (creds / "seal-passphrase").write_bytes(b"geheim\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert read_secret("credential:seal-passphrase", setting="seal_passphrase") == b"geheim"


NGINX = (shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
         or shutil.which("nginx", path=str(Path(sys.prefix) / "opt" / "nginx" / "usr" / "sbin")))
"""An installed nginx, else Debian's binary `make test` unpacked into the virtual environment (tools/test-nginx.sh)."""


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed")
def test_the_reverse_proxy_example_passes_nginx_t(tmp_path):
    """deploy/nginx/sopipe-desk.conf as shipped, with a throw-away certificate and log folder: `nginx -t`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "balie.arbodienst.example")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    site = (UNITS.parent / "nginx" / "sopipe-desk.conf").read_text(encoding="utf-8")
    site = (site.replace("/etc/ssl/sopipe/balie.arbodienst.example.fullchain.pem", str(tmp_path / "cert.pem"))
            .replace("/etc/ssl/sopipe/balie.arbodienst.example.key", str(tmp_path / "key.pem"))
            .replace("/var/log/nginx/", f"{tmp_path}/"))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    temp = " ".join(f"{k}_temp_path {tmp_path};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(f"pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log; events {{}}\n"
                                         f"http {{ {temp} access_log {tmp_path}/access.log; "
                                         f"include {tmp_path}/site.conf; }}\n", encoding="utf-8")
    done = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "test is successful" in done.stderr, done.stderr


def _exec_start(name: str, root: Path) -> list[str]:
    """The unit's ExecStart as argv for this checkout, with the root moved to `root`."""
    [line] = unit(UNITS / name)["ExecStart"]
    argv = shlex.split(line.replace("/srv/sopipe", str(root)))
    return [str(Path(sys.executable).parent / "sopipe"), *argv[1:]]


def _fresh_root(tmp_path: Path) -> Path:
    root = tmp_path / "srv-sopipe"
    done = subprocess.run([str(Path(sys.executable).parent / "sopipe"), "init", "--root", str(root)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return root


def test_the_renewal_service_runs_on_a_fresh_root(tmp_path):
    root = _fresh_root(tmp_path)
    done = subprocess.run(_exec_start("sopipe-renew.service", root), capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert done.returncode == 0 and "0 archived B-LTA document(s) checked" in done.stdout, done.stdout + done.stderr


@pytest.mark.libreoffice
def test_the_watch_service_starts_on_a_fresh_root_processes_a_file_and_stops_on_sigterm(tmp_path):
    """What systemd does with sopipe-watch.service, without systemd: start the ExecStart line as written (JSON logs),
    drop a case file, see it processed, stop with the unit's KillSignal (SIGTERM) within its TimeoutStopSec."""
    import json
    import signal
    import time

    root = _fresh_root(tmp_path)
    proc = subprocess.Popen(_exec_start("sopipe-watch.service", root), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    try:
        assert "Watching" in proc.stdout.readline()
        example = next(EXAMPLES.glob("case-*/01-*.json"))
        (root / "inbox" / example.name).write_bytes(example.read_bytes())
        deadline = time.monotonic() + 240
        while not (root / "inbox" / "processed" / example.name).exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=int(unit(UNITS / "sopipe-watch.service")["TimeoutStopSec"][0].rstrip("s")))
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code in (0, -signal.SIGTERM), code  # systemd counts an exit by its own KillSignal as clean
    lines = [json.loads(line) for line in proc.stderr.read().splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= set(entry) for entry in lines)
