"""Issue 12: the import graph of `pipeline` has no circle, and the layers of STYLE.md hold.

The graph is grimp's (import-linter's engine): every `import` in the package, also those inside functions, which
is where the old CLI circle hid (`pipeline.cli` imported its command modules at its foot, they imported it back).
Circles are the strongly connected components of that graph (Tarjan), so each circle is reported whole, once.
"""

from __future__ import annotations

import grimp
import pytest

PACKAGE = "pipeline"
RETURNS_CIRCLE = frozenset({"pipeline.shell.returns", "pipeline.shell.runner"})
"""The circle issue 12 found between the runner and returns.py (returns.py now keeps only the pure check of a
returned document)."""


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(PACKAGE)


def circles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (or a module importing itself), Tarjan."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1 or v in edges.get(v, ()):
                found.append(frozenset(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _edges(graph) -> dict[str, set[str]]:
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _is_cli(module: str) -> bool:
    """The command line: `pipeline.cli` and its command modules `pipeline.cli_*` (or a `pipeline.cli` package)."""
    return module == "pipeline.cli" or module.startswith(("pipeline.cli.", "pipeline.cli_"))


def _violations(graph, importer, forbidden) -> list[str]:
    return sorted(f"{m} imports {w}" for m in graph.modules if importer(m)
                  for w in graph.find_modules_directly_imported_by(m) if forbidden(w))


# --- the circle finder itself ------------------------------------------------------------------------------------

def test_the_circle_finder_finds_a_circle_and_nothing_in_a_tree():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    assert circles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
    assert circles({"a": {"a"}}) == [frozenset("a")]


# --- the package -------------------------------------------------------------------------------------------------

def test_the_graph_sees_imports_inside_functions(graph):
    """A lazy import (inside a function) counts: `sopipe status` imports the store only when it runs."""
    assert "pipeline.adapters.store" in graph.find_modules_directly_imported_by("pipeline.cli")


def test_no_import_circle_among_pipeline_modules(graph):
    found = circles(_edges(graph))
    assert found == [], [sorted(c) for c in found]


def test_returns_and_runner_import_no_circle(graph):
    assert RETURNS_CIRCLE not in circles(_edges(graph))


def test_the_cli_is_one_group_module_that_its_command_modules_never_import(graph):
    group = "pipeline.cli"
    back = sorted(m for m in graph.find_modules_that_directly_import(group) if _is_cli(m))
    assert back == [], f"command modules import the group module back: {back}"
    commands = {m for m in graph.modules if _is_cli(m) and m != group}
    assert commands <= graph.find_modules_directly_imported_by(group), "the group module adds every command module"


def test_core_imports_only_core_and_errors(graph):
    assert _violations(graph, lambda m: _under(m, "pipeline.core"),
                       lambda w: not (_under(w, "pipeline.core") or w == "pipeline.errors")) == []


def test_adapters_never_import_the_shell_or_the_cli(graph):
    assert _violations(graph, lambda m: _under(m, "pipeline.adapters"),
                       lambda w: _under(w, "pipeline.shell") or _is_cli(w)) == []


def test_the_shell_never_imports_the_cli(graph):
    assert _violations(graph, lambda m: _under(m, "pipeline.shell"), _is_cli) == []


# --- the desk: beside the pipeline, never around it ----------------------------------------------------------------

DESK_MAY_IMPORT = ("pipeline.core", "pipeline.gateway.client", "pipeline.gateway.protocol")
"""The pure core (forms, labels, values) and the gateway's client: everything else of the pipeline (the store, the
keys, the mailboxes) is reached through the gateway only."""


@pytest.fixture(scope="module")
def desk_graph():
    return grimp.build_graph("desk", "pipeline")


def test_the_desk_imports_only_the_core_and_the_gateway_client(desk_graph):
    assert _violations(desk_graph, lambda m: _under(m, "desk"),
                       lambda w: _under(w, "pipeline") and not any(_under(w, p) for p in DESK_MAY_IMPORT)) == []
    assert desk_graph.find_modules_directly_imported_by("desk.balie.gateway") >= {"pipeline.gateway.client"}


def test_the_gateway_client_needs_nothing_of_the_pipeline_but_its_protocol(desk_graph):
    """The client and protocol import nothing of the pipeline but each other and the error classes they raise
    (`pipeline.errors`, where every error class lives), and those import nothing at all: stdlib only."""
    for module in ("pipeline.gateway.client", "pipeline.gateway.protocol"):
        imported = {w for w in desk_graph.find_modules_directly_imported_by(module) if _under(w, "pipeline")}
        assert imported <= {"pipeline.gateway.protocol", "pipeline.errors"}, (module, imported)
    assert desk_graph.find_modules_directly_imported_by("pipeline.errors") == set()


def test_the_pipeline_never_imports_the_desk(desk_graph):
    assert _violations(desk_graph, lambda m: _under(m, "pipeline"), lambda w: _under(w, "desk")) == []
