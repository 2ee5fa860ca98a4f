"""A doctor's own queue (documents waiting for his signature), the signed return through the gateway's function,
the pipeline's verdict followed by SHA-256, and his own mailbox: each scoped to his BIG number and role, each access
recorded under his name before any data is returned.

FakeConverter, real SQLite, real signatures (the DEMO doctors' keys), real files.
"""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from click.testing import CliRunner

from pipeline.adapters.audit import Audit
from pipeline.adapters.signing import PadesSigner
from pipeline.cli import cli
from pipeline.core import trail
from pipeline.errors import PipelineError
from pipeline.shell import role_views as rv
from tests.role_roots import (BAKKER, K, SMIT, VISSER, bakker, held_root, role_root, secretariaat, smit,
                              visser)
from tests.appearances import ADVICE



@pytest.fixture(scope="module")
def root(tmp_path_factory, shared_fake_converter, keyring, shared_pki):
    r = held_root(tmp_path_factory.mktemp("queue") / "root", converter=shared_fake_converter, keyring=keyring,
                  pki=shared_pki)
    yield r
    r.close()


def _records(root, **match):
    return [r for r in Audit(root.store).records() if all(r.details.get(k) == v for k, v in match.items())]


def test_each_doctor_sees_only_what_waits_for_him(root):
    r = role_root(root)
    assert [(w.kenmerk, w.document) for w in rv.te_ondertekenen(r, visser)] == [(K, "advies")]
    assert [(w.kenmerk, w.document) for w in rv.te_ondertekenen(r, bakker)] == [(K, "aanvraagformulier")]
    assert rv.te_ondertekenen(r, smit) == []
    [w] = rv.te_ondertekenen(r, visser)
    assert w.bestand == f"{K}_advies.pdf" and len(w.sha256) == 64
    listings = _records(root, wat="te-ondertekenen")
    assert [(x.gebruiker, x.details["aantal"]) for x in listings if x.uitkomst == "geslaagd"][-4:] == [
        (visser.audit_naam, 1), (bakker.audit_naam, 1), (smit.audit_naam, 0), (visser.audit_naam, 1)]


def test_another_doctors_document_is_not_found_and_the_attempt_is_recorded(root):
    r = role_root(root)
    for who, kenmerk, kind in ((smit, K, "advies"), (bakker, K, "advies"), (visser, K, "aanvraagformulier"),
                               (secretariaat, K, "advies"), (visser, "SO-2026-9999", "advies"),
                               (visser, K, "../../state/sopipe")):
        with pytest.raises(rv.BuitenBereik) as e:
            rv.download_te_ondertekenen(r, who, kenmerk, kind)
        assert e.value.message == rv.NOT_FOUND  # "not yours" and "not there" answer alike
        last = Audit(root.store).records()[-1]
        assert (last.gebruiker, last.uitkomst, last.gebeurtenis) == (who.audit_naam, "geweigerd", "inzage")
    assert _records(root, regel="rol")[-1].gebruiker == secretariaat.audit_naam


def test_download_is_recorded_before_the_bytes_are_handed_out(root, monkeypatch):
    r = role_root(root)
    got = rv.download_te_ondertekenen(r, visser, K, "advies")
    waiting = root.settings.outbox / "so-bedrijfsarts" / VISSER / K / "te-ondertekenen" / f"{K}_advies.pdf"
    assert got.data == waiting.read_bytes() and got.sha256 == hashlib.sha256(got.data).hexdigest()
    last = Audit(root.store).records()[-1]
    assert (last.gebruiker, last.details["wat"], last.details["document"]) == (visser.audit_naam, "te-ondertekenen",
                                                                               "advies")

    def broken(self, entries):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Audit, "_append", broken)  # no record, no data
    with pytest.raises(sqlite3.OperationalError):
        rv.download_te_ondertekenen(r, visser, K, "advies")
    with pytest.raises(sqlite3.OperationalError):
        rv.te_ondertekenen(r, visser)


def test_a_planted_link_or_a_swapped_file_is_never_handed_out(root):
    r = role_root(root)
    waiting = root.settings.outbox / "so-bedrijfsarts" / VISSER / K / "te-ondertekenen" / f"{K}_advies.pdf"
    original = waiting.read_bytes()
    try:
        waiting.unlink()
        waiting.symlink_to(root.settings.database)  # the state database, through a link
        with pytest.raises(PipelineError) as e:
            rv.download_te_ondertekenen(r, visser, K, "advies")
        assert "kan niet worden gelezen" in e.value.message
        waiting.unlink()
        waiting.write_bytes(original.replace(b"%%EOF", b"%%EOF\n% ander document"))
        with pytest.raises(PipelineError, match="niet meer het bestand"):
            rv.download_te_ondertekenen(r, visser, K, "advies")
    finally:
        waiting.unlink(missing_ok=True)
        waiting.write_bytes(original)
    # a guessed kenmerk holding a BSN: refused, and the trail keeps no trace of the number
    with pytest.raises(rv.BuitenBereik):
        rv.download_te_ondertekenen(r, visser, "111222333", "advies")
    last = Audit(root.store).records()[-1]
    assert last.kenmerk is None and "111222333" not in str(last.as_dict())


