"""Issue 12: `sopipe bench` reports the per-document cost outside LibreOffice (no LibreOffice needed for it)."""

from __future__ import annotations

from pipeline.shell.bench import generate_cases, run_outside_libreoffice


def test_cost_outside_libreoffice_is_reported_per_stage_and_adds_up(tmp_path):
    cost = run_outside_libreoffice(tmp_path / "root", generate_cases(2, seed=5))
    assert set(cost) == {"render", "sign", "guard", "bookkeeping", "total", "fake_convert"}
    assert all(cost[k] > 0 for k in ("render", "sign", "guard", "total", "fake_convert")), cost
    parts = cost["render"] + cost["sign"] + cost["guard"] + cost["bookkeeping"]
    assert abs(parts - cost["total"]) <= 0.3, cost  # rounding of four figures to 0.1 ms
    assert not list((tmp_path / "root" / "inbox").glob("*.json")), "every generated file was processed"
    assert not list((tmp_path / "root" / "inbox" / "failed").iterdir())
