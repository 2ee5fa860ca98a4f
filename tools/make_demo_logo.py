"""Draw the fictional DEMO logo of ArboNoord (`pipeline/examples/logo-arbonoord.png`), which `sopipe init` puts in a demo
root for the letterhead. No real brand: a dark-blue square with a white compass needle pointing north.

Usage:
    python tools/make_demo_logo.py            # writes pipeline/examples/logo-arbonoord.png
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "pipeline" / "examples" / "logo-arbonoord.png"
BLUE, LIGHT, WHITE = (0x1F, 0x4E, 0x79), (0x9D, 0xC3, 0xE6), (0xFF, 0xFF, 0xFF)


def draw(size: int = 240) -> Image.Image:
    im = Image.new("RGB", (size, size), WHITE)  # no alpha channel: PDF/A-2b embeds it as it is
    d = ImageDraw.Draw(im)
    pad = size // 12
    d.rounded_rectangle([pad, pad, size - pad, size - pad], radius=size // 6, fill=BLUE)
    c = size // 2
    ring = size // 3
    d.ellipse([c - ring, c - ring, c + ring, c + ring], outline=LIGHT, width=max(size // 40, 2))
    w = size // 9
    d.polygon([(c, c - ring + size // 30), (c + w, c), (c - w, c)], fill=WHITE)  # north half of the needle
    d.polygon([(c, c + ring - size // 30), (c + w, c), (c - w, c)], fill=LIGHT)
    return im


def main() -> None:
    draw().save(OUT, format="PNG", optimize=True)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
