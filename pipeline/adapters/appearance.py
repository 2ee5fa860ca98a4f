"""The visible signature block: what it says (`SignatureAppearance`, built by `signature_appearance`), how it looks
(the stamp style and its embedded font) and where it goes on the page (anchor and placement).

One builder: `signature_appearance(order)` makes the block for a `SignOrder` of the core (seal, SO doctor, own
doctor: `pipeline.core.kinds.Signer`), in the pipeline (`pipeline.shell.app.OrderSigner`) and in `sopipe sign`
alike. The role and reason come from the signer, the place from the order (the organisation's master data,
`[organisaties]`, see `pipeline.core.procedure.signing_place`). A doctor signing outside any case gets the order
`identity_order` makes from the certificate.

Placement: the templates end with a paragraph that reads exactly `Ondertekening`, followed by ~4 cm of empty
space. The block (8 x 2.5 cm) goes just below that word on the last page, next to any signature block already
there; without the word it goes to the bottom of the last page, above the footer.

PDF/A-2b: the block's font is embedded (Liberation Sans, else DejaVu Sans, rescaled once to 1000 units per
em — see `_prepare_font`), the widget gets the print flag, the appearance uses no transparency.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.layout import AxisAlignment, Margins, SimpleBoxLayoutRule
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import TextStamp, TextStampStyle
from pypdf import PdfReader

from pipeline.core.kinds import Signer
from pipeline.core.procedure import SignOrder
from pipeline.errors import SigningError

if TYPE_CHECKING:
    from pipeline.adapters.keys import SigningIdentity

log = logging.getLogger(__name__)

ANCHOR_TEXT = "Ondertekening"
CM = 72 / 2.54
BOX_WIDTH = 8 * CM
BOX_HEIGHT = 2.5 * CM
BOX_GAP = 0.3 * CM
PAGE_MARGIN = 0.75 * CM
"""Nearest a block may come to the page edge."""
FALLBACK_LEFT = 2 * CM
FALLBACK_BOTTOM = 2.5 * CM
"""Without the anchor word: the block's lower edge sits this high, above a typical footer."""

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
)
FONT_UNICODES = [*range(0x20, 0x250), *range(0x1E00, 0x1F00), *range(0x2000, 0x2070), 0x20AC]
"""Latin (incl. extended A/B and additional), general punctuation and the euro sign."""
DISPLAY_ZONE = "Europe/Amsterdam"
_LEFT_MIDDLE = SimpleBoxLayoutRule(x_align=AxisAlignment.ALIGN_MIN, y_align=AxisAlignment.ALIGN_MID,
                                   margins=Margins.uniform(4))
_STAMP_TS_FORMAT = "%Y-%m-%dT%H:%M:%S%z"  # machine-readable hand-over to _DutchStampStyle, never shown


@dataclass(frozen=True)
class SignatureAppearance:
    """What the visible signature block says (Dutch); also the /Reason and /Location of the signature."""

    naam: str
    """Signer's name as shown, e.g. `Dr. E. Visser` or `Arbodienst Voorbeeld DEMO zegel`."""
    rol: str
    """Role in this case, e.g. `second opinion-bedrijfsarts` or `elektronisch zegel`."""
    big_nummer: str | None
    """BIG number shown after the role; None for a seal or a non-doctor."""
    organisatie: str
    """Organisation the signer acts for; may be empty."""
    reden: str
    """Reason for signing, e.g. `Definitief advies second opinion`."""
    locatie: str
    """Place of signing, e.g. `Utrecht`; may be empty."""


def signature_appearance(order: SignOrder, identity: SigningIdentity | None = None) -> SignatureAppearance:
    """The visible block for `order`: the one builder of the pipeline's and `sopipe sign`'s signatures.

    A doctor's personal signature made with `identity` names the holder of that key as the certificate does (name,
    BIG number), never what a case file says about them; role, organisation, reason and place come from the order.
    """
    naam, big_nummer = order.naam, order.big_nummer
    if identity is not None and order.wie.personal:
        naam, big_nummer = identity.naam or naam, identity.big_nummer or big_nummer
    return SignatureAppearance(naam=naam, rol=order.rol, big_nummer=big_nummer, organisatie=order.organisatie,
                               reden=order.reden, locatie=order.plaats)


