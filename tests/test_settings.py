"""Settings declared once (frozen pydantic models, `pipeline.settings.models`), read under their tables (no flat
second names), the default sopipe.toml and the settings table of docs/configuration.md generated from them
(`pipeline.settings.generate`), and every path of the root a Settings property (`pipeline.settings.layout`)."""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ValidationError

from pipeline.cli import cli
from pipeline.core.organisaties import Organisatie
from pipeline.errors import PipelineError
from pipeline.settings import CONFIG_NAME, DEFAULT_CONFIG, Settings, load_settings
from pipeline.settings import generate
from pipeline.settings.demo import DEMO_ORGANISATIES
from pipeline.settings.generate import readme_table, readme_with_table
from pipeline.settings.models import KEYS, SECTIONS, ArtsSettings, OrganisatieSettings, SopipeToml
from pipeline.shell.layout import DEMO_CONFIG, PRODUCTION_CONFIG, init_root
from tests.config_variants import configure

REPO = Path(__file__).resolve().parents[1]
MODELS = [*SECTIONS.values(), OrganisatieSettings, SopipeToml]


def _write(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / CONFIG_NAME).write_text(text, encoding="utf-8")
    return root


# --- declared once ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_table_is_a_frozen_model_without_unknown_keys_and_every_key_is_described(model):
    assert model.model_config["frozen"] and model.model_config["extra"] == "forbid"
    assert model.__doc__ and model.__doc__.strip()
    if model is SopipeToml:
        return
    for name, f in model.model_fields.items():
        assert f.description and len(f.description) > 8, f"{model.__name__}.{name} has no description"
        if f.default is None and model is not OrganisatieSettings:
            # written commented out in sopipe.toml: needs an example that the model itself accepts
            assert f.examples or f.is_required(), f"{model.__name__}.{name} has no example"


def test_a_table_cannot_be_changed_after_reading(tmp_path):
    s = load_settings(tmp_path)
    with pytest.raises(ValidationError):
        s.intake.settle = 5  # type: ignore[misc]
    with pytest.raises(ValidationError):
        s.root = Path("/")  # type: ignore[misc]


def test_the_organisation_table_holds_exactly_the_fields_of_the_core_value():
    """The master data the core uses (Organisatie) and the keys sopipe.toml accepts cannot drift apart."""
    core = [f.name for f in dataclasses.fields(Organisatie) if f.name != "code"]
    assert list(OrganisatieSettings.model_fields) == core
    required = [f.name for f in dataclasses.fields(Organisatie)
                if f.default is dataclasses.MISSING and f.name != "code"]
    assert [n for n, f in OrganisatieSettings.model_fields.items() if f.is_required()] == required


RESOLVED = {"pki_dir", "seal_p12", "extra_trust_roots", "parallel_cases"}
"""The keys that also have a value of their own on `Settings`, resolved against the root or the machine."""
RETIRED_FLAT_NAMES = ("intake_group", "mailboxes_emptied_by_recipients", "lo_workers", "lo_timeout",
                      "lo_max_conversions", "lo_max_rss_mb", "lo_retries")
"""Flat names that were not a key's own name (the others are the keys themselves)."""


def test_keys_come_from_the_models_and_are_read_under_their_tables_only(tmp_path):
    assert ("libreoffice", "timeout") in KEYS and ("intake", "group") in KEYS and ("mailboxes", "recipients") in KEYS
    assert set(KEYS) == {(s, k) for s, m in SECTIONS.items() for k in m.model_fields} and len(set(KEYS)) == len(KEYS)
    # no second, flat name: a key is an attribute of its table, not of Settings (but for the resolved values)
    assert {k for _, k in KEYS} & set(dir(Settings)) == RESOLVED
    assert not set(RETIRED_FLAT_NAMES) & set(dir(Settings))
    text = "\n".join(["[intake]", "max_file_bytes = 4096", "settle = 1.5", "rescan = 3", "polling = true",
                      'group = "so-sec"', "[libreoffice]", "workers = 3", "timeout = 7", "max_conversions = 9",
                      "max_rss_mb = 512", "retries = 0", "[mailboxes]", 'group_werkgever = "wg"',
                      "emptied_by_recipients = true", "[signing]", 'tsa_url = "http://tsa.example"',
                      'level_advies = "b-lt"', "auto_sign_doctors = false", ""])
    s = load_settings(_write(tmp_path, text))
    for flat in [k for _, k in KEYS if k not in RESOLVED] + list(RETIRED_FLAT_NAMES):
        with pytest.raises(AttributeError):
            getattr(s, flat)
    i, lo = s.intake, s.libreoffice
    assert (i.max_file_bytes, i.settle, i.rescan, i.polling, i.group) == (4096, 1.5, 3, True, "so-sec")
    assert (lo.workers, lo.timeout, lo.max_conversions, lo.max_rss_mb, lo.retries) == (3, 7, 9, 512, 0)
    assert s.party_groups == {"werkgever": "wg"} and s.mailboxes.emptied_by_recipients is True
    assert s.signing.level_advies == "B-LT" and s.signing_level("advies") == "B-LT"
    assert s.signing_level("machtiging-medische-gegevens") == "B-LTA"  # a timestamp server: B-LTA by default
    assert s.signing.auto_sign_doctors is False and s.signing.tsa_url == "http://tsa.example"
    assert s.parallel_cases == 2 * (os.cpu_count() or 1)  # 0: two per core


