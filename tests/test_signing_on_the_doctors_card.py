"""Signing on the doctor's own card while the document stays on the server: the desk prepares the waiting
document for the doctor's certificate and hands out only the signed attributes, `sopipe sign-digest` signs them
with his key, the desk embeds the value and hands the document in, and the pipeline accepts it as any return.

FakeConverter; real signatures with the DEMO doctors' PKCS#12 files (as a card would hold the key).
"""

from __future__ import annotations

import hashlib

import pytest
from asn1crypto import cms
from click.testing import CliRunner

from pipeline.adapters.audit import Audit
from pipeline.cli import cli
from pipeline.shell import remote_signing
from pipeline.shell import role_views as rv
from tests.role_roots import K, SMIT, VISSER, held_root, role_root, smit, visser


@pytest.fixture(scope="module")
def root(tmp_path_factory, shared_fake_converter, keyring, shared_pki):
    r = held_root(tmp_path_factory.mktemp("card") / "root", converter=shared_fake_converter, keyring=keyring,
                  pki=shared_pki)
    yield r
    r.close()


def _card(shared_pki, big: str, *args: str, input: bytes | None = None):
    """`sopipe sign-digest` with the doctor's PKCS#12 file standing in for his card."""
    env = {"SOPIPE_P12_PASSPHRASE": (shared_pki / "passphrase").read_text().strip()}
    result = CliRunner().invoke(cli, ["sign-digest", "--p12", str(shared_pki / f"doctor-{big}.p12"), *args],
                                input=input, env=env)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def test_wrong_certificate_and_other_doctors_are_refused(root, shared_pki):
    r = role_root(root)
    with pytest.raises(rv.OngeldigeInvoer, match="hoort niet bij BIG-nummer"):
        remote_signing.bereid_voor(r, visser, K, "advies", _card(shared_pki, SMIT, "--certificate"))
    with pytest.raises(rv.BuitenBereik):
        remote_signing.bereid_voor(r, smit, K, "advies", _card(shared_pki, SMIT, "--certificate"))
    with pytest.raises(rv.OngeldigeInvoer, match="certificaat"):
        remote_signing.bereid_voor(r, visser, K, "advies", b"geen certificaat")
    prepared = remote_signing.bereid_voor(r, visser, K, "advies", _card(shared_pki, VISSER, "--certificate"))
    with pytest.raises(rv.BuitenBereik):  # another doctor cannot finish Visser's session
        remote_signing.voltooi(r, smit, prepared.sessie, b"x" * 256)
    with pytest.raises(rv.BuitenBereik):
        remote_signing.voltooi(r, visser, "../../pki/seal", b"x" * 256)
    # a value that is no signature over these attributes: embedded, handed in, and refused by the pipeline
    done = remote_signing.voltooi(r, visser, prepared.sessie, b"\x01" * 256)
    [outcome] = root.run()
    assert outcome.status == "failed"
    verdict = rv.inlevering_uitslag(r, visser, K, done.sha256)
    assert verdict.status == "geweigerd" and verdict.reden, verdict


def test_only_the_digest_leaves_the_server_and_the_signed_document_is_accepted(root, shared_pki):
    r = role_root(root)
    waiting = root.settings.outbox / "so-bedrijfsarts" / VISSER / K / "te-ondertekenen" / f"{K}_advies.pdf"
    unsigned = waiting.read_bytes()
    prepared = remote_signing.bereid_voor(r, visser, K, "advies", _card(shared_pki, VISSER, "--certificate"))
    attrs = cms.CMSAttributes.load(prepared.te_ondertekenen)
    assert {a["type"].native for a in attrs} >= {"content_type", "message_digest"}
    assert len(prepared.te_ondertekenen) < 1024 and unsigned[:200] not in prepared.te_ondertekenen
    record = Audit(root.store).records()[-1]
    assert (record.gebruiker, record.gebeurtenis, record.uitkomst) == (visser.audit_naam, "ondertekening", "gestart")

    value = _card(shared_pki, VISSER, "-", input=prepared.te_ondertekenen)
    done = remote_signing.voltooi(r, visser, prepared.sessie, value)
    handed_in = (root.settings.inbox / done.bestand).read_bytes()
    assert handed_in.startswith(unsigned) and hashlib.sha256(handed_in).hexdigest() == done.sha256
    assert not list((root.settings.state / remote_signing.FOLDER).iterdir()), "the session is used up"
    with pytest.raises(rv.BuitenBereik):
        remote_signing.voltooi(r, visser, prepared.sessie, value)
    [outcome] = root.run()
    assert outcome.status == "processed", outcome.detail
    assert rv.inlevering_uitslag(r, visser, K, done.sha256).status == "aangenomen"
    assert rv.te_ondertekenen(r, visser) == []