def identity_order(signer: Signer, identity: SigningIdentity) -> SignOrder:
    """The order for a personal signature known only by its key (`sopipe sign` outside a case of the root): name,
    BIG number, organisation and place from the certificate, role and reason from the signer."""
    return SignOrder(signer, identity.naam, signer.rol, identity.big_nummer, identity.organisatie or "",
                     signer.reden, certify=False, plaats=identity.plaats or "")


def load_font(candidates: Sequence[Path] = FONT_CANDIDATES, *, font_size: int = 8) -> _PreloadedFontFactory:
    """The first usable font of `candidates`, prepared once for every block (~0.2 s)."""
    for path in candidates:
        try:
            font_bytes = _prepare_font(path)
        except Exception as e:  # missing, unreadable or not a usable TrueType/OpenType font
            log.debug("Lettertype %s niet bruikbaar: %s", path, e)
            continue
        return _PreloadedFontFactory(font_file=str(path), font_size=font_size, font_bytes=font_bytes)
    raise SigningError("Geen lettertype gevonden voor het handtekeningblok: "
                       + ", ".join(str(p) for p in candidates))


def stamp_style(appearance: SignatureAppearance, *, font: GlyphAccumulatorFactory, font_size: int) -> TextStampStyle:
    """The block's layout: the lines it has (no organisation or reason line when empty), bordered, left-aligned."""
    lines = ["Digitaal ondertekend door %(naam)s", "%(functie)s"]
    if appearance.organisatie:
        lines.append("%(organisatie)s")
    if appearance.reden:
        lines.append("Reden: %(reden)s")
    lines.append("%(plaats)s%(ts)s")
    return _DutchStampStyle(
        stamp_text="\n".join(lines), timestamp_format=_STAMP_TS_FORMAT, border_width=1,
        inner_content_layout=_LEFT_MIDDLE,
        text_box_style=TextBoxStyle(font=font, font_size=font_size, leading=round(font_size * 1.25)))


def text_params(appearance: SignatureAppearance) -> dict[str, str]:
    functie = appearance.rol
    if appearance.big_nummer:
        functie = f"{functie}, BIG {appearance.big_nummer}" if functie else f"BIG {appearance.big_nummer}"
    return {"naam": appearance.naam, "functie": functie, "organisatie": appearance.organisatie,
            "reden": appearance.reden, "plaats": f"{appearance.locatie}, " if appearance.locatie else ""}


@dataclass(frozen=True)
class _DutchStampStyle(TextStampStyle):
    """Shows pyHanko's signing time (the one in the signature) as Dutch local time: `14 maart 2026, 10:22`."""

    def create_stamp(self, writer, box, text_params: dict) -> TextStamp:
        params = dict(text_params)
        if "ts" in params:
            params["ts"] = dutch_time(datetime.strptime(params["ts"], _STAMP_TS_FORMAT))
        return TextStamp(writer=writer, style=self, box=box, text_params=params)


def _prepare_font(path: Path) -> bytes:
    """The font cut down to Latin script and rescaled to 1000 units per em, as bytes.

    pyHanko's GlyphAccumulator writes glyph widths and kerning in font units but PDF wants 1/1000 em; that
    only agrees for fonts with 1000 units per em (Noto, CFF fonts). Liberation and DejaVu use 2048, which
    spreads the letters over twice their width and makes the /W widths disagree with the embedded font
    program (a PDF/A violation). Rescaling the font once here keeps both right.
    """
    font = TTFont(io.BytesIO(path.read_bytes()))
    options = subset.Options()
    options.drop_tables += ["FFTM"]  # FontForge timestamp: the subsetter warns about it on every use
    options.hinting = False  # hinting instructions do not survive rescaling; the block is small print anyway
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=FONT_UNICODES)
    subsetter.subset(font)
    if font["head"].unitsPerEm != 1000:
        scale_upem(font, 1000)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def dutch_time(moment: datetime) -> str:
    try:
        moment = moment.astimezone(ZoneInfo(DISPLAY_ZONE))
    except ZoneInfoNotFoundError:
        pass
    from pipeline.core.dutch import datum
    return f"{datum(moment.date())}, {moment:%H:%M}"  # `1 december 2026, 21:27`, as the documents write dates


