"""Generated from the models: the sopipe.toml `sopipe init` writes (every key with its default and meaning, and the
DEMO organisations) and the settings table of docs/configuration.md; `python -m pipeline.settings` prints or writes
them (`make settings-table`)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from pipeline.settings.demo import DEMO_ARTS_EXAMPLE, DEMO_LOGO, DEMO_ORGANISATIES
from pipeline.settings.models import SECTIONS, ArtsSettings, OrganisatieSettings, SopipeToml, _Table

WIDTH = 116


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent="# ", subsequent_indent="# ",
                         break_long_words=False, break_on_hyphens=False)


def _toml(name: str, value: Any) -> str:
    import tomli_w
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list):  # one line, as a person writes a short array
        return f"{tomli_w.dumps({name: 0}).split(' = ')[0]} = [" + ", ".join(
            tomli_w.dumps({"v": v})[4:-1] for v in value) + "]"
    return tomli_w.dumps({name: value}).rstrip("\n")


def _sentence(description: str) -> str:
    text = description[0].upper() + description[1:]
    return text if text.endswith(".") else text + "."


def _table_lines(name: str, model: type[_Table], values: Mapping[str, Any]) -> list[str]:
    lines = ["", *_comment(" ".join(model.__doc__.split())), f"[{name}]"]
    nested = []
    for key_name, f in model.model_fields.items():
        if isinstance(f.default, dict):  # a sub-table: after the plain keys
            nested.append((key_name, f))
            continue
        shown = (f.json_schema_extra or {}).get("shown")
        lines += _comment(_sentence(f.description) + (f" Default: {shown}." if shown and shown != "none" else ""))
        if key_name in values:
            lines.append(_toml(key_name, values[key_name]))
        elif f.default is None or (f.default in ((), []) and f.examples):
            lines.append("# " + _toml(key_name, f.examples[0]))
        else:
            lines.append(_toml(key_name, f.default))
    for key_name, f in nested:
        lines += _comment(_sentence(f.description))
        lines.append(f"# [{name}.{key_name}]")
        lines += ["# " + _toml(k, v) for k, v in (f.default or f.examples[0]).items()]
    return lines


def default_config(values: Mapping[str, Mapping[str, Any]] = MappingProxyType({})) -> str:
    """The sopipe.toml `sopipe init` writes: every key with its default and meaning, and the DEMO organisations;
    `values` writes some keys with another value, by table (`{"signing": {"auto_sign_doctors": False}}`,
    `{"organisaties": {"arbonoord": {"logo": "logo.png"}}}`)."""
    lines = _comment(SopipeToml.__doc__)
    for name, model in SECTIONS.items():
        lines += _table_lines(name, model, values.get(name, {}))
    lines += [""] + _comment(" ".join(OrganisatieSettings.__doc__.split()))
    for code, table in DEMO_ORGANISATIES.items():
        table = {**table, **values.get("organisaties", {}).get(code, {})}
        lines += [f"[organisaties.{code}]"] + [_toml(k, v) for k, v in table.items()] + [""]
    lines += _comment(" ".join(ArtsSettings.__doc__.split()))
    for big, table in DEMO_ARTS_EXAMPLE.items():
        lines += [f"# [artsen.{big}]"] + ["# " + _toml(k, v) for k, v in table.items()] + [""]
    return "\n".join(lines)


def _shown_default(f) -> str:
    shown = (f.json_schema_extra or {}).get("shown")
    if shown:
        return shown
    if f.is_required():
        return "required"
    if f.default is None:
        return "none"
    return f"`{_toml('k', f.default)[4:]}`"


def readme_table() -> str:
    """The table of every key, in docs/configuration.md."""
    rows = ["| section | key | default | meaning |", "|---|---|---|---|"]
    tables = [*((f"[{name}]", model) for name, model in SECTIONS.items()),
              ("[organisaties.<code>]", OrganisatieSettings), ("[artsen.<BIG>]", ArtsSettings)]
    for table, model in tables:
        for key_name, f in model.model_fields.items():
            rows.append(f"| `{table}` | `{key_name}` | {_shown_default(f)} | {f.description} |")
    return "\n".join(rows) + "\n"


DEFAULT_CONFIG = default_config()
DEMO_CONFIG = default_config({"organisaties": {"arbonoord": {"logo": DEMO_LOGO.name}}})
"""What `sopipe init` writes: the default configuration, its DEMO arbodienst with the DEMO logo."""
PRODUCTION_CONFIG = default_config({"signing": {"auto_sign_doctors": False}})
"""What `sopipe init --no-demo` writes: doctors sign themselves."""

CONFIGURATION_PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
"""The page that holds the generated settings table (in a checkout)."""
README_BEGIN = "<!-- settings table: generated from pipeline/settings/ by `make settings-table` -->\n"
README_END = "<!-- end of the settings table -->\n"


def readme_with_table(readme: str) -> str:
    """`readme` with the settings table between its markers replaced by the generated one."""
    start, end = readme.index(README_BEGIN) + len(README_BEGIN), readme.index(README_END)
    return readme[:start] + readme_table() + readme[end:]


def main(argv: list[str]) -> int:
    """`python -m pipeline.settings --readme-table | --default-config | --readme [docs/configuration.md]`
    (`--readme` rewrites the settings table between its markers in that page)."""
    if argv[:1] == ["--readme-table"]:
        sys.stdout.write(readme_table())
    elif argv[:1] == ["--default-config"]:
        sys.stdout.write(DEFAULT_CONFIG)
    elif argv[:1] == ["--readme"]:
        path = Path(argv[1] if len(argv) > 1 else CONFIGURATION_PAGE)
        path.write_text(readme_with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        sys.stderr.write(main.__doc__ + "\n")
        return 2
    return 0

