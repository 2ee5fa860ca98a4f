"""The final advice out for the SO doctor's own signature, and the signed PDF coming back into the inbox.

The FakeConverter (no LibreOffice needed), real signatures; one case is taken to the final advice with `auto_sign_doctors = false`, then
several returns are tried against the same pending signature: only the right doctor's unchanged document
is routed; everything else lands in inbox/failed/ with the reason in Dutch.
"""

from __future__ import annotations

import hashlib
import io
import shutil

import pytest
from click.testing import CliRunner
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from pipeline.adapters.demo_pki import init_demo_pki
from pipeline.adapters.signing import KeyRing, PadesSigner
from pipeline.core import model
from pipeline.core.procedure import fold
from pipeline.core.routing import Party
from pipeline.core.signatures import hold_for_signature, kenmerk_from_file_name, returned_signed
from tests.casefactory import full_case, intrekking, parse_all
from tests.mailbox_paths import mailbox
from tests.appearances import ADVICE, SMIT, VISSER
from tests.role_roots import send_in, unsigned_advice

K = "SO-2026-0042"


# --- pure core -----------------------------------------------------------------------------------------------

def _state(*extra):
    return fold(parse_all(full_case(upto="definitief_advies")) + [model.parse_event(e) for e in extra])


def test_held_orders_leave_the_decision_and_others_stay():
    from pipeline.core.procedure import decide
    events = parse_all(full_case(upto="definitief_advies"))
    decision = decide(fold(events[:-1]), events[-1])
    rest, held = hold_for_signature(decision, signable=lambda s: s.wie == "zegel")
    assert [o.kind for o in held] == ["advies"]
    assert "advies" not in [o.kind for o in rest.orders] and "machtiging-advies-delen" in [o.kind for o in rest.orders]
    same, none = hold_for_signature(decision, signable=None)
    assert same is decision and none == ()


def test_return_routes_by_the_consent_at_that_moment():
    now = returned_signed(_state(), "advies")
    assert [o.kind for o in now.orders] == ["advies"]
    assert {d.party for d in now.orders[0].deliveries if now.state.heeft_toestemming(d.consent)} == \
        {Party.WERKNEMER, Party.BEDRIJFSARTS, Party.SO_BEDRIJFSARTS, Party.ARCHIEF}
    withdrawn = returned_signed(_state(intrekking("advies_delen_bedrijfsarts", datum="2026-12-20")), "advies")
    advies, geen_kopie = withdrawn.orders
    allowed = {d.party for d in advies.deliveries if withdrawn.state.heeft_toestemming(d.consent)}
    assert Party.BEDRIJFSARTS not in allowed and Party.WERKNEMER in allowed
    assert geen_kopie.kind == "geen-kopie" and {d.party for d in geen_kopie.deliveries} == \
        {Party.BEDRIJFSARTS, Party.ARCHIEF}


def test_return_after_a_refusal_sends_no_second_geen_kopie_letter():
    refused = fold(parse_all(full_case(upto="definitief_advies", overrides={
        "definitief_advies": {"machtiging_advies_delen_bedrijfsarts": "geweigerd"}})))
    assert [o.kind for o in returned_signed(refused, "advies").orders] == ["advies"]  # the letter went already


@pytest.mark.parametrize("name, expected", [
    ("SO-2026-0042_advies.pdf", ("SO-2026-0042", "advies")),
    ("SO-2026-0042_advies-ondertekend.pdf", ("SO-2026-0042", "advies")),
    ("SO_2026_0042_advies (1).pdf", ("SO_2026_0042", "advies")),
    ("SO-2026-0042_factuur.pdf", None), ("advies.pdf", None)])
def test_kenmerk_from_file_name(name, expected):
    assert kenmerk_from_file_name(name) == expected


# --- through the pipeline ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def foreign_doctor(tmp_path_factory):
    """Dr. Visser's name and BIG number, but a certificate from a CA nobody trusts."""
    d = tmp_path_factory.mktemp("foreign") / "pki"
    init_demo_pki(d, organisatie="Vreemde Arbodienst", doctors=[("Dr. E. Visser", VISSER)])
    return KeyRing.from_pki_dir(d).doctor(VISSER)


def test_advice_waits_unsigned_for_the_doctor_and_the_rest_is_delivered(held_root):
    boxes = held_root.mailboxes()
    assert f"{K}_advies.pdf" not in boxes["werknemer"] | boxes["bedrijfsarts"] | boxes["archief"]
    assert f"{K}_machtiging-advies-delen.pdf" in boxes["archief"]
    unsigned = unsigned_advice(held_root)
    assert b"/ByteRange" not in unsigned
    # the own doctor's request form waits too (tests/test_own_doctor_signs_request_form.py); here: the advice
    [pending] = [p for p in held_root.store.open_pending() if p.kind == "advies"]
    assert (pending.kenmerk, pending.kind, pending.signer_big) == (K, "advies", VISSER)
    assert pending.sha256 == hashlib.sha256(unsigned).hexdigest() and pending.size == len(unsigned)


REFUSALS = ["niet-ondertekend", "verkeerde-ondertekenaar", "niet-vertrouwd", "pagina-gewijzigd", "ander-document"]


