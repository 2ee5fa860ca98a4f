"""Write docs/cli.md, the reference of every `sopipe` command, from the click commands themselves (their help).

    python tools/make_cli_reference.py            # writes docs/cli.md
    python tools/make_cli_reference.py --check    # exit 1 when docs/cli.md is not what the commands say

tests/test_cli_reference.py fails when the file is stale; `make reference` refreshes it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "docs" / "cli.md"
WIDTH = 100
"""Help is formatted at this width, whatever the terminal, so the file is the same on every machine."""

HEADER = """# Command reference: `sopipe`

Generated from the commands' own help by `tools/make_cli_reference.py` (`make reference`); a test fails when it is
stale, so this page is what `sopipe COMMAND --help` prints. Where to start: [the docs' index](index.md).

"""


def _commands(command: click.Command, path: tuple[str, ...]):
    """(path, command) for `command` and everything below it, depth first, sub-commands in name order."""
    yield path, command
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from _commands(command.commands[name], (*path, name))


def _help(command: click.Command, path: tuple[str, ...]) -> str:
    parent = None
    for depth in range(1, len(path)):
        parent = click.Context(click.Command(path[depth - 1]), info_name=path[depth - 1], parent=parent)
    ctx = click.Context(command, info_name=path[-1], parent=parent, terminal_width=WIDTH, max_content_width=WIDTH,
                        **command.context_settings)
    return command.get_help(ctx).rstrip() + "\n"


def reference() -> str:
    from pipeline.cli import cli
    entries = list(_commands(cli, ("sopipe",)))
    lines = [HEADER.rstrip("\n"), ""]
    lines += [f"- [`{' '.join(path)}`](#{'-'.join(path)})" for path, _ in entries]
    for path, command in entries:
        lines += ["", f"## {' '.join(path)}", "", "```text", _help(command, path).rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from generated_page import main as write_or_check
    return write_or_check(TARGET, reference(), description=__doc__.splitlines()[0], argv=argv)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    raise SystemExit(main())
