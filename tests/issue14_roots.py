"""A root with a whole case already processed, shared by the issue-14 test modules (module-scoped fixtures)."""

from __future__ import annotations


def processed_root(tmp_path_factory, name: str, events: list[dict], *, converter, keyring, renderer, shared_pki):
    """A fresh root (session LibreOffice pool and PKI) with `events` processed; every file must be accepted."""
    from tests.conftest import Root
    root = Root(tmp_path_factory.mktemp(name) / "root", converter=converter, keyring=keyring, renderer=renderer,
                pki=shared_pki)
    for i, ev in enumerate(events, start=1):
        root.drop(f"{i:02d}.json", ev)
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed"] * len(events), [(o.file_name, o.detail) for o in outcomes]
    return root
