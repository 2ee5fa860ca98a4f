"""Issue 14: the own doctor's request form outside the DEMO waits for that doctor's own signature.

On a production root (`init --no-demo`, `auto_sign_doctors = false`) the pipeline never signs in a doctor's name:
the request form waits unsigned in `outbox/bedrijfsarts/<BIG>/<kenmerk>/te-ondertekenen/`, the pending signature
is recorded (and shown by `sopipe status`), and the signed form that comes back into `inbox/` is checked (same
document, signed by a certificate carrying the own doctor's BIG number, from the trusted CA) before it is
delivered by its routing row. Signatures are made with pyHanko and checked with poppler's pdfsig.
FakeConverter (no LibreOffice needed); real SQLite, real signatures, real files.
"""

from __future__ import annotations

import os
import io
import json
import re
from contextlib import ExitStack
from types import SimpleNamespace

import pytest

from pipeline.adapters.signing import PadesSigner, SignatureAppearance
from pipeline.core import model
from pipeline.core.kinds import Signer
from pipeline.core.procedure import fold
from pipeline.core.routing import Party
from pipeline.core.signatures import hold_for_signature, kenmerk_from_file_name, returned_signed
from pipeline.shell.app import open_pipeline
from pipeline.shell.status import warnings
from tests.casefactory import full_case, intrekking, parse_all
from tests.pdf_signatures import pdfsig
from tests.mailbox_paths import mailbox
from tests.test_keys import ENV_SEAL, SEAL_ENV, _production_root

K = "SO-2026-0142"
BAKKER, VISSER = "19012345601", "39087654301"
FORM = f"{K}_aanvraagformulier.pdf"
APPEARANCE = SignatureAppearance(naam="Dr. P. Bakker", rol="bedrijfsarts (aanvrager)", big_nummer=BAKKER,
                                 organisatie="", reden="Aanvraag second opinion", locatie="Nederland")


# --- pure core -----------------------------------------------------------------------------------------------

def test_who_signs_is_one_typed_value_and_the_request_form_is_held_like_the_advice():
    from pipeline.core.procedure import decide
    events = parse_all(full_case(upto="aanvraag"))
    decision = decide(fold(events[:-1]), events[-1])
    signers = {o.kind: o.sign.wie for o in decision.orders if o.sign}
    assert signers == {"aanvraagformulier": Signer.BEDRIJFSARTS, "machtiging-medische-gegevens": Signer.ZEGEL}
    assert all(isinstance(w, Signer) for w in signers.values())
    rest, held = hold_for_signature(decision, signable=lambda s: s.wie is Signer.ZEGEL)
    assert [o.kind for o in held] == ["aanvraagformulier"]
    assert [o.kind for o in rest.orders] == ["machtiging-medische-gegevens"]


@pytest.mark.parametrize("name, expected", [
    (f"{K}_aanvraagformulier-ondertekend.pdf", (K, "aanvraagformulier")),
    (f"{K}_aanvraagformulier-zonder-medische-gegevens.pdf", (K, "aanvraagformulier-zonder-medische-gegevens")),
    (f"{K}_medische-gegevens-ondertekend.pdf", (K, "medische-gegevens")),
    (f"{K}_machtiging-medische-gegevens.pdf", None)])
def test_returned_form_names(name, expected):
    assert kenmerk_from_file_name(name) == expected


def _parties(decision):
    [order] = decision.orders
    return {d.party for d in order.deliveries if decision.state.heeft_toestemming(d.consent)}


def test_the_signed_form_reaches_the_so_doctor_only_under_the_consent_at_that_moment():
    state = fold(parse_all(full_case(kenmerk=K, upto="aanvraag")))
    assert _parties(returned_signed(state, "aanvraagformulier")) == {
        Party.WERKNEMER, Party.BEDRIJFSARTS, Party.SO_BEDRIJFSARTS, Party.ARCHIEF}
    withdrawn = fold(parse_all(full_case(kenmerk=K, upto="aanvraag"))
                     + [model.parse_event(intrekking("medische_gegevens", datum="2026-11-20", kenmerk=K))])
    assert _parties(returned_signed(withdrawn, "aanvraagformulier")) == {
        Party.WERKNEMER, Party.BEDRIJFSARTS, Party.ARCHIEF}


def test_preventix_full_form_does_not_reach_the_so_doctor_before_the_consultation():
    state = fold(parse_all(full_case(kenmerk=K, profiel="preventix", upto="aanvraag")))
    assert Party.SO_BEDRIJFSARTS not in _parties(returned_signed(state, "aanvraagformulier"))
    assert _parties(returned_signed(state, "aanvraagformulier-zonder-medische-gegevens")) == {
        Party.SO_BEDRIJFSARTS, Party.ARCHIEF}


