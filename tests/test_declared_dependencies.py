"""pyproject.toml declares what the code imports, and nothing it does not: every third-party module imported by
`pipeline/` is a runtime dependency, every one imported by `tests/` a runtime or `test` dependency."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
SYSTEM_ONLY = {"uno", "unohelper", "com"}
"""LibreOffice's UNO bridge: imported only by pipeline/adapters/uno_worker.py, which runs under the system Python."""
USED_WITHOUT_IMPORT = {"pytest-timeout", "pyhanko-cli"}
"""Plugins used through configuration (`@pytest.mark.timeout`), and pyHanko's own command line (`pyhanko sign
addsig`, run by the tests as another implementation's signer), never imported."""


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]).lower()


def _imported_distributions(folder: str) -> dict[str, set[str]]:
    """{distribution: {files importing it}} for the absolute imports of third-party modules under `folder`. A
    module that several distributions provide (a namespace package: `pyhanko` by pyhanko and pyhanko-cli) is keyed
    by all of them, `a|b`: any one of them declared will do."""
    owners = metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path in sorted((REPO / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top in sys.stdlib_module_names or top in SYSTEM_ONLY or top in ("pipeline", "tests"):
                    continue
                dists = owners.get(top, [f"<no installed distribution provides {top}>"])
                key = "|".join(sorted({_name(d) for d in dists}))
                found.setdefault(key, set()).add(str(path.relative_to(REPO)))
    return found


RUNTIME = {_name(r) for r in PYPROJECT["dependencies"]}
TEST = {_name(r) for r in PYPROJECT["optional-dependencies"]["test"]} - {_name(PYPROJECT["name"])}
"""The test extra without the project itself (`sopipe[desk]`: the tests need the desk's extra too)."""


def test_every_module_the_pipeline_imports_is_a_declared_dependency():
    undeclared = {d: sorted(f) for d, f in _imported_distributions("pipeline").items()
                  if not set(d.split("|")) & RUNTIME}
    assert undeclared == {}


def test_every_module_the_tests_import_is_declared():
    undeclared = {d: sorted(f) for d, f in _imported_distributions("tests").items()
                  if not set(d.split("|")) & (RUNTIME | TEST)}
    assert undeclared == {}


def test_nothing_is_declared_that_is_not_imported():
    imported = {d for key in [*_imported_distributions("pipeline"), *_imported_distributions("tests")]
                for d in key.split("|")}
    assert sorted((RUNTIME | TEST) - imported - USED_WITHOUT_IMPORT) == []
