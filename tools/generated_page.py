"""Write a generated documentation page, or (`--check`) only say whether the page on disk is current."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(target: Path, text: str, *, description: str, argv: list[str] | None = None) -> int:
    """`text` is what `target` should hold: write it, or with `--check` exit 1 when `target` holds something else."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true", help=f"only compare; exit 1 when {target.name} is stale")
    args = parser.parse_args(argv)
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print(f"{target} is stale: run `make reference`", file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0