@pytest.mark.parametrize("case", REFUSALS)
def test_a_bad_return_goes_to_failed_with_the_reason(held_root, keyring, foreign_doctor, case):
    unsigned = unsigned_advice(held_root)
    pades = PadesSigner()
    if case == "niet-ondertekend":
        data, reason = unsigned, "niet ondertekend"
    elif case == "verkeerde-ondertekenaar":
        data = pades.sign(unsigned, identity=keyring.doctor(SMIT), appearance=ADVICE)
        reason = "verkeerde ondertekenaar"
    elif case == "niet-vertrouwd":
        data = pades.sign(unsigned, identity=foreign_doctor, appearance=ADVICE)
        reason = "niet vertrouwd"
    elif case == "pagina-gewijzigd":  # the doctor edits a page in an increment, then signs
        writer = IncrementalPdfFileWriter(io.BytesIO(unsigned))
        page = writer.root["/Pages"]["/Kids"][0].get_object()
        page["/Contents"] = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 11 Tf 72 700 Td "
                                                                               b"(Ander advies) Tj ET"))
        writer.update_container(page)
        out = io.BytesIO()
        writer.write(out)
        data = pades.sign(out.getvalue(), identity=keyring.doctor(VISSER), appearance=ADVICE)
        reason = "pagina gewijzigd"
    else:  # the whole file rewritten (e.g. "print to PDF") and signed: not the prepared document
        from pypdf import PdfReader, PdfWriter
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(unsigned)))
        out = io.BytesIO()
        writer.write(out)
        data = pades.sign(out.getvalue(), identity=keyring.doctor(VISSER), appearance=ADVICE)
        reason = "gewijzigd document"
    name = f"{K}_advies-{case}.pdf"
    outcome = send_in(held_root, name, data)
    assert outcome.status == "failed", outcome.detail
    report = (held_root.settings.inbox / "failed" / f"{name}.error.txt").read_text(encoding="utf-8")
    [reden] = [line for line in report.splitlines() if line.startswith("Reden: ")]
    assert "NIET aangenomen" in report and reason in reden and K in report, report
    assert held_root.store.open_pending(), "the advice still waits"
    assert f"{K}_advies.pdf" not in held_root.mailboxes().get("werknemer", set())


def test_unknown_case_and_nothing_pending_are_refused(held_root, keyring):
    signed = PadesSigner().sign(unsigned_advice(held_root), identity=keyring.doctor(VISSER), appearance=ADVICE)
    outcome = send_in(held_root, "SO-2026-9999_advies.pdf", signed)  # the name and /Keywords disagree
    assert outcome.status == "failed"
    report = (held_root.settings.inbox / "failed" / "SO-2026-9999_advies.pdf.error.txt").read_text("utf-8")
    assert "kenmerk" in report


def test_right_doctor_unchanged_document_is_routed(held_root, shared_pki, tmp_path):
    """Signed by Dr. Visser with `sopipe sign --p12 … --root` (passphrase from the environment), then routed."""
    from pipeline.cli import cli
    before = set(held_root.settings.inbox.iterdir())
    waiting = mailbox(held_root, "so-bedrijfsarts", K) / "te-ondertekenen" / f"{K}_advies.pdf"
    p12 = tmp_path / "visser.p12"
    shutil.copy(shared_pki / f"doctor-{VISSER}.p12", p12)
    result = CliRunner().invoke(cli, ["sign", str(waiting), "--p12", str(p12), "--root", str(held_root.path)],
                                env={"SOPIPE_P12_PASSPHRASE": (shared_pki / "passphrase").read_text().strip()})
    assert result.exit_code == 0, result.output
    [dropped] = set(held_root.settings.inbox.iterdir()) - before
    assert dropped.name == f"{K}_advies-ondertekend.pdf"
    [outcome] = held_root.run()
    assert outcome.status == "processed", outcome.detail
    boxes = held_root.mailboxes()
    for party in ("werknemer", "bedrijfsarts", "so-bedrijfsarts", "archief"):
        assert f"{K}_advies.pdf" in boxes[party], party
    delivered = (held_root.settings.outbox / "werknemer" / K / f"{K}_advies.pdf").read_bytes()
    assert delivered.startswith(unsigned_advice(held_root)) and b"/ByteRange" in delivered
    assert f"{K}_advies.pdf.validatie.xml" in held_root.validation_reports()
    xml = (held_root.settings.outbox / "archief" / K / f"{K}_advies.pdf.validatie.xml").read_text("utf-8")
    assert "total-passed" in xml and f"BIG {VISSER}" in xml
    assert not [p for p in held_root.store.open_pending() if p.kind == "advies"]
    assert (held_root.settings.inbox / "processed" / dropped.name).exists()
    again = send_in(held_root, f"{K}_advies-nogmaals.pdf", delivered)  # same content: a duplicate
    assert again.status == "duplicate"


def test_a_signature_whose_certificate_cannot_be_read_is_refused_in_dutch(tmp_path, shared_fake_converter, shared_pki,
                                                                        keyring, monkeypatch):
    """Who signed is read from the signer's certificate; when that cannot be read (a certificate pyHanko validated
    but our reading of its holder fails), the return is refused as unreadable, with a Dutch reason, instead of an
    internal error."""
    from pipeline.adapters import returned_pdf
    from tests.role_roots import held_root
    root = held_root(tmp_path / "root", converter=shared_fake_converter, pki=shared_pki, keyring=keyring)
    try:
        signed = PadesSigner().sign(unsigned_advice(root), identity=keyring.doctor(VISSER), appearance=ADVICE)
        monkeypatch.setattr(returned_pdf, "_holder", lambda der: None)
        outcome = send_in(root, f"{K}_advies-ondertekend.pdf", signed)
        assert outcome.status == "failed"
        report = (root.settings.inbox / "failed" / f"{K}_advies-ondertekend.pdf.error.txt").read_text("utf-8")
        assert "NIET aangenomen" in report and "certificaat van de ondertekenaar" in report, report
        assert "kan niet worden gelezen" in report and "Traceback" not in report, report
        assert [p for p in root.store.open_pending() if p.kind == "advies"]
    finally:
        root.close()
