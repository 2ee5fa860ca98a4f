"""The environment a child process gets: the pipeline's own, without its secrets.

A LibreOffice worker, pdfsig and the validation child need no PIN or passphrase, and whatever a process has in its
environment can be read from `/proc/<pid>/environ`. `child_environment()` is the `env=` for a child started with
subprocess; `secrets_hidden()` takes the secrets out of this process's environment while a child is spawned that
copies it as it is (multiprocessing's spawn). A secret is any variable an `env:` setting named
(`pipeline.adapters.keys.read_secret`), `sopipe sign`'s own, and any name that looks like one.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

_SECRET_LOCK = threading.Lock()
_SECRET_NAMES: set[str] = {"SOPIPE_PIN", "SOPIPE_P12_PASSPHRASE"}
"""Environment variables that hold secrets: `sopipe sign`'s PIN and passphrase, and every `env:` secret read."""
_SECRET_LOOKING = re.compile(r"(PASSPHRASE|PASSWORD|PASSWD|SECRET|TOKEN|(^|_)PIN)$", re.IGNORECASE)
"""Names that look like a secret whoever set them (a child such as LibreOffice needs none of them)."""


def remember_secret_name(name: str) -> None:
    """`name` held a secret (an `env:` setting): no child process gets it."""
    with _SECRET_LOCK:
        _SECRET_NAMES.add(name)


def is_secret_name(name: str) -> bool:
    with _SECRET_LOCK:
        known = name in _SECRET_NAMES
    return known or _SECRET_LOOKING.search(name) is not None


def child_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process (a LibreOffice worker, pdfsig): ours without any secret."""
    environ = os.environ if environ is None else environ
    return {k: v for k, v in environ.items() if not is_secret_name(k)}


_HIDING = threading.Lock()


@contextmanager
def secrets_hidden() -> Iterator[None]:
    """While the block runs, the secrets are out of this process's environment: for a child that copies it and
    takes no `env=` (multiprocessing's spawn, the validation child). Put back afterwards."""
    with _HIDING:
        hidden = {k: os.environ.pop(k) for k in list(os.environ) if is_secret_name(k)}
        try:
            yield
        finally:
            os.environ.update(hidden)
