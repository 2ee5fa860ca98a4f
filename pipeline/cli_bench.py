"""`sopipe bench`: throughput, latency and memory of the pipeline against the naive script, in one run.

Defines the command only; the group module `pipeline.cli` adds `COMMANDS` to its group.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline.cli_options import CONTEXT


def in_process(group: click.Command):
    """`bench --scale`'s way to run a `sopipe` command line in this process: (exit status, output), with the
    output rendered as on a terminal-less run. `group` is the root group (the command's own root)."""
    from click.testing import CliRunner

    runner = CliRunner()

    def run(args) -> tuple[int, str]:
        result = runner.invoke(group, list(args))
        return result.exit_code, result.output

    return run


@click.command(context_settings=CONTEXT)
@click.option("--cases", type=click.IntRange(1), default=20, show_default=True,
              help="Number of generated cases (each has every step: about 11 events and 11 documents).")
@click.option("--naive-sample", type=click.IntRange(0), default=20, show_default=True,
              help="Documents the naive script (soffice per document) is timed on; 0 skips it.")
@click.option("--seed", type=int, default=2026, show_default=True, help="Seed for the generated cases.")
@click.option("--keep", type=click.Path(path_type=Path), default=None,
              help="Keep the temporary root here instead of deleting it.")
@click.option("--levels", is_flag=True,
              help="Run the same cases twice, signed PAdES B-B and B-LTA, and report both documents/s and the ratio.")
@click.option("--scale", is_flag=True,
              help="Also time `status` over 10,000 cases (all, --overdue, one case) and `audit --verify` over a "
                   "million records, on a generated database.")
@click.option("--desk", is_flag=True,
              help="Only time the desk's gateway over 10,000 generated cases: the case list (filters, search, a page "
                   "in the middle), a case page and a form check, in process and over the Unix socket.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def bench(cases: int, naive_sample: int, seed: int, keep: Path | None, levels: bool, scale: bool, desk: bool,
          as_json: bool) -> None:
    """Benchmark: generate CASES realistic cases, drop them at once, process, compare with the naive way.

    Prints documents, wall seconds, documents/s, p50/p95 latency from drop to delivered, the latency of a
    single event with a warm pool, peak RSS including LibreOffice, per-stage times, and the naive script's
    documents/s on a sample of the same documents, with the ratio.

    Example:

        sopipe bench --cases 100 --json
        sopipe bench --cases 10 --levels --scale --naive-sample 0
        sopipe bench --desk
    """
    if desk:
        _bench_desk(keep, as_json=as_json)
        return
    from pipeline.shell import bench as b
    from pipeline.shell.progress import batch_progress

    total = (sum(len(c) for c in b.generate_cases(cases, seed=seed)) + 20) * (2 if levels else 1)
    with batch_progress(total, description="Benchmark", enabled=None if not as_json else False) as progress:
        result = b.bench(cases, naive_sample=naive_sample, seed=seed, keep=keep, levels=levels, scale=scale,
                         progress=lambda n: progress.advance(),
                         run_command=in_process(click.get_current_context().find_root().command))
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    r = result
    click.echo(f"cases {r.cases}, events {r.events}, documents {r.documents}, failed files {r.failed}")
    click.echo(f"pipeline: {r.wall_seconds:.1f} s wall until delivered, {r.documents_per_second:.2f} documents/s; "
               f"archive validation reports done after {r.reports_done_seconds:.1f} s")
    if r.libreoffice_busy:
        click.echo("LibreOffice workers busy: " + " / ".join(f"{b:.0%}" for b in r.libreoffice_busy)
                   + " of the wall time")
    click.echo(f"latency drop→delivered: p50 {r.latency_p50:.2f} s, p95 {r.latency_p95:.2f} s; "
               f"single event (warm) p50 {r.single_event_latency_p50:.2f} s")
    click.echo(f"peak RSS incl. LibreOffice: {r.peak_rss_mib:.0f} MiB; median per call (ms): {r.stage_ms}")
    for level, figures in r.levels.items():
        click.echo(f"signed {level}: {figures['documents_per_second']:.2f} documents/s "
                   f"({figures['wall_seconds']:.1f} s wall, reports done at {figures['reports_done_seconds']:.1f} s, "
                   f"{figures['cpu_seconds']:.0f} s CPU incl. LibreOffice, "
                   f"median signature {figures['sign_ms']:.0f} ms)")
    if r.levels:
        click.echo(f"B-LTA throughput is {r.level_ratio:.0%} of B-B (goal: at least 85%)")
    for name, value in r.scale.items():
        click.echo(f"{name}: {value}")
    if r.outside_lo_ms:
        click.echo(f"per document outside LibreOffice (ms): {r.outside_lo_ms}")
    fs = r.fs_us
    click.echo(f"file system per event (median µs): take {fs['take_before']:.0f} → {fs['take_after']:.0f} (stage), "
               f"deliver {fs['deliver_before']:.0f} → {fs['deliver_after']:.0f} (descriptors)")
    if r.naive_documents:
        click.echo(f"naive script: {r.naive_documents} documents in {r.naive_seconds:.1f} s = "
                   f"{r.naive_documents_per_second:.2f} documents/s; pipeline is {r.ratio:.1f}x faster")


def _bench_desk(keep: Path | None, *, as_json: bool) -> None:
    import shutil
    import tempfile

    from pipeline.shell.desk_bench import bench_desk

    import os

    base = keep or Path(tempfile.mkdtemp(prefix="sopipe-bench-desk-"))
    os.chmod(base, 0o711)  # the desk's own user passes through to the gateway's socket
    try:
        figures = bench_desk(base / "root")
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    click.echo(f"desk gateway over {figures['desk_cases']} cases (generated in {figures['desk_generate_seconds']} s); "
               "server time per request, ms:")
    for name, value in figures.items():
        if name.endswith("_ms"):
            click.echo(f"  {name[:-3]:<36} p50 {value['p50']:>7.2f}   p95 {value['p95']:>7.2f}")


COMMANDS = (bench,)
