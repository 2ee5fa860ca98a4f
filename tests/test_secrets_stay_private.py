"""Secrets stay with the process that needs them: a `file:` passphrase others could read is refused (as ssh refuses
such a key), and no child process (a LibreOffice worker, the validation child) gets a secret in its environment,
where `/proc/<pid>/environ` would show it to anyone running as the same user.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.adapters.child_env import child_environment, secrets_hidden
from pipeline.adapters.keys import read_secret
from pipeline.errors import SigningError

SECRET = "zeer-geheim-wachtwoord-7731"


def _environ_of(pid: int) -> str:
    return Path(f"/proc/{pid}/environ").read_bytes().decode("utf-8", "replace")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o610])
def test_a_passphrase_file_that_group_or_others_may_open_is_refused(tmp_path, mode):
    path = tmp_path / "seal.pass"
    path.write_text(SECRET)
    path.chmod(mode)
    with pytest.raises(SigningError) as refused:
        read_secret(f"file:{path}", setting="seal_passphrase")
    assert f"chmod 600 {path}" in refused.value.message and "seal_passphrase" in refused.value.message
    assert SECRET not in refused.value.message


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_private_passphrase_file_is_read(tmp_path, mode):
    path = tmp_path / "seal.pass"
    path.write_text(SECRET + "\n")
    path.chmod(mode)
    assert read_secret(f"file:{path}", setting="seal_passphrase") == SECRET.encode()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_passphrase_file_of_another_user_is_refused(tmp_path):
    path = tmp_path / "seal.pass"
    path.write_text(SECRET)
    path.chmod(0o600)
    os.chown(path, 65534, 65534)
    with pytest.raises(SigningError, match="andere gebruiker"):
        read_secret(f"file:{path}", setting="seal_passphrase")


def test_a_passphrase_path_that_is_a_folder_is_refused(tmp_path):
    with pytest.raises(SigningError, match="geen gewoon bestand"):
        read_secret(f"file:{tmp_path}", setting="seal_passphrase")


def test_the_child_environment_has_no_secret(monkeypatch):
    monkeypatch.setenv("ARBO_SEAL_KEY_WORD", SECRET)  # a name no pattern knows: known because env: named it
    monkeypatch.setenv("SOPIPE_PIN", "1234")
    monkeypatch.setenv("SOME_TOKEN", "t")
    monkeypatch.setenv("LANG", "nl_NL.UTF-8")
    assert read_secret("env:ARBO_SEAL_KEY_WORD", setting="seal_passphrase") == SECRET.encode()
    env = child_environment()
    assert not {"ARBO_SEAL_KEY_WORD", "SOPIPE_PIN", "SOME_TOKEN"} & set(env)
    assert env["LANG"] == "nl_NL.UTF-8" and env["PATH"] == os.environ["PATH"]
    with secrets_hidden():
        assert "ARBO_SEAL_KEY_WORD" not in os.environ
    assert os.environ["ARBO_SEAL_KEY_WORD"] == SECRET, "put back for this process"


def test_the_validation_child_gets_no_secret(monkeypatch, tmp_path, keyring):
    from pipeline.adapters.signing import PadesSigner
    from pipeline.core.routing import Party
    from pipeline.shell.validation_reports import ValidatingMailboxes
    from tests.appearances import SEAL
    from tests.pdfs import minimal_pdf

    monkeypatch.setenv("ARBO_SEAL_PASS", SECRET)
    read_secret("env:ARBO_SEAL_PASS", setting="seal_passphrase")
    signed = PadesSigner().sign(minimal_pdf([[(72, 400, "Ondertekening")]]), identity=keyring.seal(),
                                appearance=SEAL, certify=True, level="B-B")
    boxes = ValidatingMailboxes(tmp_path / "outbox", trust_roots=(), processes=1)
    try:
        boxes.deliver(Party.ARCHIEF, "SO-2026-0042", "SO-2026-0042_machtiging-medische-gegevens.pdf", signed)
        children = list(boxes._executor._processes)
        assert children, "the report was made in a child process"
        for pid in children:
            assert SECRET not in _environ_of(pid) and "ARBO_SEAL_PASS" not in _environ_of(pid)
    finally:
        boxes.close()
    assert os.environ["ARBO_SEAL_PASS"] == SECRET


@pytest.mark.libreoffice
def test_the_libreoffice_worker_and_soffice_get_no_secret(monkeypatch):
    import psutil

    from pipeline.adapters.converter import PdfMetadata, UnoConverterPool
    from pipeline.shell.doctor import _test_docx

    monkeypatch.setenv("ARBO_SEAL_PIN_CODE", SECRET)
    read_secret("env:ARBO_SEAL_PIN_CODE", setting="seal_pin")
    with UnoConverterPool(workers=1, timeout=60, retries=0) as pool:
        assert pool.convert(_test_docx(), metadata=PdfMetadata(title="t", author="t")).startswith(b"%PDF")
        me = psutil.Process()
        children = me.children(recursive=True)
        assert any("soffice" in " ".join(c.cmdline()) for c in children), [c.cmdline() for c in children]
        for child in children:
            assert SECRET not in _environ_of(child.pid), child.cmdline()
