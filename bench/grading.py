"""Benchmark of grading: submissions per minute by mode, and the sandbox's overhead per submission.

Run it as ``python -m bench.grading`` (``--copies C``: each of assignment 01's four sample students C
times, default 2, so 8 submissions). Every mode grades the same class with ``pipeline.autograde`` in a
fresh course folder (so the judge's cache never helps): one worker (nbgrader judges each notebook in
turn), two local worker processes, and a Dask LocalCluster of two worker processes (its start-up is
timed apart). Throughput counts everything: the release, judging, and nbgrader writing the gradebook.

Overhead: ``judge.judge_notebook`` on the complete student's sanitised notebook (sandbox, kernel, judge),
against the same sanitised notebook executed by plain nbclient in this environment, its hidden checks
run in the kernel (what nbgrader's Execute did before the sandbox): the difference is what the sandbox
and the judge cost beyond executing the notebook.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import judge, judging, pipeline, preprocessors, samples, settings

A01 = "a01_linear_models"
CELL_TIMEOUT = 120


def cpu_header() -> str:
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = len(fields.get("flags", "").split())
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"CPU: {fields.get('model name', '?')}; {flags} flags; {os.cpu_count()} cores ({usable} usable)"


def write_class(base: Path, source: Path, copies: int) -> tuple[Path, int]:
    """The sample class, each student ``copies`` times (distinct names, identical notebooks but for a
    comment in the first answer cell, so every copy is judged: the cache is keyed by content)."""
    paths = pipeline.Paths(
        work=base / "setup", out=base / "setup_out", release=base / "release", source=source
    )
    release_nb = pipeline.generate_release(A01, paths)
    notebooks = samples.sample_class(release_nb, source / A01 / f"{A01}.ipynb")
    submitted = base / "submitted"
    for copy in range(copies):
        class_copy = {}
        for student, nb in notebooks.items():
            nb = nbformat.reads(nbformat.writes(nb), as_version=4)
            answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
            answer.source += f"\n# copy {copy}"
            class_copy[f"{student}_{copy}"] = nb
        samples.write_submissions(submitted, A01, class_copy)
    return submitted, copies * len(notebooks)


def grade(submitted: Path, base: Path, source: Path, mode: str, **parallel) -> tuple[float, list]:
    paths = pipeline.Paths(
        work=base / mode / "work", out=base / mode / "out", release=base / mode / "release", source=source
    )
    start = time.monotonic()
    rows = pipeline.autograde(submitted, paths, cell_timeout=CELL_TIMEOUT, log=lambda line: None, **parallel)
    return time.monotonic() - start, rows


def overhead(base: Path, source: Path, submitted: Path) -> tuple[float, float, float]:
    """(judge_notebook seconds, its execute_seconds, plain nbclient seconds) for the complete student."""
    from nbclient import NotebookClient

    work = base / "one_worker" / "work"  # its gradebook and edition exist
    student = sorted(p.name for p in submitted.iterdir() if p.name.startswith("ada_complete"))[0]
    path = submitted / student / A01 / f"{A01}.ipynb"
    nb = preprocessors.sanitise(
        nbformat.read(path, as_version=4), A01, A01, student, f"sqlite:///{work / 'gradebook.db'}"
    )
    digest = judge.content_hash(nb, A01)
    edition = judging.edition(work, A01, source)
    judged = judge.judge_notebook(
        nb,
        A01,
        solution_nb=judging.solution_notebook(source, A01, A01),
        edition=edition,
        seed=judge.seed_root(judge.course_secret(work), digest),
        limits=judging.limits(CELL_TIMEOUT, settings.SUBMISSION_TIMEOUT_S, settings.SANDBOX_MEMORY_BYTES),
    )
    plain_nb = nbformat.reads(nbformat.writes(nb), as_version=4)
    start = time.monotonic()
    client = NotebookClient(
        plain_nb, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(settings.ROOT)}}
    )
    client.execute()
    plain = time.monotonic() - start
    return judged.seconds, judged.execute_seconds, plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2, help="copies of the four sample students")
    args = parser.parse_args()
    import distributed

    print(cpu_header())
    base = Path(tempfile.mkdtemp(prefix="bench_grading_"))
    try:
        source = base / "solutions"
        shutil.copytree(settings.SOURCE_DIR / A01, source / A01)
        submitted, n = write_class(base, source, args.copies)
        print(f"class: {n} submissions of {A01}")
        results = {}
        results["1 worker"] = grade(submitted, base, source, "one_worker", workers=1)
        results["2 workers (processes)"] = grade(submitted, base, source, "two_workers", workers=2)
        start = time.monotonic()
        with distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            started = time.monotonic() - start
            results["Dask LocalCluster, 2 workers"] = grade(
                submitted, base, source, "dask", scheduler=cluster.scheduler_address
            )
        print(f"\n{'mode':<30} {'seconds':>8} {'subs/min':>9} {'graded':>7}  scores")
        reference = None
        for mode, (seconds, rows) in results.items():
            scores = {r.student: (r.score, r.cells) for r in rows}
            same = "same as 1 worker" if reference in (None, scores) else "DIFFER from 1 worker"
            reference = reference or scores
            graded = sum(r.status == "graded" for r in rows)
            rate = 60 * len(rows) / seconds
            print(f"{mode:<30} {seconds:8.1f} {rate:9.2f} {graded:>4}/{len(rows):<2}  {same}")
            for r in rows:
                if r.status != "graded":
                    print(f"    {r.student}: {r.status} {r.score:g} ({r.note[:150]})")
        print(f"(Dask LocalCluster start-up, not counted above: {started:.1f} s)")
        total, executing, plain = overhead(base, source, submitted)
        print("\nsandbox overhead, one submission (ada_complete):")
        print(f"  judge.judge_notebook (sandbox, kernel, judge)     {total:6.2f} s")
        print(f"  plain nbclient, hidden checks in the kernel       {plain:6.2f} s")
        print(f"  overhead beyond executing the notebook            {total - plain:6.2f} s  (target < 2 s)")
        print(f"  (cells' own time in the sandbox: {executing:.2f} s)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
