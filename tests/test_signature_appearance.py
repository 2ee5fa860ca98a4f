"""Issue 12: one appearance builder and the PAdES level per signer.

The pipeline (`OrderSigner`) and `sopipe sign` make the visible block with the same function
(`pipeline.adapters.appearance.signature_appearance`) from the core's `SignOrder`; its place is the master data's
(`[organisaties]`), not a literal. Proven on real signatures: the same case is run on two roots, one signing the
doctors' documents itself (DEMO keys), one leaving them in `te-ondertekenen/` for `sopipe sign --root`; the block
of each signature is read back from the PDF with poppler's pdftotext, cropped to the signature widget.
FakeConverter (no LibreOffice), real pyHanko signatures, real SQLite.
"""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import subprocess
from types import MappingProxyType

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from pipeline.adapters.appearance import identity_order, signature_appearance
from pipeline.cli import cli
from pipeline.core.organisaties import Facts, Organisatie
from pipeline.core.kinds import Signer
from pipeline.core.procedure import decide, fold, personal_sign_order, signing_place
from pipeline.settings import Settings
from pipeline.shell.app import OrderSigner, case_sign_order
from tests.casefactory import full_case, parse_all
from tests.mailbox_paths import mailbox
from tests.pdfs import needs_pdftotext

K = "SO-2026-0212"
VISSER, BAKKER = "39087654301", "19012345601"


# --- the core: who signs where -----------------------------------------------------------------------------------

def _org(code: str, plaats: str) -> Organisatie:
    return Organisatie(code=code, naam=code.title(), straat="Dorpsstraat 1", postcode="1234 AB", plaats=plaats)


def test_the_place_comes_from_the_master_data_else_the_case_file():
    events = parse_all(full_case(kenmerk=K, upto="aanvraag"))
    state = fold(events[:-1])
    assert state.verzoek.arbodienst.code == "arbonoord" and state.so_arts.praktijk == "arbopraktijk-visser"
    facts = Facts(organisaties=MappingProxyType({"arbonoord": _org("arbonoord", "Zwolle"),
                                                 "arbopraktijk-visser": _org("arbopraktijk-visser", "Amersfoort")}))
    with_master_data = dataclasses.replace(state, organisaties=facts.organisaties)
    assert signing_place(with_master_data, Signer.ZEGEL) == "Zwolle"
    assert signing_place(with_master_data, Signer.BEDRIJFSARTS) == "Zwolle"
    assert signing_place(with_master_data, Signer.SO_BEDRIJFSARTS) == "Amersfoort"
    # without master data: the arbodienst's address in the case file; the practice has none there
    assert signing_place(state, Signer.ZEGEL) == state.verzoek.arbodienst.adres.plaats
    assert signing_place(state, Signer.SO_BEDRIJFSARTS) == ""
    signs = {o.kind: o.sign for o in decide(state, events[-1], facts=facts).orders if o.sign}
    assert signs["aanvraagformulier"].plaats == "Zwolle" and signs["machtiging-medische-gegevens"].plaats == "Zwolle"


def test_the_builder_copies_the_order_and_the_role_and_reason_are_the_signers():
    state = fold(parse_all(full_case(kenmerk=K, upto="definitief_advies")))
    order = personal_sign_order(state, Signer.SO_BEDRIJFSARTS)
    appearance = signature_appearance(order)
    assert (appearance.naam, appearance.big_nummer, appearance.organisatie) == (
        state.so_arts.naam, state.so_arts.big_nummer, state.so_arts.organisatie)
    assert appearance.rol == Signer.SO_BEDRIJFSARTS.rol == "second opinion-bedrijfsarts"
    assert appearance.reden == Signer.SO_BEDRIJFSARTS.reden == "Definitief advies second opinion"
    assert appearance.locatie == order.plaats
    own = signature_appearance(personal_sign_order(state, Signer.BEDRIJFSARTS))
    assert (own.rol, own.reden, own.big_nummer) == ("bedrijfsarts (aanvrager)", "Aanvraag second opinion", BAKKER)
    with pytest.raises(ValueError):
        personal_sign_order(state, Signer.ZEGEL)


