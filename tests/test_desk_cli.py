"""`sopipe desk adduser`, `sopipe check` and `sopipe bench --desk` on the command line; the desk's production
settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.gateway.users import FILE_NAME, Users
from pipeline.shell.desk_bench import bench_desk
from pipeline.shell.layout import EXAMPLES, init_root

CASE = EXAMPLES / "case-SO-2026-0042"


def test_adduser_prints_a_one_time_password_and_an_otpauth_uri_that_log_in(tmp_path):
    root = tmp_path / "root"
    init_root(root, pki=False)
    result = CliRunner().invoke(cli, ["desk", "adduser", "jdewit", "--naam", "J. de Wit", "--role", "secretariaat",
                                      "--organisatie", "arbonoord", "--root", str(root)])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.output.splitlines() if ": " in line)
    uri = urlparse(lines["Authenticator URI"].strip())
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/sopipe:jdewit")
    secret = parse_qs(uri.query)["secret"][0]
    users = Users(root / "state" / FILE_NAME)
    try:
        _, session = users.login("jdewit", lines["One-time password"].strip(), pyotp.TOTP(secret).now())
        assert session.moet_wijzigen and session.actor.organisatie == "arbonoord"
    finally:
        users.close()
    again = CliRunner().invoke(cli, ["desk", "adduser", "jdewit", "--role", "secretariaat", "--organisatie",
                                     "arbonoord", "--root", str(root)])
    assert again.exit_code == 1 and "bestaat al" in again.output
    no_scope = CliRunner().invoke(cli, ["desk", "adduser", "x", "--role", "secretariaat", "--root", str(root)])
    assert no_scope.exit_code == 1 and "--organisatie" in no_scope.output
    no_big = CliRunner().invoke(cli, ["desk", "adduser", "x", "--role", "so-bedrijfsarts", "--root", str(root)])
    assert no_big.exit_code == 1 and "--big" in no_big.output


def test_check_gives_the_intakes_problems_in_dutch_and_exit_status_1(tmp_path):
    good = CliRunner().invoke(cli, ["check", str(CASE / "04-beschikbaarheid.json")])
    assert good.exit_code == 0 and "in orde" in good.output
    bad = json.loads((CASE / "04-beschikbaarheid.json").read_text())
    bad.update(beschikbaar="ja", datum="5-11-2026")
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = CliRunner().invoke(cli, ["check", str(path), "--json"])
    assert result.exit_code == 1
    problems = {p["veld"]: p["probleem"] for p in json.loads(result.output)["problemen"]}
    assert problems == {"datum": "is geen geldige datum (gebruik JJJJ-MM-DD) (gegeven: '5-11-2026')",
                        "beschikbaar": "moet true of false zijn (zonder aanhalingstekens) (gegeven: 'ja')"}
    root = tmp_path / "root"
    init_root(root, pki=False)
    order = CliRunner().invoke(cli, ["check", str(CASE / "04-beschikbaarheid.json"), "--root", str(root)])
    assert order.exit_code == 1 and "Een zaak begint altijd met een verzoek" in order.output
    path.write_bytes(b"\xff\xfe not json")
    assert "geen UTF-8" in CliRunner().invoke(cli, ["check", str(path)]).output


def test_the_desk_bench_times_every_operation(tmp_path):
    figures = bench_desk(tmp_path / "root", cases=40, repeat=2, pages=False)
    assert figures["desk_cases"] == 40
    timed = {k for k in figures if k.endswith("_ms")}
    assert {"gateway_list_first_page_ms", "gateway_case_page_ms", "gateway_form_check_ms",
            "socket_list_first_page_ms"} <= timed
    assert all(figures[k]["p50"] > 0 for k in timed)


def _desk_settings(tmp_path, production: bool) -> dict:
    code = ("import json, django; from django.conf import settings; django.setup(); "
            "print(json.dumps({k: getattr(settings, k, None) for k in ('SESSION_COOKIE_SECURE', "
            "'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SESSION_COOKIE_AGE', 'SESSION_ENGINE', 'DEBUG', "
            "'PASSWORD_HASHERS', 'SESSION_SAVE_EVERY_REQUEST')}))")
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "desk.settings",
           "SOPIPE_DESK_DATA": str(tmp_path / "data"), "SOPIPE_DESK_IDLE": "900",
           "SOPIPE_DESK_PRODUCTION": "1" if production else "0"}
    return json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                     check=True).stdout)


def test_production_settings_secure_the_cookies_and_sessions_are_server_side_and_idle_bound(tmp_path):
    prod = _desk_settings(tmp_path, production=True)
    assert prod["SESSION_COOKIE_SECURE"] is prod["CSRF_COOKIE_SECURE"] is True and prod["SECURE_HSTS_SECONDS"]
    assert prod["SESSION_ENGINE"] == "django.contrib.sessions.backends.db" and prod["SESSION_COOKIE_AGE"] == 900
    assert prod["SESSION_SAVE_EVERY_REQUEST"] is True and prod["DEBUG"] is False
    assert prod["PASSWORD_HASHERS"] == ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    demo = _desk_settings(tmp_path, production=False)
    assert demo["SESSION_COOKIE_SECURE"] is False and demo["DEBUG"] is False
    assert stat_mode(tmp_path / "data") == 0o700 and stat_mode(tmp_path / "data" / "secret_key") == 0o600


def stat_mode(path) -> int:
    return os.stat(path).st_mode & 0o777


def test_the_gateway_alone_serves_its_socket_until_sigterm(tmp_path):
    import signal
    import time

    from pipeline.gateway.client import GatewayClient
    from pipeline.gateway.protocol import GatewayError

    root = tmp_path / "root"
    init_root(root, pki=False)
    sopipe = os.path.join(os.path.dirname(sys.executable), "sopipe")
    process = subprocess.Popen([sopipe, "desk", "gateway", "--root", str(root)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    sock = root / "gateway" / "desk.sock"
    try:
        deadline = time.monotonic() + 30
        while not sock.exists():
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        with pytest.raises(GatewayError) as refused:
            GatewayClient(sock).call("zaken", token="niets")
        assert refused.value.code == "sessie"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0, process.stdout.read()
    assert not sock.exists()
