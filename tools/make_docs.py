"""Regenerate the pictures of the generated documents in `docs/img/` (run by `make docs`).

The fictional example case SO-2026-0042 goes through the real pipeline in a temporary root — `sopipe init`
(folders, DEMO PKI), the warm LibreOffice pool, signing, the privacy guard, the mailboxes — and the first page
of a few of its PDFs is rendered to PNG with poppler's pdftoppm. The README shows these pictures, so they
always show what the current templates really produce.

Usage:
    python tools/make_docs.py                 # writes docs/img/*.png
    python tools/make_docs.py --out DIR       # somewhere else (e.g. to compare)
    python tools/make_docs.py --dpi 100       # sharper pictures
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pipeline.core.routing import file_name  # noqa: E402
from pipeline.settings import load_settings  # noqa: E402
from pipeline.shell.app import open_pipeline, signing_services  # noqa: E402
from pipeline.shell.layout import EXAMPLES, init_root  # noqa: E402
from pipeline.shell.watcher import run_once  # noqa: E402

KENMERK = "SO-2026-0042"

PICTURES: tuple[tuple[str, str], ...] = (
    # (document kind, the mailbox whose copy is shown)
    ("aanvraagformulier", "so-bedrijfsarts"),
    ("machtiging-medische-gegevens", "werknemer"),
    ("conceptadvies", "werknemer"),
    ("advies", "werknemer"),
    ("factuur", "arbodienst"),
    ("uitnodiging", "werknemer"),
)


def run_example_case(root: Path) -> Path:
    """Init `root`, drop the example case, process it; return the outbox."""
    settings = init_root(root, demo_ca_dir=root.parent / "demo-ca")  # a throw-away CA beside the throw-away root
    for source in sorted((EXAMPLES / f"case-{KENMERK}").glob("*.json")):
        shutil.copyfile(source, settings.inbox / source.name)
    settings = load_settings(root)
    with signing_services(settings) as settings, open_pipeline(settings) as pipeline:  # as `sopipe watch` signs
        outcomes = run_once(pipeline)
    broken = [o for o in outcomes if o.status != "processed"]
    if broken:
        raise SystemExit("The example case did not go through: "
                         + "; ".join(f"{o.file_name}: {o.status} {o.detail}" for o in broken))
    return settings.outbox


def render_first_page(pdf: Path, png: Path, *, dpi: int) -> None:
    png.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(png.with_suffix(""))], check=True, capture_output=True)


def make_docs(out: Path, *, dpi: int = 70) -> list[Path]:
    if not shutil.which("pdftoppm"):
        raise SystemExit("pdftoppm not found: apt-get install poppler-utils")
    written = []
    with tempfile.TemporaryDirectory(prefix="sopipe-docs-") as tmp:
        outbox = run_example_case(Path(tmp) / "root")
        for kind, party in PICTURES:
            # per recipient (outbox/<party>/<code>/<kenmerk>/) or per case (werknemer, archief)
            found = sorted(outbox.glob(f"{party}/*/{KENMERK}/{file_name(KENMERK, kind)}"))
            pdf = found[0] if found else outbox / party / KENMERK / file_name(KENMERK, kind)
            if not pdf.exists():
                raise SystemExit(f"{pdf} was not delivered; update PICTURES in {Path(__file__).name}")
            png = out / f"{kind}.png"
            render_first_page(pdf, png, dpi=dpi)
            written.append(png)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "img", help="folder for the PNGs")
    parser.add_argument("--dpi", type=int, default=70, help="resolution of the pictures (default 70)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    for png in make_docs(args.out, dpi=args.dpi):
        print(f"wrote {png}")


if __name__ == "__main__":
    main()
