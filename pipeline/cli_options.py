"""What every command module of the `sopipe` CLI shares: the context settings and the `--root` option.

The command modules (`cli_operator`, `cli_archive`, `cli_signing`, `cli_bench`) import this, never the group module
`pipeline.cli`, which imports them and adds their commands explicitly: no import circle.
"""

from __future__ import annotations

from pathlib import Path

import click

CONTEXT = {"help_option_names": ["-h", "--help"]}
root_option = click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
                           show_default=True, help="The pipeline's root folder (inbox/, outbox/, pki/, ...).")
