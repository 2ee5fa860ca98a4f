"""A property of the intake: whatever lands in the inbox, `watch --once` (the same wiring, in process) completes,
every file ends in inbox/processed/ or inbox/failed/ (a failed one with its report), state/intake/ is empty, and a
good file dropped with them is processed.

Hypothesis makes the files: case files generated and mutated from the example case (keys dropped or given other
values, numbers that do not end, deep nesting, bytes flipped, cut off, not UTF-8), PDFs made from real documents of
a case (the advice as Dr. Visser signed it, the sealed consent form, a scan) that are cut off, bit-flipped, have a
key renamed or get an incremental update appended (a document timestamp with or without its certificate, another
signature, an /Info change, an extra annotation, trailing garbage), and odd file names (any text, bytes that are
not UTF-8, names close to the file system's limit). Deterministic (the `deterministic` profile of conftest.py);
the FakeConverter stands in for LibreOffice.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as statistic
from hypothesis import strategies as st

from pipeline.adapters.signing import PadesSigner
from pipeline.shell.app import OrderSigner
from pipeline.shell.intake import shown_name
from pipeline.shell.watcher import is_ignored
from tests.casefactory import event, example_events, full_case
from tests.hostile_pdfs import document_timestamp, scanned_form, without_certificates
from tests.mailbox_paths import mailbox
from tests.appearances import AKKOORD

K = "SO-2026-0042"
VISSER, SMIT = "39087654301", "49011122201"
NAME_MAX = 255
"""Bytes in one file name (ext4, xfs, tmpfs)."""


@pytest.fixture(scope="module")
def world(tmp_path_factory, shared_fake_converter, shared_pki, keyring):
    """One root whose case waits for Dr. Visser's signature on the advice, and real documents of it to bend."""
    from tests.conftest import Root
    root = Root(tmp_path_factory.mktemp("intake-property") / "root", converter=shared_fake_converter,
                pki=shared_pki, signer=OrderSigner(keyring, auto_sign_doctors=False))
    for i, ev in enumerate(full_case(kenmerk=K, upto="definitief_advies"), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert all(o.status == "processed" for o in outcomes), [(o.file_name, o.detail) for o in outcomes]
    unsigned = (mailbox(root, "so-bedrijfsarts", K) / "te-ondertekenen" / f"{K}_advies.pdf").read_bytes()
    signed = PadesSigner().sign(unsigned, identity=keyring.doctor(VISSER), appearance=AKKOORD)
    sealed_form = next((root.settings.outbox / "werknemer").rglob(f"{K}_machtiging-medische-gegevens.pdf"))
    root.seeds = {"advies": signed, "machtiging": sealed_form.read_bytes(), "scan": scanned_form()}
    root.keyring = keyring
    yield root
    root.close()


# --- case files ------------------------------------------------------------------------------------------------

JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30))
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=3) |
                          st.dictionaries(st.text(max_size=10), inner, max_size=3), max_leaves=8)
EXAMPLES = list(example_events().values())


@st.composite
def case_files(draw) -> bytes:
    data = json.loads(json.dumps(draw(st.sampled_from(EXAMPLES))))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(sorted(data))) if data else "x"
        if draw(st.booleans()):
            data.pop(key, None)
        else:
            data[key] = draw(JSON_VALUE)
    raw = json.dumps(data, ensure_ascii=draw(st.booleans())).encode("utf-8")
    how = draw(st.sampled_from([None, None, "number", "nest"]))
    if how == "number":  # a number longer than any the decoder should parse, or one that does not end
        at = raw.rindex(b"}")
        number = draw(st.sampled_from([b"9" * 5000, b"1e999", b"NaN", b"-Infinity", b"0." + b"3" * 400]))
        raw = raw[:at] + b', "n": ' + number + raw[at:]
    elif how == "nest":
        depth = draw(st.integers(15, 3000))
        raw = raw[:-1] + b', "diep": ' + b"[" * depth + b"]" * depth + b"}"
    return _bytes_bent(draw, raw)


