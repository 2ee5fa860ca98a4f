"""The wheel built from this repository is the whole program: installed in a fresh virtual environment outside the
checkout, `sopipe init`, `sopipe demo` and `sopipe watch --once` deliver the example case's PDFs. The Word
templates, the case-file schema and the example case travel as package data (pipeline/package_data.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline import package_data

REPO = Path(__file__).resolve().parents[1]
KENMERK = "SO-2026-0042"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel` of a copy of what the build reads (pyproject.toml, README.md, pipeline/): the checkout itself
    gets no build/ or egg-info folders from a test run."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    shutil.copytree(REPO / "pipeline", source / "pipeline", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
                           str(base / "dist"), str(source)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    [built] = (base / "dist").glob("sopipe-*.whl")
    return built


def _package_data() -> set[str]:
    """The data files under pipeline/ in this checkout, as wheel member names."""
    folders = (package_data.TEMPLATES, package_data.SCHEMA.parent, package_data.EXAMPLES)
    return {"pipeline/" + p.relative_to(REPO / "pipeline").as_posix()
            for folder in folders for p in folder.rglob("*") if p.is_file()}


def test_the_wheel_carries_the_templates_the_schema_and_the_example_case(wheel):
    with zipfile.ZipFile(wheel) as zf:
        members = set(zf.namelist())
    expected = _package_data()
    assert {"pipeline/templates/advies.docx", "pipeline/schema/casefile.schema.json",
            f"pipeline/examples/case-{KENMERK}/01-verzoek.json", "pipeline/examples/logo-arbonoord.png"} <= expected
    assert sorted(expected - members) == []


def _outside_the_checkout(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    assert not tmp.resolve().is_relative_to(REPO)
    return env


@pytest.mark.libreoffice
@pytest.mark.timeout(1500)
def test_the_installed_wheel_runs_the_example_case_end_to_end(wheel, tmp_path):
    env = _outside_the_checkout(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python, sopipe = venv / "bin" / "python", venv / "bin" / "sopipe"
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], capture_output=True,
                          text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    where = subprocess.run([str(python), "-c", "import pipeline.package_data as p; print(p.TEMPLATES)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path, env=env).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the installed package, not this checkout

    root = tmp_path / "root"
    for command in (["init"], ["demo"], ["watch", "--once"]):
        done = subprocess.run([str(sopipe), *command, "--root", str(root)], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=900)
        assert done.returncode == 0, f"sopipe {command[0]}: {done.stdout}{done.stderr}"
    cases = sorted(p.name for p in package_data.EXAMPLE_CASE.glob("*.json"))
    assert f"{len(cases)} processed" in done.stdout and " 0 failed" in done.stdout, done.stdout
    assert sorted(p.name for p in (root / "inbox" / "processed").rglob("*.json")) == cases

    delivered = sorted(root.joinpath("outbox").rglob("*.pdf"))
    assert {p.relative_to(root / "outbox").parts[0] for p in delivered} >= {
        "archief", "werknemer", "werkgever", "bedrijfsarts", "so-bedrijfsarts", "arbodienst"}
    assert all(p.read_bytes().startswith(b"%PDF-") for p in delivered)
    advice = root / "outbox" / "archief" / KENMERK / f"{KENMERK}_advies.pdf"
    assert b"/ByteRange" in advice.read_bytes(), "the archived advice is signed"