def test_the_pades_level_is_chosen_per_signer(tmp_path):
    settings = Settings(root=tmp_path).replace(signing={"tsa_url": "http://127.0.0.1:1/tsa", "level_advies": "B-LT",
                                                        "level_machtiging": "B-T"})
    assert settings.signing_level(Signer.SO_BEDRIJFSARTS) == "B-LT"
    assert settings.signing_level(Signer.ZEGEL) == settings.signing_level(Signer.BEDRIJFSARTS) == "B-T"
    # a document kind still names its signer's level (other callers pass kinds)
    assert settings.signing_level("advies") == "B-LT" and settings.signing_level("aanvraagformulier") == "B-T"
    assert settings.signing_level("machtiging-medische-gegevens") == "B-T"
    assert Settings(root=tmp_path).signing_level(Signer.SO_BEDRIJFSARTS) == "B-B"


def test_the_order_signer_asks_the_level_of_the_signer(keyring):
    asked = []

    class Pades:
        def sign(self, pdf, *, identity, appearance, certify, level):
            return appearance

    signer = OrderSigner(keyring, Pades(), level_for=lambda who: asked.append(who) or "B-B")
    state = fold(parse_all(full_case(kenmerk=K, upto="definitief_advies")))
    order = type("Order", (), {"sign": personal_sign_order(state, Signer.SO_BEDRIJFSARTS), "kind": "advies",
                               "kenmerk": K, "row": None})()
    appearance = signer.sign(b"%PDF", order)
    assert asked == [Signer.SO_BEDRIJFSARTS]
    assert appearance == signature_appearance(order.sign, keyring.doctor(VISSER))


def test_a_personal_block_names_the_key_holder_not_what_the_case_file_says(keyring):
    """A case file that calls BIG 39087654301 "Prof. Iemand Anders" does not put that name under Dr. Visser's key."""
    state = fold(parse_all(full_case(kenmerk=K, upto="definitief_advies")))
    order = dataclasses.replace(personal_sign_order(state, Signer.SO_BEDRIJFSARTS), naam="Prof. Iemand Anders")
    appearance = signature_appearance(order, keyring.doctor(VISSER))
    assert (appearance.naam, appearance.big_nummer) == ("Dr. E. Visser", VISSER)
    assert appearance.organisatie == state.so_arts.organisatie and appearance.locatie == order.plaats
    assert signature_appearance(order).naam == "Prof. Iemand Anders", "without a key: the order as it is"
    seal = dataclasses.replace(order, wie=Signer.ZEGEL, naam="ArboNoord", big_nummer=None)
    assert signature_appearance(seal, keyring.seal()).naam == "ArboNoord", "the seal is named as the arbodienst"


# --- the real thing: the block read back from both paths -----------------------------------------------------------

def stamp_texts(pdf: bytes, tmp_path) -> list[str]:
    """The text of each signed signature widget on the last page, as poppler renders it (pdftotext, cropped)."""
    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[-1]
    height = float(page.mediabox.top)
    texts = []
    for ref in page.get("/Annots") or []:
        annot = ref.get_object()
        field = annot if "/FT" in annot or "/Parent" not in annot else annot["/Parent"].get_object()
        if field.get("/FT") != "/Sig" or field.get("/V") is None:
            continue  # not a signature, or an empty field reserved for a later signer
        rect = [float(v) for v in annot["/Rect"]]
        (x1, x2), (y1, y2) = sorted(rect[0::2]), sorted(rect[1::2])
        out = subprocess.run(["pdftotext", "-f", str(len(reader.pages)), "-l", str(len(reader.pages)), "-r", "72",
                              "-x", str(int(x1)), "-y", str(int(height - y2)), "-W", str(int(x2 - x1) + 1),
                              "-H", str(int(y2 - y1) + 1), str(path), "-"],
                             capture_output=True, text=True, check=True, timeout=60)
        texts.append(" ".join(out.stdout.split()))
    return texts


def _without_time(text: str) -> str:
    return re.sub(r"\d{1,2} \w+ 20\d\d, \d\d:\d\d", "<tijd>", text)


