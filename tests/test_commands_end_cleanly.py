"""What a user sees in the terminal, from real `sopipe` processes: no dependency warning on any command, `sign`
closes the HTTP session it opened (no "Unclosed client session"), and SIGTERM (what systemd sends) stops `watch`
as Ctrl-C does: exit 0, "Stopped.", the file in progress finished or staged, nothing lost."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.shell.layout import EXAMPLES
from tests.pdfs import minimal_pdf

REPO = Path(__file__).resolve().parents[1]
SOPIPE = [sys.executable, "-m", "pipeline"]
VISSER = "39087654301"


def _quiet(stderr: str) -> None:
    """Nothing a dependency says to the user: no warnings, no asyncio or aiohttp complaints, no traceback."""
    for noise in ("Warning", "warnings.warn", "Unclosed", "Traceback", "DSA"):
        assert noise not in stderr, stderr


def test_sign_b_lta_ends_without_an_unclosed_session_or_a_warning(trust_services, tmp_path):
    pdf = tmp_path / "SO-2026-0042_advies.pdf"
    pdf.write_bytes(minimal_pdf([[(72, 700, "Advies")]]))
    pki = trust_services.pki_dir
    env = dict(os.environ, SOPIPE_P12_PASSPHRASE=(pki / "passphrase").read_text().strip())
    result = subprocess.run([*SOPIPE, "sign", str(pdf), "--p12", str(pki / f"doctor-{VISSER}.p12"),
                             "--tsa-url", trust_services.tsa_url, "--trust", str(trust_services.ca),
                             "--level", "B-LTA", "--out", str(tmp_path / "ondertekend.pdf")],
                            capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "als PAdES B-LTA" in result.stdout
    _quiet(result.stderr)


def test_verify_imports_pyhanko_without_a_warning_reaching_the_user(trust_services, tmp_path):
    pdf = tmp_path / "iets.pdf"
    pdf.write_bytes(minimal_pdf([[(72, 700, "Niet ondertekend")]]))
    result = subprocess.run([*SOPIPE, "verify", str(pdf), "--trust", str(trust_services.ca)], capture_output=True,
                            text=True, cwd=REPO, timeout=120, env=dict(os.environ, PYTHONWARNINGS="default"))
    _quiet(result.stderr)


def test_the_filter_is_precise_another_warning_of_the_same_kind_still_shows():
    code = ("import pipeline, warnings\n"
            "warnings.warn_explicit('DSA is deprecated', UserWarning, 'x.py', 1, module='elders')\n"
            "warnings.warn_explicit('something else', UserWarning, 'x.py', 1, module='pyhanko.sign')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert "DSA is deprecated" in result.stderr and "something else" in result.stderr, result.stderr


def test_a_warning_raised_by_our_own_code_fails_the_tests():
    """pyproject's pytest filter: a warning attributed to a module of the pipeline package is an error; the same
    warning from elsewhere is only shown."""
    import warnings
    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit("old API", DeprecationWarning, "runner.py", 1, module="pipeline.shell.runner")
    with pytest.warns(DeprecationWarning):
        warnings.warn_explicit("old API", DeprecationWarning, "x.py", 1, module="pipelinex")


# --- SIGTERM -------------------------------------------------------------------------------------------------

class _Watch:
    """`sopipe watch` as a real process; its output read by a thread, so a missing line fails in time."""

    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen([*SOPIPE, "watch", "--root", str(root), "--settle", "0.1"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.err: list[str] = []
        self.pumps = [threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True),
                      threading.Thread(target=self._pump, args=(self.proc.stderr, None), daemon=True)]
        for pump in self.pumps:
            pump.start()

    def _pump(self, stream, into) -> None:
        for line in stream:
            if into is not None:
                into.put(line)
            else:
                self.err.append(line)
        if into is not None:
            into.put(None)

    def wait_for(self, needle: str, *, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is not None:
                self.seen.append(line)
                if needle in line:
                    return
                continue
            self.proc.kill()
            raise AssertionError(f"{needle!r} not seen: {''.join(self.seen)}{''.join(self.err)}")

    def terminate(self, *, timeout: float = 120) -> tuple[int, str, str]:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        for pump in self.pumps:  # the reader threads take the last lines, then the pipes are closed
            pump.join(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                self.seen.append(line)
        return code, "".join(self.seen), "".join(self.err)


def _init(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    assert CliRunner().invoke(cli, ["init", "--root", str(root)]).exit_code == 0
    return root


def test_sigterm_stops_an_idle_watch_with_exit_0(tmp_path):
    watch = _Watch(_init(tmp_path))
    watch.wait_for("Watching")
    code, out, err = watch.terminate()
    assert code == 0, (code, out, err)
    assert "Stopped." in out
    assert "Traceback" not in err


def test_sigterm_while_files_arrive_loses_nothing(tmp_path):
    """The first four files of the example case make no documents (no LibreOffice needed); SIGTERM as soon as the
    first is done: each file is processed, still in the inbox or staged (resumed at the next start), never lost."""
    root = _init(tmp_path)
    watch = _Watch(root)
    watch.wait_for("Watching")
    case = EXAMPLES / "case-SO-2026-0042"
    names = sorted(p.name for p in case.glob("0[1-4]-*.json"))
    assert len(names) == 4
    for name in names:
        tmp = root / "inbox" / f".{name}.tmp"
        shutil.copyfile(case / name, tmp)
        tmp.rename(root / "inbox" / name)
    watch.wait_for("[    ok]")
    code, out, err = watch.terminate()
    assert code == 0, (code, out, err)
    assert "Stopped." in out and "Traceback" not in err
    inbox, stage = root / "inbox", root / "state" / "intake"
    for name in names:
        places = [inbox / "processed" / name, inbox / name, *stage.glob(f"*/{name}")]
        assert sum(p.exists() for p in places) == 1, (name, out, err)
        assert not (inbox / "failed" / name).exists()
    # the next start finishes what was left, in the case's order
    again = CliRunner().invoke(cli, ["watch", "--root", str(root), "--once"])
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == names
