"""The documentation a newcomer reads: the README is a front page, every relative link and anchor in the README,
CHANGELOG.md and docs/ resolves, and the command reference is what the commands say."""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted([REPO / "README.md", REPO / "CHANGELOG.md", *(REPO / "docs").rglob("*.md")])
LINK = re.compile(r"(?<!\!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)|<img [^>]*src=\"([^\"]+)\"")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link in a heading keeps its text
    text = unicodedata.normalize("NFC", text.strip().lower())
    text = "".join(c for c in text if c.isalnum() or c in " -_")
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every anchor of `page`: its headings (GitHub numbers repeats: x, x-1, x-2) and explicit `id`/`name`s."""
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    found = set(re.findall(r"<a (?:id|name)=\"([^\"]+)\"", text))
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", text, re.M):
        base = anchor(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    text = re.sub(r"`[^`\n]*`", "", text)  # code spans are not links
    return [next(g for g in m.groups() if g) for m in LINK.finditer(text)]


def broken(page: Path, *, root: Path = REPO) -> list[str]:
    """What is wrong with the relative links of `page` (empty: nothing); targets must lie inside `root`."""
    out = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ... are not checked here
            continue
        path, _, fragment = target.partition("#")
        where = (page.parent / path).resolve() if path else page
        if not where.exists():
            out.append(f"{target}: no such file")
        elif not where.resolve().is_relative_to(root):
            out.append(f"{target}: outside the repository")
        elif fragment and (where.suffix != ".md" or fragment not in anchors(where)):
            out.append(f"{target}: no heading for #{fragment} in {where.relative_to(root)}")
    return out


def test_the_anchor_rule_is_githubs():
    assert anchor("Configuration: `sopipe.toml`") == "configuration-sopipetoml"
    assert anchor("Routing (default profile: NVAB + LPBSO)") == "routing-default-profile-nvab--lpbso"
    assert anchor("Voor de archivaris / records officers") == "voor-de-archivaris--records-officers"
    assert anchor("Profiles: the seed organisations' variants") == "profiles-the-seed-organisations-variants"


def test_the_link_check_finds_a_broken_link_and_a_missing_anchor(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Top\n\n[ok](#top) [gone](missing.md) [bad](#nowhere) `[code](nope.md)`\n\n"
                    "```\n[fenced](nope.md)\n```\n", encoding="utf-8")
    (tmp_path / "other.md").write_text("# Other\n", encoding="utf-8")
    page.write_text(page.read_text(encoding="utf-8") + "[there](other.md#other) [not there](other.md#top)\n",
                    encoding="utf-8")
    assert broken(page, root=tmp_path) == ["missing.md: no such file", "#nowhere: no heading for #nowhere in page.md",
                                           "other.md#top: no heading for #top in other.md"]
    assert broken(page, root=tmp_path / "elsewhere")[0] == "#top: outside the repository"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_and_anchor_resolves(page):
    assert broken(page) == []


def test_the_readme_is_a_front_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 200
    assert readme.index("make run") < readme.index("make test") < readme.index("\n## ")
    for page in ("docs/index.md", "docs/secretariaat.md", "docs/doctors.md", "docs/records-officer.md",
                 "docs/fg.md", "docs/it.md", "docs/procedure.md"):
        assert f"]({page})" in readme, page


def test_history_is_in_the_changelog_not_in_the_docs():
    for page in PAGES:
        if page.name != "CHANGELOG.md":
            text = page.read_text(encoding="utf-8")
            assert not re.search(r"\b(issues?|review) ?\d+|green-start", text, re.I), page


def test_no_page_links_out_of_the_repository_for_the_procedure():
    for page in PAGES:
        assert "PROCEDURE.md](" not in page.read_text(encoding="utf-8"), page


def test_every_page_of_docs_is_reachable_from_the_index():
    index = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    for page in sorted((REPO / "docs").glob("*.md")):
        if page.name != "index.md":
            assert f"]({page.name})" in index, page.name


def test_the_command_reference_is_current():
    done = subprocess.run([sys.executable, str(REPO / "tools" / "make_cli_reference.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_command_reference_names_every_command():
    from pipeline.cli import cli
    reference = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert f"\n## sopipe {name}\n" in reference
        for sub in getattr(command, "commands", {}):
            assert f"\n## sopipe {name} {sub}\n" in reference