def _drop_case(root, upto: str = "definitief_advies") -> None:
    for i, ev in enumerate(full_case(kenmerk=K, upto=upto), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert {o.status for o in outcomes} == {"processed"}, [(o.file_name, o.detail) for o in outcomes]


@pytest.fixture
def two_roots(make_root, keyring):
    signing = make_root("signing")
    _drop_case(signing)
    waiting = make_root("waiting", signer=OrderSigner(keyring, auto_sign_doctors=False))
    _drop_case(waiting)
    return signing, waiting


def _sopipe_sign(root, waiting_pdf, big, shared_pki, tmp_path, *extra: str):
    p12 = tmp_path / f"doctor-{big}.p12"
    shutil.copy(shared_pki / f"doctor-{big}.p12", p12)
    out = tmp_path / f"{waiting_pdf.stem}-ondertekend.pdf"
    result = CliRunner().invoke(cli, ["sign", str(waiting_pdf), "--p12", str(p12), "--level", "B-B",
                                      "--out", str(out), *extra],
                                env={"SOPIPE_P12_PASSPHRASE": (shared_pki / "passphrase").read_text().strip()})
    assert result.exit_code == 0, result.output
    return out.read_bytes()


@needs_pdftotext
@pytest.mark.parametrize("party, kind, big, place, reason", [
    ("so-bedrijfsarts", "advies", VISSER, "Amersfoort", "Definitief advies second opinion"),
    ("bedrijfsarts", "aanvraagformulier", BAKKER, "Utrecht", "Aanvraag second opinion")])
def test_pipeline_and_sopipe_sign_write_the_same_block(two_roots, shared_pki, tmp_path, party, kind, big, place,
                                                       reason):
    signing, waiting = two_roots
    by_pipeline = (mailbox(signing, "archief", K) / f"{K}_{kind}.pdf").read_bytes()
    [pipeline_block] = [t for t in stamp_texts(by_pipeline, tmp_path) if f"BIG {big}" in t]
    pending = mailbox(waiting, party, K) / "te-ondertekenen" / f"{K}_{kind}.pdf"
    assert not (mailbox(waiting, "archief", K) / f"{K}_{kind}.pdf").exists(), "the document waits for the doctor"
    by_cli = _sopipe_sign(waiting, pending, big, shared_pki, tmp_path, "--root", str(waiting.path))
    [cli_block] = [t for t in stamp_texts(by_cli, tmp_path) if f"BIG {big}" in t]
    assert _without_time(pipeline_block) == _without_time(cli_block), (pipeline_block, cli_block)
    assert f"Reden: {reason}" in cli_block and f"{place}, <tijd>" in _without_time(cli_block), cli_block
    assert "Nederland" not in cli_block


@needs_pdftotext
def test_sopipe_sign_outside_a_case_of_the_root_says_what_the_certificate_says(two_roots, shared_pki, tmp_path):
    _, waiting = two_roots
    pending = mailbox(waiting, "so-bedrijfsarts", K) / "te-ondertekenen" / f"{K}_advies.pdf"
    [block] = [t for t in stamp_texts(_sopipe_sign(waiting, pending, VISSER, shared_pki, tmp_path), tmp_path)
               if f"BIG {VISSER}" in t]
    assert block.startswith("Digitaal ondertekend door Dr. E. Visser second opinion-bedrijfsarts, BIG " + VISSER)
    assert "Arbopraktijk Visser" not in block, "the DEMO certificate names no organisation"
    assert "Nederland" not in block and "Amersfoort" not in block


@needs_pdftotext
def test_a_key_of_another_doctor_never_borrows_the_cases_doctor_name(two_roots, shared_pki, tmp_path):
    """Dr. Smit signing Dr. Visser's advice (the pipeline refuses it on return): the block names Dr. Smit."""
    _, waiting = two_roots
    smit = "49011122201"
    pending = mailbox(waiting, "so-bedrijfsarts", K) / "te-ondertekenen" / f"{K}_advies.pdf"
    signed = _sopipe_sign(waiting, pending, smit, shared_pki, tmp_path, "--root", str(waiting.path))
    [block] = [t for t in stamp_texts(signed, tmp_path) if "BIG" in t and "zegel" not in t]
    assert "Dr. K. Smit" in block and f"BIG {smit}" in block and "Visser" not in block


def test_case_sign_order_is_none_for_a_case_the_root_does_not_hold(make_root):
    root = make_root()
    assert case_sign_order(root.settings, "ONBEKEND-1", Signer.SO_BEDRIJFSARTS) is None
    _drop_case(root, upto="verzoek")
    assert case_sign_order(root.settings, K, Signer.SO_BEDRIJFSARTS) is None, "no SO doctor chosen yet"
    own = case_sign_order(root.settings, K, Signer.BEDRIJFSARTS)
    assert own.big_nummer == BAKKER and own.plaats == root.settings.organisaties["arbonoord"].plaats


def test_identity_order_takes_the_certificate(keyring):
    order = identity_order(Signer.BEDRIJFSARTS, keyring.doctor(BAKKER))
    assert (order.naam, order.big_nummer, order.rol, order.reden, order.plaats) == (
        "Dr. P. Bakker", BAKKER, "bedrijfsarts (aanvrager)", "Aanvraag second opinion", "")
