"""Issue 14: the organisation's logo in its letterhead (`[organisaties.<code>] logo`).

Start-up refuses a logo outside the root, in a folder others write into, behind a symlink that leads out, writable
by others, or not an image. The DEMO root's arbodienst (ArboNoord) has the fictional DEMO logo, its SO practice
(Arbopraktijk Visser) none: ArboNoord's documents carry an image XObject in the PDF made by the real LibreOffice,
the practice's documents none.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from pipeline.adapters.converter import PdfMetadata
from pipeline.adapters.renderer import DocxRenderer
from pipeline.core import model
from pipeline.core.organisaties import Facts
from pipeline.core.procedure import decide
from pipeline.errors import PipelineError
from pipeline.settings import load_settings
from pipeline.shell.layout import DEMO_LOGO, TEMPLATES, init_root
from tests.casefactory import full_case
from tests.config_variants import configure


@pytest.fixture
def root(tmp_path) -> Path:
    root = tmp_path / "root"
    init_root(root, pki=False)
    return root


def set_logo(root: Path, value: str) -> None:
    configure(root, {"organisaties": {"arbonoord": {"logo": value}}})


def test_the_demo_root_has_the_logo_beside_its_config(root):
    org = load_settings(root).organisaties["arbonoord"]
    assert org.logo == str(root / "logo-arbonoord.png")
    assert (root / "logo-arbonoord.png").read_bytes() == DEMO_LOGO.read_bytes()
    assert os.stat(root / "logo-arbonoord.png").st_mode & 0o777 == 0o640
    assert load_settings(root).organisaties["arbopraktijk-visser"].logo is None


def test_a_logo_outside_the_root_is_refused(root, tmp_path):
    outside = tmp_path / "elders.png"
    outside.write_bytes(DEMO_LOGO.read_bytes())
    for value in (str(outside), "../elders.png"):
        set_logo(root, value)
        with pytest.raises(PipelineError, match=r"logo must lie inside the root"):
            load_settings(root)


def test_a_symlink_in_the_root_that_leads_out_is_refused(root, tmp_path):
    outside = tmp_path / "elders.png"
    outside.write_bytes(DEMO_LOGO.read_bytes())
    (root / "logo-arbonoord.png").unlink()
    (root / "logo-arbonoord.png").symlink_to(outside)
    with pytest.raises(PipelineError, match=r"logo must lie inside the root"):
        load_settings(root)


def test_a_logo_where_others_write_is_refused(root):
    (root / "inbox" / "logo.png").write_bytes(DEMO_LOGO.read_bytes())
    os.chmod(root / "inbox" / "logo.png", 0o600)
    set_logo(root, "inbox/logo.png")
    with pytest.raises(PipelineError, match=r"may not lie in inbox/"):
        load_settings(root)


def test_a_logo_writable_by_others_is_refused(root):
    os.chmod(root / "logo-arbonoord.png", 0o664)
    with pytest.raises(PipelineError, match=r"writable by group or others"):
        load_settings(root)


@pytest.mark.parametrize("content, reason", [(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "not a readable image"),
                                             (b"GIF89a" + bytes(20), "not a readable image")])
def test_a_logo_that_is_no_png_or_jpeg_image_is_refused(root, content, reason):
    (root / "logo-arbonoord.png").write_bytes(content)
    with pytest.raises(PipelineError, match=reason):
        load_settings(root)


def test_a_gif_is_refused_naming_the_format(root):
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, format="GIF")
    (root / "logo-arbonoord.png").write_bytes(buf.getvalue())
    with pytest.raises(PipelineError, match=r"a GIF image; the logo must be PNG or JPEG"):
        load_settings(root)


def test_a_missing_logo_is_refused(root):
    (root / "logo-arbonoord.png").unlink()
    with pytest.raises(PipelineError, match=r"no such file"):
        load_settings(root)


def orders(root: Path) -> dict:
    facts = Facts(organisaties=load_settings(root).organisaties)
    state, found = None, {}
    for data in full_case(kenmerk="SO-2026-0542", upto="uitvoering"):
        decision = decide(state, model.parse_event(data), facts=facts)
        state = decision.state
        found |= {o.kind: o for o in decision.orders}
    return found


def test_the_letterhead_holds_the_image_only_when_a_logo_is_configured(root):
    renderer, found = DocxRenderer(TEMPLATES), orders(root)
    with_logo = renderer.render("aanvraagformulier.docx", found["aanvraagformulier"].context)   # ArboNoord
    without = renderer.render("brief_uitnodiging.docx", found["uitnodiging"].context)          # the SO practice
    media = lambda data: [n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.startswith("word/media/")]  # noqa: E731
    assert len(media(with_logo)) == 1
    assert zipfile.ZipFile(io.BytesIO(with_logo)).read(media(with_logo)[0]) == DEMO_LOGO.read_bytes()
    assert media(without) == []


def images(pdf: bytes) -> int:
    """Distinct image XObjects the pages use (LibreOffice may share one resource dictionary between pages)."""
    found = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        found |= {ref.idnum for ref in xobjects.values() if ref.get_object().get("/Subtype") == "/Image"}
    return len(found)


@pytest.mark.libreoffice
def test_the_pdf_has_an_image_xobject_when_a_logo_is_set_and_none_when_not(root, converter):
    renderer, found = DocxRenderer(TEMPLATES), orders(root)
    pdfs = {}
    for kind in ("aanvraagformulier", "machtiging-medische-gegevens", "uitnodiging"):
        order = found[kind]
        docx = renderer.render(order.row.template, order.context)
        pdfs[kind] = converter.convert(docx, metadata=PdfMetadata(title=order.title, author=order.author))
    assert images(pdfs["aanvraagformulier"]) == 1            # ArboNoord: the letterhead
    assert images(pdfs["machtiging-medische-gegevens"]) == 1
    assert images(pdfs["uitnodiging"]) == 0                  # Arbopraktijk Visser has no logo configured


def test_a_logo_in_a_folder_others_may_write_to_is_refused(root):
    """Whoever can write into the logo's folder could swap the file behind the check: refused at start-up."""
    folder = root / "huisstijl"
    folder.mkdir()
    (folder / "logo.png").write_bytes(DEMO_LOGO.read_bytes())
    os.chmod(folder / "logo.png", 0o644)
    os.chmod(folder, 0o775)
    set_logo(root, "huisstijl/logo.png")
    with pytest.raises(PipelineError, match=r"folder .*huisstijl is writable by group or others"):
        load_settings(root)
    os.chmod(folder, 0o755)
    assert load_settings(root).organisaties["arbonoord"].logo == str((folder / "logo.png").resolve())


def test_a_decompression_bomb_is_a_clear_refusal_not_a_traceback(root):
    from PIL import Image
    Image.new("1", (20000, 20000)).save(root / "logo-arbonoord.png", optimize=True)  # 400 Mpixel, a few kB
    with pytest.raises(PipelineError, match="not a readable image"):
        load_settings(root)
