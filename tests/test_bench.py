"""`sopipe bench` works end to end (a smoke test: nothing is asserted about time)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.shell.bench import count_documents, generate_cases

REPO = Path(__file__).resolve().parents[1]


def test_generated_cases_are_valid_fictional_and_cover_every_profile():
    cases = generate_cases(10, seed=1)
    assert {c[0]["profiel"] for c in cases} == {"nvab", "lpbso", "vitaal", "vsd", "preventix"}
    assert count_documents(cases) >= 10 * 9  # every case runs through all steps without a refusal
    assert len({c[0]["kenmerk"] for c in cases}) == 10
    assert generate_cases(3, seed=1) == cases[:3]


@pytest.mark.libreoffice
@pytest.mark.timeout(600)
def test_bench_runs_and_reports_every_figure():
    out = subprocess.run([sys.executable, "-m", "pipeline", "bench", "--cases", "3", "--naive-sample", "2",
                          "--json"], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert result["failed"] == 0
    assert result["documents"] == count_documents(generate_cases(3, seed=2026))
    for key in ("wall_seconds", "documents_per_second", "latency_p50", "latency_p95", "single_event_latency_p50",
                "peak_rss_mib", "naive_documents_per_second", "ratio"):
        assert result[key] > 0, key
    assert set(result["stage_ms"]) == {"render", "convert", "sign"}
    # the archive's reports come after the deliveries; every LibreOffice worker of the pool did some of the work
    assert result["reports_done_seconds"] >= result["wall_seconds"]
    assert len(result["libreoffice_busy"]) >= 2 and all(0 < b <= 1.0 for b in result["libreoffice_busy"])