SETTINGS_NAME = re.compile(r"(^|_)settings$")


def _settings_reads(source: str) -> list[tuple[int, str]]:
    """(line, attribute) of every attribute read on a root's settings as the code names them: a name `settings` or
    `*_settings`, `<x>.settings`, `load_settings(...)` or `Settings(...)`; a name imported into the module is not
    one (django's and hypothesis' `settings`)."""
    tree = ast.parse(source)
    imported = {alias.asname or alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}

    def is_settings(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return bool(SETTINGS_NAME.search(node.id)) and node.id not in imported
        if isinstance(node, ast.Attribute):
            return bool(SETTINGS_NAME.search(node.attr)) and not (isinstance(node.value, ast.Name)
                                                                   and node.value.id in imported)
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id in ("load_settings", "Settings")

    return sorted((node.lineno, node.attr) for node in ast.walk(tree)
                  if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and is_settings(node.value))


def test_no_code_reads_a_setting_by_a_flat_name():
    """A leftover flat name (`settings.tsa_url` for `settings.signing.tsa_url`) fails here, before it would fail
    as an AttributeError on the path that reads it."""
    flat = {k for _, k in KEYS} - RESOLVED | set(RETIRED_FLAT_NAMES)
    assert not flat & (set(dir(Settings)) | set(Settings.model_fields))
    found = {f"{path.relative_to(REPO)}:{line}": attr
             for folder in ("pipeline", "desk", "tools", "tests") for path in sorted((REPO / folder).rglob("*.py"))
             for line, attr in _settings_reads(path.read_text(encoding="utf-8")) if attr in flat}
    assert found == {}, "read a key under its table: settings.<table>.<key> (see pipeline/settings/models.py)"


def test_the_settings_read_check_catches_flat_names_and_leaves_other_objects():
    source = "\n".join(["from django.conf import settings as django_settings",
                        "import hypothesis",
                        "a = settings.tsa_url",
                        "b = root.settings.lo_timeout",
                        "c = load_settings(path).intake_group",
                        "d = self.lta_settings.signing.tsa_url",
                        "e = trust_services.tsa_url",
                        "f = django_settings.DEBUG",
                        "g = hypothesis.settings.default"])
    assert _settings_reads(source) == [(3, "tsa_url"), (4, "lo_timeout"), (5, "intake_group"), (6, "signing")]


def test_replace_changes_values_by_their_tables_and_refuses_unknown_ones(tmp_path):
    s = load_settings(tmp_path)
    t = s.replace(signing={"tsa_url": "http://tsa.example", "level_machtiging": "B-T"}, demo_services=True,
                  libreoffice={"timeout": 5})
    assert (t.signing.tsa_url, t.signing.level_machtiging, t.demo_services, t.libreoffice.timeout) == \
        ("http://tsa.example", "B-T", True, 5)
    assert (s.signing.tsa_url, s.signing.level_machtiging, s.demo_services, s.libreoffice.timeout) == \
        (None, None, False, 60), "a copy"
    with pytest.raises(TypeError, match="tsa"):
        s.replace(tsa="x")
    with pytest.raises(TypeError, match="tsa"):
        s.replace(tsa_url="x")  # a key is changed in its table, not by a flat name  (flat-rewrite: keep)
    with pytest.raises(TypeError, match=r"\[signing\] has no key 'tsa'"):
        s.replace(signing={"tsa": "x"})


# --- generated, not hand-written ----------------------------------------------------------------------------------

def test_the_configuration_pages_settings_table_is_the_generated_one():
    readme = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert readme_with_table(readme) == readme, "run `make settings-table`"
    section = readme[readme.index("## Every key"):]
    assert readme_table() in section
    for (table, name) in KEYS:
        assert f"| `[{table}]` | `{name}` |" in section
    for name in OrganisatieSettings.model_fields:
        assert f"| `[organisaties.<code>]` | `{name}` |" in section


def test_the_generated_table_follows_the_models():
    rows = [r for r in readme_table().splitlines()[2:]]
    keys = [(s, k) for s, m in SECTIONS.items() for k in m.model_fields]
    assert len(rows) == len(keys) + len(OrganisatieSettings.model_fields) + len(ArtsSettings.model_fields)
    for row, (section, name) in zip(rows, keys):
        f = SECTIONS[section].model_fields[name]
        assert row.startswith(f"| `[{section}]` | `{name}` |") and row.endswith(f"| {f.description} |")
    assert "| `[intake]` | `max_file_bytes` | `1048576` |" in rows[0]


def test_the_default_config_is_generated_with_a_comment_per_key():
    lines = DEFAULT_CONFIG.splitlines()
    for section, model in SECTIONS.items():
        start = lines.index(f"[{section}]")
        for name, f in model.model_fields.items():
            written = next(i for i, line in enumerate(lines) if i > start and re.match(
                rf"^(# )?(\[{section}\.)?{name}\b", line))
            assert lines[written - 1].startswith("# "), f"[{section}] {name} has no comment"
            first_words = " ".join(f.description.split()[:4])
            comment = " ".join(line[2:] for line in lines[start:written])
            assert first_words[1:] in comment, f"[{section}] {name}: its description is not the comment"
    assert "\nauto_sign_doctors = true\n" in DEFAULT_CONFIG and "\nemptied_by_recipients = false\n" in DEFAULT_CONFIG
    assert "\n# tsa_url = " in DEFAULT_CONFIG and "\ntsa_url" not in DEFAULT_CONFIG


def test_the_generated_file_loads_back_into_equal_settings(tmp_path):
    data = tomllib.loads(DEFAULT_CONFIG)
    assert SopipeToml.model_validate(data) == SopipeToml(organisaties=dict(DEMO_ORGANISATIES))
    loaded = load_settings(_write(tmp_path / "r", DEFAULT_CONFIG))
    assert loaded == Settings(root=tmp_path.resolve() / "r",
                              organisaties={c: OrganisatieSettings(**t).organisatie(c)
                                            for c, t in DEMO_ORGANISATIES.items()})
    assert loaded == load_settings(_write(tmp_path / "r", DEFAULT_CONFIG)), "reading twice gives the same"
    assert set(loaded.organisaties) == set(DEMO_ORGANISATIES)
    # the production file differs in one value only
    production = load_settings(_write(tmp_path / "p", PRODUCTION_CONFIG))
    assert production.signing.auto_sign_doctors is False
    assert production.replace(signing={"auto_sign_doctors": True}) == \
        loaded.model_copy(update={"root": production.root})


def test_every_example_in_the_generated_file_is_a_valid_setting(tmp_path):
    """Uncommenting every example of sopipe.toml gives a file that loads, with exactly those values."""
    text = re.sub(r"(?m)^# ((\[[a-z0-9.]+\])|([a-z0-9_\"/]+ = .*))$", r"\1", DEFAULT_CONFIG)
    assert text.count("\n# ") < DEFAULT_CONFIG.count("\n# ")
    root = _write(tmp_path / "r", text)
    s = load_settings(root)
    for (section, name) in KEYS:
        f = SECTIONS[section].model_fields[name]
        if f.default is None or (f.default in ((), {}) and f.examples):
            got = getattr(getattr(s, section), name)
            example = f.examples[0]
            want = example.upper() if name.startswith("level_") else example
            assert got == (tuple(want) if isinstance(want, list) else want), (section, name)
    assert s.recipient_groups == (("werkgever/acme", "acme-hr"),)
    assert s.seal_p12 == root.resolve() / "pki" / "seal.p12"
    assert s.extra_trust_roots == (Path("/etc/sopipe/uzi-root.pem"),)
    assert s.artsen["39087654301"].uzi_nummer == "12345678"  # the doctors' registry example


def test_the_cli_prints_what_is_generated():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    table = subprocess.run([sys.executable, "-m", "pipeline.settings", "--readme-table"], capture_output=True,
                           text=True, env=env, check=True).stdout
    config = subprocess.run([sys.executable, "-m", "pipeline.settings", "--default-config"], capture_output=True,
                            text=True, env=env, check=True).stdout
    assert table == readme_table() and config == DEFAULT_CONFIG
    bad = subprocess.run([sys.executable, "-m", "pipeline.settings", "--nonsense"], capture_output=True, text=True,
                         env=env)
    assert bad.returncode == 2 and "--readme-table" in bad.stderr


def test_readme_with_table_rewrites_only_the_table(tmp_path):
    readme = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    stale = readme.replace("| `[intake]` | `settle` | `0.3` |", "| `[intake]` | `settle` | `0.5` |")
    assert stale != readme
    path = tmp_path / "configuration.md"
    path.write_text(stale, encoding="utf-8")
    assert generate.main(["--readme", str(path)]) == 0
    assert path.read_text(encoding="utf-8") == readme


# --- clear errors -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("section, name", sorted(KEYS), ids=lambda v: str(v))
def test_a_wrong_type_or_unknown_key_names_the_file_and_the_key_on_one_line(tmp_path, section, name):
    f = SECTIONS[section].model_fields[name]
    wrong = "[1, 2]" if isinstance(f.default, (bool, int, float, str)) or f.default is None else "3"
    if name == "recipients":
        text = f"[{section}]\n{name} = 3\n"
    else:
        text = f"[{section}]\n{name} = {wrong}\n"
    root = _write(tmp_path, text)
    with pytest.raises(PipelineError) as info:
        load_settings(root)
    message = info.value.message
    assert message.startswith(f"{root.resolve() / CONFIG_NAME}: ") and "\n" not in message
    assert f"[{section}] {name}" in message and "wrong type" in message
    assert "pydantic" not in message and "validation error" not in message.lower()
    assert info.value.field == name
    # a misspelt key in the same table
    _write(tmp_path, f"[{section}]\n{name}x = 1\n")
    with pytest.raises(PipelineError, match=re.escape(f"unknown setting [{section}] {name}x")):
        load_settings(root)


@pytest.mark.parametrize("text, message", [
    ("[intake]\nsettle = -0.5\n", "[intake] settle must not be negative"),
    ("[intake]\npolling = 1\n", "[intake] polling has the wrong type (1)"),
    ("[intake]\nmax_file_bytes = 1.5\n", "[intake] max_file_bytes has the wrong type (1.5)"),
    ("[intake]\nmax_file_bytes = true\n", "[intake] max_file_bytes has the wrong type (True)"),
    ("[pipeline]\nx = 1\n", "unknown setting [pipeline]"),
    ("intake = 3\n", "'intake' must be a [section]"),
    ("organisaties = 3\n", "[organisaties] must hold one table per organisation"),
    ("[signing]\nlevel_advies = 'B-X'\n", "[signing] level_advies must be one of B-B, B-T, B-LT, B-LTA"),
    ("[signing]\nlevel_advies = 'B-LT'\ntsa_url = ''\n", "level_advies = 'B-LT' needs a timestamp server"),
    ("[signing]\nextra_trust_roots = ['']\n", "[signing] extra_trust_roots must be a non-empty text"),
    ("[mailboxes.recipients]\n'werkgever/x' = 'g'\n", "expected \"<werkgever|"),
    ('[organisaties.x-y]\nnaam = "  "\nstraat = "A 1"\npostcode = "1"\nplaats = "P"\n',
     "[organisaties.x-y] naam must be a non-empty text"),
    ('[organisaties.x-y]\nnaam = "X"\nstraat = "A 1"\npostcode = "1"\nplaats = "P"\nkvk_nummer = "12"\n',
     "[organisaties.x-y] kvk_nummer must be 8 digits"),
    ('[organisaties.x-y]\nnaam = "X"\nstraat = "A"\npostcode = "1"\nplaats = "P"\nbtw_tarief = "21"\n'
     'btw_nummer = "NL1"\nbtw_vrijstelling = "vrij"\n', "btw_tarief and btw_vrijstelling exclude each other"),
])
def test_bad_values_are_one_clear_line(tmp_path, text, message):
    with pytest.raises(PipelineError) as info:
        load_settings(_write(tmp_path, text))
    assert message in info.value.message and "\n" not in info.value.message
    assert str(tmp_path.resolve() / CONFIG_NAME) in info.value.message


def test_the_organisation_values_are_trimmed(tmp_path):
    s = load_settings(_write(tmp_path, '[organisaties.ab]\nnaam = " X "\nstraat = "A 1"\npostcode = "1234 AB"\n'
                                       'plaats = "P"\n'))
    assert s.organisaties["ab"] == Organisatie(code="ab", naam="X", straat="A 1", postcode="1234 AB", plaats="P")
    with pytest.raises(TypeError):
        s.organisaties["cd"] = s.organisaties["ab"]  # type: ignore[index]


# --- every path of the root a Settings property ----------------------------------------------------------------------

ROOT_NAMES = ("inbox|outbox|state|quarantine|pki|processed|failed|intake|staging|scratch|archief|templates|"
              r"sopipe\.db|watch\.lock|sopipe\.toml")
TOP = "inbox|outbox|state|quarantine|pki"
PATH_LITERALS = (
    re.compile(rf"""/\s*['"]({ROOT_NAMES})['"]"""),                 # path / "state"
    re.compile(rf"""joinpath\([^)]*['"]({ROOT_NAMES})['"]"""),      # path.joinpath("state", ...)
    re.compile(rf"""\(\s*['"]({TOP})['"]\s*,\s*['"*]"""),           # parts ("state", "intake"), ("outbox", *parts)
    re.compile(r"""['"](watch\.lock|sopipe\.db|sopipe\.toml)['"]"""),  # the root's own files
)


def _path_literals(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if any(p.search(line) for p in PATH_LITERALS)]


LAYOUT = REPO / "pipeline" / "settings" / "layout.py"


def test_no_module_but_the_layout_builds_a_path_of_the_root_from_literals():
    assert LAYOUT.is_file()
    found = {str(p.relative_to(REPO)): hits for p in sorted((REPO / "pipeline").rglob("*.py"))
             if p != LAYOUT and (hits := _path_literals(p.read_text(encoding="utf-8")))}
    assert found == {}, "use the Settings property (or the layout constant in pipeline/settings/layout.py)"


@pytest.mark.parametrize("line", [
    'staging = settings.root / "state" / "staging"',
    "lock = state_dir / 'watch.lock'",
    'scratch = root.joinpath("state", "scratch")',
    'STAGE = ("state", "intake")',
    'parts = ("outbox", *folder)',
    'config = root / "sopipe.toml"',
    'failed = settings.inbox / "failed"',
])
def test_the_path_literal_check_catches_what_it_must(line):
    assert _path_literals(line) == [line]


@pytest.mark.parametrize("line", [
    'mark = {"processed": "ok", "failed": "FAILED"}',
    'self._move(intake, "processed")',
    'for anchor, depth in (("outbox", 4), ("quarantine", 3)):',
    '@cli.group("pki", context_settings=CONTEXT)',
    'raise PipelineError("set tsa_url in sopipe.toml")',
])
def test_the_path_literal_check_leaves_names_that_are_not_paths(line):
    assert _path_literals(line) == []


def test_every_path_is_a_property_below_the_root_and_init_makes_every_folder(tmp_path):
    settings = init_root(tmp_path / "root", pki=False)
    root = settings.root
    folders = {"inbox": settings.inbox, "inbox/processed": settings.processed, "inbox/failed": settings.failed,
               "outbox": settings.outbox, "outbox/archief": settings.archive, "quarantine": settings.quarantine,
               "state": settings.state, "state/intake": settings.stage, "state/staging": settings.staging,
               "state/scratch": settings.scratch}
    for shown, path in folders.items():
        assert path == root / shown and path.is_dir() and not path.is_symlink(), shown
    private = [settings.quarantine, settings.state, settings.stage, settings.staging, settings.scratch]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in private)
    assert settings.database == root / "state" / "sopipe.db" and settings.database.is_file()
    assert settings.config_file == root / "sopipe.toml" and settings.config_file.is_file()
    assert settings.watch_lock == root / "state" / "watch.lock"
    assert settings.pki_dir == root / "pki" and (settings.templates / "advies.docx").is_file()