@dataclass(frozen=True)
class _PreloadedFontFactory(GlyphAccumulatorFactory):
    """GlyphAccumulatorFactory on font bytes prepared once (pyHanko's opens the file per signature, never closes)."""

    font_bytes: bytes = b""

    def create_font_engine(self, writer, obj_stream=None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(writer=writer, font_handle=io.BytesIO(self.font_bytes), font_size=self.font_size,
                                obj_stream=obj_stream)



# --- where the block goes ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Placement:
    anchor_found: bool
    boxes: Iterator[tuple[int, int, int, int]]

def named_anchor(reader: PdfReader, page_index: int, name: str) -> tuple[float, float, float] | None:
    """The anchor from the named destination LibreOffice exports for a Word bookmark called `name` (cheap)."""
    try:
        dest = reader.named_destinations.get("/" + name) or reader.named_destinations.get(name)
        if dest is None or reader.get_destination_page_number(dest) != page_index % len(reader.pages):
            return None
        if dest.left is None or dest.top is None:
            return None
        size = 11.0  # the heading's size in the shipped templates; only used to clear its descenders
        return float(dest.left), float(dest.top) - 0.94 * size, size  # /XYZ top is the line's top, not baseline
    except Exception:  # a malformed name tree: fall back to reading the page's text
        return None


def find_anchor(reader: PdfReader, page_index: int = -1, text: str = ANCHOR_TEXT) -> tuple[float, float, float] | None:
    """(x, baseline y, font size) of the lowest line on the page that reads exactly `text`, in PDF user space.

    The templates carry a bookmark on that word, which LibreOffice exports as a named destination; reading it is
    ~100x cheaper than extracting the page's text, which remains the fallback for templates without it.
    """
    named = named_anchor(reader, page_index, text)
    if named is not None:
        return named
    page = reader.pages[page_index]
    chunks: list[tuple[str, float, float, float]] = []

    def visit(chunk: str, cm, tm, _font, font_size) -> None:
        if not chunk:
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        size = abs(font_size * tm[3] * cm[3]) or abs(font_size)
        chunks.append((chunk, x, y, size))

    page.extract_text(visitor_text=visit)
    lines: list[list] = []  # [text, x, y, size]
    for chunk, x, y, size in chunks:
        if lines and abs(lines[-1][2] - y) < 1.0 and "\n" not in lines[-1][0]:
            lines[-1][0] += chunk
        elif chunk.strip():
            lines.append([chunk, x, y, size])
    matches = [(x, y, size) for line_text, x, y, size in lines if line_text.strip() == text]
    return min(matches, key=lambda m: m[1]) if matches else None


def plan_placement(reader: PdfReader) -> Placement:
    page_index = len(reader.pages) - 1
    page = reader.pages[page_index]
    box = page.cropbox
    left, bottom, right, top = float(box.left), float(box.bottom), float(box.right), float(box.top)
    taken = [_rect(annot) for annot in _widgets(page)]
    anchor = find_anchor(reader, page_index)
    if anchor:
        x, baseline, size = anchor
        start_x = min(x, right - PAGE_MARGIN - BOX_WIDTH)
        start_top = baseline - max(4.0, 0.35 * size)  # clear the descenders of the anchor line
        rows = range(0, 20)
    else:
        start_x = left + FALLBACK_LEFT
        start_top = bottom + FALLBACK_BOTTOM + BOX_HEIGHT
        rows = [0, *range(-1, -20, -1)]  # no anchor: fill upwards, the footer is below

    def free_boxes() -> Iterator[tuple[int, int, int, int]]:
        for row in rows:
            y_top = start_top - row * (BOX_HEIGHT + BOX_GAP)
            if y_top - BOX_HEIGHT < bottom + PAGE_MARGIN or y_top > top - PAGE_MARGIN:
                continue
            col = 0
            while (x0 := start_x + col * (BOX_WIDTH + BOX_GAP)) + BOX_WIDTH <= right - PAGE_MARGIN:
                candidate = (round(x0), round(y_top - BOX_HEIGHT), round(x0 + BOX_WIDTH), round(y_top))
                if not any(_overlap(candidate, other) for other in taken):
                    taken.append(candidate)
                    yield candidate
                col += 1

    return Placement(anchor_found=anchor is not None, boxes=free_boxes())


def _widgets(page) -> Iterator:
    for ref in page.get("/Annots") or []:
        annot = ref.get_object()
        if annot.get("/Subtype") == "/Widget" and annot.get("/Rect"):
            yield annot


def _rect(annot) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in annot["/Rect"])
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
