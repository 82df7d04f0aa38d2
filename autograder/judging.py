"""Grading submissions with the judge: the cache by content hash, statuses, and judging many in parallel.

``judge_cached`` is what nbgrader's ``JudgeInSandbox`` preprocessor calls for one notebook. ``prejudge``
judges a whole batch first, on ``workers`` processes of this machine or on a Dask cluster (``scheduler``),
each notebook in its own sandbox; only this process (the coordinator) writes the cache and, afterwards
through nbgrader, the gradebook. The notebooks are sanitised (``preprocessors.sanitise``) exactly as
``nbgrader autograde`` sanitises them (the same preprocessors), so its run finds every result in the cache.
"""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing as mp
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import as_completed as as_completed_local
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import editions, judge, sandbox, settings

_edition_lock = threading.Lock()


def limits(cell_timeout: float, submission_timeout: float, memory: int) -> sandbox.Limits:
    return sandbox.Limits(
        memory=int(memory), cell_seconds=float(cell_timeout), wall_seconds=float(submission_timeout)
    )


def edition(work: Path, assignment: str, source: Path = settings.SOURCE_DIR) -> Path:
    """The student edition the sandbox mounts (built on first use)."""
    path = work / "editions" / assignment
    with _edition_lock:
        if not (path / "course" / "__init__.py").is_file():
            editions.build_student_edition(assignment, path, source_dir=source)
    return path


def solution_notebook(source: Path, assignment: str, notebook: str):
    return nbformat.read(str(source / assignment / f"{notebook}.ipynb"), as_version=4)


def cache_path(work: Path, digest: str, limits: sandbox.Limits) -> Path:
    """Where the judged result of content ``digest`` under ``limits`` is kept (a regrade with other limits,
    after a timeout say, judges again)."""
    key = f"{limits.memory}-{limits.cell_seconds:g}-{limits.wall_seconds:g}"
    return work / "judged" / f"{digest}-{hashlib.sha256(key.encode()).hexdigest()[:8]}.json"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def judge_cached(
    nb,
    assignment: str,
    notebook: str,
    *,
    work: Path,
    source: Path = settings.SOURCE_DIR,
    limits: sandbox.Limits = sandbox.DEFAULT_LIMITS,
    unsafe: bool = False,
) -> judge.Judged:
    """The judged notebook ``nb`` (sanitised): from the cache, or judged now in a sandbox and cached."""
    digest = judge.content_hash(nb, assignment)
    cached = cache_path(work, digest, limits)
    if cached.is_file():
        return judge.Judged.from_json(cached.read_text())
    if not unsafe and (reason := sandbox.unavailable_reason()):
        raise sandbox.SandboxUnavailable(f"{reason}; grading without a sandbox needs --unsafe")
    job = Job(
        assignment, notebook, nbformat.writes(nb), judge.seed_root(judge.course_secret(work), digest), digest
    )
    text = run_job(job, limits, unsafe, str(work), str(source))
    _write_atomic(cached, text)
    return judge.Judged.from_json(text)


def status_path(work: Path, student: str, assignment: str, notebook: str) -> Path:
    return work / "judged" / "students" / student / assignment / f"{notebook}.json"


def write_status(work: Path, student: str, assignment: str, notebook: str, result: judge.Judged) -> None:
    record = {
        "status": result.status,
        "notes": result.notes,
        "seconds": result.seconds,
        "execute_seconds": result.execute_seconds,
        "passed": sorted(g for g, v in result.verdicts.items() if v.passed),
        "failed": sorted(g for g, v in result.verdicts.items() if not v.passed),
    }
    _write_atomic(status_path(work, student, assignment, notebook), json.dumps(record, indent=1))


def read_status(work: Path, student: str, assignment: str) -> list[dict]:
    folder = work / "judged" / "students" / student / assignment
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []


def clear_status(work: Path, student: str, assignment: str) -> None:
    folder = work / "judged" / "students" / student / assignment
    for path in folder.glob("*.json") if folder.is_dir() else []:
        path.unlink()


# ---- judging a batch ---------------------------------------------------------------------------------


@dataclass
class Job:
    """One notebook to judge: sanitised, with everything a worker needs (and no secret: only its seed)."""

    assignment: str
    notebook: str
    nb_json: str
    seed: bytes
    digest: str


def run_job(job: Job, limits: sandbox.Limits, unsafe: bool, work: str = "", source: str = "") -> str:
    """Judge one job; returns the ``Judged`` as JSON. Runs on a worker (a process here, or Dask)."""
    work_dir = Path(work) if work else settings.WORK_DIR
    source_dir = Path(source) if source else settings.SOURCE_DIR
    nb = nbformat.reads(job.nb_json, as_version=4)
    result = judge.judge_notebook(
        nb,
        job.assignment,
        solution_nb=solution_notebook(source_dir, job.assignment, job.notebook),
        edition=edition(work_dir, job.assignment, source_dir),
        seed=job.seed,
        limits=limits,
        unsafe=unsafe,
    )
    if unsafe:
        result.notes.append("graded WITHOUT a sandbox (--unsafe)")
    return result.to_json()


def prejudge(
    jobs: Iterable[Job],
    *,
    work: Path,
    source: Path = settings.SOURCE_DIR,
    limits: sandbox.Limits = sandbox.DEFAULT_LIMITS,
    unsafe: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    log: Callable[[str], None] = print,
) -> int:
    """Judge every job not yet in the cache, in parallel; the coordinator (this process) writes the cache.
    Returns how many were judged. A job that fails is left out of the cache (nbgrader judges it again)."""
    todo = [j for j in jobs if not cache_path(work, j.digest, limits).is_file()]
    todo = list({j.digest: j for j in todo}.values())
    if not todo:
        return 0
    for assignment in sorted({j.assignment for j in todo}):
        edition(work, assignment, source)  # built once here, never by two workers at the same time
    if scheduler:
        from distributed import Client
        from distributed import as_completed as completed

        pool = Client(scheduler)
        submit = functools.partial(pool.submit, pure=False)
        # the work and source folders must be reachable at the same paths on the workers (a shared disk)
    else:
        # Worker processes, not threads: judging a notebook sets process-wide state (the checks' seed key,
        # ``checks.core.set_seed_root``, and ``sys.stdout`` while a check runs), which threads would share.
        pool = ProcessPoolExecutor(max_workers=max(1, workers), mp_context=mp.get_context("spawn"))
        submit, completed = pool.submit, as_completed_local
    done = 0
    with pool:
        futures = {submit(run_job, j, limits, unsafe, str(work), str(source)): j for j in todo}
        for future in completed(futures):
            job = futures[future]
            try:
                _write_atomic(cache_path(work, job.digest, limits), future.result())
                done += 1
            except Exception as err:  # noqa: BLE001 (one failed job never stops the batch)
                log(f"judging {job.assignment}/{job.notebook} ({job.digest[:8]}) failed: {err}")
    return done