def test_the_watcher_lock_is_the_settings_path(tmp_path):
    from pipeline.shell.watcher import exclusive_root
    settings = init_root(tmp_path / "root", pki=False)
    with exclusive_root(settings.state):
        assert settings.watch_lock.read_text().strip() == str(os.getpid())


def test_the_wiring_uses_the_settings_paths(make_root):
    root = make_root()
    p = root.pipeline
    s = root.settings
    assert (p.inbox, p.mailboxes.outbox, p.quarantine, p.staging) == (s.inbox, s.outbox, s.quarantine, s.staging)
    assert p.stage.root == s.root


def test_a_config_variant_changes_only_its_keys_and_keeps_every_comment(tmp_path):
    """tests/config_variants.py: variants of the generated file are made from data, not by editing its text."""
    root = _write(tmp_path, DEFAULT_CONFIG)
    configure(root, {"signing": {"tsa_url": "", "auto_sign_doctors": False},
                     "mailboxes": {"recipients": {"werkgever/acme": "acme-hr"}},
                     "organisaties": {"arbopraktijk-visser": {"iban": None}, "nieuw": {
                         "naam": "Nieuw", "straat": "Laan 1", "postcode": "1234 AB", "plaats": "Ede"}}})
    text = (root / CONFIG_NAME).read_text(encoding="utf-8")
    comments = lambda t: [line for line in t.splitlines() if line.startswith("#")]  # noqa: E731
    assert comments(text) == comments(DEFAULT_CONFIG)
    s, default = load_settings(root), load_settings(_write(tmp_path / "d", DEFAULT_CONFIG))
    assert (s.signing.tsa_url, s.signing.auto_sign_doctors, s.recipient_groups) == \
        (None, False, (("werkgever/acme", "acme-hr"),))
    assert s.organisaties["arbopraktijk-visser"].iban is None and s.organisaties["nieuw"].plaats == "Ede"
    assert "tsa_url" in s.signing.model_fields_set, "an empty tsa_url is written, not left out"
    assert (s.intake, s.libreoffice) == (default.intake, default.libreoffice)
    assert s.organisaties["arbonoord"] == default.organisaties["arbonoord"]


