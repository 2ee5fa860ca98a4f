"""The logo of an organisation's letterhead (`[organisaties.<code>] logo`): checked once, at start-up.

A logo is printed on every document of that organisation, sealed and signed ones included, so only whoever
controls the configuration may choose it: it must lie inside the root, not below a folder that others write
into (`inbox/`, `outbox/`, `quarantine/`, `state/`), not be writable by group or others, and be a PNG or JPEG
image that Pillow can read. A path that breaks one of these stops start-up with the reason.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from pipeline.errors import PipelineError

FORMATS = ("PNG", "JPEG")
MAX_BYTES = 2_000_000


def check_logo(config: Path, code: str, value: str, *, written_by_others: tuple[str, ...]) -> str:
    """The absolute path of the logo `value` (relative to the root of `config`), or PipelineError saying why not.
    `written_by_others`: the root's top folders others write into (the layout in `pipeline.settings`)."""
    root = config.parent.resolve()
    where = f"{config}: [organisaties.{code}] logo = {value!r}"
    try:
        path = (root / value).resolve(strict=True)  # a symlink is followed: where it leads is what counts
    except (OSError, RuntimeError):
        raise PipelineError(f"{where}: there is no such file (a relative path is read from {root})") from None
    if not path.is_relative_to(root):
        raise PipelineError(f"{where}: the logo must lie inside the root {root} (it is {path})")
    if path.relative_to(root).parts[0] in written_by_others:
        raise PipelineError(f"{where}: the logo may not lie in {path.relative_to(root).parts[0]}/, where others "
                            "write; put it beside sopipe.toml")
    for folder in path.relative_to(root).parents:  # a folder others may write to lets them swap the file later
        if folder != Path(".") and (root / folder).stat().st_mode & 0o022:
            raise PipelineError(f"{where}: the folder {root / folder} is writable by group or others "
                                f"(chmod go-w {root / folder})")
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):
        raise PipelineError(f"{where}: not a file")
    if st.st_mode & 0o022:
        raise PipelineError(f"{where}: the file is writable by group or others (chmod go-w {path})")
    if st.st_size > MAX_BYTES:
        raise PipelineError(f"{where}: {st.st_size} bytes; a letterhead logo is at most {MAX_BYTES} bytes")
    try:
        with Image.open(path) as image:
            image.verify()
            kind = image.format
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise PipelineError(f"{where}: not a readable image ({exc})") from None
    if kind not in FORMATS:
        raise PipelineError(f"{where}: a {kind} image; the logo must be PNG or JPEG")
    return str(path)


def read_logo(path: str) -> bytes:
    """The logo's bytes, read without following a link (the path was resolved and checked at start-up)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        return f.read(MAX_BYTES + 1)