def test_a_wrong_upload_is_refused_with_the_pipelines_dutch_reason(root):
    r = role_root(root)
    with pytest.raises(rv.OngeldigeInvoer, match="geen PDF"):
        rv.lever_ondertekend_in(r, visser, K, "advies", b"hallo")
    with pytest.raises(rv.BuitenBereik):
        rv.lever_ondertekend_in(r, smit, K, "advies", b"%PDF-1.7")
    unsigned = rv.download_te_ondertekenen(r, visser, K, "advies").data
    done = rv.lever_ondertekend_in(r, visser, K, "advies", unsigned)
    assert done.bestand == f"{K}_advies-ondertekend.pdf"
    assert (root.settings.inbox / done.bestand).read_bytes() == unsigned
    assert rv.inlevering_uitslag(r, visser, K, done.sha256).status == "wacht"
    with pytest.raises(rv.BuitenBereik):  # only the one who handed it in may follow it
        rv.inlevering_uitslag(r, smit, K, done.sha256)
    [outcome] = root.run()
    assert outcome.status == "failed"
    verdict = rv.inlevering_uitslag(r, visser, K, done.sha256)
    assert verdict.status == "geweigerd" and "niet ondertekend" in verdict.reden, verdict
    assert [w.document for w in rv.te_ondertekenen(r, visser)] == ["advies"], "still waits"


def test_signed_return_is_accepted_and_lands_in_the_doctors_own_mailbox(root, keyring):
    r = role_root(root)
    unsigned = rv.download_te_ondertekenen(r, visser, K, "advies").data
    signed = PadesSigner().sign(unsigned, identity=keyring.doctor(VISSER), appearance=ADVICE)
    done = rv.lever_ondertekend_in(r, visser, K, "advies", signed)
    upload = [x for x in _records(root, wat="ondertekend-ingeleverd") if x.details["bestand_sha256"] == done.sha256]
    assert upload and upload[0].gebruiker == visser.audit_naam and upload[0].uitkomst == "gestart"
    [outcome] = root.run()
    assert outcome.status == "processed", outcome.detail
    assert rv.inlevering_uitslag(r, visser, K, done.sha256) == rv.Uitslag("aangenomen", None)
    assert rv.te_ondertekenen(r, visser) == []

    [zaak] = rv.postbus(r, visser)
    assert zaak.kenmerk == K and f"{K}_advies.pdf" in [d.bestand for d in zaak.documenten]
    assert rv.postbus(r, smit) == []
    got = rv.download_postbus(r, visser, K, f"{K}_advies.pdf")
    assert got.data == signed
    last = Audit(root.store).records()[-1]
    assert (last.gebruiker, last.details["wat"], last.details["partij"]) == (visser.audit_naam, "document",
                                                                             "so-bedrijfsarts")
    for who, name in ((smit, f"{K}_advies.pdf"), (visser, "../../../state/x.pdf"), (visser, f"{K}_factuur.pdf")):
        with pytest.raises(rv.BuitenBereik):
            rv.download_postbus(r, who, K, name)
    # the own doctor's mailbox holds his own copy of the advice under his own BIG: that one is his to fetch
    assert f"{K}_advies.pdf" in [d.bestand for z in rv.postbus(r, bakker) for d in z.documenten]
    rv.download_postbus(r, bakker, K, f"{K}_advies.pdf")
    assert Audit(root.store).records()[-1].details["partij"] == "bedrijfsarts"
    employee = [x.tekst for x in trail.werknemer_view(Audit(root.store).trail(K))]
    assert "het definitieve advies is gedownload door Dr. E. Visser (second opinion-bedrijfsarts)." in employee


def test_the_queue_on_the_command_line(root, monkeypatch):
    monkeypatch.setattr("pipeline.adapters.audit.login_name", lambda **kw: "nobody")
    listing = CliRunner().invoke(cli, ["queue", "--root", str(root.path), "--big", BAKKER])
    assert listing.exit_code == 0 and f"{K}  aanvraagformulier" in listing.output, listing.output
    got = CliRunner().invoke(cli, ["queue", "--root", str(root.path), "--big", BAKKER, "get", K,
                                    "aanvraagformulier"])
    assert got.exit_code == 0 and got.stdout_bytes.startswith(b"%PDF-"), got.stderr
    form = got.stdout_bytes
    other = CliRunner().invoke(cli, ["queue", "--root", str(root.path), "--big", SMIT, "get", K, "aanvraagformulier"])
    assert other.exit_code == 1 and rv.NOT_FOUND in other.output
    back = CliRunner().invoke(cli, ["queue", "--root", str(root.path), "--big", BAKKER, "return", K,
                                    "aanvraagformulier"], input=form)
    assert back.exit_code == 0, back.output
    sha = hashlib.sha256(form).hexdigest()
    assert sha in back.output
    # the unsigned form handed back: refused by the pipeline, and `result` says why (exit 1)
    root.run()
    result = CliRunner().invoke(cli, ["queue", "--root", str(root.path), "--big", BAKKER, "result", K, sha])
    assert result.exit_code == 1 and result.output.startswith("geweigerd: "), result.output
    names = {x.gebruiker for x in Audit(root.store).trail(K) if x.details.get("document") == "aanvraagformulier"
             and x.gebeurtenis in ("inzage", "intake") and "shell" in x.gebruiker}
    assert names and all("(nobody, bedrijfsarts, via shell)" in n for n in names), names