def test_a_configured_pki_dir_is_below_the_root_or_where_it_says(tmp_path):
    s = load_settings(_write(tmp_path, '[signing]\npki_dir = "keys"\nextra_trust_roots = ["/etc/x.pem", "y.pem"]\n'))
    assert s.pki_dir == tmp_path.resolve() / "keys" and s.trust_roots[0] == tmp_path.resolve() / "keys" / "ca.pem"
    assert s.extra_trust_roots == (Path("/etc/x.pem"), tmp_path.resolve() / "y.pem")


# --- sopipe init writes what the models generate, with the same modes ---------------------------------------------

@pytest.mark.parametrize("umask", [0o000, 0o077])
@pytest.mark.parametrize("demo", [True, False])
def test_sopipe_init_writes_the_generated_file_whatever_the_umask(tmp_path, umask, demo):
    root = tmp_path / "fresh"
    old = os.umask(umask)
    try:
        args = ["init", "--root", str(root)] + ([] if demo else ["--no-demo"])
        result = CliRunner().invoke(cli, args)
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.output
    written = (root / CONFIG_NAME).read_text(encoding="utf-8")
    assert written == (DEMO_CONFIG if demo else PRODUCTION_CONFIG)  # DEMO: the default plus the DEMO logo
    assert stat.S_IMODE((root / CONFIG_NAME).stat().st_mode) == 0o640
    assert stat.S_IMODE(root.stat().st_mode) == 0o751
    s = load_settings(root)
    assert s.signing.auto_sign_doctors is demo and set(s.organisaties) == set(DEMO_ORGANISATIES)
    if demo:  # the DEMO PKI's own trust services are the default timestamp server
        assert s.demo_services and s.signing.tsa_url and s.signing_level("advies") == "B-LTA"
    else:
        assert not s.demo_services and s.signing.tsa_url is None


def test_settings_is_a_pydantic_model_of_the_tables():
    assert issubclass(Settings, BaseModel)
    assert set(SECTIONS) <= set(Settings.model_fields)