def _bytes_bent(draw, raw: bytes) -> bytes:
    how = draw(st.sampled_from(["as is", "as is", "cut", "flip", "insert", "latin-1"]))
    if how == "cut":
        return raw[:draw(st.integers(0, len(raw)))]
    if how == "flip":
        at = draw(st.integers(0, len(raw) - 1))
        return raw[:at] + bytes([raw[at] ^ (1 << draw(st.integers(0, 7)))]) + raw[at + 1:]
    if how == "insert":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.binary(min_size=1, max_size=16)) + raw[at:]
    if how == "latin-1":
        return raw.decode("utf-8").encode("latin-1", "replace")
    return raw


# --- PDFs -------------------------------------------------------------------------------------------------------

KEYS = [b"/ByteRange", b"/Contents", b"/Type", b"/Root", b"/Size", b"/Prev", b"/Filter", b"/Length", b"/Annots",
        b"/Kids", b"/SubFilter", b"/AcroForm", b"/Fields", b"/Pages", b"/XRef", b"/Sig"]


def _increment(pdf: bytes, change) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _info_change(writer) -> None:
    from pyhanko.pdf_utils import generic
    info = writer.trailer["/Info"].get_object() if "/Info" in writer.trailer else generic.DictionaryObject()
    info[generic.NameObject("/Title")] = generic.TextStringObject("Werknemer is per direct arbeidsgeschikt")
    if "/Info" in writer.trailer:
        writer.update_container(info)
    else:
        writer.trailer[generic.NameObject("/Info")] = writer.add_object(info)


def _annotation(writer) -> None:
    from pyhanko.pdf_utils import generic
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    annot = writer.add_object(generic.DictionaryObject({
        generic.NameObject("/Type"): generic.NameObject("/Annot"),
        generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
        generic.NameObject("/Rect"): generic.ArrayObject([generic.NumberObject(n) for n in (0, 0, 600, 800)]),
        generic.NameObject("/Contents"): generic.TextStringObject("Eerder advies vervalt")}))
    annots = page.get("/Annots")
    if annots is None:
        page[generic.NameObject("/Annots")] = generic.ArrayObject([annot])
    else:
        annots.get_object().append(annot)
    writer.update_container(page)


@st.composite
def pdfs(draw, world) -> bytes:
    raw = world.seeds[draw(st.sampled_from(sorted(world.seeds)))]
    how = draw(st.sampled_from(["as is", "cut", "flip", "rename key", "timestamp", "timestamp without certificate",
                                "another signature", "info", "annotation", "garbage"]))
    statistic(f"pdf: {how}")
    if how == "cut":
        return raw[:draw(st.integers(0, len(raw) - 1))]
    if how == "flip":
        at = draw(st.integers(0, len(raw) - 1))
        return raw[:at] + bytes([raw[at] ^ (1 << draw(st.integers(0, 7)))]) + raw[at + 1:]
    if how == "rename key":
        key = draw(st.sampled_from([k for k in KEYS if k in raw] or [b"/Type"]))
        renamed = draw(st.sampled_from([key[:-1] + b"X", key[:2] + b"#" + b"%02X" % key[2] + key[3:]]))
        return raw.replace(key, renamed, draw(st.integers(1, 3)))
    if how == "garbage":
        return raw + draw(st.sampled_from([b"\ntrailer\n<< /Root 1 0 R /Size 9999 >>\n%%EOF\n",
                                           b"\nxref\n0 1\n0000000000 65535 f \n%%EOF", b"\x00" * 100]))
    if how == "as is":
        return raw
    return functools.partial(_updated, raw, how, world.keyring)  # made when the test runs, not while drawing


def _updated(raw: bytes, how: str, keyring) -> bytes:
    """`raw` with an incremental update appended by pyHanko (outside Hypothesis' drawing: signing draws on the
    global random state, which a strategy must leave alone)."""
    try:
        if how == "timestamp":
            return document_timestamp(raw, keyring.seal())
        if how == "timestamp without certificate":
            return without_certificates(document_timestamp(raw, keyring.seal()))
        if how == "another signature":
            return PadesSigner().sign(raw, identity=keyring.doctor(SMIT), appearance=AKKOORD)
        if how == "info":
            return _increment(raw, _info_change)
        return _increment(raw, _annotation)
    except Exception:  # pyHanko refused to write this one (a scan without /Info, say): the document as it is
        return raw