# --- through the production wiring -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def prod(tmp_path_factory, shared_pki, shared_fake_converter):
    """A production root taken to the request (aanvraag): the form waits for Dr. Bakker."""
    os.environ[SEAL_ENV] = (shared_pki / "passphrase").read_text().strip()
    stack = ExitStack()
    try:
        settings = _production_root(tmp_path_factory.mktemp("own") / "root", shared_pki, seal=ENV_SEAL)
        pipeline = stack.enter_context(open_pipeline(settings, converter=shared_fake_converter))
    finally:
        os.environ.pop(SEAL_ENV, None)
    from pipeline.shell.watcher import run_once
    for i, ev in enumerate(full_case(kenmerk=K, upto="aanvraag"), start=1):
        (settings.inbox / f"{i:02d}-{ev['stap']}.json").write_text(json.dumps(ev), encoding="utf-8")
    _PIPELINES[settings.root] = pipeline
    outcomes = run_once(pipeline)
    assert [o.status for o in outcomes] == ["processed"] * 5, [(o.file_name, o.detail) for o in outcomes]

    def drop(name, data):
        (settings.inbox / name).write_bytes(data)
        [outcome] = run_once(pipeline)
        return outcome

    yield settings, pipeline, drop
    stack.close()


def _waiting(settings):
    return _delivered(settings, "bedrijfsarts").parent / "te-ondertekenen" / FORM


def _delivered(settings, party):
    root = SimpleNamespace(settings=settings, pipeline=_PIPELINES[settings.root])
    return mailbox(root, party, K) / FORM


_PIPELINES = {}


def test_form_waits_unsigned_in_the_own_doctors_folder_and_status_shows_it(prod):
    settings, pipeline, _ = prod
    waiting = _waiting(settings)
    assert waiting.parent.parent.parent.name == BAKKER  # outbox/bedrijfsarts/<BIG>/<kenmerk>/te-ondertekenen/
    assert b"/ByteRange" not in waiting.read_bytes()
    for party in ("werknemer", "so-bedrijfsarts", "archief"):
        assert not _delivered(settings, party).exists(), party
    assert _delivered(settings, "archief").with_name(f"{K}_machtiging-medische-gegevens.pdf").exists()
    assert [(p.kind, p.signer_big) for p in pipeline.store.open_pending()] == [("aanvraagformulier", BAKKER)]
    [line] = [w for w in warnings(settings, pipeline.store) if K in w]
    assert "eigen bedrijfsarts (aanvrager)" in line and BAKKER in line and "te-ondertekenen" in line


def test_a_form_signed_by_the_wrong_doctor_is_refused_with_a_clear_report(prod, keyring):
    settings, pipeline, drop = prod
    signed = PadesSigner().sign(_waiting(settings).read_bytes(), identity=keyring.doctor(VISSER),
                                appearance=APPEARANCE)
    name = f"{K}_aanvraagformulier-visser.pdf"
    outcome = drop(name, signed)
    assert outcome.status == "failed", outcome.detail
    report = (settings.inbox / "failed" / f"{name}.error.txt").read_text(encoding="utf-8")
    assert "NIET aangenomen" in report and "Reden: verkeerde ondertekenaar" in report, report
    assert "Dr. P. Bakker (BIG 19012345601)" in report and "eigen bedrijfsarts" in report
    assert "outbox/bedrijfsarts/<BIG-nummer>/<kenmerk>/te-ondertekenen/" in report
    assert "111222333" not in report
    assert pipeline.store.open_pending() and not _delivered(settings, "werknemer").exists()


def test_the_form_signed_by_the_own_doctor_is_delivered_by_its_routing_row(prod, shared_pki, tmp_path):
    """Dr. Bakker signs with `sopipe sign --p12` (pyHanko, a test identity carrying that BIG number)."""
    from click.testing import CliRunner

    from pipeline.cli import cli
    from pipeline.shell.watcher import run_once
    settings, pipeline, drop = prod
    p12 = tmp_path / "bakker.p12"
    p12.write_bytes((shared_pki / f"doctor-{BAKKER}.p12").read_bytes())
    result = CliRunner().invoke(cli, ["sign", str(_waiting(settings)), "--p12", str(p12), "--level", "B-B",
                                      "--root", str(settings.root)],
                                env={"SOPIPE_P12_PASSPHRASE": (shared_pki / "passphrase").read_text().strip()})
    assert result.exit_code == 0, result.output
    dropped = settings.inbox / f"{K}_aanvraagformulier-ondertekend.pdf"
    signed = dropped.read_bytes()
    from pyhanko.pdf_utils.reader import PdfFileReader
    [sig] = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    assert str(sig.sig_object["/Reason"]) == "Aanvraag second opinion"  # the request, not "Definitief advies"
    [outcome] = run_once(pipeline)
    assert outcome.status == "processed", outcome.detail
    for party in ("werknemer", "bedrijfsarts", "so-bedrijfsarts", "archief"):
        delivered = _delivered(settings, party)
        assert delivered.read_bytes() == signed, party
        report = pdfsig(delivered)  # poppler, independent of pyHanko
        assert re.findall(r"Signer Certificate Common Name: (.*)", report) == ["Dr. P. Bakker"], report
        assert "Signature is Valid" in report
    assert pipeline.store.open_pending() == []
    assert not [w for w in warnings(settings, pipeline.store) if K in w]
    again = drop(f"{K}_aanvraagformulier-nogmaals.pdf", signed)  # the same signed form once more: done already
    assert again.status == "duplicate"
