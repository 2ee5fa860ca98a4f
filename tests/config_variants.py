"""Configuration variants for tests, built from data: `configure(root, {"signing": {"tsa_url": ""}})` changes the
root's sopipe.toml as a TOML document (tomlkit), so the generated comments, the order and every other key stay as
`sopipe init` wrote them, and a variant never depends on the exact text of the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import tomlkit
from tomlkit.container import Container
from tomlkit.items import Table

from pipeline.settings import CONFIG_NAME


def configure(root: Path, changes: Mapping[str, Any]) -> Path:
    """Merge `changes` into `root`'s sopipe.toml and return the file: a mapping is a table (`{"organisaties":
    {"arbonoord": {"logo": "x.png"}}}` reaches `[organisaties.arbonoord]`; a missing table is added), any other
    value sets its key (added at the end of its table when it was only written commented out), and None removes
    the key."""
    path = Path(root) / CONFIG_NAME
    document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    _merge(document, changes)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")
    return path


def _merge(table: Container | Table, changes: Mapping[str, Any]) -> None:
    for name, value in changes.items():
        if isinstance(value, Mapping):
            if name not in table:
                table[name] = tomlkit.table(is_super_table=all(isinstance(v, Mapping) for v in value.values()))
            _merge(table[name], value)
        elif value is None:
            table.pop(name, None)
        else:
            table[name] = value