# --- names ------------------------------------------------------------------------------------------------------

ODD_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), max_size=30)


@st.composite
def odd_names(draw, token: str, suffix: str, prefix: str = "") -> bytes:
    """`prefix`, `token` (to find the file again), something odd, `suffix` (maybe upper case): odd text, bytes that
    are not UTF-8, or as long as a name can be."""
    head, tail = (prefix + token).encode(), draw(st.sampled_from([suffix, suffix.upper()])).encode()
    room = NAME_MAX - len(head) - len(tail)
    how = draw(st.sampled_from(["plain", "text", "bytes", "long"]))
    if how == "plain":
        middle = b""
    elif how == "text":
        middle = draw(ODD_TEXT).encode("utf-8")
    elif how == "bytes":
        middle = draw(st.binary(max_size=20)).replace(b"/", b"_").replace(b"\x00", b"_")
    else:
        middle = "é".encode() * (room // 2) + b"x" * (room % 2)
    return head + middle[:room] + tail


_tokens = itertools.count(1)


@st.composite
def inbox_files(draw, world) -> list[tuple[bytes, bytes]]:
    """[(name, bytes)] for one batch; every name unique (a token), the PDFs named after the case or not."""
    out = []
    kinds = ["case file", draw(st.sampled_from(["advice", "advice", "consent form", "pdf"]))]
    kinds += draw(st.lists(st.sampled_from(["case file", "advice", "consent form", "pdf"]), max_size=2))
    for kind in kinds:
        token = f"t{next(_tokens):05d}-"
        statistic(f"file: {kind}")
        if kind == "case file":
            out.append((draw(odd_names(token, ".json")), draw(case_files())))
        else:
            prefix = {"advice": f"{K}_advies-", "consent form": f"{K}_machtiging-medische-gegevens-",
                      "pdf": ""}[kind]
            out.append((draw(odd_names(token, ".pdf", prefix)), draw(pdfs(world))))
    return out


_cases = itertools.count(1)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                 HealthCheck.large_base_example])
@given(data=st.data())
def test_any_batch_of_files_is_taken_in_and_the_good_file_is_processed(world, data):
    files = data.draw(inbox_files(world))
    inbox = os.fsencode(world.settings.inbox)
    for name, raw in files:
        with open(inbox + b"/" + name, "wb") as fh:
            fh.write(raw() if callable(raw) else raw)
    good = f"zz-{next(_cases):04d}-verzoek.json"
    world.drop(good, event("verzoek", kenmerk=f"SO-2030-{next(_cases):04d}"))

    outcomes = world.run()  # `watch --once`: completes, whatever the files did

    by_name = {o.file_name: o for o in outcomes}
    assert by_name[good].status == "processed", by_name[good].detail
    assert all(o.status != "retry" for o in outcomes), [(o.file_name, o.detail) for o in outcomes]
    stage = world.path / "state" / "intake"
    assert not [p for p in stage.rglob("*") if p.is_file()], "state/intake/ must be empty"
    failed = world.settings.inbox / "failed"
    processed = world.settings.inbox / "processed"
    for name, _raw in files:
        shown = shown_name(os.fsdecode(name))
        if is_ignored(shown):  # hidden and temporary names are never taken: left as they are
            assert os.path.lexists(inbox + b"/" + name)
            os.unlink(inbox + b"/" + name)
            continue
        token = shown[shown.index("t0"):shown.index("-", shown.index("t0")) + 1]
        landed = [p for folder in (processed, failed) for p in folder.iterdir() if token in p.name]
        files_there = [p for p in landed if not p.name.endswith(".error.txt")]
        assert len(files_there) == 1, (shown, [p.name for p in landed])
        [there] = files_there
        if there.parent == failed:
            reports = [p for p in landed if p.name.endswith(".error.txt")]
            assert reports, f"{shown}: in failed/ without a report"
            text = reports[0].read_text(encoding="utf-8")
            assert "NIET" in text and "Wat nu" in text and "Traceback" not in text, text
    assert not any(world.settings.inbox.glob("t0*")), "nothing is left in the inbox"
